#!/bin/bash
# tlsrpt-postfixlog.sh: `tlsrpt ingest-log` on a log that the harness's own Postfix 3.7
# (Debian 12) writes while it sends real mail to real receivers, in two network
# namespaces (netns.sh); nothing leaves them.
#   A, the sender: knotd (signed example.test) + a validating unbound on A's 127.0.0.1:53,
#     nginx serving one enforce MTA-STS policy per STS domain, policyd-mtasts (its store,
#     lmdb:D/state, is tlsrpt's store too), and a sending Postfix with
#     smtp_tls_policy_maps = socketmap:unix:SOCK:postfix, smtp_dns_support_level = dnssec,
#     smtp_tls_loglevel = 1, maillog_file = D/snd/maillog (postfix.sh: the postlog
#     service), and backoff times of an hour, so that each message is tried exactly once.
#   B, the receivers: one Postfix with five smtpd services on five addresses of B:
#     good (a certificate from the harness CA for its MX names), expired (its certificate
#     expired in 2020), wrong (valid, for mx.other.example.test), plain (no STARTTLS),
#     old (TLS 1.2 at most, where the sender's smtp_tls_mandatory_protocols = >=TLSv1.3).
#   Mail, one message per domain (STS enforce unless said):
#     good        3 recipients, one message: ONE session, a success
#     expired     2 recipients: ONE certificate-expired session at mx.expired[expired]
#     wrong       certificate-host-mismatch     at mx.wrong[wrong]
#     plain       2 recipients: ONE starttls-not-supported at mx.plain[plain] (the refusal
#                 is on both to= lines)
#     twomx       MX 10 mx1.twomx (expired), MX 20 mx2.twomx (good): one failure
#                 (certificate-expired at mx1.twomx[expired]) and one success, both twomx's
#     old         the handshake fails (SSL_connect error): validation-failure with the
#                 reason tls-handshake-failure, at mx.old[old]
#     twoold      MX 10 mx1.twoold (old), MX 20 mx2.twoold (good): one failure (the
#                 handshake, at [old]; logged "QUEUEID: Cannot start TLS: handshake failure"
#                 without to=, which names no host: with tlsproxy the detail has no
#                 receiving-mx-hostname) and one success
#     twoplain    MX 10 mx1.twoplain (plain), MX 20 mx2.twoplain (good): one failure
#                 (starttls-not-supported at mx1.twoplain[plain], logged as a non-final
#                 "QUEUEID: TLS is required, but was not offered ...") and one success
#     nopol       an STS record whose policy host answers 404: no policy, one failed fetch
#                 recorded by policyd-mtasts, in the report as sts-policy-invalid sessions
#     dane        no STS; a DNSSEC-signed TLSA 3 1 1 for its MX that does not match the
#                 good receiver's key: policyd-mtasts answers dane-only (and records it:
#                 pw:mtasts:seen, type tlsa), Postfix logs num=65:no matching DANE TLSA
#                 records: validation-failure, policy type tlsa with that TLSA record
#                 (presentation form, hex in upper case, as policyd-mtasts recorded it)
#   Each message's last status line (sent, or deferred for the broken ones) is waited for
#   (60 s), then every queued message must sit in the deferred queue (postqueue -j).
#   With the argument "tlsproxy" (test tlsrpt-postfixlog-tlsproxy) the sender has
#   smtp_tls_connection_reuse = yes and a tlsproxy service: tlsproxy(8) makes every TLS
#   handshake and logs the certificate and handshake failures (no SSL_connect error from
#   smtp), smtp(8) still logs each completed handshake and the deferrals; every count must
#   come out the same, only twoold's failure detail loses its MX host name.
#   Then `tlsrpt ingest-log D/snd/maillog`: `status` rows and the `report --dry-run --out`
#   JSON (tlsrpt_report_check.py for the RFC 8460 shape, tlsrpt_postfixlog_check.py for
#   the exact policy, counts and failure details of each domain).
# Needs root (namespaces); exits 77 when they cannot be made, or a binary is missing.
# shellcheck disable=SC2016 # the bash -c bodies expand in the child, on purpose
set -u
. "$POSTWARDEN_HARNESS/lib.sh"
MODE=${1:-smtp}
case "$MODE" in
smtp) HN_NAME=tlsrpt-postfixlog ;;
tlsproxy) HN_NAME=tlsrpt-postfixlog-tlsproxy ;;
*) echo "usage: tlsrpt-postfixlog.sh [smtp|tlsproxy]" >&2; exit 2 ;;
esac
MT=${POSTWARDEN_BUILD:-}/policyd-mtasts/policyd-mtasts
T=${POSTWARDEN_BUILD:-}/tlsrpt/tlsrpt
[ -x "$MT" ] || { echo "SKIP: policyd-mtasts not built ($MT)"; exit 77; }
[ -x "$T" ] || { echo "SKIP: tlsrpt not built ($T)"; exit 77; }
. "$(dirname "$0")/mtasts-nslib.sh" # the harness parts, required tools checked
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${POSTWARDEN_SOURCE:-$HERE/../..}
export TZ=UTC # Postfix logs local time; tlsrpt reads it as local time: one clock for both

