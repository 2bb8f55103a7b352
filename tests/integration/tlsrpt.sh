#!/bin/bash
# tlsrpt.sh: the tlsrpt collector and log reader against a real store (LMDB):
#  - READY=1; the socket gets listen_mode; datagrams in libtlsrpt's exact bytes (the captured
#    ones: STS failure certificate-expired, no-policy-found success) sent 300 times each by
#    a blocking sender, then SIGTERM right away: exit 0, and `status` shows every one of
#    them counted (failure 300 for d1.test with its policy type, success 300 for d2.test)
#  - a malformed datagram is counted and logged, never fatal
#  - a second collector process adds into the same store (two hosts of a fleet): counts sum;
#    and two collectors running at once on one Redis (redis-server from the harness): the
#    counts of both are in the report of the day
#  - ingest-log on the captured Postfix 3.7.11 log: the sessions of its day, per domain
#    (a verified delivery, an expired certificate, a hostname mismatch, a self-signed
#    certificate, STARTTLS not offered), on the day the log says.
set -u
. "$POSTWARDEN_HARNESS/lib.sh"
. "$POSTWARDEN_HARNESS/notify.sh"
HN_NAME=tlsrpt
T=${POSTWARDEN_BUILD:-}/tlsrpt/tlsrpt
[ -x "$T" ] || { echo "FAIL: tlsrpt not built ($T)"; exit 1; }
hn_require python3
SRC=${POSTWARDEN_SOURCE:-$(dirname "$0")/../..}
CORPUS=$SRC/tests/fuzz/corpus/tlsrpt_datagram
hn_tmpdir D tlsrpt
mkdir -p "$D/state" "$D/run"
if [ "$(id -u)" = 0 ]; then
	chown nobody:nogroup "$D/state" "$D/run"
	U=nobody G=nogroup
else
	U=$(id -un) G=$(id -gn)
fi
SOCK=$D/run/tlsrpt.sock
{
	echo "listen = unix:$SOCK"
	echo "listen_mode = 0666"
	echo "user = $U"
	echo "group = $G"
	echo "store = lmdb:$D/state"
	echo "sending_ip = 192.0.2.1"
	echo "organization_name = Test Org"
	echo "contact_info = tlsrpt@sender.test"
} >"$D/t.conf"

# start [CONF]: a collector with CONF (default t.conf); its pid in PID
start() {
	local mark
	notify_up "$D" || return 1
	mark=$(notify_mark "$D")
	NOTIFY_SOCKET=$D/notify.sock "$T" -f -c "${1:-$D/t.conf}" >>"$D/t.log" 2>&1 &
	PID=$!
	hn_on_exit hn_stop "$PID"
	notify_wait "$D" "$mark" READY=1 "$PID" 30
}
# send FILE COUNT [SOCKET]: COUNT datagrams of FILE's bytes, blocking sender
send() {
	python3 - "${3:-$SOCK}" "$1" "$2" <<'PY'
import socket, sys
path, f, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(f, "rb").read()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.settimeout(10)
for _ in range(n):
    s.sendto(data, path)
PY
}
# stop_wait [PID]: SIGTERM, then its exit status
stop_wait() {
	local p=${1:-$PID} i
	kill -TERM "$p"
	for ((i = 0; i < 200; i++)); do hn_alive "$p" || break; sleep 0.05; done
	wait "$p"
}
today=$(date -u +%F)
# row DOMAIN TYPE SUCCESS FAILURE: status (config $CONF, default t.conf) shows that row for today
row() {
	"$T" -c "${CONF:-$D/t.conf}" status >"$D/status.out" 2>&1
	grep -qE "^  $1 +$2 +success $3, failure $4\$" "$D/status.out" || { cat "$D/status.out" >&2; return 1; }
}

hn_check "collector starts (READY=1)" start
hn_check "  socket mode is listen_mode (0666)" test "$(stat -c %a "$SOCK")" = 666
hn_check "300 STS failure datagrams sent" send "$CORPUS/captured-d1-sts-failure" 300
hn_check "300 no-policy datagrams sent" send "$CORPUS/captured-d2-no-policy" 300
printf 'not json' >"$D/bad.dgram"
hn_check "a malformed datagram is taken" send "$D/bad.dgram" 1
hn_check "SIGTERM right after: exit 0" stop_wait
hn_check "  every datagram counted: d1.test sts failure 300" row d1.test sts 0 300
hn_check "  d2.test no-policy-found success 300" row d2.test no-policy-found 300 0
hn_check "  the malformed one was logged" grep -q "malformed datagram (8 bytes)" "$D/t.log"
hn_check "  and counted in the collector's record" grep -q "malformed 1)" "$D/status.out"

hn_check "a second collector (another host of the fleet) starts" start
hn_check "  100 more STS failures" send "$CORPUS/captured-d1-sts-failure" 100
hn_check "  stops with exit 0" stop_wait
hn_check "  counts add up in the store: failure 400" row d1.test sts 0 400

