#!/usr/bin/python3
# Verify every DKIM-Signature of a message with dkimpy (an independent verifier).
# usage: dkim_dkimpy_verify.py MESSAGE ZONEFILE
# ZONEFILE lines: "<selector>._domainkey.<domain>. TXT-value" (one record per line).
import sys

import dkim

msg = open(sys.argv[1], "rb").read()
zone = {}
for line in open(sys.argv[2], "rb"):
    name, _, value = line.rstrip(b"\n").partition(b" ")
    zone[name] = value


def dnsfunc(name, timeout=5):
    return zone.get(name.encode() if isinstance(name, str) else name)


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
