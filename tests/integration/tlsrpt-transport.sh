#!/bin/bash
# tlsrpt-transport.sh: report mail reaches a receiver whose TLS is broken (RFC 8460 section
# 5.3.1), through the README's report transport, in two network namespaces (netns.sh):
#   A, the sender: knotd (signed example.test) + a validating unbound on A's 127.0.0.1:53,
#     nginx serving an enforce MTA-STS policy for broken.example.test (mx:
#     mx.broken.example.test), policyd-mtasts, and a sending Postfix with
#     smtp_tls_policy_maps = socketmap:unix:SOCK:postfix, smtp_dns_support_level = dnssec,
#     and the report transport of the README:
#       master.cf: tlsrpt-out unix - - n - - smtp -o syslog_name=postfix/tlsrpt-out
#                    -o smtp_tls_security_level=may -o smtp_tls_policy_maps=static:may
#       main.cf:   sender_dependent_default_transport_maps =
#                    inline:{tlsrpt-noreply@example.test=tlsrpt-out:}
#   B, the receiver for broken.example.test: STARTTLS with an EXPIRED certificate, Maildir.
#   control: an ordinary message from another sender is deferred (4.7.5): the policy applies.
#   report:  `tlsrpt report` (report_from = tlsrpt-noreply@example.test, sendmail = A's
#            sendmail -C its config) is delivered to tlsrpt@broken.example.test in B through
#            tlsrpt-out, over unverified TLS.
# tlsrpt runs as root: Postfix's sendmail takes -C for a private instance only from root.
# Needs root (namespaces); exits 77 when they cannot be made, or a binary is missing.
set -u
. "$POSTWARDEN_HARNESS/lib.sh"
HN_NAME=tlsrpt-transport
SEED=${1:?usage: tlsrpt-transport.sh TLSRPT_SEED}
MT=${POSTWARDEN_BUILD:-}/policyd-mtasts/policyd-mtasts
T=${POSTWARDEN_BUILD:-}/tlsrpt/tlsrpt
[ -x "$MT" ] || { echo "SKIP: policyd-mtasts not built ($MT)"; exit 77; }
[ -x "$T" ] || { echo "SKIP: tlsrpt not built ($T)"; exit 77; }
[ -x "$SEED" ] || { echo "SKIP: tlsrpt_seed not built ($SEED)"; exit 77; }
. "$(dirname "$0")/mtasts-nslib.sh" # the harness parts, required tools checked
HERE=$(cd "$(dirname "$0")" && pwd)

ns_pair_up pwr # exits 77 when namespaces cannot be made
hn_tmpdir D tlsrpt-transport
Z=example.test
BD=broken.$Z
A() { ns_exec "$NS_A" "$@"; }

# --- certificates: the receiver's EXPIRED one, nginx's valid one
PKI_DATES="20200101000000Z 20200201000000Z" pki_leaf "$D/pki" mx "mx.$BD" >/dev/null 2>&1 ||
	hn_die "expired certificate"
