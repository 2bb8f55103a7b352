#!/usr/bin/python3
"""tlsrpt_postfixlog_check.py OUT_DIR DOMAIN SENDING_IP POLICY SUCCESSES [DETAIL...]: check
the one report for DOMAIN that `tlsrpt report --dry-run --out OUT_DIR` wrote (gzip JSON)
exactly:
  POLICY      its policy, one item a line: the policy-type first, then every policy-string
              in order (none: the report must carry no policy-string); for "sts" the
              mx-host list must be the policy's "mx:" values
  SUCCESSES   total-successful-session-count
  DETAIL      "RESULT-TYPE MX-HOST RECEIVING-IP COUNT [FAILURE-REASON-CODE...]": the
              failure-details, as a set (an empty DETAIL stands for none; MX-HOST "-": no
              receiving-mx-hostname); every detail
              carries SENDING_IP as sending-mta-ip, and a failure-reason-code only when
              one is given; total-failure-session-count is the sum of the COUNTs
Exit 1 with the reason on the first mismatch."""
import glob
import gzip
import json
import sys

out, domain, sending_ip, policy, nok = sys.argv[1:6]
nok = int(nok)
details = [d for d in sys.argv[6:] if d]


def fail(msg):
    print("postfixlog check %s: %s" % (domain, msg))
    sys.exit(1)


files = glob.glob("%s/*!%s!*.json.gz" % (out, domain))
if len(files) != 1:
    fail("want one report file, found %s" % files)
rep = json.loads(gzip.open(files[0]).read())
if len(rep["policies"]) != 1:
    fail("want one policy entry, got %s" % json.dumps(rep["policies"]))
p = rep["policies"][0]
pol = p["policy"]
lines = policy.split("\n")
ptype, strings = lines[0], lines[1:]
if pol.get("policy-type") != ptype:
    fail("policy-type %r, want %r" % (pol.get("policy-type"), ptype))
if pol.get("policy-domain") != domain:
    fail("policy-domain %r" % pol.get("policy-domain"))
if pol.get("policy-string", []) != strings:
    fail("policy-string %r, want %r" % (pol.get("policy-string"), strings))
if ptype == "sts":
    mx = [s[4:] for s in strings if s.startswith("mx: ")]
    if pol.get("mx-host") != mx:
        fail("mx-host %r, want %r" % (pol.get("mx-host"), mx))
elif "mx-host" in pol:
    fail("mx-host %r, want none" % pol["mx-host"])

want = []
for d in details:
    f = d.split(" ", 4)
    w = {"result-type": f[0], "receiving-mx-hostname": f[1], "receiving-ip": f[2],
         "sending-mta-ip": sending_ip, "failed-session-count": int(f[3])}
    if f[1] == "-":
        del w["receiving-mx-hostname"]
    if len(f) > 4:
        w["failure-reason-code"] = f[4]
    want.append(w)
got = p.get("failure-details", [])


def key(d):
    return json.dumps(d, sort_keys=True)


if sorted(map(key, got)) != sorted(map(key, want)):
    fail("failure-details\n  got  %s\n  want %s" % (sorted(map(key, got)), sorted(map(key, want))))
s = p["summary"]
nfail = sum(w["failed-session-count"] for w in want)
if (s["total-successful-session-count"], s["total-failure-session-count"]) != (nok, nfail):
    fail("summary %s, want success %d failure %d" % (json.dumps(s), nok, nfail))
print("postfixlog check %s: ok (%s, success %d, failure %d)" % (domain, ptype, nok, nfail))
