#!/bin/bash
# harness-selftest: proves that tests/harness/ can start, use and stop every test server.
#
#   redis   PING over the unix socket, SET/GET round trip over TCP
#   clamd   EICAR FOUND and a clean file OK, both by raw zINSTREAM and by clamdscan
#           --stream; EICAR inside a base64 MIME attachment is FOUND too; a 25 MB stream
#           is scanned, a 27 MB one refused (the harness's StreamMaxLength 25M)
#   postfix one message over SMTP (swaks), one through sendmail -C and a 12 MB one (above
#           Postfix's default size limit) land in the Maildir; the maillog shows them;
#           with pf_milters pointing at a milter that is not there, SMTP mail is
#           tempfailed (451 4.7.1)
#   netns   a veth pair: ping across it (when ping is installed) and a Postfix started in
#           one namespace receives mail sent from the other
#   cleanup every process the harness started is gone afterwards, namespaces deleted
# Prints PASS/FAIL/SKIP lines and "N passed, N failed"; exits 0, 1, or 77 when a server
# binary is missing. Runs in a few seconds; only loopback and its own namespaces are used.
# shellcheck disable=SC2034 # HN_NAME is read by lib.sh; rc, ns_b are read in eval'd checks
set -u
H=${POSTWARDEN_HARNESS:-$(cd "$(dirname "$0")/../harness" && pwd)}
# shellcheck source=../harness/lib.sh
. "$H/lib.sh"
# shellcheck source=../harness/redis.sh
. "$H/redis.sh"
# shellcheck source=../harness/clamd.sh
. "$H/clamd.sh"
# shellcheck source=../harness/postfix.sh
. "$H/postfix.sh"
# shellcheck source=../harness/netns.sh
. "$H/netns.sh"
HN_NAME=harness-selftest

hn_require redis-server redis-cli clamd clamdscan sigtool socat xxd postfix postconf sendmail \
	swaks base64
hn_tmpdir D selftest
started=()

# --- redis ------------------------------------------------------------------------------
rport=$(hn_free_port)
if redis_up "$D/redis" "$rport"; then
	started+=("$(cat "$D/redis/redis.pid")")
	hn_check "redis: PING over unix socket" test "$(redis_cli "$D/redis" ping)" = PONG
	redis_cli "$D/redis" set pw:selftest:k "v$$" >/dev/null
	hn_check "redis: SET (unix) then GET (tcp)" \
		test "$(redis-cli -h 127.0.0.1 -p "$rport" get pw:selftest:k)" = "v$$"
else
	hn_fail "redis: start"
fi

# --- clamd ------------------------------------------------------------------------------
if clamd_up "$D/clamd"; then
	started+=("$(cat "$D/clamd/clamd.shell.pid")")
	sock=$D/clamd/clamd.sock
	printf 'nothing to see here\n' >"$D/clean.txt"
	r=$(clamd_instream "$sock" "$D/clamd/eicar.com")
	hn_check "clamd: zINSTREAM EICAR FOUND ($r)" \
		eval '[[ $r == "stream: PW-Test.EICAR-"*" FOUND" ]]'
	r=$(clamd_instream "$sock" "$D/clean.txt")
	hn_check "clamd: zINSTREAM clean file OK ($r)" test "$r" = "stream: OK"
	clamdscan -c "$D/clamd/clamd.conf" --stream --no-summary "$D/clamd/eicar.com" >"$D/cs1" 2>&1
	rc=$?
	hn_check "clamdscan --stream: EICAR rc=1 FOUND" \
		eval '[ $rc -eq 1 ] && grep -q "PW-Test.EICAR-.* FOUND" "$D/cs1"'
	clamdscan -c "$D/clamd/clamd.conf" --stream --no-summary "$D/clean.txt" >"$D/cs2" 2>&1
	rc=$?
	hn_check "clamdscan --stream: clean rc=0 OK" eval '[ $rc -eq 0 ] && grep -q ": OK$" "$D/cs2"'
	{
		printf 'From: a@example.org\nTo: b@example.test\nSubject: attachment\n'
		printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n'
		printf -- '--b1\nContent-Type: text/plain\n\nsee attachment\n'
		printf -- '--b1\nContent-Type: application/octet-stream; name="t.com"\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$D/clamd/eicar.com"
		printf -- '--b1--\n'
	} >"$D/eicar-mime.eml"
	r=$(clamd_instream "$sock" "$D/eicar-mime.eml")
	hn_check "clamd: EICAR in a base64 MIME attachment FOUND ($r)" eval '[[ $r == *" FOUND" ]]'
	head -c 25000000 /dev/zero >"$D/25mb"
	r=$(clamd_instream "$sock" "$D/25mb")
	hn_check "clamd: a 25 MB stream is scanned (StreamMaxLength 25M) ($r)" test "$r" = "stream: OK"
	head -c 2000000 /dev/zero >>"$D/25mb"
	r=$(clamd_instream "$sock" "$D/25mb")
	hn_check "clamd: a 27 MB stream is refused ($r)" eval '[[ $r == *"size limit exceeded"* ]]'
	rm -f "$D/25mb"
else
	hn_fail "clamd: start"
fi

