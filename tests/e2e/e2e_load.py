#!/usr/bin/python3
"""e2e_load.py: a bounded mail load over SMTP submission, and its audit from the receiving
Maildir, for the fault tests of tests/e2e/ (faults-*.sh).

  e2e_load.py load --tag TAG --count N --seconds S [--interval SECS] --host H --port P
                   --sender FROM --rcpt TO --cafile CA --user U --password PW --out FILE
      Submits up to N messages (Subject "e2e TAG-<i>", i from 1), one SMTP session each
      (STARTTLS checked against CA, AUTH PLAIN), INTERVAL apart, and stops early once S
      seconds have passed. Appends one line per message to FILE as soon as its outcome is
      known: "TAG-<i> accepted|refused|error CODE TEXT" (CODE 0 for error: no SMTP reply,
      connection or TLS failure), a refusal or error followed by "(at STAGE)", the command
      it came at. Each session times out after 30 s. Exit 0.

  e2e_load.py audit --maildir DIR --resolver ADDR@PORT [--sigs N] [--scanned yes|no]
                    OUTFILE...
      Reads the outcome lines of OUTFILE(s) and every message in DIR/new whose Subject is
      "e2e <tag>" of one of those lines, and prints one line:
        submitted=N accepted=A refused4=R4 refused5=R5 errors=E delivered=D duplicates=X
        phantom=P lost=L unsigned=U unscanned=S
      delivered counts distinct tags; phantom = delivered but not accepted; lost = accepted
      but not delivered; unsigned = delivered without at least N DKIM signatures that all
      pass dkimpy (keys from ADDR@PORT; N default 2); unscanned = delivered without an
      X-Virus-Scanned header (with --scanned yes, the default). Then one line per problem
      message. Exit 0 when every message is accounted for (submitted = accepted + refused4 +
      refused5 + errors) and phantom, duplicates, lost, unsigned and unscanned are 0, and
      refused5 = errors = 0; else 1. The caller checks the counts it expects beyond that.
"""
import argparse
import email
import email.policy
import email.utils
import os
import smtplib
import ssl
import sys
import time


def load(a):
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.check_hostname = False
    end = time.monotonic() + a.seconds
    with open(a.out, "a") as out:
        for i in range(1, a.count + 1):
            if time.monotonic() >= end:
                break
            tag = "%s-%d" % (a.tag, i)
            msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: e2e %s\r\nDate: %s\r\n"
                   "Message-ID: <e2e.%s.%d@example.test>\r\n\r\nload message %s\r\n" % (
                       a.sender, a.rcpt, tag, email.utils.formatdate(), tag, os.getpid(),
                       tag)).encode()
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
                    for stage, step in (("MAIL", lambda: s.mail(a.sender)),
                                        ("RCPT", lambda: s.rcpt(a.rcpt)),
                                        ("DATA", lambda: s.data(msg))):
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
            out.write(line.replace("\n", " ") + "\n")
            out.flush()
            if a.interval > 0:
                time.sleep(a.interval)
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
    n = {k: 0 for k in ("accepted", "refused4", "refused5", "errors")}
    for tag, (kind, code, line) in outcome.items():
        if kind == "accepted":
            n["accepted"] += 1
        elif kind == "refused" and 400 <= code < 500:
            n["refused4"] += 1
        elif kind == "refused":
            n["refused5"] += 1
            problems.append("refused 5xx: " + line)
        else:
            n["errors"] += 1
            problems.append("no SMTP answer: " + line)
    dup = phantom = unsigned = unscanned = 0
    for tag, copies in delivered.items():
        if len(copies) > 1:
            dup += len(copies) - 1
            problems.append("%s delivered %d times" % (tag, len(copies)))
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
    lost = [t for t, o in outcome.items() if o[0] == "accepted" and t not in delivered]
    for t in sorted(lost):
        problems.append("%s accepted but not delivered" % t)
    print("submitted=%d accepted=%d refused4=%d refused5=%d errors=%d delivered=%d "
          "duplicates=%d phantom=%d lost=%d unsigned=%d unscanned=%d" % (
              len(outcome), n["accepted"], n["refused4"], n["refused5"], n["errors"],
              len(delivered), dup, phantom, len(lost), unsigned, unscanned))
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
    ld.add_argument("--host", default="127.0.0.1")
    ld.add_argument("--port", type=int, default=587)
    for o in ("--sender", "--rcpt", "--cafile", "--user", "--password", "--out"):
        ld.add_argument(o, required=True)
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
