#!/usr/bin/python3
"""e2e_report_mail.py MAIL_FILE DRY_RUN_DIR DOMAIN DAY: the report a mail carries (its
application/tlsrpt+gzip part) is DOMAIN's report of DAY, and apart from the day (date-range,
report-id) it is the report `tlsrpt report --dry-run --out DRY_RUN_DIR` wrote for DOMAIN:
the same organization-name and contact-info, the same policies (type, strings, mx-host),
summaries and failure details. Exit 1 with the difference."""
import datetime
import email
import email.policy
import glob
import gzip
import json
import sys


def main():
    path, out, domain, day = sys.argv[1:5]
    msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    gz = [p for p in msg.walk() if p.get_content_type() == "application/tlsrpt+gzip"]
    if len(gz) != 1:
        print("%d application/tlsrpt+gzip parts" % len(gz))
        return 1
    sent = json.loads(gzip.decompress(gz[0].get_payload(decode=True)))
    files = glob.glob("%s/*!%s!*.json.gz" % (out, domain))
    if len(files) != 1:
        print("dry-run reports of %s: %s" % (domain, files))
        return 1
    dry = json.loads(gzip.open(files[0]).read())
    d0 = datetime.date.fromisoformat(day)
    want_range = {"start-datetime": "%sT00:00:00Z" % d0, "end-datetime": "%sT23:59:59Z" % d0}
    if sent.get("date-range") != want_range:
        print("date-range %s, want %s" % (sent.get("date-range"), want_range))
        return 1
    if not sent.get("report-id", "").startswith("%sT00:00:00Z_%s_" % (d0, domain)):
        print("report-id %s is not %s's of %s" % (sent.get("report-id"), domain, d0))
        return 1

    def norm(rep):
        r = {k: v for k, v in rep.items() if k not in ("date-range", "report-id")}
        r["policies"] = sorted(r.get("policies", []), key=lambda p: json.dumps(p, sort_keys=True))
        for p in r["policies"]:
            if "failure-details" in p:
                p["failure-details"] = sorted(p["failure-details"], key=lambda d: json.dumps(d, sort_keys=True))
        return r

    a, b = norm(sent), norm(dry)
    if a != b:
        print("the mailed report differs from the dry run's:")
        print("mailed:  " + json.dumps(a, sort_keys=True, indent=1))
        print("dry run: " + json.dumps(b, sort_keys=True, indent=1))
        return 1
    pols = a["policies"]
    print("same as the dry run: %d policies, %s" % (len(pols), ", ".join(
        "%s %d/%d" % (p["policy"]["policy-type"], p["summary"]["total-successful-session-count"],
                      p["summary"]["total-failure-session-count"]) for p in pols)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
