#!/bin/bash
# mail-path.sh redis|lmdb: the whole mail path of a postwarden site, end to end, with all four
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
#   B, the receiving host: one Postfix, Maildir, STARTTLS on four addresses: .2 with a
#     certificate for mx.{sts,dane,badtlsa,down,nopolicy}.example.test, .3 an expired one,
#     .4 one for another name, .5 no STARTTLS at all.
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
# and the failure result type (tests/e2e/e2e_report.py).
# Needs root; exits 77 when namespaces cannot be made or a server is not installed.
# shellcheck disable=SC2016 # bash -c bodies expand in the child
set -u
KIND=${1:?usage: mail-path.sh redis|lmdb}
. "$(dirname "$0")/e2e-lib.sh"
e2e_init "e2e-$KIND"
T0=$(hn_ms)
Z=example.test
STS_DOMS=(sts expired wrongname nostarttls) # enforce policies
ALL_DOMS=(sts dane expired wrongname nostarttls badtlsa down nopolicy)
USER_NAME=alice@$Z
PASS=e2e-$RANDOM-secret
SND=$D/snd
RCV=$D/rcv
SPOOL=$SND/spool
TODAY=$(date -u +%F)

# --- certificates: B's (good, expired, wrong name), the policy hosts', A's submission
mx_names=()
for d in sts dane badtlsa down nopolicy; do mx_names+=("mx.$d.$Z"); done
pki_leaf "$D/pki" mx "${mx_names[@]}" 2>/dev/null
PKI_DATES="20200101000000Z 20200201000000Z" pki_leaf "$D/pki" expired "mx.expired.$Z" \
	>/dev/null 2>&1 || hn_die "expired certificate"
pki_leaf "$D/pki" other "mx.other.$Z" 2>/dev/null
sts_names=()
for d in "${STS_DOMS[@]}" nopolicy; do sts_names+=("mta-sts.$d.$Z"); done
pki_leaf "$D/pki" sts "${sts_names[@]}" 2>/dev/null
pki_leaf "$D/pki" submit "sender.$Z" 127.0.0.1 2>/dev/null
chmod 644 "$D"/pki/*.key
SPKI=$(openssl x509 -in "$D/pki/mx.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -hex | sed 's/.*= *//')
[[ $SPKI =~ ^[0-9a-f]{64}$ ]] || hn_die "cannot hash B's public key ($SPKI)"
for i in 3 4 5; do e2e_addr_add "$NS_B" "$NS_NET.$i" || hn_die "address $NS_NET.$i"; done

# --- the store every daemon is given
e2e_store_up "$KIND"
mkdir -p "$D/keys" "$SPOOL/milter-dkim" "$SPOOL/milter-av" "$SPOOL/run/tlsrpt"
chmod 700 "$D/keys"
chown nobody:nogroup "$D/keys"

# --- DNS in A: MX of each domain -> B; STS TXT + policy host; TLSA
ip_of() { case $1 in expired) echo "$NS_NET.3" ;; wrongname) echo "$NS_NET.4" ;;
	nostarttls) echo "$NS_NET.5" ;; *) echo "$NS_B_IP" ;; esac; }
mkdir -p "$D/dns"
{
	for d in "${ALL_DOMS[@]}"; do
		echo "$d.$Z. 60 IN MX 10 mx.$d.$Z."
		echo "mx.$d.$Z. 60 IN A $(ip_of "$d")"
	done
	for d in "${STS_DOMS[@]}" down nopolicy; do
		echo "_mta-sts.$d.$Z. 60 IN TXT \"v=STSv1; id=${d}1\""
		# down's policy host: an address nothing listens on (connection refused)
		echo "mta-sts.$d.$Z. 60 IN A 127.0.0.$([ "$d" = down ] && echo 2 || echo 1)"
	done
	echo "_25._tcp.mx.dane.$Z. 60 IN TLSA 3 1 1 $SPKI"
	echo "_25._tcp.mx.badtlsa.$Z. 60 IN TLSA 3 1 1 $DNS_TLSA_HASH"
} >"$D/dns/$Z.extra"
ns_resolv "$NS_A" 127.0.0.1
ns_resolv "$NS_B" 127.0.0.1 # nothing listens there: B's lookups fail at once
DNS_UNBOUND_PORT=53 dns_up_netns "$NS_A" "$D/dns"