T0=$(hn_ms)
ns_pair_up pwl # exits 77 when namespaces cannot be made
hn_tmpdir D "$HN_NAME"
Z=example.test
A() { ns_exec "$NS_A" "$@"; }

# --- B's five receiver addresses (B's veth holds them all)
IP_GOOD=$NS_B_IP
IP_EXP=$NS_NET.3
IP_WRONG=$NS_NET.4
IP_PLAIN=$NS_NET.5
IP_OLD=$NS_NET.6
DEV_B=$(ip -n "$NS_B" -o -4 addr show | awk -v ip="$NS_B_IP/24" '$4 == ip { print $2; exit }')
[ -n "$DEV_B" ] || hn_die "no interface with $NS_B_IP in $NS_B"
for ip in "$IP_EXP" "$IP_WRONG" "$IP_PLAIN" "$IP_OLD"; do
	ip -n "$NS_B" addr add "$ip/24" dev "$DEV_B" || hn_die "ip addr add $ip"
done

# --- certificates: good (its MX names, old's too), expired, wrong name; the policy hosts'
STS_DOMAINS="good expired wrong plain old twomx twoold twoplain"
pki_leaf "$D/pki" good "mx.good.$Z" "mx.old.$Z" "mx2.twomx.$Z" "mx2.twoold.$Z" \
	"mx2.twoplain.$Z" "mx.dane.$Z" >/dev/null 2>&1 || hn_die "good certificate"
PKI_DATES="20200101000000Z 20200201000000Z" pki_leaf "$D/pki" expired "mx.expired.$Z" \
	"mx1.twomx.$Z" >/dev/null 2>&1 || hn_die "expired certificate"
pki_leaf "$D/pki" wrong "mx.other.$Z" >/dev/null 2>&1 || hn_die "wrong-name certificate"
# shellcheck disable=SC2046 # one name per domain
pki_leaf "$D/pki" sts $(for d in $STS_DOMAINS nopol; do echo "mta-sts.$d.$Z"; done) \
	>/dev/null 2>&1 || hn_die "policy host certificate"
chmod 644 "$D"/pki/*.key
# dane's TLSA: DANE-EE SPKI SHA-256 of the EXPIRED certificate's key, served by the good
# receiver, whose key differs: a well-formed, usable record that does not match
NOMATCH=$(openssl x509 -in "$D/pki/expired.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -hex | sed 's/.*= *//')
[[ $NOMATCH =~ ^[0-9a-f]{64}$ ]] || hn_die "cannot hash a public key ($NOMATCH)"

