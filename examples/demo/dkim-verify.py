#!/usr/bin/python3
"""dkim-verify.py NAMESERVER PORT FILE...: verify every DKIM-Signature of each
message with dkimpy (an independent verifier), looking keys up at the given
DNS server. Prints one line per signature; exit 1 if any fails."""
import sys

import dkim
import dns.resolver

res = dns.resolver.Resolver(configure=False)
res.nameservers = [sys.argv[1]]
res.port = int(sys.argv[2])
res.lifetime = 5


def txt(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    try:
        ans = res.resolve(name, "TXT")
    except Exception:
        return None
    return b"".join(b"".join(r.strings) for r in ans)


bad = 0
for path in sys.argv[3:]:
    msg = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    d = dkim.DKIM(msg)
    sigs = [h for h in d.headers if h[0].lower() == b"dkim-signature"]
    if not sigs:
        print(f"{path}: no DKIM-Signature")
        bad += 1
    for i in range(len(sigs)):
        tags = dkim.util.parse_tag_value(sigs[i][1])
        ok = d.verify(idx=i, dnsfunc=txt)
        print(f"{path}: d={tags[b'd'].decode()} s={tags[b's'].decode()} "
              f"a={tags[b'a'].decode()}: {'pass' if ok else 'FAIL'}")
        bad += not ok
sys.exit(1 if bad else 0)
