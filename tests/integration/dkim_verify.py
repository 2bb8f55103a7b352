#!/usr/bin/python3
"""dkim_verify.py: verify every DKIM-Signature of a message with dkimpy, independently of
milter-dkim, against a DNS server at ADDR@PORT (the harness's validating unbound).

usage: dkim_verify.py ADDR@PORT [MIN_SIGS] < message
Prints one line per signature ("dkimpy: sig N d=.. s=.. a=..: pass|FAIL").
Exit 0 when there are at least MIN_SIGS (default 1) signatures and every one passes,
1 otherwise, 2 on usage errors.
usage: dkim_verify.py --arc ADDR@PORT CV < message
Validates the ARC chain with dkim.arc_verify; prints "dkimpy: arc cv=.. i=N: reason";
exit 0 when the chain validation status is CV (none, pass, fail; "ended" when the last
seal said cv=fail), 1 otherwise. Runs with Debian's /usr/bin/python3 (python3-dkim,
python3-dnspython)."""
import re
import sys

import dkim
import dns.resolver


def main():
    arc = len(sys.argv) == 4 and sys.argv[1] == "--arc"
    args = sys.argv[2:] if arc else sys.argv[1:]
    if len(args) not in (1, 2) or "@" not in args[0]:
        print(__doc__, file=sys.stderr)
        return 2
    addr, port = args[0].split("@", 1)
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [addr]
    res.port = int(port)

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        try:
            ans = res.resolve(name, "TXT", lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return b""
        return b"".join(ans[0].strings)

    msg = sys.stdin.buffer.read()
    if arc:
        cv, results, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
        got = cv.decode() if cv else "ended"
        print("dkimpy: arc cv=%s i=%d: %s" % (got, len(results), reason))
        return 0 if got == args[1] else 1
    want = int(args[1]) if len(args) == 2 else 1
    d = dkim.DKIM(msg)
    sigs = [v for (k, v) in d.headers if k.lower() == b"dkim-signature"]
    ok = len(sigs) >= want
    if not ok:
        print("dkimpy: %d DKIM-Signature header(s), want at least %d" % (len(sigs), want))
    for i, v in enumerate(sigs):
        flat = re.sub(rb"\s+", b"", v)
        tags = dict(t.split(b"=", 1) for t in flat.split(b";") if b"=" in t)
        good = dkim.DKIM(msg).verify(idx=i, dnsfunc=dnsfunc)
        ok = ok and good and b"l" not in tags
        print("dkimpy: sig %d d=%s s=%s a=%s: %s" % (
            i, tags.get(b"d", b"?").decode(), tags.get(b"s", b"?").decode(),
            tags.get(b"a", b"?").decode(), "pass" if good else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