# --- DNS in A
mkdir -p "$D/dns"
{
	for d in good expired wrong plain old dane; do echo "$d.$Z. 60 IN MX 10 mx.$d.$Z."; done
	echo "mx.good.$Z. 60 IN A $IP_GOOD"
	echo "mx.expired.$Z. 60 IN A $IP_EXP"
	echo "mx.wrong.$Z. 60 IN A $IP_WRONG"
	echo "mx.plain.$Z. 60 IN A $IP_PLAIN"
	echo "mx.old.$Z. 60 IN A $IP_OLD"
	echo "mx.dane.$Z. 60 IN A $IP_GOOD"
	echo "twomx.$Z. 60 IN MX 10 mx1.twomx.$Z."
	echo "twomx.$Z. 60 IN MX 20 mx2.twomx.$Z."
	echo "mx1.twomx.$Z. 60 IN A $IP_EXP"
	echo "mx2.twomx.$Z. 60 IN A $IP_GOOD"
	echo "twoold.$Z. 60 IN MX 10 mx1.twoold.$Z."
	echo "twoold.$Z. 60 IN MX 20 mx2.twoold.$Z."
	echo "mx1.twoold.$Z. 60 IN A $IP_OLD"
	echo "mx2.twoold.$Z. 60 IN A $IP_GOOD"
	echo "twoplain.$Z. 60 IN MX 10 mx1.twoplain.$Z."
	echo "twoplain.$Z. 60 IN MX 20 mx2.twoplain.$Z."
	echo "mx1.twoplain.$Z. 60 IN A $IP_PLAIN"
	echo "mx2.twoplain.$Z. 60 IN A $IP_GOOD"
	for d in $STS_DOMAINS; do echo "_mta-sts.$d.$Z. 60 IN TXT \"v=STSv1; id=${d}1\""; done
	echo "_25._tcp.mx.dane.$Z. 60 IN TLSA 3 1 1 $NOMATCH"
	# nopol: an STS record whose policy host answers 404: a failed fetch, no mail
	echo "_mta-sts.nopol.$Z. 60 IN TXT \"v=STSv1; id=nopol1\""
} >"$D/dns/$Z.extra"
ns_resolv "$NS_A" 127.0.0.1
ns_resolv "$NS_B" 127.0.0.1 # nothing listens there: B's reverse lookups fail at once
DNS_UNBOUND_PORT=53 dns_up_netns "$NS_A" "$D/dns"

# --- the enforce MTA-STS policies, served by nginx in A
pol() { # DOMAIN MX...: an enforce policy for DOMAIN.Z
	local h=mta-sts.$1.$Z x
	shift
	mkdir -p "$D/www/$h/.well-known"
	{
		printf 'version: STSv1\r\nmode: enforce\r\n'
		for x in "$@"; do printf 'mx: %s\r\n' "$x"; done
		printf 'max_age: 86400\r\n'
	} >"$D/www/$h/.well-known/mta-sts.txt"
}
for d in good expired wrong plain old; do pol "$d" "mx.$d.$Z"; done
pol twomx "mx1.twomx.$Z" "mx2.twomx.$Z"
pol twoold "mx1.twoold.$Z" "mx2.twoold.$Z"
pol twoplain "mx1.twoplain.$Z" "mx2.twoplain.$Z"
chmod -R a+rX "$D"
# shellcheck disable=SC2046 # one name per domain
https_policy_hosts "$NS_A" "$D" sts $(for d in $STS_DOMAINS nopol; do echo "mta-sts.$d.$Z"; done)

# --- the sending Postfix's configuration (policyd-mtasts' DANE check reads it too)
SND=$D/snd
RCV=$D/rcv
mkdir -p "$D/state" "$D/run" "$D/out"
chown nobody:nogroup "$D/state" "$D/run" "$D/out"
SOCK=$D/run/mtasts.sock
pf_make "$SND" 127.0.0.1:25 "myhostname = sender.$Z" "virtual_mailbox_domains =" \
	"smtp_tls_policy_maps = socketmap:unix:$SOCK:postfix" \
	"smtp_dns_support_level = dnssec" "dnssec_probe = ns:$Z" \
	"smtp_tls_security_level = may" "smtp_tls_CAfile = $D/pki/ca.crt" \
	"smtp_tls_loglevel = 1" "smtp_tls_mandatory_protocols = >=TLSv1.3" \
	"queue_run_delay = 3600s" "minimal_backoff_time = 3600s" "maximal_backoff_time = 7200s" ||
	hn_die "sender main.cf"