# --- milter-dkim's keys, published as `milter-dkim dns` prints them (knot re-signs the zone)
cat >"$D/milter-dkim.conf" <<EOF
listen = unix:$SPOOL/milter-dkim/milter.sock
user = nobody
group = nogroup
store = $STORE
keydir = $D/keys
sign_networks =
resolver = 127.0.0.1@53
trust_anchor = $D/dns/example.test.ds

[$Z]
selectors = e2e-rsa e2e-ed

[$Z/e2e-rsa]
algorithm = rsa-sha256
bits = 2048

[$Z/e2e-ed]
algorithm = ed25519-sha256
EOF
hn_check "milter-dkim keygen: an RSA and an Ed25519 key" \
	bash -c '"$0" -c "$1" keygen >"$2/keygen.out" 2>&1 || { cat "$2/keygen.out"; exit 1; }' \
	"$DKIM" "$D/milter-dkim.conf" "$D"

publish() {
	local rr n=0
	while IFS= read -r rr; do
		A bash "$HN_HARNESS/dns.sh" add "$D/dns" "$rr" </dev/null || return 1
		n=$((n + 1))
	done < <("$DKIM" -c "$D/milter-dkim.conf" dns | grep -v '^;' |
		sed -E 's/^([^ ]+) IN TXT \( (.*) \) ;.*$/\1 5 TXT \2/')
	[ "$n" = 2 ]
}
hn_check "milter-dkim dns: both selectors' TXT records published in the signed zone" publish

# --- the MTA-STS policies (enforce), served by nginx in A; nopolicy's host has no file (404)
for d in "${STS_DOMS[@]}" nopolicy; do mkdir -p "$D/www/mta-sts.$d.$Z/.well-known"; done
for d in "${STS_DOMS[@]}"; do
	printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.%s.%s\r\nmax_age: 86400\r\n' "$d" "$Z" \
		>"$D/www/mta-sts.$d.$Z/.well-known/mta-sts.txt"
done
https_policy_hosts "$NS_A" "$D" sts "${sts_names[@]}"

# --- B: Postfix, STARTTLS on .2 (good), .3 (expired), .4 (other name); .5 without STARTTLS
pf_make "$RCV" "$NS_B_IP:25" "myhostname = mx.sts.$Z" "inet_interfaces = all" \
	"virtual_mailbox_domains = $(printf '%s.'"$Z"' ' "${ALL_DOMS[@]}")" \
	"smtpd_tls_security_level = may" "smtpd_tls_chain_files = $D/pki/mx.key $D/pki/mx.crt" \
	"smtpd_tls_loglevel = 1" || hn_die "B main.cf"
for s in "3 expired" "4 other" "5 -"; do
	set -- "${s% *}" "${s#* }"
	postconf -c "$RCV/etc" -Me "$NS_NET.$1:25/inet=$NS_NET.$1:25 inet n - n - - smtpd"
	if [ "$2" = - ]; then
		postconf -c "$RCV/etc" -Pe "$NS_NET.$1:25/inet/smtpd_tls_security_level=none"
	else
		postconf -c "$RCV/etc" -Pe \
			"$NS_NET.$1:25/inet/smtpd_tls_chain_files=$D/pki/$2.key,$D/pki/$2.crt"
	fi
done
pf_backdate "$RCV"
hn_check "B: Postfix up ($NS_B_IP, $NS_NET.3-5 port 25)" pf_up "$RCV" "$NS_B"

