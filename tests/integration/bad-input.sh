#!/bin/bash
# bad-input.sh: hostile input to each of the four daemons, each case its own check; after
# each one the daemon is still the same process, it wrote the line doc/operations.md ("Bad
# input") names, and a good request still gets its normal answer.
#  - milter-dkim and milter-av (badclient.py milter): random bytes, a packet length of 2^31,
#    a truncated first packet then close ("a connection ended before the milter
#    negotiation"); a header packet over the 1 MiB limit, an unknown command letter and a
#    header without NULs in a message, a close mid-body ("<qid>: the connection ended in
#    the message's header|body"); a body before connect/helo and EOM without MAIL (ignored
#    by libmilter: no reply, nothing logged, the session stays open); 100000 headers and a
#    header of almost 1 MiB (handled as a message: signed / scanned). After each, a good
#    message through miltertest: signed by both selectors / scanned by clamd.
#  - policyd-mtasts socketmap (badclient.py sockmap): a length over 10000, a 20-digit
#    length (PERM request too long), a non-digit length, no comma (PERM not a netstring),
#    a truncated request then close (closed), binary bytes in the map name, a NUL in the
#    key (PERM malformed request), a 10 KB key (NOTFOUND: not a domain), an unknown map
#    name (PERM); the netstring and request errors logged; a good query after each.
#  - hostile policy files from the harness nginx (mtasts-lib.sh): 1 MB, binary, 64 KB of
#    bad lines (the error text bounded), no version line, max_age of 10 digits (clamped:
#    accepted), 20 digits, negative, non-numeric, 10000 mx lines, 1000 mx lines in 64 KB,
#    a redirect, a wrong Content-Type, a body slower than fetch_timeout: NOTFOUND and
#    "policy fetch failed: ... (RFC 8460 result type): URL: why" logged, and the failure
#    recorded for the day's TLS-RPT report (`policyd-mtasts status` lists it).
#  - tlsrpt datagrams (badclient.py dgram): truncated JSON, non-UTF-8, the wrong JSON shape,
#    an empty one (malformed), one over 65536 bytes (dropped), each followed by a good one,
#    and a good one of exactly 65536 bytes; the good ones counted in `status`, the bad ones
#    counted there, the first malformed one and the long one logged (once a minute).
# DNS (knot + unbound), clamd, nginx from tests/harness; LMDB stores; unix sockets only.
# Each daemon must exit 0 on SIGTERM at the end. Needs root (the daemons drop to nobody).
set -u
. "$(dirname "$0")/dkim-lib.sh"
dk_init bad-input
SOCK_DKIM=$SOCK
. "$HN_HARNESS/clamd.sh"
. "$HN_HARNESS/pki.sh"
. "$(dirname "$0")/av-lib.sh"
. "$(dirname "$0")/mtasts-lib.sh"
[ $# -ge 1 ] && AV_BIN=$1
MT=${POSTWARDEN_BUILD:-}/policyd-mtasts/policyd-mtasts
T=${POSTWARDEN_BUILD:-}/tlsrpt/tlsrpt
for b in "$(av_bin)" "$MT" "$T"; do [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }; done
hn_require clamd sigtool nginx openssl curl python3 postconf
av_preflight "privilege drop to nobody"
SRC=${POSTWARDEN_SOURCE:-$(dirname "$0")/../..}
BC="timeout 30 python3 $(cd "$(dirname "$0")" && pwd)/badclient.py"
Z=example.test
T0=$(hn_ms)

# --- DNS: milter-dkim's selectors, and one MTA-STS test domain per hostile policy
POLS="good big binary lines nover agebig agelong ageneg agenan mx10k mx1k redirect slow ctype"
mkdir -p "$D/dns"
for d in $POLS; do
	echo "$d.$Z. 60 IN MX 10 mx1.$d.$Z."
	echo "mx1.$d.$Z. 60 IN A 127.0.0.1"
	echo "_mta-sts.$d.$Z. 60 IN TXT \"v=STSv1; id=${d}1\""
done >"$D/dns/$Z.extra"
dk_dns

# --- the four daemons
clamd_up "$D/clamd" || hn_die "clamd did not start"
av_msgs "$D/msgs" "$D/clamd/eicar.com"
av_up "$D/av" "clamd=unix:$D/clamd/clamd.sock" || hn_die "milter-av did not start"
AV_PID=$(av_pid "$D/av")

dk_conf "$D/dkim.conf" <<EOF
sign_networks = 127.0.0.0/8
[example.test]
selectors = m1 m2
[example.test/m2]
algorithm = ed25519-sha256
EOF
"$DKIM" -c "$D/dkim.conf" keygen >/dev/null || hn_die "keygen"
dk_publish "$D/dkim.conf" || hn_die "selectors not published"
dk_start "$D/dkim.conf" || hn_die "milter-dkim did not start"

mkdir -p "$D/tlsrpt/state" "$D/tlsrpt/run"
chown nobody:nogroup "$D/tlsrpt/state" "$D/tlsrpt/run"
TSOCK=$D/tlsrpt/run/tlsrpt.sock
cat >"$D/tlsrpt/t.conf" <<EOF
listen = unix:$TSOCK
listen_mode = 0666
user = nobody
group = nogroup
store = lmdb:$D/tlsrpt/state
sending_ip = 192.0.2.1
organization_name = Test Org
contact_info = tlsrpt@sender.test
EOF
TLOG=$D/tlsrpt/t.log
notify_start "$D/tlsrpt" "$TLOG" "$T" -f -c "$D/tlsrpt/t.conf" || hn_die "tlsrpt did not start"
T_PID=$PID

# policy hosts: a good one and the hostile ones (written below), the fetch timeout 3 s
pki_leaf "$D/pki" good $(for d in $POLS; do echo "mta-sts.$d.$Z"; done)
chmod 644 "$D"/pki/*.key
www() { mkdir -p "$D/www/mta-sts.$1.$Z/.well-known" && cat >"$D/www/mta-sts.$1.$Z/.well-known/mta-sts.txt"; }
mt_pol "mta-sts.good.$Z" enforce "mx1.good.$Z"
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.big.%s\r\nmax_age: 86400\r\n%s' "$Z" \
	"$(head -c 1000000 /dev/zero | tr '\0' x | fold -w 70 | sed 's/^/x-pad: /')" | www big
{ head -c 1500 /dev/urandom; printf '\0'; head -c 1500 /dev/urandom; } | www binary
yes x | head -n 32767 | www lines
printf 'mode: enforce\r\nmx: mx1.nover.%s\r\nmax_age: 86400\r\n' "$Z" | www nover
for a in agebig:9999999999 agelong:99999999999999999999 ageneg:-86400 agenan:forever; do
	printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.%s.%s\r\nmax_age: %s\r\n' \
		"${a%%:*}" "$Z" "${a#*:}" | www "${a%%:*}"
done
mxlines() { # DOMAIN COUNT
	printf 'version: STSv1\r\nmode: enforce\r\nmax_age: 86400\r\n'
	for ((i = 0; i < $2; i++)); do printf 'mx: mx%d.%s.%s\r\n' "$i" "$1" "$Z"; done
}
mxlines mx10k 10000 | www mx10k
mxlines mx1k 1000 | www mx1k
# slow: the headers and the first 1 KB at once, the rest (2 KB of extension lines) at 100 B/s
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.slow.%s\r\nmax_age: 86400\r\n%s' "$Z" \
	"$(head -c 3000 /dev/zero | tr '\0' s | fold -w 60 | sed 's/^/x-slow: /')" | www slow
mt_pol "mta-sts.ctype.$Z" enforce "mx1.ctype.$Z"
chmod -R a+rX "$D/www" "$D"
HTTPS_PORT=$(hn_free_port) || hn_die "no port"
{
	mt_srv "mta-sts.slow.$Z" good 'location / { limit_rate_after 1k; limit_rate 100; }'
	mt_srv "mta-sts.ctype.$Z" good 'location / { types { } default_type text/html; }'
	mt_srv "mta-sts.redirect.$Z" good "location / { return 301 https://mta-sts.good.$Z/.well-known/mta-sts.txt; }"
	mt_srv "$(for d in good big binary lines nover agebig agelong ageneg agenan mx10k mx1k; do
		printf 'mta-sts.%s.%s ' "$d" "$Z"; done)" good
} | mt_nginx_conf
mt_nginx_up "mta-sts.good.$Z"
mkdir -p "$D/postfix" "$D/state" "$D/run"
printf 'smtp_dns_support_level = dnssec\ncompatibility_level = 3.6\n' >"$D/postfix/main.cf"
touch "$D/postfix/master.cf"
chmod -R a+rX "$D/postfix"
chown nobody:nogroup "$D/state" "$D/run"
export MAIL_CONFIG=$D/postfix
MT_SOCK=$D/run/mtasts.sock
MT_LOG=$D/mtasts.log
FETCH_TIMEOUT=3s mt_conf "$D/mtasts.conf" "resolver = $DNS_FORWARDER"
mt_start "$D/mtasts.conf" || hn_die "policyd-mtasts did not start"
hn_log "four daemons up after $(($(hn_ms) - T0)) ms"

# since NAME FILE: the lines of FILE written after the mark NAME was set (mark NAME FILE)
declare -A MARKS
mark() { MARKS[$1]=$(wc -l <"$2"); }
since() { tail -n +"$((${MARKS[$1]} + 1))" "$2"; }
# logged NAME FILE ERE: a line written since mark NAME matches ERE (waits up to 5 s)
logged() { hn_wait 5 bash -c 'tail -n +"$(($1 + 1))" "$2" | grep -aEq -- "$3"' _ "${MARKS[$1]}" "$2" "$3"; }

# --- tlsrpt datagrams first: the status record is written every 5 s, read at the end
# dg_case CASE WHAT N: a bad datagram, tlsrpt still up, then a good one for domain gN.test
GOODDG=$SRC/tests/fuzz/corpus/tlsrpt_datagram/captured-d1-sts-failure
dg_case() {
	$BC dgram "$TSOCK" "$1" >>"$D/dg.out" 2>&1
	hn_check "tlsrpt, $2: sent" test $? = 0
	hn_check "  still pid $T_PID" hn_alive "$T_PID"
	hn_check "  a good datagram after it is taken" $BC dgram "$TSOCK" good "$GOODDG" "g$3.test"
}
mark tlsrpt "$TLOG"
dg_case truncated "truncated JSON" 1
dg_case non-utf8 "non-UTF-8 bytes in a string" 2
dg_case wrong-shape "JSON of the wrong shape (an array)" 3
dg_case empty "an empty datagram" 4
dg_case over-limit "65537 bytes (over the 65536-byte limit)" 5
hn_check "tlsrpt, a good datagram of exactly 65536 bytes: sent" \
	$BC dgram "$TSOCK" good "$GOODDG" g6.test 65536
hn_check "  still pid $T_PID" hn_alive "$T_PID"

# --- milters
# good_dkim N / good_av: a good message still gets its normal result
good_dkim() {
	dk_mt "$DK_SRC/dkim/session.lua" HOST=localhost IP=127.0.0.1 QID="GOOD$1" \
		FROM=alice@example.test EXPECT=dual &&
		hn_wait 5 grep -q "GOOD$1: signed d=example.test s=m1 (rsa-sha256), m2 (ed25519-sha256)" "$D/dkim.log"
}
good_av() {
	timeout 40 miltertest -D SOCK="$(av_sock "$D/av")" -D MSG="$D/msgs/clean.eml" -D EXPECT=accept \
		-D HDR=X-Virus-Scanned -s "$(dirname "$0")/av/msg.lua" >>"$D/av-mt.log" 2>&1
}
# milter_case MILTER CASE WHAT ERE: one hostile session; the daemon is the same process, its
# log has a line matching ERE since (an ERE starting with "!": the session stayed open and
# nothing was logged), and a good message still gets its normal result
PRENEG='a connection ended before the milter negotiation \(not a milter client, or a malformed, oversized or truncated first packet\)'
CUT="BADQ: the connection ended in the message's"
n=0
milter_case() {
	local m=$1 c=$2 what=$3 ere=$4 sock pid log
	case $m in
	milter-dkim) sock=$SOCK_DKIM pid=$DK_PID log=$D/dkim.log ;;
	milter-av) sock=$D/av/run/av.sock pid=$AV_PID log=$D/av/av.log ;;
	esac
	n=$((n + 1))
	mark "$m$c" "$log"
	$BC milter "$sock" "$c" >"$D/bc.$m.$c" 2>&1
	hn_check "$m, $what: sent" test $? = 0
	hn_check "  still pid $pid" hn_alive "$pid"
	if [ "${ere:0:1}" = "!" ]; then
		hn_check "  ignored by libmilter: no reply, the session stays open" \
			grep -qx open "$D/bc.$m.$c"
		hn_check "  nothing logged" bash -c '[ -z "$(tail -n +"$(($1 + 1))" "$2")" ]' _ \
			"${MARKS[$m$c]}" "$log"
	else
		hn_check "  logged: $ere" logged "$m$c" "$log" "$ere"
	fi
	if [ $m = milter-dkim ]; then
		hn_check "  a good message is still signed" good_dkim "$n"
	else
		hn_check "  a good message is still scanned" good_av
	fi
}
for m in milter-dkim milter-av; do
	[ $m = milter-dkim ] && done_msg="BADQ: signed d=example.test s=m1" || done_msg="BADQ: clean backend="
	milter_case $m random "4 KB of random bytes" "$PRENEG"
	milter_case $m len2g "a packet length of 2^31" "$PRENEG"
	milter_case $m truncated "a truncated first packet, then close" "$PRENEG"
	milter_case $m overlimit "a header packet over the 1 MiB limit" "$CUT header"
	milter_case $m unknown "an unknown command letter in a message" "$CUT header"
	milter_case $m header-nonul "a header without NULs" "$CUT header"
	milter_case $m close-mid-body "the connection closed mid-body" "$CUT body"
	milter_case $m body-first "a body before connect and helo" "!"
	milter_case $m eom-no-mail "end of message without MAIL" "!"
	milter_case $m headers-many "100000 headers: handled as a message" "$done_msg"
	milter_case $m header-huge "a header of almost 1 MiB: handled as a message" "$done_msg"
done
hn_log "milters done after $(($(hn_ms) - T0)) ms"

# --- policyd-mtasts: the socketmap
SMC="python3 $(dirname "$0")/smask.py"
GOODANS="OK secure match=mx1.good.$Z servername=hostname"
good_q() { [ "$($SMC "$MT_SOCK" postfix "good.$Z")" = "$GOODANS" ]; }
hn_check "policyd-mtasts: the good domain answers secure" good_q
# sm_case CASE WHAT REPLY [ERE]: the reply (or "closed") is REPLY; ERE logged; good query after
sm_case() {
	mark "sm$1" "$MT_LOG"
	local got
	got=$($BC sockmap "$MT_SOCK" "$1" 2>&1)
	hn_check "socketmap, $2: $3" test "$got" = "$3"
	hn_check "  still pid $MT_PID" hn_alive "$MT_PID"
	[ -z "${4:-}" ] || hn_check "  logged: $4" logged "sm$1" "$MT_LOG" "$4"
	hn_check "  a good query still answered" good_q
}
sm_case oversize "a length over 10000" "PERM request too long" \
	"bad request: netstring longer than allowed"
sm_case digits20 "a length of 20 digits" "PERM request too long" \
	"bad request: netstring longer than allowed"
sm_case nondigit "a non-digit in the length" "PERM not a netstring" \
	"bad request: netstring format error"
sm_case nocomma "no comma after the payload" "PERM not a netstring" \
	"bad request: netstring format error"
sm_case truncated "a truncated request, then close" "closed" "connection ended: Protocol error"
sm_case binary "binary bytes in the map name" "PERM malformed request" \
	'bad request: not "<name> <key>"'
sm_case nul "a NUL in the key" "PERM malformed request" 'bad request: not "<name> <key>"'
sm_case domain10k "a 10 KB domain (no domain name: no lookup)" "NOTFOUND "
sm_case unknown-map "an unknown map name" "PERM unknown map name (use postfix or postfix-tlsrpt)"

# --- policyd-mtasts: hostile policy files
# pol_case DOMAIN WHAT WANT ERE: the answer for DOMAIN is WANT, ERE logged, good query after
pol_case() {
	mark "pol$1" "$MT_LOG"
	local got t0=$(hn_ms)
	got=$($SMC "$MT_SOCK" postfix "$1.$Z" 2>&1)
	hn_check "policy file, $2: '$3' ($(($(hn_ms) - t0)) ms)" test "$got" = "$3"
	hn_check "  still pid $MT_PID" hn_alive "$MT_PID"
	[ -z "${4:-}" ] || hn_check "  logged: $4" logged "pol$1" "$MT_LOG" "$4"
	hn_check "  a good query still answered" good_q
}
FAILED="policy fetch failed: TXT id [a-z0-9]+; fetch failed"
INVALID="$FAILED \(sts-policy-invalid\): https://mta-sts"
pol_case big "1 MB" "NOTFOUND " "big.$Z: $INVALID.big.$Z/.well-known/mta-sts.txt: Maximum file size exceeded$"
pol_case binary "3 KB of random bytes" "NOTFOUND " "binary.$Z: $INVALID.*: invalid policy: policy: contains a NUL byte$"
pol_case lines "64 KB of lines that are not key: value" "NOTFOUND " \
	"lines.$Z: $INVALID.*: invalid policy: policy line 1: not \"key: value\".*policy line 8: .*policy: 32759 more lines with errors\\\\x0apolicy: no version line"
pol_case nover "no version line" "NOTFOUND " "nover.$Z: $INVALID.*: invalid policy: policy: no version line$"
pol_case agebig "max_age of 10 digits (clamped to a year)" "OK secure match=mx1.agebig.$Z servername=hostname"
pol_case agelong "max_age of 20 digits" "NOTFOUND " "agelong.$Z: $INVALID.*: invalid policy: policy line 4: max_age \"99999999999999999999\" is not 1 to 10 digits$"
pol_case ageneg "a negative max_age" "NOTFOUND " "ageneg.$Z: $INVALID.*: max_age \"-86400\" is not 1 to 10 digits$"
pol_case agenan "a non-numeric max_age" "NOTFOUND " "agenan.$Z: $INVALID.*: max_age \"forever\" is not 1 to 10 digits$"
pol_case mx10k "10000 mx lines (over 64 KB)" "NOTFOUND " "mx10k.$Z: $INVALID.*: Maximum file size exceeded$"
pol_case mx1k "1000 mx lines (in 64 KB)" "NOTFOUND " "mx1k.$Z: $INVALID.*: invalid policy: policy line 68: more than 64 mx lines$"
pol_case redirect "a redirect (RFC 8461 3.3: not followed)" "NOTFOUND " "redirect.$Z: $INVALID.*: HTTP status 301$"
pol_case ctype "Content-Type text/html" "NOTFOUND " "ctype.$Z: $INVALID.*: media type 'text/html', not text/plain$"
t0=$(hn_ms)
pol_case slow "a body slower than fetch_timeout (3 s)" "NOTFOUND " \
	"slow.$Z: $FAILED \(sts-policy-fetch-error\): https://mta-sts.slow.$Z/.*: Operation timed out after [0-9]+ milliseconds with [1-9][0-9]* (out of [0-9]+ )?bytes received"
hn_check "  answered within fetch_timeout + 1 s" test $(($(hn_ms) - t0)) -lt 4000
# each failure is recorded for the day's TLS-RPT report (the store: `status` lists it)
timeout 10 "$MT" -c "$D/mtasts.conf" status >"$D/mtstatus" 2>&1
for f in big:invalid binary:invalid lines:invalid nover:invalid agelong:invalid \
	ageneg:invalid agenan:invalid mx10k:invalid mx1k:invalid redirect:invalid ctype:invalid \
	slow:fetch-error; do
	hn_check "  failure recorded for the report: ${f%%:*}.$Z sts-policy-${f#*:}" \
		grep -qxE "  ([0-9-]+:)?${f%%:*}\.$Z:sts-policy-${f#*:} 1" "$D/mtstatus"
done
hn_check "  none for the good domain and the clamped max_age" \
	bash -c '! grep -Eq "(good|agebig)\.$1:" "$2"' _ "$Z" "$D/mtstatus"
hn_log "policyd-mtasts done after $(($(hn_ms) - T0)) ms"

# --- tlsrpt: what the status record says (written every 5 s)
trow() { grep -qE "^  $1 +sts +success 0, failure 1\$" "$D/tstatus"; }
tstat() {
	timeout 10 "$T" -c "$D/tlsrpt/t.conf" status >"$D/tstatus" 2>&1 &&
		grep -qE "datagrams [0-9]+ \(queue full 0, too long 1, malformed 4\)" "$D/tstatus" &&
		trow g6.test
}
hn_check "tlsrpt status: 1 too long, 4 malformed, the good ones counted" hn_wait 15 tstat
for i in 1 2 3 4 5 6; do hn_check "  good datagram $i counted (g$i.test)" trow "g$i.test"; done
hn_check "  the first malformed one logged with its reason" logged tlsrpt "$TLOG" \
	'malformed datagram \(67 bytes\): tlsrpt datagram: .* at byte [0-9]+ \(1 so far\)'
hn_check "  and only the first (once a minute)" \
	test "$(since tlsrpt "$TLOG" | grep -c 'malformed datagram')" = 1
hn_check "  the long one logged" logged tlsrpt "$TLOG" 'a datagram longer than 65536 bytes was dropped'
hn_check "tlsrpt still pid $T_PID" hn_alive "$T_PID"

for p in "$DK_PID" "$AV_PID" "$MT_PID" "$T_PID"; do
	hn_check "pid $p exits 0 on SIGTERM" hn_term_wait "$p"
done
hn_log "done after $(($(hn_ms) - T0)) ms"
if [ "$HN_FAILED" -ne 0 ]; then
	for f in "$D/dkim.log" "$D/av/av.log" "$MT_LOG" "$TLOG" "$D/tstatus"; do
		echo "--- $f"; tail -n 30 "$f" | cut -c1-400
	done
fi
hn_summary
