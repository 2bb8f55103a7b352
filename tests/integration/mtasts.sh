#!/bin/bash
# mtasts.sh: policyd-mtasts against real servers, in a private network and mount namespace
# (so nothing leaves it, and /etc/resolv.conf can name the test resolver, as Postfix and the
# DANE precondition check read it): knotd serving the signed example.test and the unsigned
# plain.test, a validating unbound on 127.0.0.1:53, nginx with a harness CA serving one
# policy host per test domain. Asked with Postfix's own client (`postmap -q ...
# socketmap:unix:...`) and a pipelining client (smask.py).
#   STS: enforce (match=, `*.d` written `.d`, servername=hostname; the postfix-tlsrpt form),
#        testing and none (NOTFOUND, recorded for tlsrpt), bad version, oversize, wrong media
#        type, redirect, expired and wrong-name certificates (NOTFOUND, each failure recorded
#        with its RFC 8460 result type), NXDOMAIN (negative cache: answered from memory),
#        an unsigned domain (insecure: STS applies), TXT id change (new policy after reload),
#        policy host down after caching (the cached policy is still served).
#   DANE: all MX hosts with usable TLSA -> dane-only, even with an STS policy; some hosts ->
#        dane; dane_mode = dane -> dane; the precondition check failing -> STS answers.
#   Parent probes and non-domain keys: NOTFOUND at once; unknown map name: PERM.
#   query, status and check subcommands; SIGTERM exits 0.
# Needs root (namespaces); exits 77 when they cannot be made, or a binary is missing.
set -u
. "$POSTWARDEN_HARNESS/lib.sh"
HN_NAME=mtasts
MT=${POSTWARDEN_BUILD:-}/policyd-mtasts/policyd-mtasts
[ -x "$MT" ] || { echo "FAIL: policyd-mtasts not built ($MT)"; exit 1; }
hn_require unshare ip postmap postconf python3 nginx openssl knotd unbound dig

if [ -z "${MTASTS_IN_NS:-}" ]; then
	if ! unshare --net --mount true 2>/dev/null; then
		echo "SKIP: cannot create a network and mount namespace here (needs root)"
		exit 77
	fi
	exec unshare --net --mount env MTASTS_IN_NS=1 bash "$0" "$@"
fi
ip link set lo up || hn_die "lo up"

. "$POSTWARDEN_HARNESS/dns.sh"
. "$POSTWARDEN_HARNESS/pki.sh"
. "$POSTWARDEN_HARNESS/notify.sh"
. "$(dirname "$0")/mtasts-lib.sh"
hn_tmpdir D mtasts
SMC=$(dirname "$0")/smask.py
Z=example.test
TLSA="3 1 1 $DNS_TLSA_HASH"

# --- DNS: each test domain has an MX with an address; the STS ones a TXT record
mkdir -p "$D/dns"
{
	for d in enforce testing none badver oversize ctype redirect expired wrongname change \
		stale dane danepart slow; do
		echo "$d.$Z. 60 IN MX 10 mx1.$d.$Z."
		echo "mx1.$d.$Z. 60 IN A 127.0.0.1"
		echo "_mta-sts.$d.$Z. 60 IN TXT \"v=STSv1; id=${d}1\""
	done
	echo "danepart.$Z. 60 IN MX 20 mx2.danepart.$Z."
	echo "mx2.danepart.$Z. 60 IN A 127.0.0.1"
	echo "_25._tcp.mx1.dane.$Z. 60 IN TLSA $TLSA"
	echo "_25._tcp.mx1.danepart.$Z. 60 IN TLSA $TLSA"
} >"$D/dns/$Z.extra"
{
	echo "sts.plain.test. 60 IN MX 10 mx1.sts.plain.test."
	echo "mx1.sts.plain.test. 60 IN A 127.0.0.1"
	echo "_mta-sts.sts.plain.test. 60 IN TXT \"v=STSv1; id=p1\""
} >"$D/dns/plain.test.extra"
DNS_UNBOUND_PORT=53 dns_up "$D/dns"
printf 'nameserver 127.0.0.1\noptions trust-ad\n' >"$D/resolv.conf"
mount --bind "$D/resolv.conf" /etc/resolv.conf || hn_die "cannot bind-mount resolv.conf"

# --- HTTPS: one server block per policy host
pki_leaf "$D/pki" good $(for d in enforce testing none badver oversize ctype redirect change \
	stale dane danepart; do echo "mta-sts.$d.$Z"; done) mta-sts.sts.plain.test
