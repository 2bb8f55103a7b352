#!/bin/bash
# mtasts-e2e.sh: policyd-mtasts end to end, with real Postfix instances in two network
# namespaces joined by a veth pair (tests/harness/netns.sh); nothing leaves them.
#   A, the sender: knotd (signed example.test) + a validating unbound on A's 127.0.0.1:53
#     (A's resolv.conf names it, with `options trust-ad`), nginx serving one MTA-STS policy
#     per test domain (reached through policyd-mtasts' connect_to), policyd-mtasts, and a
#     sending Postfix (no chroot: its smtp reads A's resolv.conf) with
#     smtp_tls_policy_maps = socketmap:unix:SOCK:postfix, smtp_dns_support_level = dnssec,
#     smtp_tls_security_level = may, the harness CA, relaying by MX lookups.
#   B, the receiver: one Postfix on B's IP port 25, STARTTLS with a certificate for
#     mx.good.example.test and mx.dane.example.test (not mx.bad.example.test), Maildir.
#   good: STS enforce, mx matches, certificate matches: delivered, "Verified TLS".
#   bad:  STS enforce, the certificate does not name mx.bad: deferred (4.7.5), kept queued,
#         never delivered.
#   dane: TLSA 3 1 1 of the receiver's key; its STS policy names another host, so a
#         downgrade to STS would defer: policyd answers dane-only, delivered with DANE.
# Needs root (namespaces); exits 77 when they cannot be made, or a binary is missing.
# shellcheck disable=SC2016 # the bash -c and eval bodies expand in the child, on purpose
set -u
. "$POSTWARDEN_HARNESS/lib.sh"
HN_NAME=mtasts-e2e
MT=${POSTWARDEN_BUILD:-}/policyd-mtasts/policyd-mtasts
[ -x "$MT" ] || { echo "FAIL: policyd-mtasts not built ($MT)"; exit 1; }
. "$(dirname "$0")/mtasts-nslib.sh" # the harness parts, required tools checked

T0=$(hn_ms)
TP=$T0
TIMES=
phase() { # NAME: note the time since the previous phase, printed at the end
	local now
	now=$(hn_ms)
	TIMES="$TIMES $1 $((now - TP)) ms,"
	TP=$now
}
ns_pair_up pwe # exits 77 when namespaces cannot be made
hn_tmpdir D mtasts-e2e
Z=example.test
A() { ns_exec "$NS_A" "$@"; }

# --- the receiver's certificate and its TLSA record (DANE-EE, SPKI, SHA-256)
pki_leaf "$D/pki" mx "mx.good.$Z" "mx.dane.$Z"
pki_leaf "$D/pki" sts "mta-sts.good.$Z" "mta-sts.bad.$Z" "mta-sts.dane.$Z"
chmod 644 "$D"/pki/*.key
SPKI=$(openssl x509 -in "$D/pki/mx.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -hex | sed 's/.*= *//')
[[ $SPKI =~ ^[0-9a-f]{64}$ ]] || hn_die "cannot hash the receiver's public key ($SPKI)"
phase "namespaces+pki"

# --- DNS in A: MX -> mx.<d> -> B's address; an STS TXT record each; TLSA for dane only
mkdir -p "$D/dns"
{
	for d in good bad dane; do
		echo "$d.$Z. 60 IN MX 10 mx.$d.$Z."
		echo "mx.$d.$Z. 60 IN A $NS_B_IP"
		echo "_mta-sts.$d.$Z. 60 IN TXT \"v=STSv1; id=${d}1\""
	done
	echo "_25._tcp.mx.dane.$Z. 60 IN TLSA 3 1 1 $SPKI"
} >"$D/dns/$Z.extra"
ns_resolv "$NS_A" 127.0.0.1
ns_resolv "$NS_B" 127.0.0.1 # nothing listens there: B's reverse lookups fail at once
DNS_UNBOUND_PORT=53 dns_up_netns "$NS_A" "$D/dns"
phase dns

# --- the MTA-STS policies, served by nginx in A
pol() { # DOMAIN MX...: an enforce policy for DOMAIN
	local h=mta-sts.$1.$Z x
	shift
	mkdir -p "$D/www/$h/.well-known"
	{
		printf 'version: STSv1\r\nmode: enforce\r\n'
		for x in "$@"; do printf 'mx: %s\r\n' "$x"; done
		printf 'max_age: 86400\r\n'
	} >"$D/www/$h/.well-known/mta-sts.txt"
}
pol good "mx.good.$Z"
pol bad "mx.bad.$Z"
pol dane "nomatch.$Z" # STS alone would defer dane's mail: it must not be used
chmod -R a+rX "$D"
https_policy_hosts "$NS_A" "$D" sts "mta-sts.good.$Z" "mta-sts.bad.$Z" "mta-sts.dane.$Z"
phase nginx

