#!/bin/bash
# av-check.sh [MILTER_AV]: `milter-av check` and the backends at start, run as root with
# user = nobody, against a fake clamd (answers zVERSION) and the harness redis:
#   - check: 0 with a backend that answers and a reachable store (lmdb, redis); 69 with
#     each unreachable backend on its own line with its reason (connection refused, name
#     not found), 69 for an unreachable redis store; 78 for a config problem; it never
#     creates anything: no socket, no store directory (listings compared)
#   - at start, a second backend that does not answer is logged as "failover only; mail
#     is scanned by <first>" with its reason, and `status` shows that reason in the
#     backend health the daemon reports
set -u
HN_NAME=av-check
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/redis.sh"
. "$(dirname "$0")/av-lib.sh"
[ $# -ge 1 ] && AV_BIN=$1
hn_require python3 redis-server redis-cli
av_preflight "check drops to user nobody"

hn_tmpdir D avc
mkdir "$D/fake"
chmod 755 "$D/fake"
av_fake_clamd "$D/fake/clamd.sock" close || hn_die "fake clamd did not start"
FAKE=unix:$D/fake/clamd.sock
C=$D/c
mkdir -p "$C/run" "$C/state"
chown nobody:nogroup "$C/run" "$C/state"

# check KEY=VALUE...: write $C/av.conf and run `milter-av check` (output $D/check.out)
check() {
	av__write_conf "$C" "$@"
	"$(av_bin)" -c "$C/av.conf" check >"$D/check.out" 2>&1
}
listing() { find "$1/run" "$1/state" -printf "%p %m %u %s\n" | sort; }

before=$(listing "$C")
check "clamd=$FAKE" "store=lmdb:$C/state/db"
hn_check "check, backend answering, lmdb store to be created: exit 0" test $? -eq 0
hn_check "  prints the backend's version" grep -q "^clamd $FAKE: ClamAV 1.4.6$" "$D/check.out"
hn_check "  created nothing (no socket, no store directory)" test "$before" = "$(listing "$C")"

check "clamd=$FAKE inet:127.0.0.1:1 inet:no-such-host.invalid:3310"
hn_check "check with two backends down: exit 69" test $? -eq 69
hn_check "  connection refused, on its own line" \
	grep -q "error: clamd inet:127.0.0.1:1: not answering: connection refused$" "$D/check.out"
hn_check "  name not found, on its own line" \
	grep -Eq "error: clamd inet:no-such-host.invalid:3310: not answering: name (not found|lookup failed temporarily)$" "$D/check.out"
hn_check "  and says how many problems" grep -q "av.conf: 2 problems$" "$D/check.out"

check "clamd=$FAKE" "store=redis://127.0.0.1:1"
hn_check "check with redis unreachable: exit 69" test $? -eq 69
hn_check "  names the store and why" grep -q "store = redis://127.0.0.1:1: unreachable" "$D/check.out"

redis_up "$D/redis" || hn_die "redis did not start"
check "clamd=$FAKE" "store=redis+unix://$D/redis/redis.sock"
hn_check "check with redis reachable: exit 0" test $? -eq 0

check "clamd=$FAKE" "max_size=lots"
hn_check "check with a config error: exit 78" test $? -eq 78
hn_check "  after: nothing created" test "$before" = "$(listing "$C")"

# --- at start: the second backend does not answer
av_up "$D/s" "clamd=$FAKE inet:127.0.0.1:1" || hn_die "milter-av did not start"
hn_check "start: the refusing backend is failover only, with its reason" hn_wait 10 grep -q \
	"clamd inet:127.0.0.1:1: not answering (connection refused): failover only; mail is scanned by $FAKE" "$D/s/av.log"
health() {
	"$(av_bin)" -c "$D/s/av.conf" status 2>&1 |
		grep -q 'inet:127.0.0.1:1 *{"up":false.*"last_error":"connection refused"'
}
hn_check "status shows the reason in the backend health" hn_wait 15 health
hn_check "status: the backend checked now is DOWN with its reason" bash -c \
	'"$1" -c "$2" status 2>&1 | grep -q "inet:127.0.0.1:1 *DOWN (connection refused)"' \
	_ "$(av_bin)" "$D/s/av.conf"
av_down "$D/s"
hn_summary