PKI_DATES="20200101000000Z 20200201000000Z" pki_leaf "$D/pki" expired "mta-sts.expired.$Z"
pki_leaf "$D/pki" other other.example.test
chmod 644 "$D"/pki/*.key
for d in enforce dane danepart stale ctype redirect expired wrongname; do
	mt_pol "mta-sts.$d.$Z" enforce "mx1.$d.$Z" "*.mx.$d.$Z"
done
mt_pol "mta-sts.change.$Z" enforce "mx1.change.$Z"
mt_pol "mta-sts.testing.$Z" testing "mx1.testing.$Z"
mt_pol "mta-sts.none.$Z" none
mt_pol mta-sts.sts.plain.test enforce mx1.sts.plain.test
mkdir -p "$D/www/mta-sts.badver.$Z/.well-known" "$D/www/mta-sts.oversize.$Z/.well-known"
printf 'version: STSv2\r\nmode: enforce\r\nmx: mx1.badver.%s\r\nmax_age: 86400\r\n' "$Z" \
	>"$D/www/mta-sts.badver.$Z/.well-known/mta-sts.txt"
{
	printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.oversize.%s\r\nmax_age: 86400\r\n' "$Z"
	head -c 70000 /dev/zero | tr '\0' 'x' | fold -w 60 | sed 's/^/x-pad: /'
} >"$D/www/mta-sts.oversize.$Z/.well-known/mta-sts.txt"
chmod -R a+rX "$D/www" "$D"
HTTPS_PORT=$(hn_free_port) || hn_die "no port"
{
	mt_srv "_" other
	mt_srv "mta-sts.expired.$Z" expired
	mt_srv "mta-sts.ctype.$Z" good 'location / { types { } default_type application/octet-stream; }'
	mt_srv "mta-sts.redirect.$Z" good "location / { return 301 https://mta-sts.enforce.$Z/.well-known/mta-sts.txt; }"
	mt_srv "$(for d in enforce testing none badver oversize change stale dane danepart; do
		printf 'mta-sts.%s.%s ' "$d" "$Z"; done)mta-sts.sts.plain.test" good 'charset utf-8; charset_types text/plain;'
} | mt_nginx_conf
nginx_up() { mt_nginx_up "mta-sts.enforce.$Z"; }
nginx_up

# --- Postfix's view: main.cf for postconf (DANE precondition) and postmap
mkdir -p "$D/postfix"
printf 'smtp_dns_support_level = dnssec\ncompatibility_level = 3.6\n' >"$D/postfix/main.cf"
touch "$D/postfix/master.cf"
chmod -R a+rX "$D/postfix"
export MAIL_CONFIG=$D/postfix

mkdir -p "$D/state" "$D/run"
chown nobody:nogroup "$D/state" "$D/run"
SOCK=$D/run/mtasts.sock
MT_SOCK=$SOCK
conf() { mt_conf "$@"; }
# start CONF: the daemon; its pid in PID
start() {
	mt_start "$1"
	local r=$?
	PID=$MT_PID
	return $r
}
stop() { hn_stop "$PID" 10; wait "$PID" 2>/dev/null; }
# q NAME KEY: postmap's answer (stdout), exit status as postmap's (0 found, 1 not found)
q() { timeout 30 postmap -q "$2" "socketmap:unix:$SOCK:$1" 2>>"$D/postmap.err"; }
# is KEY WANT: the postfix-form answer for KEY is exactly WANT ("" = NOTFOUND)
is() {
	local got rc
	got=$(q postfix "$1")
	rc=$?
	if [ -z "$2" ]; then
		# postmap also exits 1 when it cannot connect: ask again in socketmap's own words
		[ $rc = 1 ] && [ -z "$got" ] && [ "$("$SMC" "$SOCK" postfix "$1")" = "NOTFOUND " ] &&
			return 0
	else
		[ $rc = 0 ] && [ "$got" = "$2" ] && return 0
	fi
	echo "key $1: got rc=$rc '$got', want '$2'" >&2
	return 1
}
logged() { grep -qF -- "$1" "$D/mt.log"; }
day=$(date -u +%F)

conf "$D/m.conf"
hn_check "check: config, resolver, DANE preconditions, store all pass" \
	bash -c '"$0" -c "$1" check >"$2/check.out" 2>&1' "$MT" "$D/m.conf" "$D"
hn_check "  check says Postfix applies DANE" grep -q "DANE: Postfix applies it" "$D/check.out"
hn_check "  check says the resolver validates" grep -q "resolver: answers for example.test. (validated)" "$D/check.out"
hn_check "daemon starts (READY=1)" start "$D/m.conf"
hn_check "no DANE precondition error logged" bash -c '! grep -q "DANE answers are off" "$0"' "$D/mt.log"

E="secure match=mx1.enforce.$Z:.mx.enforce.$Z servername=hostname"
hn_check "enforce: secure match= with *.d written .d" is "enforce.$Z" "$E"
hn_check "enforce, upper case key: same answer" is "ENFORCE.Example.TEST" "$E"
hn_check "postfix-tlsrpt form carries policy_type=sts and the raw pattern" \
	bash -c 'a=$(timeout 30 postmap -q "$1" "socketmap:unix:$2:postfix-tlsrpt") &&
		[[ $a == "secure match="*"policy_type=sts"*"policy_domain=$1"*"mx_host_pattern=*.mx.$1"* ]]' \
	_ "enforce.$Z" "$SOCK"
hn_check "testing: NOTFOUND" is "testing.$Z" ""
hn_check "none: NOTFOUND" is "none.$Z" ""
hn_check "bad version: NOTFOUND" is "badver.$Z" ""
hn_check "oversize policy: NOTFOUND" is "oversize.$Z" ""
hn_check "wrong media type: NOTFOUND" is "ctype.$Z" ""
hn_check "redirect: NOTFOUND (not followed)" is "redirect.$Z" ""
hn_check "expired certificate: NOTFOUND" is "expired.$Z" ""
hn_check "wrong-name certificate: NOTFOUND" is "wrongname.$Z" ""
hn_check "NXDOMAIN: NOTFOUND" is "nx.$Z" ""
hn_check "unsigned domain with a policy: secure (insecure delegation, STS applies)" \
	is sts.plain.test "secure match=mx1.sts.plain.test servername=hostname"
hn_check "DANE: every MX host has usable TLSA: dane-only (STS policy not used)" is "dane.$Z" dane-only
hn_check "DANE: one of two MX hosts has TLSA: dane" is "danepart.$Z" dane
hn_check "parent probe: NOTFOUND" is ".$Z" ""
hn_check "bracketed next hop: NOTFOUND" is "[127.0.0.1]:25" ""
hn_check "unknown map name: PERM" \
	bash -c '[[ $("$0" "$1" nosuchmap "enforce.$2") == PERM* ]]' "$SMC" "$SOCK" "$Z"
hn_check "pipelined requests answered in order" \
	bash -c '[ "$("$0" "$1" postfix "enforce.$2" .test "nx.$2" "dane.$2" | tr "\n" "|")" = \
		"OK $3|NOTFOUND |NOTFOUND |OK dane-only|" ]' "$SMC" "$SOCK" "$Z" "$E"
hn_check "failure types logged: sts-webpki-invalid" logged "expired.$Z: policy fetch failed"
hn_check "  expired is webpki-invalid" grep -q "expired.$Z.*sts-webpki-invalid" "$D/mt.log"
hn_check "  wrong name is webpki-invalid" grep -q "wrongname.$Z.*sts-webpki-invalid" "$D/mt.log"
hn_check "  bad version is policy-invalid" grep -q "badver.$Z.*sts-policy-invalid" "$D/mt.log"
hn_check "  media type is policy-invalid" grep -q "ctype.$Z.*sts-policy-invalid" "$D/mt.log"
hn_check "  redirect is a failure" grep -q "redirect.$Z: policy fetch failed" "$D/mt.log"

# negative cache and warm answers: served from memory (the hit counter moves, no new fetch)
sleep 6 # a tick writes the status
before=$("$MT" -c "$D/m.conf" status | sed -n 's/.*from memory \([0-9]*\).*/\1/p')
for i in 1 2 3; do q postfix "nx.$Z" >/dev/null; q postfix "enforce.$Z" >/dev/null; done
sleep 6
after=$("$MT" -c "$D/m.conf" status | sed -n 's/.*from memory \([0-9]*\).*/\1/p')
hn_check "warm and negative answers come from memory (6 more hits: $before -> $after)" \
	test "$((after - before))" -ge 6