if [ "$MODE" = tlsproxy ]; then
	pf_set "$SND" "smtp_tls_connection_reuse = yes" || hn_die "sender main.cf"
	# Debian's master.cf has tlsproxy commented out
	echo "tlsproxy unix - - n - 0 tlsproxy" >>"$SND/etc/master.cf"
	pf_backdate "$SND"
fi

# --- policyd-mtasts in A; every domain asked once before any mail (policies fetched)
hn_check "policyd-mtasts starts in A (READY=1)" mt_ns_start "$NS_A" "$D" "$SOCK" "$SND/etc"
is() { # DOMAIN WANT: postmap's answer in A is exactly WANT
	local got rc
	got=$(A timeout 30 postmap -c "$SND/etc" -q "$1" "socketmap:unix:$SOCK:postfix" \
		2>>"$D/postmap.err")
	rc=$?
	[ $rc = 0 ] && [ "$got" = "$2" ] && return 0
	echo "key $1: got rc=$rc '$got', want '$2'" >&2
	return 1
}
for d in good expired wrong plain old; do
	hn_check "policy answer for $d.$Z: secure match=mx.$d.$Z" is "$d.$Z" \
		"secure match=mx.$d.$Z servername=hostname"
done
for d in twomx twoold twoplain; do
	hn_check "policy answer for $d.$Z: secure match=mx1.$d.$Z:mx2.$d.$Z" is "$d.$Z" \
		"secure match=mx1.$d.$Z:mx2.$d.$Z servername=hostname"
done
hn_check "policy answer for dane.$Z: dane-only" is "dane.$Z" dane-only
notfound() { # DOMAIN: postmap finds nothing (exit 1, no output)
	local got
	got=$(A timeout 30 postmap -c "$SND/etc" -q "$1" "socketmap:unix:$SOCK:postfix" 2>>"$D/postmap.err")
	[ $? = 1 ] && [ -z "$got" ]
}
hn_check "policy answer for nopol.$Z: NOTFOUND (its policy host answers 404)" notfound "nopol.$Z"

# --- the receivers in B: one Postfix, five smtpd services
pf_make "$RCV" "$IP_GOOD:25" "myhostname = mx.good.$Z" \
	"inet_interfaces = $IP_GOOD, $IP_EXP, $IP_WRONG, $IP_PLAIN, $IP_OLD" \
	"virtual_mailbox_domains = $(for d in $STS_DOMAINS dane; do printf '%s.%s ' "$d" "$Z"; done)" \
	"smtpd_tls_security_level = may" "smtpd_tls_cert_file = $D/pki/good.crt" \
	"smtpd_tls_key_file = $D/pki/good.key" "smtpd_tls_loglevel = 1" || hn_die "receiver main.cf"
cat >>"$RCV/etc/master.cf" <<EOF
$IP_EXP:25 inet n - n - - smtpd
  -o smtpd_tls_cert_file=$D/pki/expired.crt -o smtpd_tls_key_file=$D/pki/expired.key
$IP_WRONG:25 inet n - n - - smtpd
  -o smtpd_tls_cert_file=$D/pki/wrong.crt -o smtpd_tls_key_file=$D/pki/wrong.key
$IP_PLAIN:25 inet n - n - - smtpd
  -o smtpd_tls_security_level=none
$IP_OLD:25 inet n - n - - smtpd
  -o smtpd_tls_protocols=<=TLSv1.2 -o smtpd_tls_mandatory_protocols=<=TLSv1.2
EOF
pf_backdate "$RCV"
hn_check "receiver Postfix up in $NS_B ($IP_GOOD:25)" pf_up "$RCV" "$NS_B"
for ip in "$IP_EXP" "$IP_WRONG" "$IP_PLAIN" "$IP_OLD"; do
	hn_check "  smtpd answers on $ip:25" hn_wait 20 ip netns exec "$NS_B" \
		bash -c "$(declare -f hn_banner); hn_banner $ip 25"
done
hn_check "sender Postfix up in $NS_A" pf_up "$SND" "$NS_A"

