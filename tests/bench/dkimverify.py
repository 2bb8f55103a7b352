#!/usr/bin/python3
"""tests/bench/dkimverify.py RECORDS MESSAGE: verify every DKIM-Signature in MESSAGE with
dkimpy, answering key lookups from RECORDS (lines "<selector>._domainkey.<domain> <TXT>",
no DNS involved). Prints one line per signature; exit 0 only if there is at least one
signature and all of them verify."""
import sys

import dkim


def main():
    records = {}
    with open(sys.argv[1]) as f:
        for line in f:
            name, _, txt = line.strip().partition(" ")
            if name:
                records[name.rstrip(".").lower()] = txt.encode()

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return records.get(name.rstrip(".").lower())

    msg = open(sys.argv[2], "rb").read()
    d = dkim.DKIM(msg)
    sigs = [v for (k, v) in d.headers if k.lower() == b"dkim-signature"]
    ok = len(sigs) > 0
    for i, sig in enumerate(sigs):
        tags = dict(t.strip().split(b"=", 1) for t in sig.split(b";") if b"=" in t)
        try:
            good, why = d.verify(idx=i, dnsfunc=dnsfunc), ""
        except dkim.DKIMException as e:
            good, why = False, " (%s)" % e
        ok = ok and good
        print("dkimpy: %s d=%s s=%s a=%s%s" % ("pass" if good else "FAIL",
              tags.get(b"d", b"?").decode(), tags.get(b"s", b"?").decode(),
              tags.get(b"a", b"?").decode(), why))
    if not sigs:
        print("dkimpy: no DKIM-Signature")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
