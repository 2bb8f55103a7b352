#!/usr/bin/env python3
# tlsrpt_mail_check.py MAILDIR_FILE DOMAIN SUBMITTER FROM SUCCESS FAILURE [POST_BODY]
# Checks a delivered report mail (RFC 8460 section 5.3.1): multipart/report with
# report-type=tlsrpt, Subject "Report Domain: D Submitter: S Report-ID: <...>",
# TLS-Report-Domain, TLS-Report-Submitter, TLS-Required: No, From; a text/plain part; an
# application/tlsrpt+gzip part, base64, whose filename is the section 5.1 name for the domain
# and which gunzips to the report JSON of DOMAIN with the counts given and the Subject's
# report-id. With POST_BODY: that file is the same report, gzip-compressed.
import email
import email.policy
import gzip
import json
import re
import sys

path, domain, submitter, sender, ok, bad = sys.argv[1:7]
msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)


def need(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


need(msg.get_content_type() == "multipart/report", "multipart/report: " + msg.get_content_type())
need(msg.get_param("report-type") == "tlsrpt", "report-type=tlsrpt")
subject = " ".join(str(msg["Subject"]).split())
m = re.fullmatch(r"Report Domain: (\S+) Submitter: (\S+) Report-ID: <(\S+)@(\S+)>", subject)
need(m and m.group(1) == domain and m.group(2) == submitter, "Subject: " + subject)
rid = m.group(3)
need(str(msg["TLS-Report-Domain"]) == domain, "TLS-Report-Domain")
need(str(msg["TLS-Report-Submitter"]) == submitter, "TLS-Report-Submitter")
need(str(msg["TLS-Required"]) == "No", "TLS-Required: No")
need(sender in str(msg["From"]), "From: " + str(msg["From"]))
need(msg["Date"] is not None and msg["Message-ID"] is not None, "Date and Message-ID")
parts = list(msg.iter_parts())
need(len(parts) == 2, "two parts")
need(parts[0].get_content_type() == "text/plain", "first part text/plain")
gz = parts[1]
need(gz.get_content_type() == "application/tlsrpt+gzip", "application/tlsrpt+gzip")
need(gz["Content-Transfer-Encoding"] == "base64", "base64")
name = gz.get_filename()
need(re.fullmatch(re.escape(submitter) + "!" + re.escape(domain) + r"!\d+!\d+!\w+\.json\.gz", name or ""),
     "filename " + str(name))
data = gz.get_payload(decode=True)
rep = json.loads(gzip.decompress(data))
need(rep["report-id"] == rid, "report-id %s vs Subject %s" % (rep["report-id"], rid))
need(rep["contact-info"].endswith("@" + submitter), "contact-info")
pol = rep["policies"]
need(len(pol) == 1 and pol[0]["policy"]["policy-domain"] == domain, "policy-domain")
s = pol[0]["summary"]
need(s["total-successful-session-count"] == int(ok) and s["total-failure-session-count"] == int(bad),
     "counts " + json.dumps(s))
begin, end = (int(x) for x in name.split("!")[2:4])
need(end - begin == 86399, "file name spans the day")
if len(sys.argv) > 7:
    posted = open(sys.argv[7], "rb").read()
    need(json.loads(gzip.decompress(posted)) == rep, "the POSTed gzip is the same report")
print("ok: %s report-id %s, %s" % (domain, rid, name))