# tls_seen IP NAME PATTERN: openssl s_client from A, checking NAME, says PATTERN
tls_seen() {
	echo | A timeout 10 openssl s_client -starttls smtp -connect "$1:25" -CAfile "$D/pki/ca.crt" \
		-verify_hostname "$2" -verify_return_error -brief 2>&1 | grep -q "$3"
}
hn_check "  from A: good receiver verifies for mx.good.$Z" tls_seen "$IP_GOOD" "mx.good.$Z" \
	"Verification: OK"
hn_check "  from A: expired receiver's certificate has expired" tls_seen "$IP_EXP" \
	"mx.expired.$Z" "certificate has expired"
hn_check "  from A: wrong receiver's certificate does not name mx.wrong.$Z" tls_seen \
	"$IP_WRONG" "mx.wrong.$Z" "mismatch"
hn_check "  from A: plain receiver offers no STARTTLS" \
	bash -c '! { printf "EHLO a.test\r\nQUIT\r\n"; sleep 1; } | ip netns exec "$0" timeout 5 \
		bash -c "exec 3<>/dev/tcp/$1/25; cat <&3 & cat >&3; wait" | grep -qi starttls' \
	"$NS_A" "$IP_PLAIN"

# --- the mail
send() { # DOMAIN RCPT...: one message from sender@sender.Z
	local d=$1 r to=() h
	shift
	for r in "$@"; do to+=("$r@$d.$Z"); done
	h=$(printf '%s, ' "${to[@]}")
	printf 'From: sender@sender.%s\nTo: %s\nSubject: postfixlog %s\nMessage-ID: <%s.%s@sender.%s>\nDate: %s\n\nto %s\n' \
		"$Z" "${h%, }" "$d" "$d" "$$" "$Z" "$(date -R)" "${h%, }" |
		A sendmail -C "$SND/etc" -f "sender@sender.$Z" -- "${to[@]}"
}
hn_check "sendmail in A: one message to a, b, c @good.$Z" send good a b c
for d in expired plain; do
	hn_check "sendmail in A: one message to user, user2 @$d.$Z" send "$d" user user2
done
for d in wrong old twomx twoold twoplain dane; do
	hn_check "sendmail in A: one message to user@$d.$Z" send "$d" user
done
# final ADDR STATUS: the sender logged ADDR's final status (sent, or deferred)
final() { grep -Eq "postfix/smtp\[[0-9]+\]: [0-9A-F]+: to=<$1>, .*status=$2 " "$SND/maillog"; }
allfinal() {
	local r
	for r in a b c; do final "$r@good\.$Z" sent || return 1; done
	final "user@twomx\.$Z" sent || return 1
	final "user@twoold\.$Z" sent || return 1
	final "user@twoplain\.$Z" sent || return 1
	for r in expired wrong plain old dane; do final "user@$r\.$Z" deferred || return 1; done
	for r in expired plain; do final "user2@$r\.$Z" deferred || return 1; done
}
hn_check "every recipient has its final status in the sender's log (60 s)" hn_wait 60 allfinal
grep -E "postfix/smtp\[" "$SND/maillog" >&2
queued() { # the queue holds exactly the 5 broken domains' messages, all in 'deferred'
	A postqueue -c "$SND/etc" -j >"$D/queue.json" 2>&1
	python3 - "$D/queue.json" "$Z" <<'PY'
import json, sys
q = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
got = sorted(r["address"] for m in q for r in m["recipients"])
want = sorted(["user@%s.%s" % (d, sys.argv[2]) for d in ("expired", "wrong", "plain", "old", "dane")] +
             ["user2@%s.%s" % (d, sys.argv[2]) for d in ("expired", "plain")])
sys.exit(0 if got == want and all(m["queue_name"] == "deferred" for m in q) else 1)
PY
}
hn_check "  the queue: the 5 broken domains' messages, all deferred, none active (10 s)" \
	hn_wait 10 queued
hn_check "  B's Maildir: the 6 delivered copies (a, b, c@good; twomx; twoold; twoplain)" \
	test "$(pf_mail_count "$RCV")" = 6
