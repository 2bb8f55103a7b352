#!/usr/bin/python3
"""e2e_load.py: a bounded mail load over SMTP submission, and its audit from the receiving
Maildir, for the fault tests of tests/e2e/ (faults-*.sh).

  e2e_load.py load --tag TAG --count N --seconds S [--interval SECS] --host H --port P
                   --sender FROM --rcpt TO [--rcpt TO...] --cafile CA --user U --password PW
                   --out FILE [--size BYTES...] [--eicar FILE --eicar-every K]
                   [--concurrency C] [--rate R]
      Submits up to N messages (Subject "e2e TAG-<i>", i from 1), one SMTP session each
      (STARTTLS checked against CA, AUTH PLAIN), INTERVAL apart, and stops early once S
      seconds have passed. Appends one line per message to FILE as soon as its outcome is
      known: "TAG-<i> accepted|refused|error CODE TEXT" (CODE 0 for error: no SMTP reply,
      connection or TLS failure), a refusal or error followed by "(at STAGE)", the command
      it came at. Each session times out after 30 s. Exit 0.
      Mixed traffic: message i goes to the i-th --rcpt cycled (one value may name several
      recipients, "a@x,b@y": one message to all of them, all in its To: header), with a
      body of the i-th --size cycled (BYTES of text; without --size, one line); every K-th
      message (i a multiple of K) carries the EICAR file instead and is tagged "TAG-v<i>".
      C sessions run at once (default 1; each sleeps INTERVAL after its message), and
      message i starts no earlier than (i-1)/R seconds after the first (R=0: no pacing).

  e2e_load.py audit --maildir DIR --resolver ADDR@PORT [--sigs N] [--scanned yes|no]
                    OUTFILE...
      Reads the outcome lines of OUTFILE(s) and every message in DIR/new whose Subject is
      "e2e <tag>" of one of those lines, and prints one line:
        submitted=N accepted=A refused4=R4 refused5=R5 errors=E delivered=D duplicates=X
        phantom=P lost=L unsigned=U unscanned=S copies=C virus=V bytes=B
      delivered counts distinct tags, copies the message files, bytes the size of one copy
      of each delivered message; a message's copies are
      told apart by their Delivered-To header (one per recipient of its To: header; a
      message without Delivered-To counts as one recipient). phantom = delivered but not
      accepted; lost = accepted but a recipient has no copy; duplicates = copies beyond one
      per recipient; unsigned = copies without at least N DKIM signatures that all pass
      dkimpy (keys from ADDR@PORT; N default 2); unscanned = copies without an
      X-Virus-Scanned header (with --scanned yes, the default); virus = "TAG-v<i>" (EICAR)
      messages refused 5xx naming a virus, which are not counted in refused5 (an EICAR
      message accepted, refused otherwise, or delivered is a problem). Then one line per
      problem message. Exit 0 when every message is accounted for (submitted = accepted +
      refused4 + refused5 + errors + virus) and phantom, duplicates, lost, unsigned and
      unscanned are 0, and refused5 = errors = 0; else 1. The caller checks the counts it
      expects beyond that.
"""
import argparse
import email
import email.policy
import email.utils
import os
import re
import smtplib
import ssl
import sys
import threading
import time


VIRUS_TAG = re.compile(r"-v[0-9]+$")


def body_of(size, tag):
    """About SIZE bytes of 72-column text lines (CRLF), the first naming TAG."""
    line = "load message %s " % tag
    out = [line]
    n = len(line) + 2
    filler = "".join(chr(ord("a") + k % 26) for k in range(70))
    while n < size:
        out.append(filler)
        n += len(filler) + 2
    return "\r\n".join(out) + "\r\n"


