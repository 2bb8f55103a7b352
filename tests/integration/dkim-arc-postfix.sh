#!/bin/bash
# dkim-arc-postfix.sh: milter-dkim verifying and ARC-sealing behind a real, private Postfix
# (the forwarder, smtpd_milters), with arc_seal = relay: the decision comes from Postfix's
# own {rcpt_mailer} macro. A second private Postfix is the next hop.
#   - a dkimpy-signed message to a recipient the forwarder relays (transport smtp to the
#     next hop): sealed i=1 cv=none; delivered at the next hop with our
#     Authentication-Results (dkim=pass) and the ARC set, which dkimpy validates (cv=pass),
#     the origin's DKIM signature still passing; the forged Authentication-Results (our
#     authserv-id) is gone, the trusted one is still there
#   - a message signed simple/simple over "Subject:tight" and "X-Wide:   wide": dkim=pass
#     (the value after the colon byte for byte: SMFIP_HDR_LEADSPC), the spacing kept
#   - the same message to a local (virtual) recipient: verified, not sealed, the reason
#     logged with Postfix's queue id
set -u
. "$(dirname "$0")/dkim-lib.sh"
. "$HN_HARNESS/postfix.sh"
dk_init dkim-arc-postfix
hn_require postfix swaks
/usr/bin/python3 -c 'import authres' 2>/dev/null ||
	{ echo "SKIP: python3-authres (for dkimpy's ARC) not installed"; exit 77; }
dk_dns

dk_conf "$D/m.conf" <<EOF
sign_networks = 10.99.0.0/16
verify = yes
authserv_id = mx.fwd.example.test
trusted_authserv_ids = spf.fwd.example.test
arc_seal = relay
arc_domain = fwd1.example.test
arc_selector = a1
[fwd1.example.test]
selectors = a1
EOF
hn_check "keygen" "$DKIM" -c "$D/m.conf" keygen
hn_check "sealing selector published" dk_publish "$D/m.conf"
/usr/bin/python3 "$DK_SRC/dkim_origin.py" "$D" || { echo "FAIL: origin message"; exit 1; }
hn_check "origin key published" dk_add "$(cat "$D/origin.rr")"
hn_check "daemon starts" dk_start "$D/m.conf"

# the next hop: delivers relay.example.test to its Maildir
NEXT=$D/next
NPORT=$(hn_free_port)
pf_make "$NEXT" "127.0.0.1:$NPORT" "virtual_mailbox_domains = relay.example.test" ||
	hn_die "pf_make next"
hn_check "next hop postfix starts" pf_up "$NEXT"
# the forwarder: example.test local (virtual), relay.example.test sent on over SMTP
FWD=$D/fwd
FPORT=$(hn_free_port)
pf_make "$FWD" "127.0.0.1:$FPORT" "relay_domains = relay.example.test" \
	"transport_maps = inline:{relay.example.test=smtp:[127.0.0.1]:$NPORT}" ||
	hn_die "pf_make fwd"
pf_milters "$FWD" "unix:$SOCK" tempfail
hn_check "forwarder postfix starts with the milter" pf_up "$FWD"

hn_check "relayed recipient: accepted" \
	pf_send_smtp 127.0.0.1 "$FPORT" ann@origin.example.test rcpt@relay.example.test "$D/origin.eml"
hn_check "  delivered at the next hop" pf_wait_mail "$NEXT" 1 60
out=$(ls "$NEXT"/mail/inbox/new/* 2>/dev/null | head -n 1)
qid_sealed() { grep -qE '^milter-dkim: [0-9A-F]{6,}: sealed i=1 cv=none d=fwd1.example.test s=a1$' "$D/dkim.log"; }
hn_check "  sealed i=1 cv=none (logged with Postfix's queue id)" qid_sealed
hn_check "  verified dkim=pass, logged" \
	grep -qE ': verified: dkim=pass header.d=origin.example.test .*arc=none' "$D/dkim.log"
hn_check "  dkimpy at the next hop: ARC cv=pass" bash -c \
	'/usr/bin/python3 "$1/dkim_verify.py" --arc "$2" pass <"$3"' _ "$DK_SRC" "$RESOLVER" "$out"
hn_check "  dkimpy: the origin's DKIM signature passes" dk_verify "$out" 1
hn_check "  our Authentication-Results: dkim=pass" bash -c \
	'grep -A2 "^Authentication-Results: mx.fwd.example.test;" "$1" |
	 grep -q "dkim=pass header.d=origin.example.test"' _ "$out"
hn_check "  the forged Authentication-Results is gone" dk_fails \
	grep -q 'header.d=forged.example.test' "$out"
hn_check "  the trusted one is kept" grep -q '^Authentication-Results: spf.fwd.example.test;' "$out"

# c=simple header canonicalization: "Subject:tight" and "X-Wide:   wide" reach the
# verifier byte for byte only with SMFIP_HDR_LEADSPC negotiated
hn_check "simple/simple signature over 'Subject:tight': accepted" \
	pf_send_smtp 127.0.0.1 "$FPORT" ann@origin.example.test rcpt@relay.example.test "$D/simple.eml"
hn_check "  delivered at the next hop" pf_wait_mail "$NEXT" 2 60
simple_out=$(grep -l 'arc-2@origin' "$NEXT"/mail/inbox/new/* 2>/dev/null | head -n 1)
hn_check "  our Authentication-Results: dkim=pass" bash -c \
	'grep -A2 "^Authentication-Results: mx.fwd.example.test;" "$1" |
	 grep -q "dkim=pass header.d=origin.example.test"' _ "$simple_out"
hn_check "  the fields kept their spacing" bash -c \
	'grep -q "^Subject:tight" "$1" && grep -q "^X-Wide:   wide" "$1"' _ "$simple_out"
hn_check "  dkimpy at the next hop: the simple signature passes" dk_verify "$simple_out" 1

hn_check "local recipient: accepted" \
	pf_send_smtp 127.0.0.1 "$FPORT" ann@origin.example.test local@example.test "$D/origin.eml"
hn_check "  delivered locally" pf_wait_mail "$FWD" 1 60
hn_check "  not sealed, reason logged with the queue id" grep -qE \
	'^milter-dkim: [0-9A-F]{6,}: not sealed: no recipient relayed$' "$D/dkim.log"
local_out=$(ls "$FWD"/mail/inbox/new/* 2>/dev/null | head -n 1)
hn_check "  no ARC-Seal, our Authentication-Results present" bash -c \
	'! grep -q "^ARC-Seal:" "$1" && grep -q "^Authentication-Results: mx.fwd.example.test;" "$1"' \
	_ "$local_out"
hn_check "daemon alive" hn_alive "$DK_PID"
dk_dump
[ "$HN_FAILED" -eq 0 ] || { tail -n 30 "$FWD/maillog"; tail -n 10 "$NEXT/maillog"; }
hn_summary
