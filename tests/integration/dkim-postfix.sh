#!/bin/bash
# dkim-postfix.sh: milter-dkim behind a real, private Postfix (smtpd_milters and
# non_smtpd_milters), delivering to a Maildir; selectors published in the harness DNS from
# `milter-dkim dns`. Every delivered signed message is verified by dkimpy (every signature)
# and Mail::DKIM (the RSA one), never by milter-dkim itself.
#   - SMTP from 127.0.0.1 (sign_networks): dual-signed RSA + Ed25519, both verify; a folded
#     Subject, trailing whitespace, 8-bit UTF-8 and trailing blank lines survive Postfix's LF
#     handling
#   - a 10 MB message over SMTP: signed and verified
#   - From an unconfigured domain: delivered unsigned, "<queue id>: not signed: ..." logged
#     with Postfix's queue id
#   - local submission (sendmail, non_smtpd_milters, Postfix's "localhost" port 0) is signed
#     even when sign_networks excludes loopback, while SMTP from 127.0.0.1 then is not
set -u
. "$(dirname "$0")/dkim-lib.sh"
. "$HN_HARNESS/postfix.sh"
dk_init dkim-postfix
hn_require postfix swaks perl
dk_dns

write_conf() {
	dk_conf "$D/m.conf" <<EOF
sign_networks = $1
[example.test]
selectors = r1 e1
[example.test/e1]
algorithm = ed25519-sha256
EOF
}
write_conf "127.0.0.0/8"
hn_check "keygen" "$DKIM" -c "$D/m.conf" keygen
hn_check "selectors published" dk_publish "$D/m.conf"
hn_check "daemon starts" dk_start "$D/m.conf"

PF=$D/pf
PORT=$(hn_free_port)
pf_make "$PF" "127.0.0.1:$PORT" || hn_die "pf_make"
pf_milters "$PF" "unix:$SOCK" tempfail
hn_check "postfix starts with the milter" pf_up "$PF"

