#!/usr/bin/python3
"""tlsrpt_report_check.py OUT_DIR REFERENCE.json DOMAIN FAILURES SUCCESSES: check the
`tlsrpt report --dry-run --out OUT_DIR` results for DOMAIN against RFC 8460 section 4.4 (the
members and their JSON types) and against the member names of REFERENCE (a report made by
another implementation), and that the file's name has the RFC 8460 section 5.3 form and its
gzip content is that JSON. Exit 1 with the reason on the first mismatch."""
import glob
import gzip
import json
import re
import sys

out, ref, domain, nfail, nok = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])


def fail(msg):
    print("report check: " + msg)
    sys.exit(1)


files = glob.glob("%s/*!%s!*.json.gz" % (out, domain))
if len(files) != 1:
    fail("want one file for %s, found %s" % (domain, files))
name = files[0].rsplit("/", 1)[1]
if not re.fullmatch(r"[A-Za-z0-9.-]+!%s!\d+!\d+![0-9a-f]{16}\.json\.gz" % re.escape(domain), name):
    fail("file name %s is not submitter!domain!begin!end!id.json.gz" % name)
_, _, begin, end, _ = name[:-8].split("!")
if int(end) - int(begin) != 86399:
    fail("begin/end do not span one day: %s %s" % (begin, end))
rep = json.loads(gzip.open(files[0]).read())

want = {"organization-name": str, "date-range": dict, "contact-info": str,
        "report-id": str, "policies": list}
for k, t in want.items():
    if not isinstance(rep.get(k), t):
        fail("member %s missing or not %s" % (k, t.__name__))
if set(rep["date-range"]) != {"start-datetime", "end-datetime"}:
    fail("date-range members: %s" % sorted(rep["date-range"]))
for v in rep["date-range"].values():
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", v):
        fail("date-time %s is not RFC 3339 UTC" % v)
reference = json.load(open(ref))
if set(rep) != set(reference):
    fail("top-level members %s differ from the reference's %s" % (sorted(rep), sorted(reference)))
got_fail = got_ok = 0
for p in rep["policies"]:
    if set(p) - {"policy", "summary", "failure-details"} or "policy" not in p or "summary" not in p:
        fail("policy entry members: %s" % sorted(p))
    pol = p["policy"]
    if pol.get("policy-type") not in ("sts", "tlsa", "no-policy-found"):
        fail("policy-type %r" % pol.get("policy-type"))
    if pol.get("policy-domain") != domain:
        fail("policy-domain %r" % pol.get("policy-domain"))
    for k in ("policy-string", "mx-host"):
        if k in pol and not all(isinstance(x, str) for x in pol[k]):
            fail("%s is not an array of strings" % k)
    s = p["summary"]
    if set(s) != {"total-successful-session-count", "total-failure-session-count"}:
        fail("summary members: %s" % sorted(s))
    got_ok += s["total-successful-session-count"]
    got_fail += s["total-failure-session-count"]
    details = p.get("failure-details", [])
    if sum(d["failed-session-count"] for d in details) != s["total-failure-session-count"]:
        fail("failure-details do not add up to the summary")
    rd = reference["policies"][0]["failure-details"][0]
    for d in details:
        if not set(d) <= set(rd) | {"additional-information"}:
            fail("failure-detail members %s not among %s" % (sorted(d), sorted(rd)))
if (got_fail, got_ok) != (nfail, nok):
    fail("sessions: failure %d success %d, want %d %d" % (got_fail, got_ok, nfail, nok))
print("report check: %s ok (%s)" % (domain, name))