# --- A: Postfix with the README's lines (paths relative to the queue directory)
pf_make "$SND" 127.0.0.1:25 "myhostname = sender.$Z" "virtual_mailbox_domains =" \
	"smtpd_milters = unix:milter-av/milter.sock" \
	"non_smtpd_milters = unix:milter-dkim/milter.sock" \
	"milter_default_action = tempfail" \
	"smtp_tls_policy_maps = socketmap:unix:private/mtasts:postfix" \
	"smtp_dns_support_level = dnssec" "smtp_tls_security_level = dane" \
	"dnssec_probe = ns:$Z" "smtp_tls_CAfile = $D/pki/ca.crt" "smtp_tls_loglevel = 1" \
	"smtpd_tls_chain_files = $D/pki/submit.key $D/pki/submit.crt" \
	"smtpd_sasl_type = dovecot" "smtpd_sasl_path = private/auth" \
	"queue_run_delay = 300s" "minimal_backoff_time = 300s" "maximal_backoff_time = 300s" ||
	hn_die "A main.cf"
# One delivery attempt per deferred message (long backoff), so the report's failure counts
# are exact. Retries are left out on purpose: tlsrpt's log reader (logscan.c, ls_refusal)
# counts a STARTTLS refusal once per smtp process, queue id and relay, so a retry of the
# same message by the same smtp process is not counted again (seen with ingest-log).
cat >>"$SND/etc/master.cf" <<'EOF'
submission inet n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_milters=unix:milter-av/milter.sock,unix:milter-dkim/milter.sock
EOF
pf_backdate "$SND"
hn_check "A: Postfix up (127.0.0.1:25 and submission 127.0.0.1:587)" pf_up "$SND" "$NS_A"

# --- A: Dovecot auth, clamd, the four daemons on $STORE
hn_check "Dovecot auth service up: $SPOOL/private/auth" \
	e2e_dovecot "$D/dovecot" "$SPOOL/private/auth" "$USER_NAME" "$PASS"
clamd_up "$D/clamd" || hn_die "clamd did not start"
cat >"$D/milter-av.conf" <<EOF
listen = unix:$SPOOL/milter-av/milter.sock
user = nobody
group = nogroup
store = $STORE
clamd = unix:$D/clamd/clamd.sock
EOF
cat >"$D/policyd-mtasts.conf" <<EOF
listen = unix:$SPOOL/private/mtasts
user = nobody
group = nogroup
store = $STORE
trust_anchor = $D/dns/example.test.ds
ca_file = $D/pki/ca.crt
fetch_timeout = 5s
EOF
cat >"$D/tlsrpt.conf" <<EOF
listen = unix:$SPOOL/run/tlsrpt/tlsrpt.sock
user = nobody
group = nogroup
store = $STORE
organization_name = postwarden e2e
contact_info = tlsrpt@$Z
report_time = off
logfile = $SND/maillog
EOF
export MAIL_CONFIG=$SND/etc # policyd-mtasts checks Postfix's DANE settings there
# `check` first, as README asks after every configuration change (tlsrpt has none)
for n in milter-av milter-dkim policyd-mtasts tlsrpt; do
	case $n in milter-av) b=$AV ;; milter-dkim) b=$DKIM ;; policyd-mtasts) b=$MT ;;
	tlsrpt) b=$TLSRPT ;; esac
	[ "$n" = tlsrpt ] ||
		hn_check "$n check: config, store ($KIND) and its backends" \
			bash -c 'ip netns exec "$0" "$1" -c "$2" check >"$3" 2>&1 || { cat "$3"; exit 1; }' \
			"$NS_A" "$b" "$D/$n.conf" "$D/$n.check"
	hn_check "$n up in A (READY=1)" e2e_start "$n" "$b" "$D/$n.conf"