# msg FILE FROM SUBJECT-TOKEN: a message with the awkward bits canonicalization must handle.
msg() {
	{
		printf 'From: "Sender Name" <%s>\n' "$2"
		printf 'To: rcpt@example.test\n'
		printf 'Subject: %s a long subject that Postfix keeps\n\tfolded over two lines\n' "$3"
		printf 'Date: %s\n' "$(date -R)"
		printf 'Message-ID: <%s.%s@example.test>\n' "$3" "$$"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n'
		printf 'X-Spaces:   several   spaces  \n\n'
		printf 'Gr\303\274\303\237e aus dem Test.\n'
		printf 'trailing whitespace   \n\ttabbed line\t\n\n'
		printf '.a line starting with a dot\n\n\n\n'
	} >"$1"
}
# delivered TOKEN: the delivered file whose Subject carries TOKEN.
delivered() { grep -l "^Subject: $1 " "$PF"/mail/inbox/new/* 2>/dev/null | head -n 1; }
wait_delivered() { hn_wait "${2:-30}" bash -c "grep -q '^Subject: $1 ' \"\$1\"/mail/inbox/new/* 2>/dev/null" _ "$PF"; }

# --- SMTP from a trusted network, dual-signed
msg "$D/m1" alice@example.test TOK1
hn_check "SMTP from 127.0.0.1 accepted" pf_send_smtp 127.0.0.1 "$PORT" alice@example.test rcpt@example.test "$D/m1"
hn_check "delivered" wait_delivered TOK1
F1=$(delivered TOK1)
hn_check "two DKIM-Signature headers (RSA + Ed25519)" test "$(dk_sigs "${F1:-/dev/null}")" -eq 2
hn_check "dkimpy verifies both signatures" dk_verify "${F1:-/dev/null}" 2
hn_check "Mail::DKIM verifies the RSA signature" dk_verify_pl "${F1:-/dev/null}" 1
sed 's/aus dem Test/aus dem TesT/' "${F1:-/dev/null}" >"$D/tampered"
hn_check "control: a tampered copy fails dkimpy" dk_fails dk_verify "$D/tampered" 1
hn_check "control: a tampered copy fails Mail::DKIM" dk_fails dk_verify_pl "$D/tampered" 1
hn_check "signed with a=rsa-sha256 and a=ed25519-sha256, no l=" bash -c \
	'tr -d "\n\t " <"$1" | grep -q "a=rsa-sha256" && tr -d "\n\t " <"$1" | grep -q "a=ed25519-sha256" &&
	 ! sed -n "/^DKIM-Signature:/,/^[^ \t]/p" "$1" | grep -q "[ ;]l="' _ "${F1:-/dev/null}"
hn_check "queue id in the log matches Postfix's" bash -c \
	'q=$(sed -n "s/.*with ESMTP id \([0-9A-F]*\).*/\1/p" "$1" | head -n 1); [ -n "$q" ] &&
	 grep -q "$q: signed d=example.test s=r1 (rsa-sha256), e1 (ed25519-sha256)" "$2"' _ \
	"${F1:-/dev/null}" "$D/dkim.log"

# --- 10 MB
{
	msg /dev/stdout bulk@example.test TOKBIG | sed '/^$/q'
	head -c 7600000 /dev/urandom | base64 -w 76
} >"$D/big"
hn_check "10 MB message built" test "$(stat -c %s "$D/big")" -gt 10000000
hn_check "10 MB message accepted" pf_send_smtp 127.0.0.1 "$PORT" bulk@example.test rcpt@example.test "$D/big"
hn_check "10 MB message delivered" wait_delivered TOKBIG 60
FB=$(delivered TOKBIG)
hn_check "10 MB: dkimpy verifies both signatures" dk_verify "${FB:-/dev/null}" 2
hn_check "10 MB: Mail::DKIM verifies RSA" dk_verify_pl "${FB:-/dev/null}" 1

# --- unconfigured From domain: delivered unsigned, reason logged with the queue id
msg "$D/m2" nobody@other.example TOK2
hn_check "unconfigured domain accepted" pf_send_smtp 127.0.0.1 "$PORT" x@other.example rcpt@example.test "$D/m2"
hn_check "delivered" wait_delivered TOK2
F2=$(delivered TOK2)
hn_check "  unsigned" test "$(dk_sigs "${F2:-/dev/null}")" -eq 0
hn_check "  reason logged with Postfix's queue id" bash -c \
	'q=$(sed -n "s/.*with ESMTP id \([0-9A-F]*\).*/\1/p" "$1" | head -n 1); [ -n "$q" ] &&
	 grep -q "$q: not signed: From domain other.example not configured" "$2"' _ \
	"${F2:-/dev/null}" "$D/dkim.log"

# --- local submission: sign_networks without loopback
write_conf "192.0.2.0/24"
hn_check "reload with loopback outside sign_networks" dk_reload
hn_check "  reloaded" grep -q 'configuration reloaded' "$D/dkim.log"
msg "$D/m3" carol@example.test TOK3
hn_check "sendmail submission accepted" pf_sendmail "$PF" carol@example.test rcpt@example.test <"$D/m3"
hn_check "delivered" wait_delivered TOK3
F3=$(delivered TOK3)
hn_check "local submission signed twice" test "$(dk_sigs "${F3:-/dev/null}")" -eq 2
hn_check "  dkimpy verifies both" dk_verify "${F3:-/dev/null}" 2
hn_check "  Mail::DKIM verifies RSA" dk_verify_pl "${F3:-/dev/null}" 1
lines=$(wc -l <"$D/dkim.log")
msg "$D/m4" dave@example.test TOK4
hn_check "SMTP from 127.0.0.1 accepted" pf_send_smtp 127.0.0.1 "$PORT" dave@example.test rcpt@example.test "$D/m4"
hn_check "delivered" wait_delivered TOK4
F4=$(delivered TOK4)
hn_check "  not signed (127.0.0.1 no longer trusted)" test "$(dk_sigs "${F4:-/dev/null}")" -eq 0
hn_check "  and nothing logged about it" test "$(wc -l <"$D/dkim.log")" -eq "$lines"

hn_check "daemon alive" hn_alive "$DK_PID"
hn_check "no milter errors in the Postfix log" bash -c '! grep -i "milter.*\(error\|timeout\|unavailable\)" "$1"' _ "$PF/maillog"
if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- maillog"; tail -n 30 "$PF/maillog"
	for f in "$PF"/mail/inbox/new/*; do echo "--- $f"; head -c 3000 "$f"; done
fi
dk_dump
hn_summary