sline() { grep -Eq "postfix/smtp\[[0-9]+\]: $1" "$SND/maillog"; }
# vline PATTERN: a certificate check's line, from smtp(8) or (MODE tlsproxy) tlsproxy(8)
vline() { grep -Eq "postfix/$MODE\[[0-9]+\]: $1" "$SND/maillog"; }
OTHER=tlsproxy
[ "$MODE" = smtp ] || OTHER=smtp
hn_check "  log: certificate failures logged by $MODE, none by $OTHER" \
	bash -c '! grep -Eq "postfix/$0\[[0-9]+\]: (server )?certificate verification failed" "$1"' \
	"$OTHER" "$SND/maillog"
good_hs() { grep -Ec "postfix/smtp\[[0-9]+\]: Verified TLS connection established to mx\.good\.$Z\[" "$SND/maillog"; }
hn_check "  log: one Verified handshake with mx.good.$Z" test "$(good_hs)" = 1
hn_check "  log ($MODE): mx.expired.$Z certificate has expired" \
	vline "server certificate verification failed for mx\.expired\.$Z\[$IP_EXP\]:25: .*certificate has expired"
hn_check "  log ($MODE): mx.wrong.$Z hostname mismatch" \
	vline "server certificate verification failed for mx\.wrong\.$Z\[$IP_WRONG\]:25: .*hostname mismatch"
hn_check "  log: mx.plain.$Z did not offer STARTTLS" \
	sline "[0-9A-F]+: to=<user@plain\.$Z>.*TLS is required, but was not offered by host mx\.plain\.$Z\[$IP_PLAIN\]"
hn_check "  log: twomx: mx1.twomx.$Z expired, then sent through mx2.twomx.$Z" \
	bash -c 'grep -Eq "verification failed for mx1\.twomx\.$1\[$2\]:25: .*certificate has expired" "$0" &&
		grep -Eq "to=<user@twomx\.$1>, relay=mx2\.twomx\.$1\[$3\]:25, .*status=sent" "$0"' \
	"$SND/maillog" "$Z" "$IP_EXP" "$IP_GOOD"
if [ "$MODE" = smtp ]; then
	hn_check "  log: mx.old.$Z: SSL_connect error" \
		sline "SSL_connect error to mx\.old\.$Z\[$IP_OLD\]:25: "
else
	hn_check "  log: tlsproxy: CONNECT to [$IP_OLD]:25, TLS handshake failed for it" \
		bash -c 'grep -Eq "postfix/tlsproxy\[[0-9]+\]: CONNECT to \[$1\]:25\$" "$0" &&
			grep -Eq "postfix/tlsproxy\[[0-9]+\]: TLS handshake failed for service=[^ ]+ peer=\[$1\]:25\$" "$0"' \
		"$SND/maillog" "$IP_OLD"
fi
hn_check "  log: mx.old.$Z: deferred, Cannot start TLS: handshake failure" \
	sline "[0-9A-F]+: to=<user@old\.$Z>, relay=mx\.old\.$Z\[$IP_OLD\]:25, .*status=deferred \(Cannot start TLS: handshake failure"
hn_check "  log: twoold: no TLS with mx1.twoold.$Z (no to=), then sent through mx2" \
	bash -c 'grep -Eq "postfix/smtp\[[0-9]+\]: [0-9A-F]+: Cannot start TLS: handshake failure\$" "$0" &&
		grep -Eq "to=<user@twoold\.$1>, relay=mx2\.twoold\.$1\[$2\]:25, .*status=sent" "$0"' \
	"$SND/maillog" "$Z" "$IP_GOOD"
hn_check "  log: twoplain: mx1.twoplain.$Z offered no STARTTLS (no to=), then sent through mx2" \
	bash -c 'grep -Eq "postfix/smtp\[[0-9]+\]: [0-9A-F]+: TLS is required, but was not offered by host mx1\.twoplain\.$1\[$2\]" "$0" &&
		grep -Eq "to=<user@twoplain\.$1>, relay=mx2\.twoplain\.$1\[$3\]:25, .*status=sent" "$0"' \
	"$SND/maillog" "$Z" "$IP_PLAIN" "$IP_GOOD"