done
hn_check "  sockets in A's queue directory, mode 0660, group postfix" bash -c 'cd "$0" &&
	for s in milter-dkim/milter.sock milter-av/milter.sock private/mtasts run/tlsrpt/tlsrpt.sock; do
		[ "$(stat -c %a:%G "$s")" = 660:postfix ] || { stat -c "%a:%G %n" "$s"; exit 1; }; done' "$SPOOL"
hn_check "  policyd-mtasts check: DANE: Postfix applies it" \
	grep -q "DANE: Postfix applies it" "$D/policyd-mtasts.check"
hn_check "  tlsrpt follows A's mail log" hn_wait 10 grep -q "following" "$D/tlsrpt.log"
hn_check "milter-dkim: both selectors live in DNS (check-dns, 30 s)" \
	hn_wait 30 A "$DKIM" -c "$D/milter-dkim.conf" check-dns
hn_check "  check-dns: both sign, published, matching their keys, DNSSEC-validated" bash -c \
	'[ "$(ip netns exec "$0" "$1" -c "$2" check-dns | grep -cE "^e2e-(rsa|ed)\._domainkey\.$3 +yes +signs +yes, matches key +validated")" = 2 ]' \
	"$NS_A" "$DKIM" "$D/milter-dkim.conf" "$Z"
hn_check "A: submission answers on 587" A bash -c "$(declare -f hn_banner); hn_banner 127.0.0.1 587"

# --- policyd-mtasts' answers, as A's Postfix asks (postmap, socketmap)
answer() { # DOMAIN WANT (empty: NOTFOUND)
	local got rc
	got=$(A timeout 30 postmap -c "$SND/etc" -q "$1.$Z" "socketmap:unix:$SPOOL/private/mtasts:postfix" \
		2>>"$D/postmap.err")
	rc=$?
	if [ -z "$2" ]; then [ $rc = 1 ] && [ -z "$got" ] && return 0; else
		[ $rc = 0 ] && [ "$got" = "$2" ] && return 0; fi
	echo "$1.$Z: rc=$rc '$got', want '${2:-NOTFOUND}'" >&2
	return 1
}
for d in "${STS_DOMS[@]}"; do
	hn_check "policy $d: secure match=mx.$d.$Z" answer "$d" "secure match=mx.$d.$Z servername=hostname"
done
for d in dane badtlsa; do hn_check "policy $d: dane-only" answer "$d" dane-only; done
hn_check "policy down (policy host refuses): NOTFOUND" answer down ""
hn_check "policy nopolicy (policy host answers 404): NOTFOUND" answer nopolicy ""

# --- submissions
msg() { # TAG RCPT [BODYFILE]: a message file, its name on stdout
	local f=$D/msg.$1
	{
		printf 'From: Alice <%s>\nTo: <%s>\nSubject: e2e %s\n' "$USER_NAME" "$2" "$1"
		printf 'Date: %s\nMessage-ID: <e2e.%s.%s@%s>\n\n' "$(date -R)" "$1" "$$" "$Z"
		if [ -n "${3:-}" ]; then cat "$3"; echo; else printf 'Hello %s,\nend to end.\n' "$2"; fi
	} >"$f"
	echo "$f"
}
submit() { # TAG RCPT [extra args]: submit as alice with STARTTLS and AUTH PLAIN
	local tag=$1 rcpt=$2
	shift 2
	e2e_submit 127.0.0.1 587 "$USER_NAME" "$rcpt" "$(msg "$tag" "$rcpt")" \
		--cafile "$D/pki/ca.crt" "$@"
}
refused() { # WANT-RC PATTERN CMD...: CMD exits WANT-RC and its reply matches PATTERN
	local want=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" >&2
	[ "$rc" = "$want" ] && grep -Eq "$pat" <<<"$out"
}
auth=(--user "$USER_NAME" --password "$PASS")
hn_check "no AUTH: relay refused (5xx, 5.7.1)" refused 5 '^refused 5[0-9][0-9] 5\.7\.1' \
	submit noauth "user@sts.$Z"
