#!/usr/bin/python3
# Verify a message with dkimpy (an independent verifier).
# usage: dkim_dkimpy_verify.py MESSAGE ZONEFILE
#        every DKIM-Signature: one "signature N: pass|FAIL" line each, exit 0 when all pass
# usage: dkim_dkimpy_verify.py --arc MESSAGE ZONEFILE
#        the ARC chain: prints "<cv> <reason>", cv none, pass, fail, or "ended" (the
#        last seal said cv=fail); exit 0
# ZONEFILE lines: "<selector>._domainkey.<domain>[.] TXT-value" (one record per line).
import sys

import dkim

arc = sys.argv[1] == "--arc"
args = sys.argv[2:] if arc else sys.argv[1:]
msg = open(args[0], "rb").read()
zone = {}
for line in open(args[1], "rb"):
    name, _, value = line.rstrip(b"\n").partition(b" ")
    zone[name.rstrip(b".")] = value


def dnsfunc(name, timeout=5):
    name = name.encode() if isinstance(name, str) else name
    return zone.get(name.rstrip(b"."))


if arc:
    cv, results, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
    print(cv.decode() if cv else "ended", reason)
    sys.exit(0)

n = msg.count(b"DKIM-Signature:")
if n == 0:
    print("no signature")
    sys.exit(1)
ok = True
for i in range(n):
    d = dkim.DKIM(msg)
    good = d.verify(idx=i, dnsfunc=dnsfunc)
    print("signature %d: %s" % (i, "pass" if good else "FAIL"))
    ok = ok and good
sys.exit(0 if ok else 1)