hn_check "  log ($MODE): mx.dane.$Z no matching DANE TLSA records" \
	vline "server certificate verification failed for mx\.dane\.$Z\[$IP_GOOD\]:25: num=65:no matching DANE TLSA records"

# --- tlsrpt: ingest-log of that log, status, the day's reports
cat >"$D/t.conf" <<EOF
listen = unix:$D/run/tlsrpt.sock
user = nobody
group = nogroup
store = lmdb:$D/state
sending_ip = $NS_A_IP
organization_name = Test Org
contact_info = tlsrpt@$Z
EOF
today=$(date -u +%F)
hn_check "tlsrpt ingest-log $SND/maillog: exit 0" \
	bash -c '"$0" -c "$1" ingest-log "$2" >"$3/ingest.out" 2>&1' "$T" "$D/t.conf" "$SND/maillog" "$D"
cat "$D/ingest.out" >&2
hn_check "  12 TLS sessions counted (1+1+1+1+1+2+2+2+1), none malformed, none dropped" \
	grep -qE "[0-9]+ smtp lines, 12 TLS sessions counted, 0 malformed, 0 without a recipient domain" \
	"$D/ingest.out"
"$T" -c "$D/t.conf" status >"$D/status.out" 2>&1
cat "$D/status.out" >&2
row() { grep -qE "^  $1\.$Z +$2 +success $3, failure $4\$" "$D/status.out"; }
hn_check "status: good.$Z sts success 1, failure 0 (3 recipients, one session)" row good sts 1 0
hn_check "status: expired.$Z sts success 0, failure 1" row expired sts 0 1
hn_check "status: wrong.$Z sts success 0, failure 1" row wrong sts 0 1
hn_check "status: plain.$Z sts success 0, failure 1" row plain sts 0 1
hn_check "status: old.$Z sts success 0, failure 1" row old sts 0 1
hn_check "status: twomx.$Z sts success 1, failure 1" row twomx sts 1 1
hn_check "status: twoold.$Z sts success 1, failure 1" row twoold sts 1 1
hn_check "status: twoplain.$Z sts success 1, failure 1" row twoplain sts 1 1
hn_check "status: dane.$Z tlsa success 0, failure 1" row dane tlsa 0 1
hn_check "status: nopol.$Z: policyd-mtasts' failed fetches (sts-policy-invalid)" \
	grep -qE "^  nopol\.$Z +sts +failure [1-9][0-9]* \(policy fetches by policyd-mtasts: sts-policy-invalid\)$" "$D/status.out"
hn_check "status: these 9 domains and no other" \
	test "$(grep -cE '^  [^ ]+ +[^ ]+ +success [0-9]+, failure [0-9]+$' "$D/status.out")" = 9
hn_check "report --day $today --dry-run --out: exit 0" \
	bash -c '"$0" -c "$1" report --day "$2" --dry-run --out "$3/out" >"$3/report.out" 2>&1' \
	"$T" "$D/t.conf" "$today" "$D"
REF=$SRC/tests/data/tlsrpt-reporter-report-d1.json
for x in "good 0 1" "expired 1 0" "wrong 1 0" "plain 1 0" "old 1 0" "twomx 1 1" "twoold 1 1" "twoplain 1 1" "dane 1 0"; do
	read -r d f s <<<"$x"
	hn_check "  $d.$Z: RFC 8460 shape, failure $f, success $s, file name, gzip" \
		python3 "$HERE/tlsrpt_report_check.py" "$D/out" "$REF" "$d.$Z" "$f" "$s"
done
chk() { python3 "$HERE/tlsrpt_postfixlog_check.py" "$D/out" "$@"; }
stsp() { # MX...: "sts" and the lines of an enforce policy naming MX..., one a line
	local m
	echo "sts"
	echo "version: STSv1"
	echo "mode: enforce"
	for m in "$@"; do echo "mx: $m"; done
	echo "max_age: 86400"
}
hn_check "  good.$Z: sts, the recorded policy strings and mx, 1 success, no failure details" \
	chk "good.$Z" "$NS_A_IP" "$(stsp "mx.good.$Z")" 1 ""
