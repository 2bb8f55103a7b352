#!/usr/bin/python3
"""e2e_authres.py AUTHSERV_ID DOMAIN SELECTOR... -- FILE...: each message FILE (as B's
Maildir holds it) has exactly one Authentication-Results field (RFC 8601) whose authserv-id
is AUTHSERV_ID, and in it exactly one dkim=pass result with header.d=DOMAIN header.s=S for
each SELECTOR, and no other dkim result. Prints one line per file; exit 1 if any fails."""
import email
import email.policy
import re
import sys


def authserv_id(value):
    v = re.sub(r"\([^()]*\)", " ", value).strip()
    return re.split(r"[\s;]", v, 1)[0].lower()


def dkim_results(value):
    # "dkim=pass header.d=x header.s=y ...": result, then its properties
    out = []
    for part in value.split(";")[1:]:
        m = re.match(r"\s*dkim=(\w+)(.*)", part, re.S)
        if m:
            props = dict(re.findall(r"header\.([dsab])=(\S+)", m.group(2)))
            out.append((m.group(1), props.get("d", "").strip('"').lower(), props.get("s", "").strip('"')))
    return out


def check(path, want_id, domain, sels):
    msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.compat32)
    ours = [v for v in msg.get_all("Authentication-Results", []) if authserv_id(v) == want_id]
    if len(ours) != 1:
        return "%d Authentication-Results of %s" % (len(ours), want_id)
    got = sorted(dkim_results(ours[0]))
    want = sorted(("pass", domain, s) for s in sels)
    if got != want:
        return "dkim results %s, want %s" % (got, want)
    return None


def main():
    if "--" not in sys.argv[3:]:
        print(__doc__, file=sys.stderr)
        return 2
    i = sys.argv.index("--")
    want_id, domain, sels, files = sys.argv[1].lower(), sys.argv[2].lower(), sys.argv[3:i], sys.argv[i + 1:]
    bad = 0
    for f in files:
        why = check(f, want_id, domain, sels)
        subj = email.message_from_binary_file(open(f, "rb"), policy=email.policy.compat32)["Subject"]
        print("%s: %s (%s)" % ("FAIL" if why else "ok", why or "one, dkim=pass " + " ".join(sels),
                               " ".join(str(subj).split())))
        bad += why is not None
    print("%d messages, %d without exactly one passing Authentication-Results of %s" % (
        len(files), bad, want_id))
    return 1 if bad or not files else 0


if __name__ == "__main__":
    sys.exit(main())