def load(a):
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.check_hostname = False
    groups = [[r for r in g.split(",") if r] for g in a.rcpt]
    eicar = open(a.eicar, "rb").read().decode("latin-1") if a.eicar else None
    t0 = time.monotonic()
    end = t0 + a.seconds
    lock = threading.Lock()
    state = {"next": 1}

    def one(i, out):
        rcpts = groups[(i - 1) % len(groups)]
        virus = eicar is not None and a.eicar_every > 0 and i % a.eicar_every == 0
        tag = "%s-%s%d" % (a.tag, "v" if virus else "", i)
        if virus:
            body = eicar + "\r\n"
        elif a.size:
            body = body_of(a.size[(i - 1) % len(a.size)], tag)
        else:
            body = "load message %s\r\n" % tag
        msg = ("From: <%s>\r\nTo: %s\r\nSubject: e2e %s\r\nDate: %s\r\n"
               "Message-ID: <e2e.%s.%d@example.test>\r\n\r\n%s" % (
                   a.sender, ", ".join("<%s>" % r for r in rcpts), tag,
                   email.utils.formatdate(), tag, os.getpid(), body)).encode("latin-1")
        stage = "connect"
        try:
            with smtplib.SMTP(a.host, a.port, local_hostname="client.example.org",
                              timeout=30) as s:
                stage = "EHLO"
                s.ehlo()
                stage = "STARTTLS"
                s.starttls(context=ctx)
                stage = "AUTH"
                s.ehlo()
                s.login(a.user, a.password)
                steps = [("MAIL", lambda: s.mail(a.sender))]
                steps += [("RCPT", lambda r=r: s.rcpt(r)) for r in rcpts]
                steps += [("DATA", lambda: s.data(msg))]
                for stage, step in steps:
                    code, text = step()
                    if code >= 400:
                        raise smtplib.SMTPResponseException(code, text)
                line = "%s accepted %d %s" % (tag, code, text.decode(errors="replace"))
        except smtplib.SMTPResponseException as e:
            text = e.smtp_error.decode(errors="replace") \
                if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
            line = "%s refused %d %s (at %s)" % (tag, e.smtp_code, text, stage)
        except (OSError, smtplib.SMTPException) as e:
            line = "%s error 0 %s: %s (at %s)" % (tag, type(e).__name__, e, stage)
        with lock:
            out.write(line.replace("\n", " ") + "\n")
            out.flush()

    def worker(out):
        while True:
            with lock:
                i = state["next"]
                if i > a.count:
                    return
                state["next"] = i + 1
            if a.rate > 0:
                delay = t0 + (i - 1) / a.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            if time.monotonic() >= end:
                return
            one(i, out)
            if a.interval > 0:
                time.sleep(a.interval)

    with open(a.out, "a") as out:
        threads = [threading.Thread(target=worker, args=(out,))
                   for _ in range(max(1, a.concurrency))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return 0


def audit(a):
    import dkim
    import dns.resolver

    outcome = {}
    for path in a.outfiles:
        with open(path) as f:
            for line in f:
                parts = line.split(" ", 3)
                if len(parts) >= 3:
                    outcome[parts[0]] = (parts[1], int(parts[2]), line.strip())
    res = dns.resolver.Resolver(configure=False)
    addr, port = a.resolver.split("@", 1)
    res.nameservers = [addr]
    res.port = int(port)
    cache = {}

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        if name not in cache:
            try:
                ans = res.resolve(name, "TXT", lifetime=timeout)
                cache[name] = b"".join(ans[0].strings)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                cache[name] = b""
        return cache[name]

    delivered = {}
    problems = []
    newdir = os.path.join(a.maildir, "new")
    for fn in sorted(os.listdir(newdir)):
        raw = open(os.path.join(newdir, fn), "rb").read()
        m = email.message_from_bytes(raw, policy=email.policy.compat32)
        subj = m.get("Subject", "")
        if not subj.startswith("e2e "):
            continue
        tag = subj[4:].strip()
        if tag not in outcome:
            continue
        delivered.setdefault(tag, []).append((fn, raw, m))
    n = {k: 0 for k in ("accepted", "refused4", "refused5", "errors", "virus")}
    for tag, (kind, code, line) in outcome.items():
        if VIRUS_TAG.search(tag):
            if kind == "refused" and 500 <= code < 600 and "virus" in line.lower():
                n["virus"] += 1
            else:
                n["refused5" if kind == "refused" and code >= 500 else
                  "refused4" if kind == "refused" else
                  "accepted" if kind == "accepted" else "errors"] += 1
                problems.append("EICAR not refused as a virus: " + line)
        elif kind == "accepted":
            n["accepted"] += 1
        elif kind == "refused" and 400 <= code < 500:
            n["refused4"] += 1
        elif kind == "refused":
            n["refused5"] += 1
            problems.append("refused 5xx: " + line)
        else:
            n["errors"] += 1
            problems.append("no SMTP answer: " + line)
    dup = phantom = unsigned = unscanned = copies_n = nbytes = 0
    lost = []
    for tag, copies in delivered.items():
        copies_n += len(copies)
        nbytes += len(copies[0][1])
        want = sorted(addr.lower() for _, addr in email.utils.getaddresses(
            copies[0][2].get_all("To", []))) or [""]
        got = [(c[2].get("Delivered-To") or "").lower() for c in copies]
        if not any(got):  # no Delivered-To: one recipient
            want, got = [""], [""] * len(copies)
        for r in set(got):
            if got.count(r) > 1:
                dup += got.count(r) - 1
                problems.append("%s delivered %d times to <%s>" % (tag, got.count(r), r))
            if r not in want:
                dup += got.count(r)
                problems.append("%s delivered to <%s>, not a recipient" % (tag, r))
        missing = [r for r in want if r not in got]
        if missing and outcome[tag][0] == "accepted":
            lost.append(tag)
            problems.append("%s accepted but not delivered to %s" % (tag, ", ".join(missing)))
        if outcome[tag][0] != "accepted":
            phantom += 1
            problems.append("%s delivered, but the client was told: %s" % (tag, outcome[tag][2]))
        for fn, raw, m in copies:
            if a.scanned == "yes" and m.get("X-Virus-Scanned") is None:
                unscanned += 1
                problems.append("%s (%s) has no X-Virus-Scanned header" % (tag, fn))
            d = dkim.DKIM(raw)
            sigs = [v for (k, v) in d.headers if k.lower() == b"dkim-signature"]
            ok = len(sigs) >= a.sigs
            for i in range(len(sigs)):
                ok = ok and dkim.DKIM(raw).verify(idx=i, dnsfunc=dnsfunc)
            if not ok:
                unsigned += 1
                problems.append("%s (%s): %d DKIM signatures, want %d passing" % (
                    tag, fn, len(sigs), a.sigs))
    never = [t for t, o in outcome.items() if o[0] == "accepted" and t not in delivered]
    for t in sorted(never):
        problems.append("%s accepted but not delivered" % t)
    lost += never
    print("submitted=%d accepted=%d refused4=%d refused5=%d errors=%d delivered=%d "
          "duplicates=%d phantom=%d lost=%d unsigned=%d unscanned=%d copies=%d virus=%d "
          "bytes=%d" % (
              len(outcome), n["accepted"], n["refused4"], n["refused5"], n["errors"],
              len(delivered), dup, phantom, len(lost), unsigned, unscanned, copies_n,
              n["virus"], nbytes))
    for p in problems:
        print("  " + p)
    return 0 if not problems else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    ld = sub.add_parser("load")
    ld.add_argument("--tag", required=True)
    ld.add_argument("--count", type=int, required=True)
    ld.add_argument("--seconds", type=float, required=True)
    ld.add_argument("--interval", type=float, default=0)
    ld.add_argument("--size", type=int, action="append")
    ld.add_argument("--eicar")
    ld.add_argument("--eicar-every", type=int, default=0)
    ld.add_argument("--concurrency", type=int, default=1)
    ld.add_argument("--rate", type=float, default=0)
    ld.add_argument("--host", default="127.0.0.1")
    ld.add_argument("--port", type=int, default=587)
    for o in ("--sender", "--cafile", "--user", "--password", "--out"):
        ld.add_argument(o, required=True)
    ld.add_argument("--rcpt", required=True, action="append")
    au = sub.add_parser("audit")
    au.add_argument("--maildir", required=True)
    au.add_argument("--resolver", required=True)
    au.add_argument("--sigs", type=int, default=2)
    au.add_argument("--scanned", choices=("yes", "no"), default="yes")
    au.add_argument("outfiles", nargs="+")
    a = p.parse_args()
    return load(a) if a.cmd == "load" else audit(a)


if __name__ == "__main__":
    sys.exit(main())