mkdir -p "$D/out"
chown "$U:$G" "$D/out" # the command runs as the service user
hn_check "report --dry-run --out: today's reports built" \
	bash -c '"$0" -c "$1" report --day "$2" --dry-run --out "$3/out" >"$3/report.out" 2>&1' \
	"$T" "$D/t.conf" "$today" "$D"
hn_check "  d1.test: RFC 8460 members, 400 failures, file name and gzip" \
	python3 "$(dirname "$0")/tlsrpt_report_check.py" "$D/out" "$SRC/tests/data/tlsrpt-reporter-report-d1.json" d1.test 400 0
hn_check "  d2.test: 300 successes" \
	python3 "$(dirname "$0")/tlsrpt_report_check.py" "$D/out" "$SRC/tests/data/tlsrpt-reporter-report-d1.json" d2.test 0 300
hn_check "  d1.test's detail: certificate-expired, as the datagram said" \
	grep -q '"result-type": "certificate-expired"' "$D/report.out"
hn_check "  printed as JSON with the organization name" grep -q '"organization-name": "Test Org"' "$D/report.out"
hn_check "report without --dry-run for today is refused (the day is not over): exit 75" \
	bash -c '"$0" -c "$1" report --day "$2" >/dev/null 2>&1; [ $? = 75 ]' "$T" "$D/t.conf" "$today"

LOG=$SRC/tests/data/postfix-3.7.11-tls-maillog.txt
cp "$LOG" "$D/maillog"
touch -d "2026-11-24 12:00:00 UTC" "$D/maillog" # syslog dates take their year from here
hn_check "ingest-log on the captured Postfix 3.7.11 log" \
	bash -c '"$0" -c "$1" ingest-log "$2" >"$3/ingest.out" 2>&1' "$T" "$D/t.conf" "$D/maillog" "$D"
hn_check "  summary line counts sessions" grep -qE "TLS sessions counted" "$D/ingest.out"
"$T" -c "$D/t.conf" status 2026-11-24 >"$D/day.out" 2>&1
hn_check "  d1.test: a verified session (success)" grep -qE "^  d1.test +no-policy-found +success [1-9]" "$D/day.out"
hn_check "  d3.test: the expired certificate (failure)" grep -qE "^  d3.test +no-policy-found +success 0, failure [1-9]" "$D/day.out"
hn_check "  d4.test: the hostname mismatch (failure)" grep -qE "^  d4.test +no-policy-found +success 0, failure [1-9]" "$D/day.out"
hn_check "  d2.test: STARTTLS not offered (failure)" grep -qE "^  d2.test +no-policy-found +success 0, failure [1-9]" "$D/day.out"
hn_check "ingest-log of a missing file: exit 66" \
	bash -c '"$0" -c "$1" ingest-log /nonexistent/log >/dev/null 2>&1; [ $? = 66 ]' "$T" "$D/t.conf"

# two collectors at once on one Redis (two hosts of a fleet)
. "$POSTWARDEN_HARNESS/redis.sh"
redis_up "$D/redis"
for i in 1 2; do
	sed -e "s|^store = .*|store = redis+unix://$D/redis/redis.sock?db=0|" \
		-e "s|^listen = .*|listen = unix:$D/run/r$i.sock|" "$D/t.conf" >"$D/r$i.conf"
done
hn_check "collector 1 on Redis starts" start "$D/r1.conf"
P1=$PID
hn_check "collector 2 on Redis starts" start "$D/r2.conf"
P2=$PID
hn_check "  150 STS failures to collector 1" send "$CORPUS/captured-d1-sts-failure" 150 "$D/run/r1.sock"
hn_check "  250 STS failures to collector 2" send "$CORPUS/captured-d1-sts-failure" 250 "$D/run/r2.sock"
hn_check "  50 successes to collector 2" send "$CORPUS/captured-d2-no-policy" 50 "$D/run/r2.sock"
hn_check "  both stop on SIGTERM" bash -c 'kill -TERM "$0" "$1"; wait "$0" 2>/dev/null; wait "$1" 2>/dev/null;
	for i in $(seq 200); do kill -0 "$0" 2>/dev/null || kill -0 "$1" 2>/dev/null || exit 0; sleep 0.05; done; exit 1' "$P1" "$P2"
hn_check "  Redis holds the sum: d1.test failure 400" env CONF="$D/r1.conf" bash -c "$(declare -f row); T='$T' D='$D' row d1.test sts 0 400"
hn_check "  d2.test success 50" env CONF="$D/r1.conf" bash -c "$(declare -f row); T='$T' D='$D' row d2.test no-policy-found 50 0"
hn_check "  one report with the summed counts" bash -c '"$0" -c "$1" report --day "$2" --domain d1.test --dry-run 2>/dev/null |
	grep -q "\"total-failure-session-count\": 400"' "$T" "$D/r1.conf" "$today"
cat "$D/ingest.out" "$D/day.out" >&2
hn_summary