hn_check "wrong password: AUTH refused by Dovecot (535)" refused 5 '^refused 535' \
	submit badpass "user@sts.$Z" --user "$USER_NAME" --password wrong
hn_check "EICAR: rejected at submission, 550 5.7.1 with the virus name" \
	refused 5 '^refused 550 5\.7\.1 .*virus found: PW-Test\.EICAR' \
	e2e_submit 127.0.0.1 587 "$USER_NAME" "user@sts.$Z" \
	"$(msg eicar "user@sts.$Z" "$D/clamd/eicar.com")" --cafile "$D/pki/ca.crt" "${auth[@]}"
f0=$HN_FAILED
hn_check "accepted: user@sts.$Z (1 of 2)" submit sts-1 "user@sts.$Z" "${auth[@]}"
hn_check "accepted: user@sts.$Z (2 of 2)" submit sts-2 "user@sts.$Z" "${auth[@]}"
for d in dane expired wrongname nostarttls badtlsa down nopolicy; do
	hn_check "accepted: user@$d.$Z" submit "$d" "user@$d.$Z" "${auth[@]}"
done
hn_check "sendmail(1) in A: user@sts.$Z (non_smtpd_milters)" \
	A sendmail -C "$SND/etc" -f "$USER_NAME" -- "user@sts.$Z" <"$(msg sts-local "user@sts.$Z")"
if [ "$HN_FAILED" -gt "$f0" ]; then
	hn_fail "not every message was accepted: the delivery checks cannot run"
	tail -n 30 "$SND/maillog" "$D/dovecot/dovecot.log"
	hn_summary
	exit
fi
hn_check "A's log: alice authenticated (sasl_method=PLAIN) for each accepted message" \
	bash -c '[ "$(grep -c "sasl_method=PLAIN, sasl_username=$1" "$0")" -ge 9 ]' "$SND/maillog" "$USER_NAME"

# --- delivered: sts x2, dane, down, nopolicy
inbox() { grep -ls "^Subject: e2e $1\$" "$RCV"/mail/inbox/new/* | head -n 1; }
arrived() { [ -n "$(inbox "$1")" ]; }
two_sigs() { # FILE: dkimpy passes an rsa-sha256 (e2e-rsa) and an ed25519-sha256 (e2e-ed) one
	local out
	out=$(e2e_dkim_verify "$1" 2) || { printf '%s\n' "$out"; return 1; }
	printf '%s\n' "$out"
	grep -q "s=e2e-rsa a=rsa-sha256: pass" <<<"$out" &&
		grep -q "s=e2e-ed a=ed25519-sha256: pass" <<<"$out"
}
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
mkdir -p "$D/reports"
chown nobody:nogroup "$D/reports" # report runs as tlsrpt's user
hn_check "tlsrpt report --day $TODAY --dry-run --out: exit 0" \
	bash -c '"$0" -c "$1" report --day "$2" --dry-run --out "$3" >"$3.json" 2>"$3.err" ||
		{ cat "$3.err"; exit 1; }' "$TLSRPT" "$D/tlsrpt.conf" "$TODAY" "$D/reports"
rep() { /usr/bin/python3 "$E2E_DIR/e2e_report.py" "$D/reports" "$1.$Z" "${@:2}"; }
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
for n in milter-av milter-dkim policyd-mtasts; do
	hn_check "$n still running" hn_alive "${E2E_PID[$n]}"
done
if [ "$HN_FAILED" -ne 0 ]; then
	for f in milter-dkim milter-av policyd-mtasts tlsrpt; do echo "--- $f.log"; tail -n 30 "$D/$f.log"; done
	echo "--- A maillog"; tail -n 60 "$SND/maillog"
	echo "--- report"; cat "$D/reports.json"
fi
hn_log "total $(($(hn_ms) - T0)) ms"
hn_summary