hn_check "  expired.$Z: certificate-expired at mx.expired.${Z}[$IP_EXP]" \
	chk "expired.$Z" "$NS_A_IP" "$(stsp "mx.expired.$Z")" 0 \
	"certificate-expired mx.expired.$Z $IP_EXP 1"
hn_check "  wrong.$Z: certificate-host-mismatch at mx.wrong.${Z}[$IP_WRONG]" \
	chk "wrong.$Z" "$NS_A_IP" "$(stsp "mx.wrong.$Z")" 0 \
	"certificate-host-mismatch mx.wrong.$Z $IP_WRONG 1"
hn_check "  plain.$Z: starttls-not-supported at mx.plain.${Z}[$IP_PLAIN]" \
	chk "plain.$Z" "$NS_A_IP" "$(stsp "mx.plain.$Z")" 0 \
	"starttls-not-supported mx.plain.$Z $IP_PLAIN 1"
hn_check "  old.$Z: validation-failure (tls-handshake-failure) at mx.old.${Z}[$IP_OLD]" \
	chk "old.$Z" "$NS_A_IP" "$(stsp "mx.old.$Z")" 0 \
	"validation-failure mx.old.$Z $IP_OLD 1 tls-handshake-failure"
hn_check "  twomx.$Z: 1 success, certificate-expired at mx1.twomx.${Z}[$IP_EXP]" \
	chk "twomx.$Z" "$NS_A_IP" "$(stsp "mx1.twomx.$Z" "mx2.twomx.$Z")" 1 \
	"certificate-expired mx1.twomx.$Z $IP_EXP 1"
H1=mx1.twoold.$Z
[ "$MODE" = smtp ] || H1=- # the non-final line names no host, tlsproxy's only the address
hn_check "  twoold.$Z: 1 success, validation-failure (tls-handshake-failure) at $H1 [$IP_OLD]" \
	chk "twoold.$Z" "$NS_A_IP" "$(stsp "mx1.twoold.$Z" "mx2.twoold.$Z")" 1 \
	"validation-failure $H1 $IP_OLD 1 tls-handshake-failure"
hn_check "  twoplain.$Z: 1 success, starttls-not-supported at mx1.twoplain.${Z}[$IP_PLAIN]" \
	chk "twoplain.$Z" "$NS_A_IP" "$(stsp "mx1.twoplain.$Z" "mx2.twoplain.$Z")" 1 \
	"starttls-not-supported mx1.twoplain.$Z $IP_PLAIN 1"
hn_check "  dane.$Z: tlsa, its TLSA record, validation-failure (no matching DANE TLSA records) at mx.dane.${Z}[$IP_GOOD]" \
	chk "dane.$Z" "$NS_A_IP" "$(printf 'tlsa\n3 1 1 %s' "${NOMATCH^^}")" 0 \
	"validation-failure mx.dane.$Z $IP_GOOD 1 no matching DANE TLSA records"
# policyd-mtasts' failed fetches in the report: an sts policy with no string (none was
# fetched), the count as failed sessions, no MX or address (no SMTP session was made)
nopol_report() {
	python3 - "$D/out" "nopol.$Z" <<'PY'
import glob, gzip, json, sys
files = glob.glob("%s/*!%s!*.json.gz" % (sys.argv[1], sys.argv[2]))
assert len(files) == 1, files
pols = json.loads(gzip.open(files[0]).read())["policies"]
assert len(pols) == 1, pols
p = pols[0]
assert p["policy"] == {"policy-type": "sts", "policy-domain": sys.argv[2]}, p["policy"]
n = p["summary"]["total-failure-session-count"]
assert n >= 1 and p["summary"]["total-successful-session-count"] == 0, p["summary"]
assert p["failure-details"] == [{"result-type": "sts-policy-invalid",
                                 "failed-session-count": n}], p["failure-details"]
PY
}
hn_check "  nopol.$Z: sts without policy strings, sts-policy-invalid as failed sessions" nopol_report
hn_log "run time $(($(hn_ms) - T0)) ms"
hn_summary