# --- the sending Postfix's configuration (policyd-mtasts' DANE check reads it too)
SND=$D/snd
RCV=$D/rcv
mkdir -p "$D/state" "$D/run"
chown nobody:nogroup "$D/state" "$D/run"
SOCK=$D/run/mtasts.sock
pf_make "$SND" 127.0.0.1:25 "myhostname = sender.$Z" "virtual_mailbox_domains =" \
	"smtp_tls_policy_maps = socketmap:unix:$SOCK:postfix" \
	"smtp_dns_support_level = dnssec" "dnssec_probe = ns:$Z" \
	"smtp_tls_security_level = may" "smtp_tls_CAfile = $D/pki/ca.crt" \
	"smtp_tls_loglevel = 1" || hn_die "sender main.cf"

# --- policyd-mtasts in A (A's resolv.conf, the sender's main.cf for its DANE check)
hn_check "policyd-mtasts starts in A (READY=1)" mt_ns_start "$NS_A" "$D" "$SOCK" "$SND/etc" -d
hn_check "policyd-mtasts check in A: config, resolver, DANE preconditions, store" \
	bash -c 'ip netns exec "$0" "$1" -c "$2" check >"$3/check.out" 2>&1 ||
		{ cat "$3/check.out"; exit 1; }; grep -q "DANE: Postfix applies it" "$3/check.out"' \
	"$NS_A" "$MT" "$D/mt.conf" "$D"
hn_check "  no DANE precondition error logged" \
	bash -c '! grep -q "DANE answers are off" "$0"' "$D/mt.log"
phase "policyd (check, start)"

# is DOMAIN WANT: postmap's answer in A (the sender's client) is exactly WANT
is() {
	local got rc
	got=$(A timeout 30 postmap -c "$SND/etc" -q "$1" "socketmap:unix:$SOCK:postfix" \
		2>>"$D/postmap.err")
	rc=$?
	[ $rc = 0 ] && [ "$got" = "$2" ] && return 0
	echo "key $1: got rc=$rc '$got', want '$2'" >&2
	return 1
}
hn_check "answer good: secure match=mx.good.$Z" is "good.$Z" \
	"secure match=mx.good.$Z servername=hostname"
hn_check "answer bad: secure match=mx.bad.$Z" is "bad.$Z" \
	"secure match=mx.bad.$Z servername=hostname"
hn_check "answer dane: dane-only (TLSA wins over the STS policy)" is "dane.$Z" dane-only
hn_check "  debug log: dane.$Z was answered dane-only" \
	grep -q "dane\.$Z: dane-only" "$D/mt.log"
phase "answers (cold)"

# --- the receiver in B, then the sender in A
pf_make "$RCV" "$NS_B_IP:25" "myhostname = mx.good.$Z" \
	"virtual_mailbox_domains = good.$Z, bad.$Z, dane.$Z" \
	"smtpd_tls_security_level = may" "smtpd_tls_cert_file = $D/pki/mx.crt" \
	"smtpd_tls_key_file = $D/pki/mx.key" "smtpd_tls_loglevel = 1" || hn_die "receiver main.cf"
hn_check "receiver Postfix up in $NS_B ($NS_B_IP:25)" pf_up "$RCV" "$NS_B"
hn_check "sender Postfix up in $NS_A" pf_up "$SND" "$NS_A"
hn_check "receiver offers STARTTLS with its certificate, seen from A" \
	bash -c 'echo | ip netns exec "$0" timeout 10 openssl s_client -starttls smtp \
		-connect "$1:25" -CAfile "$2" -verify_hostname "mx.dane.$3" -verify_return_error \
		-brief 2>&1 | grep -q "Verification: OK"' "$NS_A" "$NS_B_IP" "$D/pki/ca.crt" "$Z"
phase "postfix x2"

