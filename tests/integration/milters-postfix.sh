#!/bin/bash
# milters-postfix.sh: both milters behind one private Postfix with exactly the layout the
# README gives: port 25 (`smtpd_milters`) has milter-av only; the submission service
# (master.cf `-o smtpd_milters=...`) has milter-av then milter-dkim; sendmail mail
# (`non_smtpd_milters`) is signed; milter_default_action = tempfail. Then each milter is
# stopped in turn:
#   - milter-dkim down: inbound port-25 mail still flows (scanned); submission waits (451)
#   - milter-av down: both ports tempfail (451): nothing passes unscanned
# and each path flows again once the milter is back.
set -u
. "$(dirname "$0")/dkim-lib.sh"
. "$HN_HARNESS/postfix.sh"
. "$HN_HARNESS/clamd.sh"
. "$(dirname "$0")/av-lib.sh"
dk_init milters-postfix
hn_require postfix swaks clamd sigtool
av_preflight "Postfix instance"
dk_dns

# --- the daemons: clamd + milter-av, milter-dkim with an RSA and an Ed25519 selector
clamd_up "$D/clamd" || hn_die "clamd did not start"
av_up "$D/av" "clamd=unix:$D/clamd/clamd.sock" backend_retry=1s || hn_die "milter-av did not start"
dk_conf "$D/m.conf" <<CONF
sign_networks = 127.0.0.0/8
[example.test]
selectors = r1 e1
[example.test/e1]
algorithm = ed25519-sha256
CONF
hn_check "keygen" "$DKIM" -c "$D/m.conf" keygen
hn_check "selectors published" dk_publish "$D/m.conf"
hn_check "milter-dkim starts" dk_start "$D/m.conf"

# --- Postfix with the README's lines (socket paths are this test's, not the chroot's)
PF=$D/pf
PORT=$(hn_free_port)
SUB=$(hn_free_port)
AVS=$(av_sock "$D/av")
pf_make "$PF" "127.0.0.1:$PORT" || hn_die "pf_make"
pf_set "$PF" "smtpd_milters = $AVS" "non_smtpd_milters = unix:$SOCK" \
	"milter_default_action = tempfail"
postconf -c "$PF/etc" -Me "127.0.0.1:$SUB/inet=127.0.0.1:$SUB inet n - n - - smtpd"
postconf -c "$PF/etc" -Pe "127.0.0.1:$SUB/inet/syslog_name=postfix/submission" \
	"127.0.0.1:$SUB/inet/smtpd_milters=$AVS,unix:$SOCK"
pf_backdate "$PF"
hn_check "postfix starts" pf_up "$PF"

N=0
# send PORT FROM TOKEN: one message over SMTP; transcript in $D/smtp.out; swaks' status
send() {
	N=$((N + 1))
	printf 'From: %s\nTo: rcpt@example.test\nSubject: %s\nMessage-ID: <%s.%s@x>\nDate: %s\n\nhello\n' \
		"$2" "$3" "$3" "$N" "$(date -R)" >"$D/msg.$N"
	swaks --server 127.0.0.1 --port "$1" --from "$2" --to rcpt@example.test \
		--helo client.example.org --data "@$D/msg.$N" --timeout 30 >"$D/smtp.out" 2>&1
}
tempfailed() { grep -aq '<\*\* 451 4\.7\.1' "$D/smtp.out"; }
delivered() { grep -l "^Subject: $1\$" "$PF"/mail/inbox/new/* 2>/dev/null | head -n 1; }
arrives() { hn_wait 30 bash -c "grep -q '^Subject: $1\$' \"\$1\"/mail/inbox/new/* 2>/dev/null" _ "$PF"; }
scanned() { grep -q '^X-Virus-Scanned: postwarden milter-av' "$(delivered "$1")"; }
signed() { [ "$(dk_sigs "$(delivered "$1")")" -eq 2 ] && dk_verify "$(delivered "$1")" 2; }
unsigned() { [ "$(dk_sigs "$(delivered "$1")")" -eq 0 ]; }

# --- both up
hn_check "port 25: inbound accepted" send "$PORT" someone@remote.example in-1
hn_check "port 25: delivered" arrives in-1
hn_check "port 25: scanned" scanned in-1
hn_check "port 25: not signed (no signer on port 25)" unsigned in-1
hn_check "submission: accepted" send "$SUB" alice@example.test sub-1
hn_check "submission: delivered" arrives sub-1
hn_check "submission: scanned" scanned sub-1
hn_check "submission: signed by both selectors (dkimpy)" signed sub-1
printf 'From: alice@example.test\nTo: rcpt@example.test\nSubject: local-1\n\nhello\n' |
	pf_sendmail "$PF" alice@example.test rcpt@example.test
hn_check "sendmail: delivered" arrives local-1
hn_check "sendmail: signed (non_smtpd_milters)" signed local-1

# --- milter-dkim down: inbound mail is not held, submission waits
hn_stop "$DK_PID" 10
hn_check "dkim down, port 25: inbound accepted" send "$PORT" someone@remote.example in-2
hn_check "dkim down, port 25: delivered" arrives in-2
hn_check "dkim down, port 25: scanned" scanned in-2
send "$SUB" alice@example.test sub-2
hn_check "dkim down, submission: 451 4.7.1 (milter_default_action)" tempfailed
printf 'From: alice@example.test\nTo: rcpt@example.test\nSubject: local-2\n\nhello\n' |
	pf_sendmail "$PF" alice@example.test rcpt@example.test
sleep 3
hn_check "dkim down, sendmail: not delivered unsigned" test -z "$(delivered local-2)"
hn_check "milter-dkim back" dk_start "$D/m.conf"
hn_check "dkim back, submission: accepted" send "$SUB" alice@example.test sub-3
hn_check "dkim back, submission: delivered" arrives sub-3
hn_check "dkim back, submission: signed" signed sub-3
postkick -c "$PF/etc" public pickup W 2>/dev/null
hn_check "dkim back, sendmail: the waiting message is delivered" arrives local-2
hn_check "dkim back, sendmail: signed" signed local-2

# --- milter-av down: nothing passes unscanned
av_down "$D/av"
send "$PORT" someone@remote.example in-4
hn_check "av down, port 25: 451 4.7.1" tempfailed
send "$SUB" alice@example.test sub-4
hn_check "av down, submission: 451 4.7.1" tempfailed
hn_check "milter-av back" av_up "$D/av" "clamd=unix:$D/clamd/clamd.sock" backend_retry=1s
hn_check "av back, port 25: accepted" send "$PORT" someone@remote.example in-5
hn_check "av back, port 25: delivered" arrives in-5
hn_check "av back, port 25: scanned" scanned in-5

if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- smtp.out"; cat "$D/smtp.out"; echo "--- av.log"; tail -n 20 "$D/av/av.log"
	echo "--- maillog"; tail -n 40 "$PF/maillog"
fi
dk_dump
hn_summary
