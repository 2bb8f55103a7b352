#!/usr/bin/python3
"""e2e_report.py OUT_DIR DOMAIN TYPE SUCCESS FAILURE [options]: check DOMAIN's RFC 8460
report among the files `tlsrpt report --dry-run --out OUT_DIR` wrote (exactly one
`*!DOMAIN!*.json.gz`): exactly one of its policies has policy-type TYPE (and matches
--string/--no-strings), and its summary counts are SUCCESS and FAILURE, each a number
("2") or a lower bound (">=1").
  --string S      a policy-string line of that policy contains S
  --no-strings    that policy has no policy-string (a failed policy fetch)
  --mx HOST       its mx-host list contains HOST
  --result R      one of its failure-details has result-type R ...
  --reason S      ... and a failure-reason-code containing S
  --policies N    the report has N policies in all
Prints the selected policy; exit 1 with the reason on the first mismatch."""
import argparse
import glob
import gzip
import json
import sys


def count_ok(got, want):
    return got >= int(want[2:]) if want.startswith(">=") else got == int(want)


def main():
    p = argparse.ArgumentParser()
    for a in ("out", "domain", "type", "success", "failure"):
        p.add_argument(a)
    p.add_argument("--string")
    p.add_argument("--no-strings", action="store_true")
    p.add_argument("--mx")
    p.add_argument("--result")
    p.add_argument("--reason")
    p.add_argument("--policies", type=int)
    a = p.parse_args()

    def fail(why, obj=None):
        print("report %s: %s" % (a.domain, why))
        if obj is not None:
            print(json.dumps(obj, indent=1))
        sys.exit(1)

    files = glob.glob("%s/*!%s!*.json.gz" % (a.out, a.domain))
    if len(files) != 1:
        fail("want one report file, found %s" % files)
    rep = json.loads(gzip.open(files[0]).read())
    pols = rep.get("policies", [])
    if a.policies is not None and len(pols) != a.policies:
        fail("%d policies, want %d" % (len(pols), a.policies), rep)
    sel = []
    for pol in pols:
        po = pol.get("policy", {})
        strings = po.get("policy-string", [])
        if po.get("policy-type") != a.type or po.get("policy-domain") != a.domain:
            continue
        if a.no_strings and strings:
            continue
        if a.string and not any(a.string in s for s in strings):
            continue
        sel.append(pol)
    if len(sel) != 1:
        fail("%d policies of type %s%s, want 1" % (
            len(sel), a.type, " without strings" if a.no_strings else
            " with a string containing '%s'" % a.string if a.string else ""), rep)
    pol = sel[0]
    print(json.dumps(pol, indent=1))
    summ = pol.get("summary", {})
    ok_n = summ.get("total-successful-session-count", -1)
    bad_n = summ.get("total-failure-session-count", -1)
    if not count_ok(ok_n, a.success) or not count_ok(bad_n, a.failure):
        fail("sessions: %d successful, %d failed; want %s and %s" % (
            ok_n, bad_n, a.success, a.failure))
    if a.mx and a.mx not in pol["policy"].get("mx-host", []):
        fail("mx-host %s not in %s" % (a.mx, pol["policy"].get("mx-host")))
    if a.result:
        det = [d for d in pol.get("failure-details", []) if d.get("result-type") == a.result
               and (not a.reason or a.reason in d.get("failure-reason-code", ""))]
        if not det:
            fail("no failure detail with result-type %s%s" % (
                a.result, " and reason '%s'" % a.reason if a.reason else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