pki_leaf "$D/pki" sts "mta-sts.$BD" >/dev/null 2>&1
chmod 644 "$D"/pki/*.key

# --- DNS in A
mkdir -p "$D/dns"
{
	echo "$BD. 60 IN MX 10 mx.$BD."
	echo "mx.$BD. 60 IN A $NS_B_IP"
	echo "_mta-sts.$BD. 60 IN TXT \"v=STSv1; id=broken1\""
	echo "_smtp._tls.$BD. 60 IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@$BD\""
} >"$D/dns/$Z.extra"
ns_resolv "$NS_A" 127.0.0.1
ns_resolv "$NS_B" 127.0.0.1
DNS_UNBOUND_PORT=53 dns_up_netns "$NS_A" "$D/dns"

# --- the enforce MTA-STS policy, served by nginx in A
H=mta-sts.$BD
mkdir -p "$D/www/$H/.well-known"
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.%s\r\nmax_age: 86400\r\n' "$BD" \
	>"$D/www/$H/.well-known/mta-sts.txt"
chmod -R a+rX "$D"
https_policy_hosts "$NS_A" "$D" sts "$H"

# --- the sending Postfix, with the report transport
SND=$D/snd
RCV=$D/rcv
mkdir -p "$D/state" "$D/run" "$D/tstate"
chown nobody:nogroup "$D/state" "$D/run"
SOCK=$D/run/mtasts.sock
RF=tlsrpt-noreply@$Z
pf_make "$SND" 127.0.0.1:25 "myhostname = sender.$Z" "virtual_mailbox_domains =" \
	"smtp_tls_policy_maps = socketmap:unix:$SOCK:postfix" \
	"smtp_dns_support_level = dnssec" "dnssec_probe = ns:$Z" \
	"smtp_tls_security_level = may" "smtp_tls_CAfile = $D/pki/ca.crt" \
	"smtp_tls_loglevel = 1" \
	"sender_dependent_default_transport_maps = inline:{$RF=tlsrpt-out:}" ||
	hn_die "sender main.cf"
# master.cf: the lines as README.md and tlsrpt(8) give them
cat >>"$SND/etc/master.cf" <<'EOF'
tlsrpt-out unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/tlsrpt-out
  -o smtp_tls_security_level=may
  -o smtp_tls_policy_maps=static:may
EOF
pf_backdate "$SND"
hn_check "sender master.cf: tlsrpt-out as written" \
	bash -c 'postconf -c "$0" -M tlsrpt-out/unix | tr -s " " | grep -qx "tlsrpt-out unix - - n - - smtp -o syslog_name=postfix/tlsrpt-out -o smtp_tls_security_level=may -o smtp_tls_policy_maps=static:may"' "$SND/etc"
hn_check "  static:may answers may (postmap -q)" \
	test "$(postmap -c "$SND/etc" -q anything static:may)" = may
hn_check "  the sender map gives tlsrpt-out: for $RF only" \
	bash -c '[ "$(postmap -c "$0" -q "$1" "$(postconf -c "$0" -h sender_dependent_default_transport_maps)")" = tlsrpt-out: ] &&
		! postmap -c "$0" -q "sender@sender.$2" "$(postconf -c "$0" -h sender_dependent_default_transport_maps)"' \
	"$SND/etc" "$RF" "$Z"

# --- policyd-mtasts in A
hn_check "policyd-mtasts starts in A (READY=1)" mt_ns_start "$NS_A" "$D" "$SOCK" "$SND/etc"
answer() { A timeout 30 postmap -c "$SND/etc" -q "$BD" "socketmap:unix:$SOCK:postfix" 2>>"$D/postmap.err"; }
hn_check "policy answer for $BD: secure match=mx.$BD" \
	test "$(answer)" = "secure match=mx.$BD servername=hostname"

# --- the receiver in B (expired certificate), then the sender
pf_make "$RCV" "$NS_B_IP:25" "myhostname = mx.$BD" "virtual_mailbox_domains = $BD" \
	"smtpd_tls_security_level = may" "smtpd_tls_cert_file = $D/pki/mx.crt" \
	"smtpd_tls_key_file = $D/pki/mx.key" "smtpd_tls_loglevel = 1" || hn_die "receiver main.cf"
hn_check "receiver Postfix up in $NS_B ($NS_B_IP:25)" pf_up "$RCV" "$NS_B"
hn_check "sender Postfix up in $NS_A" pf_up "$SND" "$NS_A"
hn_check "receiver's certificate is expired, seen from A" \
	bash -c 'echo | ip netns exec "$0" timeout 10 openssl s_client -starttls smtp \
		-connect "$1:25" -CAfile "$2" -verify_hostname "mx.$3" -verify_return_error \
		-brief 2>&1 | grep -q "certificate has expired"' "$NS_A" "$NS_B_IP" "$D/pki/ca.crt" "$BD"

# --- (1) control: an ordinary sender's mail defers on the policy
printf 'From: sender@sender.%s\nTo: user@%s\nSubject: control\n\ncontrol\n' "$Z" "$BD" |
	A sendmail -C "$SND/etc" -f "sender@sender.$Z" -- "user@$BD"
A postqueue -c "$SND/etc" -f
ctl() { grep -q "to=<user@$BD>.*status=deferred" "$SND/maillog"; }
hn_check "control: mail from sender@sender.$Z to user@$BD deferred (60 s)" hn_wait 60 ctl
grep "to=<user@$BD>.*status=deferred" "$SND/maillog" | head -n 1 >&2
hn_check "  4.7.5, the certificate not verified" \
	grep -Eq "to=<user@$BD>.*relay=mx\.$BD.*dsn=4\.7\.5, status=deferred \(.*(certificate|verif)" \
	"$SND/maillog"
hn_check "  through the ordinary smtp transport" \
	grep -Eq "postfix/smtp\[[0-9]+\]: .*to=<user@$BD>.*status=deferred" "$SND/maillog"
hn_check "  nothing in B's Maildir" test "$(pf_mail_count "$RCV")" = 0

# --- (2) the report, through tlsrpt-out
cat >"$D/t.conf" <<EOF
listen = unix:$D/run/tlsrpt.sock
user = root
group = root
store = lmdb:$D/tstate
organization_name = Test Org
contact_info = tlsrpt@$Z
report_from = $RF
sendmail = $(command -v sendmail) -C $SND/etc
resolver = $DNS_FORWARDER
ca_file = $D/pki/ca.crt
EOF
day=$(date -u -d '2 days ago' +%F)
"$SEED" "lmdb:$D/tstate" events 2 "$BD" 5 2 >/dev/null || hn_die "seed events"
"$SEED" "lmdb:$D/tstate" dkim "$Z" s2026 >/dev/null || hn_die "seed dkim"
A "$T" -c "$D/t.conf" report --day "$day" --domain "$BD" >"$D/report.out" 2>&1
echo $? >"$D/report.rc"
cat "$D/report.out" >&2
hn_check "tlsrpt report --day $day --domain $BD: exit 0, mailto handed to sendmail" \
	bash -c '[ "$(cat "$0/report.rc")" = 0 ] && grep -q "^$1: mailto:tlsrpt@$1 delivered$" "$0/report.out"' "$D" "$BD"
A postqueue -c "$SND/etc" -f
hn_check "  the report arrives in B's Maildir (60 s)" pf_wait_mail "$RCV" 1 60
mail_of() { grep -l "^TLS-Report-Domain: $BD" "$RCV"/mail/inbox/new/* 2>/dev/null | head -n 1; }
hn_check "  it is the report: multipart/report, headers, gzip part decodes" \
	python3 "$HERE/tlsrpt_mail_check.py" "$(mail_of)" "$BD" "$Z" "$RF" 5 2
hn_check "  delivered to tlsrpt@$BD, envelope sender $RF" \
	bash -c 'f=$(grep -l "^TLS-Report-Domain: $1" "$0"/mail/inbox/new/*) &&
		grep -q "^Return-Path: <$2>" "$f" && grep -q "^Delivered-To: tlsrpt@$1" "$f"' \
	"$RCV" "$BD" "$RF"
hn_check "  A's log: sent to tlsrpt@$BD by the tlsrpt-out service" \
	grep -Eq "postfix/tlsrpt-out/smtp\[[0-9]+\]: .*to=<tlsrpt@$BD>, relay=mx\.$BD\[$NS_B_IP\]:25,.*status=sent" \
	"$SND/maillog"
hn_check "  A's log: tlsrpt-out's TLS was Untrusted or Anonymous" \
	grep -Eq "postfix/tlsrpt-out/smtp\[[0-9]+\]: (Untrusted|Anonymous) TLS connection established to mx\.$BD" \
	"$SND/maillog"
grep -E "postfix/tlsrpt-out/smtp\[" "$SND/maillog" >&2
hn_check "  the control mail is still deferred, not delivered" \
	bash -c '[ "$3" = 1 ] && ip netns exec "$0" postqueue -c "$1" -j | grep -q "\"user@$2\""' \
	"$NS_A" "$SND/etc" "$BD" "$(pf_mail_count "$RCV")"
hn_summary
