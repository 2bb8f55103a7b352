#!/bin/bash
# store-redis: the store conformance suite (tests/unit/test_store.c) against a real
# redis-server, over its unix socket and over TCP on a free loopback port, then an
# outage under load (store_outage.c): SIGSTOP (calls time out), SIGCONT, kill -9 (calls
# are refused), restart on the same socket (calls recover within a few seconds).
# Usage (from meson): store-redis.sh TEST_STORE STORE_OUTAGE. Exit 77 without redis-server.
set -eu
HN_NAME=store-redis
# shellcheck source=../harness/lib.sh
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
# shellcheck source=../harness/redis.sh
. "$HN_HARNESS/redis.sh"
hn_require redis-server redis-cli

TEST_STORE=$1
OUTAGE=$2
TIMEOUT_MS=300

hn_tmpdir D store-redis
PORT=$(hn_free_port)
redis_up "$D/r" "$PORT"
SOCK=$D/r/redis.sock

hn_check "conformance over redis+unix" \
	env STORE_URI="redis+unix://$SOCK?db=1&timeout=1s" "$TEST_STORE"
hn_check "conformance over redis tcp" \
	env STORE_URI="redis://127.0.0.1:$PORT/2?timeout=1s" "$TEST_STORE"

# wait_dead PID: until gone or a zombie (PID 1 here reaps lazily), 5 s max
wait_dead() { hn_wait 5 bash -c "! { s=\$(cat /proc/$1/stat 2>/dev/null) && s=\${s##*) } && [ \"\${s%% *}\" != Z ]; }"; }

"$OUTAGE" "redis+unix://$SOCK?timeout=${TIMEOUT_MS}ms" "$TIMEOUT_MS" 8 "$D/restart" \
	>"$D/outage.out" 2>&1 &
OP=$!
hn_on_exit kill "$OP"
sleep 1
RP=$(cat "$D/r/redis.pid")
hn_log "SIGSTOP redis ($RP)"
kill -STOP "$RP"
sleep 1.5
kill -CONT "$RP"
sleep 1
hn_log "kill -9 redis"
kill -KILL "$RP"
wait_dead "$RP" || hn_die "redis $RP did not die"
sleep 1.5
redis_up "$D/r" "$PORT"
hn_ms >"$D/restart"
hn_log "redis restarted on $SOCK"
if wait "$OP"; then
	hn_pass "outage: bounded errors, recovery after restart"
else
	hn_fail "outage" "$(grep FAIL "$D/outage.out" | tr '\n' ' ')"
fi
cat "$D/outage.out"
hn_summary
