#!/bin/bash
# mail-path.sh redis|lmdb TLSRPT_SEED: the whole mail path of a postwarden site, end to end, with all four
# daemons on one store (a Redis unix socket on the file system, or the embedded LMDB).
#
#   A, the sending host (network namespace): knotd (signed example.test) + a validating
#     unbound on A's 127.0.0.1:53 (A's resolv.conf), nginx on 127.0.0.1:443 serving the
#     MTA-STS policy hosts, Dovecot (auth service only), a Postfix with the README's main.cf
#     and master.cf lines (milter and policy sockets in its queue directory; submission on
#     127.0.0.1:587 with STARTTLS and SASL through Dovecot), milter-av (clamd with the
#     harness's EICAR-only database), milter-dkim (RSA + Ed25519 selectors of example.test,
#     published in the signed zone), policyd-mtasts, and the tlsrpt collector following A's
#     mail log (logfile =; Postfix 3.7 has no libtlsrpt).
#     Report mail leaves through the README's tlsrpt-out transport (TLS may, static:may
#     policy; chosen by sender_dependent_default_transport_maps for report_from).
#   B, the receiving host (mx.sts.example.test): one Postfix, Maildir, STARTTLS on four
#     addresses: .2 with a certificate for mx.{sts,dane,badtlsa,down,nopolicy}.example.test,
#     .3 an expired one, .4 one for another name, .5 no STARTTLS at all; its smtpd runs a
#     milter-dkim of its own with the README's verify line (verify = yes, authserv_id =
#     mx.sts.example.test, no signing domain, arc_seal = no, default_action=accept). B is
#     another host, so that milter-dkim has a store of its own of the same kind: its own
#     LMDB directory, or database 1 of the same redis-server (no key shared with A's
#     daemons: their status records would meet under the one host name of both
#     namespaces). B has no resolver: it asks A's unbound over the veth pair.
#
# alice@example.test submits over SMTP AUTH (python smtplib): the mail is scanned, signed by
# both selectors, and relayed by MX:
#   sts        MTA-STS enforce, good certificate: delivered, "Verified TLS"
#   dane       TLSA 3 1 1 of B's key (policyd answers dane-only): delivered, DANE-verified
#   expired    enforce, expired certificate            : deferred 4.7.5
#   wrongname  enforce, certificate for another name    : deferred 4.7.5
#   nostarttls enforce, no STARTTLS                     : deferred 4.7.4
#   badtlsa    TLSA that matches nothing (dane-only)    : deferred 4.7.5
#   down       policy host refuses connections           : NOTFOUND, delivered (RFC 8461)
#   nopolicy   policy host answers 404                   : NOTFOUND, delivered (RFC 8461)
# plus EICAR (rejected 5.7.1 at submission), no AUTH and a wrong password (refused), and one
# message through A's sendmail(1) to sts (signed, not scanned: non_smtpd_milters). B's
# dkimpy verifies both signatures of every delivered message; the day's TLS-RPT reports
# (`tlsrpt report --dry-run --out`) carry per domain the policy type, the session counts
# and the failure result type (tests/e2e/e2e_report.py). Then, A's Postfix up again:
#   B verifies: a message with a forged Authentication-Results of B's id loses it; at the
#     end every message in B's Maildir has exactly one Authentication-Results of B's id,
#     dkim=pass for both selectors (tests/e2e/e2e_authres.py).
#   TLS-RPT by mail: _smtp._tls of sts and expired name rua=mailto:tlsrpt@<domain>, a
#     mailbox on B. A day's reports are sent only once it is over, so the day's counts are
#     copied to two days ago (TLSRPT_SEED copy-day: tests/integration/tlsrpt_seed.c) and
#     `tlsrpt report --day` sends them for real (as root: Postfix's sendmail takes -C only
#     from root) through A's sendmail -C, milter-dkim and tlsrpt-out: each arrives once,
#     signed by both selectors of example.test (dkimpy in B), RFC 8460 shaped, its JSON the
#     dry run's but for the day (tests/e2e/e2e_report_mail.py); a second run sends nothing.
#   retries: B's Postfix down, three messages wait in A's queue (4.4.1, connection
#     refused); B up, postqueue -f: each delivered once, scanned once, signed twice.
#
# The loopback variant, where namespaces cannot be made (root, but ns_usable fails) or with
# E2E_LOOPBACK=1 (the test e2e-mail-path-loopback, so CI runs it too): it says so in one
# line, with what it leaves out, and runs the same site (e2e_site_up) in this namespace:
# knot + unbound, nginx (the policy hosts), A's smtpd and submission, B's smtpd on free
# ports of 127.0.0.1 (B: 127.0.0.2); /etc (resolv.conf) untouched. Postfix's own lookups
# follow /etc/resolv.conf, so A relays to B by transport_maps (smtp:[127.0.0.2]:PORT),
# Postfix applies no MTA-STS or DANE and asks no DNS; the daemons use the test DNS through
# `resolver =` / `trust_anchor =`, policyd-mtasts the policy hosts through `connect_to =`.
# Checked: policyd-mtasts' answers for the STS domains (secure match=...) and nopolicy
# (NOTFOUND) through its socketmap; dane_mode = off there (its DANE precondition asks the
# resolver of /etc/resolv.conf), so dane's answer is NOTFOUND, MTA-STS alone; no AUTH and
# a wrong password refused, EICAR 550 with the virus name; one good message delivered to
# B once over STARTTLS, scanned, both DKIM signatures passing dkimpy; tlsrpt's count of
# that TLS session from A's log (the dry-run report: 1 successful, 0 failed); the four
# daemons the same processes at the end, each exiting 0 on SIGTERM. Not covered there
# (the namespace run only): Postfix's MTA-STS/DANE enforcement and the TLS failure
# deferrals, policyd-mtasts' DANE answers, B's verifying milter-dkim, sendmail(1), the
# TLS-RPT reports by mail, the retries.
# Needs root (exits 77 otherwise, or when a server is not installed).
# shellcheck disable=SC2016 # bash -c bodies expand in the child
set -u
KIND=${1:?usage: mail-path.sh redis|lmdb TLSRPT_SEED}
SEED=${2:?usage: mail-path.sh redis|lmdb TLSRPT_SEED}
[ -x "$SEED" ] || { echo "FAIL: $SEED not built"; exit 1; }
. "$(dirname "$0")/e2e-lib.sh"
LB_WHY=
if [ "${E2E_LOOPBACK:-0}" = 1 ]; then
	LB_WHY="network namespaces not asked for (E2E_LOOPBACK=1)"