hn_check "status lists today's fetch failures" \
	bash -c '"$0" -c "$1" status | grep -q "expired.$2:sts-webpki-invalid 1"' "$MT" "$D/m.conf" "$Z"

# query: the answer and how it was reached
hn_check "query enforce: fetched or from the store, with the answer" \
	bash -c '"$0" -c "$1" query "enforce.$2" >"$3/q.out" 2>&1; grep -qF "OK $4" "$3/q.out" &&
		grep -q "DANE: " "$3/q.out" && grep -q "TXT id enforce1" "$3/q.out"' \
	"$MT" "$D/m.conf" "$Z" "$D" "$E"
hn_check "query dane: dane-only" \
	bash -c '"$0" -c "$1" query "dane.$2" | grep -qx "OK dane-only"' "$MT" "$D/m.conf" "$Z"
hn_check "query parent probe: no lookup" \
	bash -c '"$0" -c "$1" query ".$2" | grep -q "parent-domain probe"' "$MT" "$D/m.conf" "$Z"

# TXT id change: a new policy after a reload (the refresh runs at the next tick)
hn_check "change: old policy before the id changes" is "change.$Z" \
	"secure match=mx1.change.$Z servername=hostname"
mt_pol "mta-sts.change.$Z" enforce "mx9.change.$Z"
dns_del_record "$D/dns" "_mta-sts.change.$Z." TXT
dns_add_record "$D/dns" "_mta-sts.change.$Z. 60 TXT \"v=STSv1; id=change2\""
sleep 6 # unbound caps TTLs at 5 s
kill -HUP "$PID"
hn_check "change: the new policy after the TXT id changed" \
	hn_wait 20 is "change.$Z" "secure match=mx9.change.$Z servername=hostname"