# --- postfix ----------------------------------------------------------------------------
pport=$(hn_free_port)
if pf_make "$D/pf" "127.0.0.1:$pport" && pf_up "$D/pf"; then
	started+=("$(pf_master_pid "$D/pf")")
	printf 'From: <a@example.org>\nTo: <alice@example.test>\nSubject: selftest smtp %s\nDate: %s\nMessage-ID: <smtp.%s@example.org>\n\nover SMTP\n' \
		"$$" "$(date -R)" "$$" >"$D/m-smtp.eml"
	printf 'From: <root@example.test>\nTo: <bob@example.test>\nSubject: selftest sendmail %s\nDate: %s\nMessage-ID: <sm.%s@example.test>\n\nthrough sendmail\n' \
		"$$" "$(date -R)" "$$" >"$D/m-sendmail.eml"
	hn_check "postfix: swaks SMTP submit accepted" \
		pf_send_smtp 127.0.0.1 "$pport" a@example.org alice@example.test "$D/m-smtp.eml"
	hn_check "postfix: sendmail -C submit accepted" \
		eval 'pf_sendmail "$D/pf" root@example.test bob@example.test <"$D/m-sendmail.eml"'
	{
		printf 'From: <a@example.org>\nTo: <dave@example.test>\nSubject: selftest big %s\n\n' "$$"
		yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' |
			head -n 160000
	} >"$D/m-big.eml"
	hn_check "postfix: a 12 MB message is accepted (message_size_limit raised)" \
		pf_send_smtp 127.0.0.1 "$pport" a@example.org dave@example.test "$D/m-big.eml"
	rm -f "$D/m-big.eml"
	hn_check "postfix: 3 messages in Maildir new/" pf_wait_mail "$D/pf" 3 15
	hn_check "postfix: SMTP message delivered intact" \
		grep -qlx "Subject: selftest smtp $$" -r "$D/pf/mail/inbox/new"
	hn_check "postfix: sendmail message delivered intact" \
		grep -qlx "Subject: selftest sendmail $$" -r "$D/pf/mail/inbox/new"
	hn_check "postfix: maillog shows 3 deliveries" \
		eval '[ "$(grep -c "status=sent (delivered to maildir)" "$D/pf/maillog")" -eq 3 ]'
	for p in $(hn_procs_matching "$D/pf/etc"); do started+=("$p"); done
	# pf_milters really reaches smtpd: a milter that is not there must tempfail mail.
	pf_down "$D/pf"
	pf_milters "$D/pf" "unix:$D/no-such-milter.sock"
	if pf_up "$D/pf"; then
		started+=("$(pf_master_pid "$D/pf")")
		pf_send_smtp 127.0.0.1 "$pport" a@example.org alice@example.test "$D/m-smtp.eml" \
			>"$D/swaks-milter.out" 2>&1
		hn_check "postfix: missing milter + tempfail gives 451 4.7.1" \
			grep -q '451 4.7.1' "$D/swaks-milter.out"
		for p in $(hn_procs_matching "$D/pf/etc"); do started+=("$p"); done
	else
		hn_fail "postfix: restart with pf_milters"
	fi
else
	hn_fail "postfix: start"
fi

# --- network namespaces -----------------------------------------------------------------
if ! ns_usable; then
	hn_skip "netns" "cannot create network namespaces here"
else
	ns_pair_up pwst
	if command -v ping >/dev/null 2>&1; then
		hn_check "netns: ping $NS_A -> $NS_B_IP" ns_exec "$NS_A" ping -c 1 -W 2 "$NS_B_IP"
	else
		hn_skip "netns: ping" "ping not installed; TCP across the veth is checked below"
	fi
	if pf_make "$D/nsrcv" "$NS_B_IP:25" && pf_up "$D/nsrcv" "$NS_B"; then
		started+=("$(pf_master_pid "$D/nsrcv")")
		hn_check "netns: 220 banner across the veth" ns_exec "$NS_A" \
			bash -c "$(declare -f hn_banner); hn_banner $NS_B_IP 25"
		hn_check "netns: SMTP from $NS_A to Postfix in $NS_B" ns_exec "$NS_A" \
			bash -c "$(declare -f pf_send_smtp hn_require); pf_send_smtp $NS_B_IP 25 \
				a@example.org carol@example.test $D/m-smtp.eml"
		hn_check "netns: delivered in $NS_B" pf_wait_mail "$D/nsrcv" 1 15
		for p in $(hn_procs_matching "$D/nsrcv/etc"); do started+=("$p"); done
	else
		hn_fail "netns: postfix start in $NS_B"
	fi
fi

# --- cleanup ----------------------------------------------------------------------------
ns_a=$NS_A
ns_b=$NS_B
hn_cleanup_now
left=
for p in "${started[@]}"; do
	[ -n "$p" ] && hn_alive "$p" && left="$left $p"
done
hn_check "cleanup: no process left (${#started[@]} checked)${left:+, alive:$left}" test -z "$left"
if [ -n "$ns_a" ]; then
	hn_check "cleanup: namespaces deleted" \
		eval '! ip netns list | grep -qwE "$ns_a|$ns_b" && [ ! -e "/etc/netns/$ns_a" ]'
fi
[ -n "${HN_KEEP:-}" ] || hn_check "cleanup: temp dir removed" test ! -e "$D"
hn_summary