elif [ "$(id -u)" = 0 ] && ! ns_usable; then
	LB_WHY="network namespaces cannot be made here (ip netns add failed)"
	E2E_LOOPBACK=1
fi
e2e_init "e2e-$KIND${LB_WHY:+-loopback}" # exits 77 when not root or a server is missing
T0=$(hn_ms)

inbox() { grep -ls "^Subject: e2e $1\$" "$RCV"/mail/inbox/new/* | head -n 1; }
arrived() { [ -n "$(inbox "$1")" ]; }
two_sigs() { # FILE: dkimpy passes an rsa-sha256 (e2e-rsa) and an ed25519-sha256 (e2e-ed) one
	local out
	out=$(e2e_dkim_verify "$1" 2) || { printf '%s\n' "$out"; return 1; }
	printf '%s\n' "$out"
	grep -q "s=e2e-rsa a=rsa-sha256: pass" <<<"$out" &&
		grep -q "s=e2e-ed a=ed25519-sha256: pass" <<<"$out"
}

# --- the loopback variant (the header says what it covers and what it leaves out)
if [ -n "$LB_WHY" ]; then
	echo "NOTE: $LB_WHY: running the loopback variant (A and B in this namespace on 127.0.0.1/.2," \
		"free ports, A relays to B by transport_maps); NOT covered here, only by the namespace run:" \
		"Postfix's MTA-STS and DANE enforcement and the TLS failure deferrals, policyd-mtasts'" \
		"DANE answers (dane_mode = off), B's verifying milter-dkim, sendmail(1), TLS-RPT reports" \
		"by mail, delivery retries"
	# shellcheck disable=SC2034 # read by e2e_site_up
	E2E_B_VERIFY=0
	e2e_site_up "$KIND"
	e2e_pids_keep

	# policyd-mtasts' answers through its socketmap (postmap, as A's Postfix would ask)
	for d in "${STS_DOMS[@]}"; do
		hn_check "policy $d: secure match=mx.$d.$Z" e2e_answer "$d" "secure match=mx.$d.$Z servername=hostname"
	done
	hn_check "policy nopolicy (policy host answers 404): NOTFOUND" e2e_answer nopolicy ""
	hn_check "policy dane: NOTFOUND (dane_mode = off here: MTA-STS alone, none published)" \
		e2e_answer dane ""

	e2e_submission_checks
	hn_check "accepted: user@sts.$Z" e2e_send sts-1 "user@sts.$Z" "${E2E_AUTH[@]}"
	hn_check "  A's log: alice authenticated (sasl_method=PLAIN)" \
		grep -q "sasl_method=PLAIN, sasl_username=$USER_NAME" "$SND/maillog"
	hn_check "  delivered to B's Maildir (30 s)" hn_wait 30 arrived sts-1
	f=$(inbox sts-1)
	hn_check "  A's log: sent once, by transport_maps to [$B_ADDR]:$B_PORT" bash -c \
		'[ "$(grep -cE "to=<user@sts\.$1>, relay=$2\[$2\]:$3,.* status=sent" "$0")" = 1 ]' \
		"$SND/maillog" "$Z" "${B_ADDR//./\\.}" "$B_PORT"
	hn_check "  exactly once: B's Maildir holds that one message, A's queue is empty" bash -c \
		'[ "$0" = 1 ] && [ -z "$(postqueue -c "$1/etc" -j)" ]' "$(pf_mail_count "$RCV")" "$SND"
	hn_check "  scanned by milter-av (X-Virus-Scanned)" grep -q '^X-Virus-Scanned: ' "$f"
	hn_check "  dkimpy: two signatures pass, s=e2e-rsa rsa-sha256 and s=e2e-ed ed25519-sha256" \
		two_sigs "$f"
	hn_check "  B received it over TLS (ESMTPS)" grep -q "with ESMTPS id" "$f"
	hn_check "  A's log: TLS connection established to $B_ADDR (opportunistic: no policy here)" \
		grep -Eq "(Trusted|Untrusted|Anonymous) TLS connection established to $B_ADDR\[$B_ADDR\]:$B_PORT" \
		"$SND/maillog"

	hn_check "the four daemons: still the same processes" same_pids
	for n in milter-av milter-dkim policyd-mtasts tlsrpt; do
		hn_check "$n: SIGTERM, exit 0" e2e_stop "$n"
	done
	# tlsrpt read A's log up to its end before it exited: the day's counts
	e2e_report_dry
	hn_check "tlsrpt counted the TLS session of A's log to sts.$Z: 1 successful, 0 failed" \
		rep sts sts 1 0 --mx "mx.sts.$Z"
	if [ "$HN_FAILED" -ne 0 ]; then
		for n in milter-dkim milter-av policyd-mtasts tlsrpt; do echo "--- $n.log"; tail -n 30 "$D/$n.log"; done
		echo "--- A maillog"; tail -n 60 "$SND/maillog"
		echo "--- B maillog"; tail -n 30 "$RCV/maillog"
	fi
	hn_log "total $(($(hn_ms) - T0)) ms (loopback)"
	hn_summary
	exit
fi

# shellcheck disable=SC2034 # read by e2e_site_up
E2E_B_VERIFY=1 # B verifies on port 25 (e2e-lib.sh)
e2e_site_up "$KIND"

# --- policyd-mtasts' answers, as A's Postfix asks (postmap, socketmap)
for d in "${STS_DOMS[@]}"; do
	hn_check "policy $d: secure match=mx.$d.$Z" e2e_answer "$d" "secure match=mx.$d.$Z servername=hostname"
done
for d in dane badtlsa; do hn_check "policy $d: dane-only" e2e_answer "$d" dane-only; done
hn_check "policy down (policy host refuses): NOTFOUND" e2e_answer down ""
hn_check "policy nopolicy (policy host answers 404): NOTFOUND" e2e_answer nopolicy ""

# --- submissions
e2e_submission_checks
f0=$HN_FAILED
hn_check "accepted: user@sts.$Z (1 of 2)" e2e_send sts-1 "user@sts.$Z" "${E2E_AUTH[@]}"
hn_check "accepted: user@sts.$Z (2 of 2)" e2e_send sts-2 "user@sts.$Z" "${E2E_AUTH[@]}"
for d in dane expired wrongname nostarttls badtlsa down nopolicy; do
	hn_check "accepted: user@$d.$Z" e2e_send "$d" "user@$d.$Z" "${E2E_AUTH[@]}"
done
hn_check "sendmail(1) in A: user@sts.$Z (non_smtpd_milters)" \
	A sendmail -C "$SND/etc" -f "$USER_NAME" -- "user@sts.$Z" <"$(e2e_msg sts-local "user@sts.$Z")"
if [ "$HN_FAILED" -gt "$f0" ]; then
	hn_fail "not every message was accepted: the delivery checks cannot run"
	tail -n 30 "$SND/maillog" "$D/dovecot/dovecot.log"
	hn_summary
	exit
fi
hn_check "A's log: alice authenticated (sasl_method=PLAIN) for each accepted message" \
	bash -c '[ "$(grep -c "sasl_method=PLAIN, sasl_username=$1" "$0")" -ge 9 ]' "$SND/maillog" "$USER_NAME"

# --- delivered: sts x2, dane, down, nopolicy
for t in sts-1 sts-2 sts-local dane down nopolicy; do
	hn_check "delivered to B's Maildir: e2e $t (30 s)" hn_wait 30 arrived "$t"
	f=$(inbox "$t")
	[ -n "$f" ] || continue
	if [ "$t" = sts-local ]; then
		hn_check "  not scanned: local mail, non_smtpd_milters has milter-dkim only" \
			bash -c '! grep -q "^X-Virus-Scanned: " "$0"' "$f"
	else
		hn_check "  scanned by milter-av (X-Virus-Scanned)" grep -q '^X-Virus-Scanned: ' "$f"
	fi
	hn_check "  dkimpy at B: two signatures pass, s=e2e-rsa rsa-sha256 and s=e2e-ed ed25519-sha256" \
		two_sigs "$f"
	hn_check "  B received it over TLS (ESMTPS)" grep -q "with ESMTPS id" "$f"
done
for d in sts dane; do
	hn_check "A's log: Verified TLS connection established to mx.$d.$Z" \
		grep -q "Verified TLS connection established to mx\.$d\.$Z\[$NS_B_IP\]:25" "$SND/maillog"
done
for d in down nopolicy; do
	hn_check "A's log: $d went with opportunistic TLS (no policy)" \
		grep -Eq "(Trusted|Untrusted|Anonymous) TLS connection established to mx\.$d\.$Z" "$SND/maillog"
done

# --- deferred, never delivered: expired, wrongname, nostarttls, badtlsa
deferred() { grep -Eq "to=<user@$1\.$Z>.*dsn=4\.7\.[0-9], status=deferred" "$SND/maillog"; }
for d in expired wrongname nostarttls badtlsa; do
	hn_check "$d: deferred 4.7.x (30 s)" hn_wait 30 deferred "$d"
	grep -E "to=<user@$d\.$Z>.*status=deferred" "$SND/maillog" | head -n 1 >&2
done
hn_check "  expired: the certificate has expired" \
	grep -q "verification failed for mx\.expired\.$Z.*certificate has expired" "$SND/maillog"
hn_check "  wrongname: hostname mismatch" \
	grep -q "verification failed for mx\.wrongname\.$Z.*hostname mismatch" "$SND/maillog"
hn_check "  nostarttls: TLS is required, but was not offered" \
	grep -q "to=<user@nostarttls\.$Z>.*TLS is required, but was not offered" "$SND/maillog"
hn_check "  badtlsa: no matching DANE TLSA records" \
	grep -q "verification failed for mx\.badtlsa\.$Z.*no matching DANE TLSA records" "$SND/maillog"
hn_check "  all four still in A's queue, nothing else" bash -c 'q=$(ip netns exec "$0" postqueue -c "$1" -j) &&
	[ "$(grep -c . <<<"$q")" = 4 ] &&
	for d in expired wrongname nostarttls badtlsa; do grep -q "\"user@$d\.$2\"" <<<"$q" || exit 1; done' \
	"$NS_A" "$SND/etc" "$Z"
hn_check "B's Maildir holds exactly the 6 delivered messages" test "$(pf_mail_count "$RCV")" = 6

# --- A's Postfix stops (its log is final: every delivery attempt of the deferred mail is in it)
hn_check "A: Postfix stopped" pf_down "$SND"
declare -A tries
for d in expired wrongname nostarttls badtlsa; do
	tries[$d]=$(grep -c "to=<user@$d\.$Z>.*status=deferred" "$SND/maillog")
	hn_log "$d: ${tries[$d]} deferred delivery attempts in A's log"
done

# --- the collector stops (it reads what the log holds, then flushes); the day's reports
hn_check "tlsrpt: SIGTERM, exit 0" e2e_stop tlsrpt
e2e_report_dry
hn_check "report sts: sts policy, 3 successful, 0 failed" \
	rep sts sts 3 0 --policies 1 --string "mode: enforce" --mx "mx.sts.$Z"
hn_check "report dane: tlsa policy (B's TLSA record), 1 successful, 0 failed" \
	rep dane tlsa 1 0 --policies 1 --string "3 1 1 ${SPKI^^}"
hn_check "report expired: sts, 0 successful, one failure per attempt: certificate-expired" \
	rep expired sts 0 "${tries[expired]}" --policies 1 --string "mode: enforce" --result certificate-expired
hn_check "report wrongname: sts, 0 successful, one failure per attempt: certificate-host-mismatch" \
	rep wrongname sts 0 "${tries[wrongname]}" --policies 1 --string "mode: enforce" --result certificate-host-mismatch
hn_check "report nostarttls: sts, 0 successful, one failure per attempt: starttls-not-supported" \
	rep nostarttls sts 0 "${tries[nostarttls]}" --policies 1 --string "mode: enforce" --result starttls-not-supported
hn_check "report badtlsa: tlsa, 0 successful, one failure per attempt: validation-failure (no matching DANE TLSA records)" \
	rep badtlsa tlsa 0 "${tries[badtlsa]}" --policies 1 --string "3 1 1 ${DNS_TLSA_HASH^^}" \
	--result validation-failure --reason "no matching DANE TLSA records"
hn_check "report down: sts policy without strings, sts-policy-fetch-error" \
	rep down sts 0 '>=1' --policies 2 --no-strings --result sts-policy-fetch-error
hn_check "  and its delivery: no-policy-found, 1 successful" rep down no-policy-found 1 0
hn_check "report nopolicy: sts policy without strings, sts-policy-invalid (404)" \
	rep nopolicy sts 0 '>=1' --policies 2 --no-strings --result sts-policy-invalid
hn_check "  and its delivery: no-policy-found, 1 successful" rep nopolicy no-policy-found 1 0
hn_check "exactly one report per domain, nothing else" \
	test "$(find "$D/reports" -name '*.json.gz' | wc -l)" = 8

# --- one store: every daemon's keys are in it
for p in "pw:dkim:sel:$Z:" pw:av: "pw:mtasts:seen:$TODAY:" "pw:mtasts:fail:$TODAY:" \
	"pw:tlsrpt:pol:$TODAY:" "pw:tlsrpt:cnt:$TODAY:"; do
	hn_check "store ($KIND) holds $p keys" bash -c '[ -n "$1" ]' _ "$(e2e_store_keys "$p")"
done

# --- A's Postfix up again; the four messages deferred on TLS have served the report: deleted
hn_check "A: Postfix up again" pf_up "$SND" "$NS_A"
hn_check "  postsuper -d ALL: the four deferred messages deleted, the queue empty" bash -c \
	'ip netns exec "$0" postsuper -c "$1" -d ALL 2>&1 | grep -q "Deleted: 4 messages" &&
	[ -z "$(ip netns exec "$0" postqueue -c "$1" -j)" ]' "$NS_A" "$SND/etc"

# --- B's port 25 verifies: a forged Authentication-Results of B's id is deleted
cat >"$D/msg.forged" <<EOF
From: Alice <$USER_NAME>
To: <user@sts.$Z>
Subject: e2e forged
Date: $(date -R)
Message-ID: <e2e.forged.$$@$Z>
Authentication-Results: $B_ID; dkim=pass header.d=forged.example.net header.s=forged
Authentication-Results: other.example.net; spf=pass smtp.mailfrom=$Z

A forged Authentication-Results of B's authserv-id.
EOF
hn_check "accepted: e2e forged, an Authentication-Results claiming $B_ID" \
	e2e_submit 127.0.0.1 "$SUBMIT_PORT" "$USER_NAME" "user@sts.$Z" "$D/msg.forged" --cafile "$D/pki/ca.crt" \
	"${E2E_AUTH[@]}"
hn_check "  delivered to B's Maildir (30 s)" hn_wait 30 arrived forged
f=$(inbox forged)
hn_check "  B's milter-dkim deleted the forged one (header.d=forged.example.net gone)" \
	bash -c '[ -f "$0" ] && ! grep -q "forged\.example\.net" "$0"' "$f"
hn_check "  another authserv-id's Authentication-Results kept" \
	grep -q "^Authentication-Results: other\.example\.net; spf=pass" "$f"

# --- TLS-RPT by mail, A -> SMTP -> B with DKIM. A day's reports go out only once the day is
# over (by 15 min 5 s): the day's counts (tlsrpt's and policyd-mtasts' keys of $TODAY) are
# copied to a day that is (tlsrpt_seed copy-day, two days ago) and reported for real. tlsrpt
# runs as root for it: Postfix's sendmail takes -C for a private instance only from root (or
# from a directory listed in the default instance's alternate_config_directories, which a
# test must not touch); the collector stays the harness user, nobody.
PAST=$(date -u -d '2 days ago' +%F)
hn_check "the counts of $TODAY copied to $PAST (tlsrpt_seed copy-day)" "$SEED" "$STORE" copy-day "$TODAY" "$PAST"
sed -e 's/^user = .*/user = root/' -e 's/^group = .*/group = root/' "$D/tlsrpt.conf" >"$D/tlsrpt-report.conf"
hn_check "tlsrpt check (that configuration, in A): exit 0, milter-dkim signs $Z (the store)" bash -c \
	'ip netns exec "$0" "$1" -c "$2" check >"$3" 2>&1; rc=$?; cat "$3"
	[ $rc = 0 ] && grep -Eq "^DKIM: milter-dkim signs $4 as d=$4, selector e2e-(rsa|ed)" "$3"' \
	"$NS_A" "$TLSRPT" "$D/tlsrpt-report.conf" "$D/tlsrpt-report.check" "$Z"
rpt_run() { # NAME: tlsrpt report --day PAST in A; output in $D/NAME.out, exit status $D/NAME.rc
	A "$TLSRPT" -c "$D/tlsrpt-report.conf" report --day "$PAST" >"$D/$1.out" 2>&1
	echo $? >"$D/$1.rc"
	cat "$D/$1.out" >&2
}
rpt_of() { grep -ls "^TLS-Report-Domain: $1\.$Z\$" "$RCV"/mail/inbox/new/*; }
rpt_arrived() { [ -n "$(rpt_of "$1")" ]; }
rpt_sigs() { # FILE: dkimpy in B: d=$Z (report_from's domain), both selectors pass
	local out
	out=$(e2e_dkim_verify_b "$1" 2) || { printf '%s\n' "$out"; return 1; }
	printf '%s\n' "$out"
	grep -q "d=$Z s=e2e-rsa a=rsa-sha256: pass" <<<"$out" &&
		grep -q "d=$Z s=e2e-ed a=ed25519-sha256: pass" <<<"$out"
}
rpt_run report1
hn_check "tlsrpt report --day $PAST (sendmail -C A's config, tlsrpt-out): exit 0" \
	test "$(cat "$D/report1.rc")" = 0
hn_check "  the other six domains take no reports (no _smtp._tls record)" \
	test "$(grep -c "^[a-z]*\.$Z: takes no reports" "$D/report1.out")" = 6
declare -A rpt_ok=([sts]=3 [expired]=0) rpt_bad=([sts]=0 [expired]=${tries[expired]})
for d in "${RPT_DOMS[@]}"; do
	hn_check "  $d.$Z: mailto:tlsrpt@$d.$Z delivered" grep -qx "$d\.$Z: mailto:tlsrpt@$d\.$Z delivered" "$D/report1.out"
	hn_check "  $d's report in B's Maildir (30 s)" hn_wait 30 rpt_arrived "$d"
done
for d in "${RPT_DOMS[@]}"; do
	f=$(rpt_of "$d" | head -n 1)
	[ -n "$f" ] || continue
	hn_check "report mail $d.$Z: delivered once, to tlsrpt@$d.$Z, envelope sender $RF" bash -c \
		'[ "$(grep -ls "^TLS-Report-Domain: $1$" "$0"/mail/inbox/new/* | wc -l)" = 1 ] &&
		grep -q "^Delivered-To: tlsrpt@$1$" "$2" && grep -q "^Return-Path: <$3>$" "$2"' \
		"$RCV" "$d.$Z" "$f" "$RF"
	hn_check "  RFC 8460 5.3: multipart/report; report-type=tlsrpt, TLS-Report-Domain/-Submitter, application/tlsrpt+gzip" \
		/usr/bin/python3 "$E2E_DIR/../integration/tlsrpt_mail_check.py" "$f" "$d.$Z" "$Z" "$RF" \
		"${rpt_ok[$d]}" "${rpt_bad[$d]}"
	hn_check "  its gunzipped JSON: $d.$Z's report of $PAST, otherwise the dry run's" \
		/usr/bin/python3 "$E2E_DIR/e2e_report_mail.py" "$f" "$D/reports" "$d.$Z" "$PAST"
	hn_check "  dkimpy in B: signed by milter-dkim, d=$Z, e2e-rsa and e2e-ed pass" rpt_sigs "$f"
	hn_check "  A's log: sent by tlsrpt-out to mx.$d.$Z" grep -Eq \
		"postfix/tlsrpt-out/smtp\[[0-9]+\]: .*to=<tlsrpt@$d\.$Z>, relay=mx\.$d\.$Z\[.*status=sent" "$SND/maillog"
done
rpt_run report2
sleep 1 # what a second sendmail would have posted has been picked up by now
hn_check "a second tlsrpt report --day $PAST: exit 0, both already sent" bash -c \
	'[ "$(cat "$0/report2.rc")" = 0 ] && grep -qx "sts\.$1: already sent" "$0/report2.out" &&
	grep -qx "expired\.$1: already sent" "$0/report2.out"' "$D" "$Z"
hn_check "  nothing more sent: two report mails picked up in A's log, none queued" bash -c \
	'[ "$(grep -c "postfix/pickup\[[0-9]*\]: .*from=<$1>" "$0/maillog")" = 2 ] &&
	[ -z "$(ip netns exec "$2" postqueue -c "$0/etc" -j)" ]' "$SND" "$RF" "$NS_A"

# --- delivery retries: B's Postfix down (port 25 refuses), three messages wait in A's queue
hn_check "B: Postfix stopped (port 25 refuses)" pf_down "$RCV"
n0=$(pf_mail_count "$RCV")
mark=$(wc -l <"$SND/maillog")
for i in 1 2 3; do
	hn_check "accepted while B is down: e2e retry-$i" e2e_send "retry-$i" "user@sts.$Z" "${E2E_AUTH[@]}"
done
refused3() {
	[ "$(tail -n +"$((mark + 1))" "$SND/maillog" |
		grep -cE "to=<user@sts\.$Z>.*dsn=4\.4\.1, status=deferred \(.*Connection refused\)")" -ge 3 ]
}
hn_check "  each deferred 4.4.1, connection refused (A's log, 30 s)" hn_wait 30 refused3
queue3() { # A's queue: the three, in the deferred queue (qmgr moves them after the log line)
	A postqueue -c "$SND/etc" -j >"$D/queue.retry" &&
		/usr/bin/python3 -c 'import json, sys
q = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(json.dumps(q))
sys.exit(not (len(q) == 3 and all(m["queue_name"] == "deferred" and len(m["recipients"]) == 1 and
	m["recipients"][0]["address"] == sys.argv[2] and
	"Connection refused" in m["recipients"][0]["delay_reason"] for m in q)))' \
			"$D/queue.retry" "user@sts.$Z"
}
hn_check "  A's queue (postqueue -j): the three, deferred, to user@sts.$Z, Connection refused (10 s)" \
	hn_wait 10 queue3
cat "$D/queue.retry" >&2
mapfile -t retry_ids < <(/usr/bin/python3 -c 'import json, sys
for l in open(sys.argv[1]):
	l.strip() and print(json.loads(l)["queue_id"])' "$D/queue.retry")
hn_check "  B's Maildir: nothing new" test "$(pf_mail_count "$RCV")" = "$n0"
hn_check "B: Postfix up again" pf_up "$RCV" "$NS_B"
A postqueue -c "$SND/etc" -f
retried() { for i in 1 2 3; do arrived "retry-$i" || return 1; done; }
hn_check "  postqueue -f in A: the three delivered (30 s)" hn_wait 30 retried
for i in 1 2 3; do
	f=$(inbox "retry-$i")
	[ -n "$f" ] || continue
	hn_check "e2e retry-$i: delivered once, one X-Virus-Scanned, two DKIM-Signatures" bash -c \
		'[ "$(grep -lsx "Subject: e2e $1" "$0"/mail/inbox/new/* | wc -l)" = 1 ] &&
		[ "$(grep -c "^X-Virus-Scanned: " "$2")" = 1 ] && [ "$(grep -c "^DKIM-Signature: " "$2")" = 2 ]' \
		"$RCV" "retry-$i" "$f"
	hn_check "  dkimpy in B: two signatures pass, s=e2e-rsa rsa-sha256 and s=e2e-ed ed25519-sha256" \
		two_sigs "$f"
done
hn_check "A's queue empty; each of the three sent once (A's log)" bash -c \
	'[ -z "$(ip netns exec "$0" postqueue -c "$1/etc" -j)" ] && [ $# = 4 ] && for id in "${@:2}"; do
		[ "$(grep -c " $id: to=<.*status=sent" "$1/maillog")" = 1 ] || exit 1; done' \
	"$NS_A" "$SND" "${retry_ids[@]}"

# --- B's port 25: every delivered message verified once, by B
hn_check "B's Maildir: 12 messages (6 + forged + 2 reports + 3 retried)" test "$(pf_mail_count "$RCV")" = 12
hn_check "  each with one Authentication-Results of $B_ID: dkim=pass header.d=$Z e2e-rsa and e2e-ed" \
	/usr/bin/python3 "$E2E_DIR/e2e_authres.py" "$B_ID" "$Z" e2e-rsa e2e-ed -- "$RCV"/mail/inbox/new/*
for n in milter-av milter-dkim policyd-mtasts b-milter-dkim; do
	hn_check "$n still running" hn_alive "${E2E_PID[$n]}"
done
if [ "$HN_FAILED" -ne 0 ]; then
	for f in milter-dkim milter-av policyd-mtasts tlsrpt b-milter-dkim; do echo "--- $f.log"; tail -n 30 "$D/$f.log"; done
	echo "--- A maillog"; tail -n 60 "$SND/maillog"
	echo "--- B maillog"; tail -n 30 "$RCV/maillog"
	echo "--- report"; cat "$D/reports.json"
fi
hn_log "total $(($(hn_ms) - T0)) ms"
hn_summary