send() { # DOMAIN [USER]: one message to USER@DOMAIN (default user), subject "e2e USER@DOMAIN"
	local r=${2:-user}@$1
	printf 'From: sender@sender.%s\nTo: %s\nSubject: e2e %s\n\nto %s\n' \
		"$Z" "$r" "$r" "$r" | A sendmail -C "$SND/etc" -f "sender@sender.$Z" -- "$r"
}
delivered() { grep -lqs "^Subject: e2e user@$1\$" "$RCV"/mail/inbox/new/*; }
for d in good bad dane; do
	hn_check "sendmail in A accepts mail to user@$d.$Z" send "$d.$Z"
done
A postqueue -c "$SND/etc" -f

# good: STS enforce, verified against the policy's mx name
hn_check "good: delivered to B's Maildir (60 s)" hn_wait 60 delivered "good.$Z"
hn_check "  sender: status=sent for user@good.$Z" \
	grep -q "to=<user@good\.$Z>.*status=sent" "$SND/maillog"
hn_check "  sender log: Verified TLS connection established to mx.good.$Z" \
	grep -q "Verified TLS connection established to mx\.good\.$Z\[$NS_B_IP\]:25" "$SND/maillog"

# dane: DANE-only, TLSA 3 1 1 (the STS policy's mx would not match)
hn_check "dane: delivered to B's Maildir (60 s)" hn_wait 60 delivered "dane.$Z"
hn_check "  sender: status=sent for user@dane.$Z" \
	grep -q "to=<user@dane\.$Z>.*status=sent" "$SND/maillog"
hn_check "  sender log: Verified TLS connection established to mx.dane.$Z" \
	grep -q "Verified TLS connection established to mx\.dane\.$Z\[$NS_B_IP\]:25" "$SND/maillog"
hn_check "  no certificate or TLSA failure logged for mx.dane.$Z" \
	bash -c '! grep -E "mx\.dane\.$1.*(not verified|verification failed|TLSA|4\.7\.5)" "$0"' \
	"$SND/maillog" "$Z"

# bad: the certificate does not name mx.bad: deferred, queued, never delivered
bad_deferred() { grep -q "to=<user@bad\.$Z>.*status=deferred" "$SND/maillog"; }
hn_check "bad: deferred (60 s)" hn_wait 60 bad_deferred
grep "to=<user@bad\.$Z>.*status=deferred" "$SND/maillog" | head -n 1 >&2
hn_check "  the reason: 4.7.5, the server certificate not verified" \
	grep -Eq "to=<user@bad\.$Z>.*dsn=4\.7\.5, status=deferred \(.*certificate" \
	"$SND/maillog"
hn_check "  still in the sender's queue" \
	bash -c 'ip netns exec "$0" postqueue -c "$1" -j | grep -q "\"user@bad\.$2\""' \
	"$NS_A" "$SND/etc" "$Z"
A postqueue -c "$SND/etc" -f
bad_tries() { grep -c "to=<user@bad\.$Z>.*status=deferred" "$SND/maillog"; }
n=$(bad_tries)
hn_check "  retried after a flush: deferred again (30 s)" \
	hn_wait 30 eval '[ "$(bad_tries)" -gt "$n" ]'
hn_check "  never delivered to B" bash -c '! grep -lqs "^Subject: e2e user@bad" "$0"/mail/inbox/new/*' \
	"$RCV"
hn_check "  exactly 2 messages in B's Maildir (good, dane)" test "$(pf_mail_count "$RCV")" = 2
hn_check "receiver log: B's smtpd saw a TLS session for each of the three" \
	bash -c '[ "$(grep -c "Anonymous TLS connection established from" "$0")" -ge 3 ]' "$RCV/maillog"

hn_check "policyd-mtasts still running" hn_alive "$MTPID"
hn_check "policyd-mtasts: SIGTERM exits 0" bash -c 'kill -TERM "$0"; for i in $(seq 100); do
	kill -0 "$0" 2>/dev/null || exit 0; sleep 0.1; done; exit 1' "$MTPID"
wait "$MTPID"
hn_check "  exit status 0" test $? = 0
phase "mail+checks"

# control: with DANE off, dane's own STS policy (mx nomatch) decides, and its mail defers:
# the delivery above was DANE's, not a lenient STS or opportunistic TLS
echo "dane_mode = off" >>"$D/mt.conf"
mark=$(notify_mark "$D")
NOTIFY_SOCKET=$D/notify.sock ip netns exec "$NS_A" "$MT" -f -d -c "$D/mt.conf" >>"$D/mt.log" 2>&1 &
MTPID=$!
hn_on_exit hn_stop "$MTPID" 10
hn_check "control: policyd-mtasts restarted with dane_mode = off" \
	notify_wait "$D" "$mark" READY=1 "$MTPID" 30
hn_check "  answer dane: now its STS policy (match=nomatch.$Z)" is "dane.$Z" \
	"secure match=nomatch.$Z servername=hostname"
pf_reload "$SND" # fresh smtp processes, fresh policy map connections
hn_check "  sendmail in A accepts mail to user2@dane.$Z" send "dane.$Z" user2
A postqueue -c "$SND/etc" -f
ctl_deferred() { grep -q "to=<user2@dane\.$Z>.*dsn=4\.7\.5, status=deferred" "$SND/maillog"; }
hn_check "  mail to user2@dane.$Z deferred, 4.7.5 (60 s)" hn_wait 60 ctl_deferred
grep "to=<user2@dane\.$Z>.*status=deferred" "$SND/maillog" | head -n 1 >&2
hn_check "  not delivered: still 2 messages in B's Maildir" test "$(pf_mail_count "$RCV")" = 2
phase control
hn_log "timing:$TIMES total $(($(hn_ms) - T0)) ms"
hn_summary
