#!/bin/bash
# dkim-arc.sh: milter-dkim's verification and ARC sealing (verify = yes, arc_seal), driven
# by the project's milter client (milterload, which writes the message as modified) against
# the running daemon, keys published in the harness DNS (knot + validating unbound), and
# checked by dkimpy (dkim.verify, dkim.arc_verify) through the same DNS.
# Verifies: an origin message signed by dkimpy is verified (dkim=pass in the
# Authentication-Results the daemon inserts, with our authserv-id); an
# Authentication-Results claiming our id is deleted (forged) and one from a
# trusted_authserv_ids id is carried into the ARC-Authentication-Results; hop 1 seals i=1
# cv=none with arc_domain fwd1.example.test, hop 2 (after a reload to arc_domain fwd2.plain.test) seals
# i=2 cv=pass, and dkimpy reports cv=pass for the three-hop result with the origin's DKIM
# signature still passing; a body changed between the hops makes hop 2 seal cv=fail
# (dkimpy: chain ended) and a third hop does not extend it; a missing key is permerror;
# a selector not in DNS is not used for sealing (reason logged with the queue id); a
# reload that changes `resolver` takes effect for key lookups without a restart.
set -u
. "$(dirname "$0")/dkim-lib.sh"
dk_init dkim-arc
/usr/bin/python3 -c 'import authres' 2>/dev/null ||
	{ echo "SKIP: python3-authres (for dkimpy's ARC) not installed"; exit 77; }
dk_dns
ML=$POSTWARDEN_BUILD/tests/bench/milterload

conf() {
	dk_conf "$D/arc.conf" <<EOF
sign_networks = 10.99.0.0/16
dns_timeout = 2s
verify = yes
authserv_id = mx.fwd.example.test
trusted_authserv_ids = spf.fwd.example.test
arc_seal = always
arc_domain = $1
arc_selector = $2
[fwd1.example.test]
selectors = a1
[fwd2.plain.test]
selectors = a2 unpublished
EOF
}
conf fwd1.example.test a1
hn_check "keygen creates the sealing keys" "$DKIM" -c "$D/arc.conf" keygen
hn_check "fwd1.example.test/a1 published" dk_publish_selector "$D/arc.conf" a1 fwd1.example.test
hn_check "fwd2.plain.test/a2 published" dk_publish_selector "$D/arc.conf" a2 fwd2.plain.test

# the origin: a message signed by dkimpy, its key published in the harness DNS
/usr/bin/python3 "$DK_SRC/dkim_origin.py" "$D" || { echo "FAIL: origin message"; exit 1; }
hn_check "origin key published" dk_add "$(cat "$D/origin.rr")"
hn_check "daemon starts" dk_start "$D/arc.conf"

# milterload: one message from 127.0.0.1 (outside sign_networks: verified, not signed)
hop() {
	"$ML" -s "unix:$SOCK" -m "$1" -c 1 -n 1 -T 30 -o "$2" >"$D/ml.out" 2>&1 &&
		grep -q 'errors=0 ' "$D/ml.out"
}
arc_cv() { /usr/bin/python3 "$DK_SRC/dkim_verify.py" --arc "$RESOLVER" "$2" <"$1"; }
logged() { grep -qE "$1" "$D/dkim.log"; }
# field FILE NAME: every NAME field of FILE, unfolded, one per line
field() {
	/usr/bin/python3 -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for v in m.get_all(sys.argv[2]) or []:
    print(" ".join(str(v).split()))' "$1" "$2"
}
top_ar() { head -n 1 "$1" | grep -q '^Authentication-Results: mx.fwd.example.test;'; }

hn_check "hop 1: the message passes the milter" hop "$D/origin.eml" "$D/hop1.eml"
hn_check "  verified: dkim=pass for origin.example.test, no ARC yet" \
	logged ': verified: dkim=pass header.d=origin.example.test header.s=origin .*arc=none'
hn_check "  forged Authentication-Results deleted (one header change)" \
	grep -q 'hdr_changed=1' "$D/ml.out"
hn_check "  sealed i=1 cv=none by fwd1.example.test/a1" logged ': sealed i=1 cv=none d=fwd1.example.test s=a1$'
hn_check "  ARC-Seal on top" bash -c 'head -n 1 "$1" | grep -q "^ARC-Seal: i=1;"' _ "$D/hop1.eml"
hn_check "  our Authentication-Results says dkim=pass" bash -c \
	'grep -qx "mx.fwd.example.test; dkim=pass header.d=origin.example.test header.s=origin header.a=rsa-sha256 header.b=[^ ]*; arc=none" <<<"$1"' \
	_ "$(field "$D/hop1.eml" Authentication-Results)"
hn_check "  AAR i=1 carries the trusted spf=pass" grep -q \
	'^i=1; mx.fwd.example.test; dkim=pass header.d=origin.example.test .*; arc=none; spf=pass smtp.mailfrom=origin.example.test$' \
	<(field "$D/hop1.eml" ARC-Authentication-Results)
