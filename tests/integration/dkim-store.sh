#!/bin/bash
# dkim-store.sh: a state-store outage does not fail mail. milter-dkim with
# store = redis+unix:// (a harness redis-server): the DNS gate's results reach the store,
# and a newer result written there by `check-dns` reaches the running daemon without a
# reload; then redis is killed and mail keeps being signed (the gate table is held in memory), a
# reload (DNS re-check) with the store down keeps signing, and `status` still runs. The
# per-domain signed/unsigned counters reach redis.
set -u
. "$(dirname "$0")/dkim-lib.sh"
. "$HN_HARNESS/redis.sh"
dk_init dkim-store
hn_require redis-server redis-cli
LUA=$DK_SRC/dkim/session.lua
dk_dns
redis_up "$D/redis" || hn_die "redis"

DK_STORE=redis+unix://$D/redis/redis.sock dk_conf "$D/m.conf" <<EOF2
[plain.test]
selectors = r1

[x.plain.test]
selectors = r2
EOF2
hn_check "keygen" "$DKIM" -c "$D/m.conf" keygen
hn_check "selector published" dk_publish_selector "$D/m.conf" r1 plain.test
hn_check "daemon starts" dk_start "$D/m.conf"
mt() { dk_mt "$LUA" HOST=localhost IP=127.0.0.1 "$@"; }
hn_check "signs with the store up" mt QID=UP1 FROM=a@plain.test EXPECT=signed
hn_check "gate state written to redis" hn_wait 10 bash -c \
	'redis-cli -s "$1" get pw:dkim:sel:plain.test:r1 | grep -q "\"matches\":true"' _ "$D/redis/redis.sock"

# a result another process writes to the store (here `check-dns`; in a fleet, another
# host) reaches the running daemon within seconds, without a reload
hn_check "unpublished selector does not sign" mt QID=UP2 FROM=a@x.plain.test EXPECT=unsigned
hn_check "  counted in redis: unsigned=1 for x.plain.test, signed=1 for plain.test" \
	hn_wait 15 bash -c '"$1" -c "$2" status >"$3" 2>&1 &&
		grep -qx "\[x.plain.test\] d=x.plain.test signed=0 unsigned=1 failed=0" "$3" &&
		grep -qx "\[plain.test\] d=plain.test signed=1 unsigned=0 failed=0" "$3"' \
	_ "$DKIM" "$D/m.conf" "$D/status.up"
hn_check "second selector published" dk_publish_selector "$D/m.conf" r2 x.plain.test
hn_check "check-dns sees it (exit 0)" "$DKIM" -c "$D/m.conf" check-dns x.plain.test
hn_check "the daemon signs with it, no reload" \
	hn_wait 15 mt QID=UP3 FROM=a@x.plain.test EXPECT=signed
hn_check "  logged taking the store's newer result" \
	grep -q 'DNS gate: took newer results from the store' "$D/dkim.log"
hn_check "  no reload happened" dk_fails grep -q 'configuration reloaded' "$D/dkim.log"

redis_down "$D/redis"
hn_check "redis is down" dk_fails redis__ping "$D/redis"
ok=0
for i in 1 2 3 4 5; do
	mt QID=DOWN$i FROM=a@plain.test EXPECT=signed && ok=$((ok + 1))
done
hn_check "5 messages signed with the store down" test "$ok" -eq 5
hn_check "  logged signed" test "$(grep -c 'DOWN[0-9]: signed d=plain.test s=r1' "$D/dkim.log")" -eq 5
hn_check "reload (DNS re-check) with the store down" dk_reload
hn_check "  configuration reloaded" grep -q 'configuration reloaded' "$D/dkim.log"
hn_check "still signs after the reload" mt QID=DOWN9 FROM=a@plain.test EXPECT=signed
"$DKIM" -c "$D/m.conf" status >"$D/status.down" 2>&1
hn_check "status runs with the store down" test $? -eq 0
hn_check "  status says the store is unreachable" grep -q '^store: redis: UNREACHABLE' "$D/status.down"
hn_check "  the daemon is still reported running" grep -q "^daemon: running (pid $DK_PID," "$D/status.down"
hn_check "store outage logged, once" \
	hn_wait 10 bash -c '[ "$(grep -c "store: DNS gate state not shared" "$1")" = 1 ]' _ "$D/dkim.log"
hn_check "daemon alive" hn_alive "$DK_PID"
hn_stop "$DK_PID" 10
wait "$DK_PID"
hn_check "clean stop with the store down" test $? -eq 0
dk_dump
hn_summary
