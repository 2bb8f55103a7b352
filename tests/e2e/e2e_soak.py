#!/usr/bin/python3
"""e2e_soak.py SAMPLES [--fd-tolerance N] [--rss-factor F] [--rss-slack-kb K]
[--min-samples M]: the figures of a soak (tests/e2e/soak.sh) and its two resource rules.

SAMPLES holds one line per daemon and sample, "PHASE SECONDS NAME FDS RSS_KB [ANON_KB
FILE_KB]": PHASE
"start" (quiescent, after the warm-up, before the load), "load" (every few seconds while
the load runs) or "end" (quiescent again: the load over, A's queue empty); FDS is the
number of entries in /proc/PID/fd, RSS_KB VmRSS from /proc/PID/status, ANON_KB and
FILE_KB its RssAnon and RssFile (printed, for telling heap from mapped files such as LMDB's).

Prints a table: per daemon the fds at start, mid (the middle load sample), end and the
most seen under load; RSS at start, mid and end; the medians of the first and of the last
third of the load samples and the limit the rule gives; the RSS trend under load (least
squares slope, MB per hour: a figure, not a rule); RssAnon and RssFile at start and end. Then checks, per daemon:
  fds   end <= start + N (default 2): the same quiet daemon holds no more descriptors
        after the load than before it (in-flight sessions are gone at both points; N
        allows a lazily reopened store or resolver socket);
  RSS   median(last third) <= median(first third) * F + K (default 1.25 and 4096 KB),
        over at least M load samples (default 6): memory that grows with the traffic
        shows as a climb from one third to the other, while medians ignore the single
        samples taken with a 1 MB message in flight.
Prints "rules: ok" or one line per broken rule; exit 0 when every rule holds, else 1.
"""
import argparse
import statistics
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("samples")
    p.add_argument("--fd-tolerance", type=int, default=2)
    p.add_argument("--rss-factor", type=float, default=1.25)
    p.add_argument("--rss-slack-kb", type=int, default=4096)
    p.add_argument("--min-samples", type=int, default=6)
    a = p.parse_args()

    rows = {}
    order = []
    with open(a.samples) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 5:
                parts += ["0", "0"]
            if len(parts) != 7:
                continue
            phase, t, name, fds, rss, anon, fil = parts
            if name not in rows:
                rows[name] = {"start": [], "load": [], "end": []}
                order.append(name)
            rows[name][phase].append((float(t), int(fds), int(rss), int(anon), int(fil)))

    bad = []
    mb = lambda kb: "%.1f" % (kb / 1024.0)  # noqa: E731
    hdr = ("daemon", "fds start", "mid", "end", "max", "RSS MB start", "mid", "end",
           "1st third", "last third", "limit", "MB/h", "")
    fmt = "%-15s %9s %4s %4s %4s %12s %6s %6s %9s %10s %6s %6s  %s"
    print(fmt % hdr)
    for name in order:
        r = rows[name]
        if not r["start"] or not r["end"] or not r["load"]:
            bad.append("%s: missing samples (start %d, load %d, end %d)" % (
                name, len(r["start"]), len(r["load"]), len(r["end"])))
            continue
        s, e, ld = r["start"][-1], r["end"][-1], r["load"]
        mid = ld[len(ld) // 2]
        third = len(ld) // 3
        verdict = []
        if e[1] > s[1] + a.fd_tolerance:
            verdict.append("fds grew")
            bad.append("%s: fds %d at start, %d at end (tolerance %d)" % (
                name, s[1], e[1], a.fd_tolerance))
        if len(ld) < a.min_samples:
            first = last = limit = None
            verdict.append("too few samples")
            bad.append("%s: %d load samples, the RSS rule needs %d" % (
                name, len(ld), a.min_samples))
        else:
            first = statistics.median(x[2] for x in ld[:third])
            last = statistics.median(x[2] for x in ld[-third:])
            limit = first * a.rss_factor + a.rss_slack_kb
            if last > limit:
                verdict.append("RSS grew")
                bad.append("%s: RSS median %s MB in the last third, limit %s MB (%s MB in "
                           "the first third x %.2f + %s MB)" % (
                               name, mb(last), mb(limit), mb(first), a.rss_factor,
                               mb(a.rss_slack_kb)))
        slope = "-"
        if len(ld) >= 2 and ld[-1][0] > ld[0][0]:
            mt = statistics.fmean(x[0] for x in ld)
            mr = statistics.fmean(x[2] for x in ld)
            var = sum((x[0] - mt) ** 2 for x in ld)
            if var > 0:
                kb_s = sum((x[0] - mt) * (x[2] - mr) for x in ld) / var
                slope = "%+.1f" % (kb_s * 3600 / 1024)
        print(fmt % (name, s[1], mid[1], e[1], max(x[1] for x in ld), mb(s[2]), mb(mid[2]),
                     mb(e[2]), mb(first) if first else "-", mb(last) if last else "-",
                     mb(limit) if limit else "-", slope, ", ".join(verdict) or "ok"))
    print("RssAnon / RssFile MB, start -> end: " + "; ".join(
        "%s %s -> %s / %s -> %s" % (n, mb(rows[n]["start"][-1][3]), mb(rows[n]["end"][-1][3]),
                                     mb(rows[n]["start"][-1][4]), mb(rows[n]["end"][-1][4]))
        for n in order if rows[n]["start"] and rows[n]["end"]))
    print("rules: fds end <= start + %d; RSS last-third median <= first-third median x %.2f "
          "+ %s MB (%d load samples per daemon)" % (
              a.fd_tolerance, a.rss_factor, mb(a.rss_slack_kb),
              min((len(rows[n]["load"]) for n in order), default=0)))
    if not order:
        bad.append("no samples")
    for b in bad:
        print("rule broken: " + b)
    if not bad:
        print("rules: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
