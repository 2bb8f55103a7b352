#!/bin/bash
# bench-socketmap.sh SMLOAD NULLSOCKETMAP STREAMD: the socketmap benchmark tools measure
# what they claim. nullsocketmap answers every request with its configured OK reply (Postfix's
# postmap reads it back); smload counts the replies by status (OK from nullsocketmap, NOTFOUND
# from streamd's map "none"), stops at -n requests or -T seconds, cycles the keys of -K,
# reports the server's CPU per query given -p, and counts errors (exit 1) when nothing
# listens. Small bounded loads: a check of the tools, never a measurement.
set -u
HN_NAME=bench-socketmap
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/notify.sh"
[ $# -eq 3 ] || hn_die "usage: bench-socketmap.sh SMLOAD NULLSOCKETMAP STREAMD"
SL=$1 NSM=$2 SD=$3
hn_require postmap python3

hn_tmpdir D benchsm
mkdir "$D/run" "$D/pf"
[ "$(id -u)" != 0 ] || chown nobody:nogroup "$D/run"
printf 'compatibility_level = 3.6\n' >"$D/pf/main.cf"
notify_up "$D/notify" || hn_die "no notify listener"

# start BIN CONF: run a daemon in the background (PID) and wait for READY=1
start() {
	local mark
	mark=$(notify_mark "$D/notify")
	NOTIFY_SOCKET="$D/notify/notify.sock" "$1" -f -c "$2" >>"$D/daemons.log" 2>&1 &
	PID=$!
	hn_on_exit hn_stop "$PID"
	notify_wait "$D/notify" "$mark" READY=1 "$PID" 10
}
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2" | head -n 1; }
# expect WHAT OUTPUT KEY=VALUE...: every KEY has VALUE in the tool's result line
expect() {
	local what=$1 out=$2 kv_ ok=1
	shift 2
	for kv_ in "$@"; do
		[ "$(kv "${kv_%%=*}" "$out")" = "${kv_#*=}" ] || ok=0
	done
	if [ $ok = 1 ]; then hn_pass "$what"; else hn_fail "$what" "$(grep '^result' <<<"$out")"; fi
}

printf 'listen = unix:%s/run/null.sock\nuser = nobody\ngroup = nogroup\nstore =\n' "$D" >"$D/null.conf"
printf 'reply = testing match=.example.net\n' >>"$D/null.conf"
hn_check "nullsocketmap starts (READY=1)" start "$NSM" "$D/null.conf"
NP=$PID
out=$(postmap -c "$D/pf" -q any.example "socketmap:unix:$D/run/null.sock:postfix")
hn_check "nullsocketmap gives its configured reply to postmap" test "$out" = "testing match=.example.net"

out=$("$SL" -s "unix:$D/run/null.sock" -c 4 -n 400 -T 20 -p "$NP")
rc=$?
hn_check "smload: exit 0 when every query was answered" test $rc -eq 0
expect "smload -n 400 -c 4: 400 OK, no error" "$out" queries=400 ok=400 errors=0 notfound=0 conns=4
hn_check "smload -p reports the server's CPU per query" \
	bash -c '[[ $(sed -n "s/.* us_per_query=\([0-9.]*\).*/\1/p" <<<"$1") =~ ^[0-9]+\.[0-9]+$ ]]' _ "$out"
hn_check "smload prints one human line" bash -c 'grep -q "^smload: 400 queries in " <<<"$1"' _ "$out"
t0=$(hn_ms)
out=$("$SL" -s "unix:$D/run/null.sock" -c 2 -T 0.5)
t1=$(hn_ms)
hn_check "smload -T 0.5 stops after half a second ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 3000
expect "smload -T: no error" "$out" errors=0

printf 'listen = unix:%s/run/echo.sock\nuser = nobody\ngroup = nogroup\nstore =\n' "$D" >"$D/echo.conf"
hn_check "streamd starts (READY=1)" start "$SD" "$D/echo.conf"
printf 'a.example\n\nb.example\nc.example\n' >"$D/keys"
out=$("$SL" -s "unix:$D/run/echo.sock" -m none -K "$D/keys" -n 30)
expect "smload counts NOTFOUND replies, keys from a file" "$out" queries=30 notfound=30 ok=0 errors=0
out=$("$SL" -s "unix:$D/run/echo.sock" -K "$D/keys" -n 30 -c 3)
expect "smload -K over 3 connections" "$out" queries=30 ok=30 errors=0

out=$("$SL" -s "unix:$D/run/nothing.sock" -T 0.3 2>/dev/null)
rc=$?
hn_check "smload with no server: exit 1" test $rc -eq 1
hn_check "smload with no server: errors counted" test "$(kv errors "$out")" -gt 0

hn_summary