hn_check "  dkimpy: ARC cv=pass after hop 1" arc_cv "$D/hop1.eml" pass
hn_check "  dkimpy: the origin's DKIM signature still passes" dk_verify "$D/hop1.eml" 1

conf fwd2.plain.test a2
hn_check "reload: arc_domain fwd2.plain.test" dk_reload
hn_check "hop 2" hop "$D/hop1.eml" "$D/hop2.eml"
hn_check "  verified: arc=pass" logged ': verified: dkim=pass header.d=origin.example.test.*arc=pass'
hn_check "  sealed i=2 cv=pass by fwd2.plain.test/a2" logged ': sealed i=2 cv=pass d=fwd2.plain.test s=a2$'
hn_check "  dkimpy: ARC cv=pass for i=1..2 (three hops)" arc_cv "$D/hop2.eml" pass
hn_check "  dkimpy: the origin's DKIM signature still passes" dk_verify "$D/hop2.eml" 1

# the body changed between the hops: hop 2 sees a broken chain and seals cv=fail
sed 's/body text/body edited/' "$D/hop1.eml" >"$D/hop1-edited.eml"
hn_check "hop 2 after a body change" hop "$D/hop1-edited.eml" "$D/hop2-fail.eml"
hn_check "  verified: dkim=fail (body hash), arc=fail" \
	logged ': verified: dkim=fail reason="body hash mismatch" header.d=origin.example.test.*arc=fail'
hn_check "  sealed i=2 cv=fail" logged ': sealed i=2 cv=fail d=fwd2.plain.test s=a2$'
hn_check "  dkimpy: the chain ended (last seal cv=fail)" arc_cv "$D/hop2-fail.eml" ended
hn_check "a third hop does not extend a failed chain" hop "$D/hop2-fail.eml" "$D/hop3.eml"
hn_check "  reason logged with the queue id" \
	logged ': not sealed: the ARC chain ended with cv=fail at i=2$'
hn_check "  no new ARC-Seal" test "$(grep -c '^ARC-Seal:' "$D/hop3.eml")" -eq 2

hn_check "missing key: permerror" hop "$D/nokey.eml" "$D/nokey-out.eml"
hn_check "  logged" logged ': verified: dkim=permerror reason="no key at gone._domainkey.origin.example.test"'

# an authenticated submission (milterload -a) from a configured domain: signed and sealed,
# one relaxed body hash serving the signature, the verifier and the AMS
printf 'From: Bob <bob@fwd1.example.test>\r\nTo: x@example.net\r\nSubject: own\r\n\r\nmine  \r\n\r\n' \
	>"$D/own.eml"
hn_check "submission: signed and sealed" bash -c \
	'"$1" -s "unix:$2" -m "$3" -a -c 1 -n 1 -T 30 -o "$4" | grep -q "errors=0 "' \
	_ "$ML" "$SOCK" "$D/own.eml" "$D/own-out.eml"
hn_check "  logged signed by fwd1.example.test/a1" logged ': signed d=fwd1.example.test s=a1 '
hn_check "  dkimpy: our DKIM-Signature passes" dk_verify "$D/own-out.eml" 1
hn_check "  dkimpy: ARC cv=pass" arc_cv "$D/own-out.eml" pass

conf fwd2.plain.test unpublished
hn_check "reload: arc_selector not in DNS" dk_reload
hn_check "hop with an unpublished sealing selector" hop "$D/origin.eml" "$D/unpub.eml"
hn_check "  not sealed, reason logged" \
	logged ': not sealed: ARC selector unpublished of fwd2.plain.test does not sign'
hn_check "  no ARC-Seal added" dk_fails grep -q '^ARC-Seal:' "$D/unpub.eml"
# a reload that changes the resolver reaches verification: first one where nothing
# answers (temperror, not cached), then the harness resolver again, same process
hn_check "late selector published" dk_add "$(cat "$D/late.rr")"
GOOD_RESOLVER=$RESOLVER
RESOLVER=127.0.0.1@9
conf fwd1.example.test a1
hn_check "reload: resolver = 127.0.0.1@9 (nothing answers)" dk_reload
hn_check "hop: key lookup fails" hop "$D/late.eml" "$D/late-dead.eml"
hn_check "  dkim=temperror, logged" \
	logged ': verified: dkim=temperror reason="key lookup late._domainkey.origin.example.test failed"'
RESOLVER=$GOOD_RESOLVER
conf fwd1.example.test a1
hn_check "reload: the harness resolver again" dk_reload
hn_check "hop: key found through the new resolver" hop "$D/late.eml" "$D/late-ok.eml"
hn_check "  dkim=pass, logged" \
	logged ': verified: dkim=pass header.d=origin.example.test header.s=late '
hn_check "daemon alive" hn_alive "$DK_PID"
hn_stop "$DK_PID" 10
dk_dump
hn_summary