# policy host down after caching: the cached policy is still served
S="secure match=mx1.stale.$Z:.mx.stale.$Z servername=hostname"
hn_check "stale: cached" is "stale.$Z" "$S"
hn_stop_pidfile "$D/nginx/pid.shell"
dns_del_record "$D/dns" "_mta-sts.stale.$Z." TXT
dns_add_record "$D/dns" "_mta-sts.stale.$Z. 60 TXT \"v=STSv1; id=stale2\""
sleep 6
kill -HUP "$PID"
hn_check "stale: refresh fails (server down) and is logged" \
	hn_wait 20 grep -q "stale.$Z: policy fetch failed.*(sts-policy-fetch-error)" "$D/mt.log"
hn_check "stale: the cached policy is still served" is "stale.$Z" "$S"
hn_check "SIGTERM: exits 0" bash -c 'kill -TERM "$0"; for i in $(seq 100); do
	kill -0 "$0" 2>/dev/null || exit 0; sleep 0.1; done; exit 1' "$PID"
wait "$PID"
hn_check "  exit status 0" test $? = 0

# DANE precondition failing (smtp_dns_support_level unset): DANE answers off
nginx_up
printf 'compatibility_level = 3.6\n' >"$D/postfix/main.cf"
hn_check "check fails when Postfix would not apply DANE (exit 69)" \
	bash -c '"$0" -c "$1" check >"$2/check2.out" 2>&1; [ $? = 69 ] &&
		grep -q "smtp_dns_support_level" "$2/check2.out"' "$MT" "$D/m.conf" "$D"
hn_check "daemon starts anyway" start "$D/m.conf"
hn_check "  and logs that DANE answers are off" logged "DANE answers are off"
hn_check "  dane domain now gets its STS policy (cached in the store)" is "dane.$Z" \
	"secure match=mx1.dane.$Z:.mx.dane.$Z servername=hostname"
stop
printf 'smtp_dns_support_level = dnssec\ncompatibility_level = 3.6\n' >"$D/postfix/main.cf"
conf "$D/d.conf" "dane_mode = dane"
hn_check "dane_mode = dane: daemon starts" start "$D/d.conf"
hn_check "  all hosts with TLSA: dane" is "dane.$Z" dane
stop

# a policy host that accepts and never answers: the cold lookup answers within fetch_timeout
HANG_PORT=$(hn_free_port) || hn_die "no port"
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); c = []
end = time.time() + 120
while time.time() < end:
    s.settimeout(1)
    try: c.append(s.accept()[0])
    except socket.timeout: pass' "$HANG_PORT" &
HANG_PID=$!
hn_on_exit hn_stop "$HANG_PID"
hn_wait 10 hn_port_in_use "$HANG_PORT" || hn_die "the hanging server did not start"
CONNECT_PORT=$HANG_PORT FETCH_TIMEOUT=3s conf "$D/h.conf"
hn_check "a hanging policy host: daemon starts" start "$D/h.conf"
t0=$(hn_ms)
hn_check "  NOTFOUND" is "slow.$Z" ""
t1=$(hn_ms)
hn_check "  within fetch_timeout (3 s) plus 1 s: $((t1 - t0)) ms" test $((t1 - t0)) -lt 4000
hn_check "  the fetch timed out (logged)" \
	hn_wait 10 grep -qE "slow.$Z: policy fetch failed.*(sts-policy-fetch-error).*(timed out|[Tt]imeout)" "$D/mt.log"
stop
hn_summary
