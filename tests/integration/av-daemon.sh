#!/bin/bash
# av-daemon.sh [MILTER_AV]: milter-av as a daemon, driven by miltertest (av/msg.lua):
# `status` probes the daemon (running: its pid, from SO_PEERCRED or, over TCP, from the
# record in the store, exit 0; stopped: NOT REACHABLE, exit 1, the store view still
# printed); counters in the store (lmdb) read back by `status` (scanned, clean,
# infected, by virus name, backend health); with a Redis store that is then killed,
# mail is still scanned at normal speed (the store is off the message path) and the
# store problem is logged once, not every flush; SIGUSR1 switches on_virus; SIGTERM
# with a message in flight lets it finish (accepted, header added), then exits 0.
set -u
HN_NAME=av-daemon
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/clamd.sh"
. "$HN_HARNESS/redis.sh"
. "$(dirname "$0")/av-lib.sh"
[ $# -ge 1 ] && AV_BIN=$1
hn_require miltertest clamd sigtool socat xxd python3 redis-server redis-cli
av_preflight "privilege drop to nobody"
LUA=$(cd "$(dirname "$0")" && pwd)/av/msg.lua

hn_tmpdir D avd
clamd_up "$D/clamd" || hn_die "clamd did not start"
av_msgs "$D/msgs" "$D/clamd/eicar.com"
CL="clamd=unix:$D/clamd/clamd.sock"

# mt DIR MSG EXPECT [VAR=VALUE...]: one miltertest session against DIR's milter-av
mt() {
	local d=$1 msg=$2 expect=$3 kv args=()
	shift 3
	for kv in "$@"; do args+=(-D "$kv"); done
	echo "== $msg $expect $*" >>"$D/mt.log"
	timeout 40 miltertest -D SOCK="$(av_sock "$d")" -D MSG="$D/msgs/$msg" \
		-D EXPECT="$expect" "${args[@]}" -s "$LUA" >>"$D/mt.log" 2>&1
}
status() { "$(av_bin)" -c "$1/av.conf" status 2>&1; }
# counter DIR NAME VALUE: `status` shows counter NAME = VALUE
counter() { status "$1" | grep -Eq "^ +$2 +$3\$"; }

# --- lmdb store: counters through `milter-av status`
av_up "$D/l" "$CL" || hn_die "milter-av (lmdb) did not start"
status "$D/l" >"$D/status.up"
hn_check "status with the daemon up: exit 0" test $? -eq 0
hn_check "  first line: daemon running, its pid, start time (ISO 8601 UTC)" grep -Eqx \
	"daemon: running \(pid $(av_pid "$D/l"), since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\)" \
	<(head -n 1 "$D/status.up")
mt "$D/l" clean.eml accept HDR=X-Virus-Scanned
mt "$D/l" clean.eml accept HDR=X-Virus-Scanned
mt "$D/l" plain.eml reject
mt "$D/l" b64.eml reject
hn_check "lmdb: status shows scanned = 4" hn_wait 15 counter "$D/l" scanned 4
status "$D/l" >"$D/status.out"
hn_check "lmdb: clean = 2" grep -Eq '^ +clean +2$' "$D/status.out"
hn_check "lmdb: infected = 2" grep -Eq '^ +infected +2$' "$D/status.out"
hn_check "lmdb: by virus name" grep -Eq '^ +PW-Test\.EICAR-(NDB|HDB)\.UNOFFICIAL +[12]$' "$D/status.out"
hn_check "lmdb: backend health reported" grep -q 'clamd.sock *{"up":true' "$D/status.out"
hn_check "lmdb: status checks the backend now" grep -q 'clamd.sock *ClamAV 1\.4' "$D/status.out"

# --- SIGUSR1 switches on_virus
av_reconf "$D/l" "$CL" on_virus=tag || hn_fail "reload"
hn_check "SIGUSR1: on_virus = tag now (accepted with X-Virus)" mt "$D/l" plain.eml accept HDR=X-Virus
av_reconf "$D/l" "$CL" on_virus=reject || hn_fail "reload"
hn_check "SIGUSR1: on_virus = reject again" mt "$D/l" plain.eml reject

# --- SIGTERM with a message in flight: the scan (3 s on a slow fake clamd) is under
# way in the end-of-message callback when SIGTERM arrives; it must finish.
av_fake_clamd "$D/slow.sock" slow || hn_die "fake clamd (slow)"
av_reconf "$D/l" "clamd=unix:$D/slow.sock" fildes=no || hn_fail "reload"
( mt "$D/l" clean.eml accept HDR=X-Virus-Scanned; echo $? >"$D/inflight.rc" ) &
MT=$!
hn_wait 5 bash -c 'ss -xH state connected | grep -qF "$1"' _ "$D/slow.sock"
sleep 0.5
PID=$(av_pid "$D/l")
inflight=no
[ -e "$D/inflight.rc" ] || inflight=yes
kill -TERM "$PID"
hn_check "SIGTERM sent while the scan was under way" test $inflight = yes
wait "$MT"
hn_check "SIGTERM: in-flight message finished (accepted, header added)" \
	test "$(cat "$D/inflight.rc")" = 0
hn_wait 15 bash -c '! grep -q . /proc/$1/stat 2>/dev/null || grep -q ") Z " /proc/$1/stat' _ "$PID"
wait "$PID" 2>/dev/null
hn_check "SIGTERM: exit status 0" test $? -eq 0
hn_check "SIGTERM: stop logged, no session left open" bash -c \
	'grep -q "milter-av stopped" "$1" && ! grep -q "sessions still open" "$1"' _ "$D/l/av.log"
rm -f "$D/l/av.pid"
status "$D/l" >"$D/status.dead"
hn_check "status with the daemon stopped: exit 1" test $? -eq 1
hn_check "  daemon: NOT REACHABLE at the socket path" \
	grep -q "^daemon: NOT REACHABLE at $D/l/run/av.sock" "$D/status.dead"
hn_check "  the store view follows" grep -Eq '^ +scanned +[0-9]+$' "$D/status.dead"

# --- redis store that goes away: mail unaffected, one log line
redis_up "$D/redis" || hn_die "redis did not start"
chmod 755 "$D/redis"
av_up "$D/r" "$CL" "store=redis+unix://$D/redis/redis.sock" || hn_die "milter-av (redis)"
mt "$D/r" plain.eml reject
hn_check "redis: the daemon's pid recorded for status" hn_wait 5 bash -c \
	'redis-cli -s "$1" get "pw:daemon:milter-av:$(hostname):unix:$2/run/av.sock:0666" |
		grep -q "\"pid\":$3,"' _ "$D/redis/redis.sock" "$D/r" "$(av_pid "$D/r")"
hn_check "redis: counters reach redis" hn_wait 15 bash -c \
	'[ "$(redis-cli -s "$1" hget pw:av:count infected)" = 1 ]' _ "$D/redis/redis.sock"
redis_down "$D/redis"
t0=$(hn_ms)
ok=1
for i in 1 2 3; do
	mt "$D/r" clean.eml accept HDR=X-Virus-Scanned || ok=0
	mt "$D/r" plain.eml reject || ok=0
done
t1=$(hn_ms)
hn_check "redis down: 6 messages still scanned (3 clean accepted, 3 EICAR rejected)" test $ok = 1
hn_check "redis down: no slowdown ($((t1 - t0)) ms for 6 messages)" test $((t1 - t0)) -lt 5000
sleep 11 # two more flush rounds (every 5 s) against the dead store
grep 'store' "$D/r/av.log" >&2
n=$(grep -c 'store' "$D/r/av.log")
hn_check "redis down: store problem logged ($n line(s), at most 1 per minute)" test "$n" -eq 1
hn_check "redis down: daemon alive" hn_alive "$(av_pid "$D/r")"

# --- TCP listen: no SO_PEERCRED, so status names the pid the daemon recorded in the store
mkdir -p "$D/t/state"
chown nobody:nogroup "$D/t/state"
TPORT=$(hn_free_port)
printf 'listen = inet:127.0.0.1:%s\nuser = nobody\ngroup = nogroup\nstore = lmdb:%s\nclamd = %s\n' \
	"$TPORT" "$D/t/state" "${CL#clamd=}" >"$D/t/av.conf"
"$(av_bin)" -f -c "$D/t/av.conf" >>"$D/t/av.log" 2>&1 &
echo $! >"$D/t/av.pid"
hn_on_exit av_down "$D/t"
hn_check "TCP: daemon started" hn_wait 10 grep -q 'milter-av .* started' "$D/t/av.log"
hn_check "TCP: status names the pid the daemon recorded" hn_wait 5 bash -c \
	'"$1" -c "$2" status 2>&1 | grep -Eq "^daemon: running \(pid $3, since [0-9-]+T[0-9:]+Z\)$"' \
	_ "$(av_bin)" "$D/t/av.conf" "$(av_pid "$D/t")"
av_down "$D/t"
status "$D/t" >"$D/status.tcp"
hn_check "TCP: stopped: exit 1" test $? -eq 1
hn_check "  daemon: NOT REACHABLE at inet:127.0.0.1:$TPORT" \
	grep -q "^daemon: NOT REACHABLE at inet:127.0.0.1:$TPORT " "$D/status.tcp"

if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- mt.log"; cat "$D/mt.log"; echo "--- status.out"; cat "$D/status.out"
	echo "--- status.up"; cat "$D/status.up"; echo "--- status.dead"; cat "$D/status.dead"
	echo "--- lmdb av.log"; tail -n 30 "$D/l/av.log"; echo "--- redis av.log"; tail -n 30 "$D/r/av.log"
fi
hn_summary
