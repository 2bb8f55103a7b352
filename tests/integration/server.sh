#!/bin/bash
# server.sh: the stream runner (common/server.c) end to end, with the socketmap echo daemon
# tests/integration/streamd and two clients: Postfix's own (postmap -q ... socketmap:...)
# and smclient.py. READY=1 through the notify harness, two listen endpoints (unix with a
# mode, inet on a free loopback port), many concurrent clients, pipelined requests, a
# request split over several packets, a client stalled mid-request (the I/O timeout closes
# it, others are served meanwhile), the idle timeout, the connection limit (one more client
# waits until a slot frees), SIGHUP reload, a second instance on the same path (exit 69, the
# first keeps answering), SIGTERM with an idle client (prompt exit 0) and with a request in
# flight (answered before the exit) and with one longer than the stop deadline (given up
# on), the socket files removed at exit and after a start that fails once bound, and
# systemd socket activation with two inherited sockets.
set -u
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/notify.sh"
HN_NAME=server
STREAMD=${STREAMD:-$POSTWARDEN_BUILD/tests/integration/streamd}
SMC=$(dirname "$0")/smclient.py
hn_require postmap python3
[ -x "$STREAMD" ] || { echo "FAIL: $STREAMD not built"; exit 1; }
hn_tmpdir D server
mkdir "$D/run" "$D/pf"
[ "$(id -u)" != 0 ] || chown nobody:nogroup "$D/run"
# postmap only needs a main.cf to read; nothing of Postfix runs
printf 'compatibility_level = 3.6\n' >"$D/pf/main.cf"
PORT=$(hn_free_port) || hn_die "no free port"

# conf NAME LISTEN... : a config file $D/NAME.conf
conf() {
	local name=$1
	shift
	printf 'listen = %s\nuser = nobody\ngroup = nogroup\nstore =\nprefix = first-\n' "$*" \
		>"$D/$name.conf"
}
# start NAME [VAR=VALUE...]: run streamd on $D/NAME.conf in the background (PID), log in
# $D/NAME.log; wait for READY=1
start() {
	local name=$1 mark
	shift
	notify_up "$D/notify" || return 1
	mark=$(notify_mark "$D/notify")
	env NOTIFY_SOCKET="$D/notify/notify.sock" "$@" "$STREAMD" -f -c "$D/$name.conf" \
		>>"$D/$name.log" 2>&1 &
	PID=$!
	hn_on_exit hn_stop "$PID"
	notify_wait "$D/notify" "$mark" READY=1 "$PID" 10
}
# exit_status PID: wait (at most 15 s) for PID to end; its exit status
exit_status() {
	hn_wait 15 bash -c '! kill -0 "$1" 2>/dev/null || grep -q " Z " "/proc/$1/stat"' _ "$1"
	wait "$1"
}
has() { grep -qF -- "$2" <<<"$1"; }
q() { postmap -c "$D/pf" -q "$1" "socketmap:$2"; }

U="unix:$D/run/a.sock"
I="inet:127.0.0.1:$PORT"
conf a "$U:0666" "$I"
export SM_PREFIX=first-

# --- start, two endpoints, Postfix's client
hn_check "READY=1 with two listen endpoints" start a STREAMD_IO_MS=500
A=$PID
hn_check "unix socket made with the mode asked for" test "$(stat -c %a "$D/run/a.sock")" = 666
hn_check "postmap over unix gets OK <prefix><key>" \
	test "$(q example.org "$U:policy")" = "first-example.org"
hn_check "postmap over inet gets the same" test "$(q example.org "$I:policy")" = "first-example.org"
q example.org "$U:none" >/dev/null 2>&1
hn_check "NOTFOUND: postmap exits 1" test $? -eq 1
out=$("$SMC" "$U" query none x)
hn_check "NOTFOUND reply as Postfix reads it" test "$out" = "NOTFOUND "

# --- load, framing
hn_check "50 concurrent clients x 40 requests (unix)" "$SMC" "$U" concurrent 50 40
hn_check "20 concurrent clients x 20 requests (inet)" "$SMC" "$I" concurrent 20 20
hn_check "100 pipelined requests in one write" "$SMC" "$U" pipelined 100
hn_check "a request split over four packets (inet)" "$SMC" "$I" split
hn_check "a request split over four packets (unix)" "$SMC" "$U" split

# --- a stalled client: closed after the I/O timeout (500 ms), others served meanwhile
"$SMC" "$U" stall 5 >"$D/stall.out" &
STALL=$!
sleep 0.1
hn_check "others are answered while a client stalls mid-request" "$SMC" "$U" concurrent 5 10
wait "$STALL"
t=$(cat "$D/stall.out")
hn_check "the stalled client is closed after the I/O timeout (${t}s)" \
	python3 -c 'import sys; t = sys.argv[1]; sys.exit(not (t != "open" and 0.3 < float(t) < 3))' "$t"
hn_check "the stall is logged with the peer" grep -q "unix: connection ended: Connection timed out" "$D/a.log"

# --- a second instance on the same unix path: exit 69, the first keeps serving
conf a2 "$U"
err=$("$STREAMD" -f -c "$D/a2.conf" 2>&1)
rc=$?
hn_check "second instance on a live socket exits 69" test $rc -eq 69
hn_check "second instance says why" has "$err" "another process is listening on $D/run/a.sock"
hn_check "the first instance still answers" test "$(q after "$U:policy")" = "first-after"

# --- a start that fails after binding leaves no socket file: an endpoint that cannot be
# bound (the first instance's port), or build() refusing the config
conf d "unix:$D/run/d.sock" "$I"
err=$("$STREAMD" -f -c "$D/d.conf" 2>&1)
rc=$?
hn_check "second endpoint in use: exit 69" test $rc -eq 69
hn_check "second endpoint in use: says which" has "$err" "cannot listen on $I"
hn_check "second endpoint in use: the first one's socket file is removed" test ! -e "$D/run/d.sock"
conf e "unix:$D/run/e.sock"
sed -i 's/^prefix = .*/prefix = invalid/' "$D/e.conf"
err=$("$STREAMD" -f -c "$D/e.conf" 2>&1)
rc=$?
hn_check "build() refusal after binding: exit 78" test $rc -eq 78
hn_check "build() refusal after binding: the socket file is removed (abandon)" \
	test ! -e "$D/run/e.sock"

# --- reload
sed -i 's/^prefix = first-/prefix = second-/' "$D/a.conf"
mark=$(notify_mark "$D/notify")
kill -HUP "$A"
hn_check "SIGHUP: RELOADING=1 then READY=1" \
	bash -c '. "$1/lib.sh"; . "$1/notify.sh"; notify_wait "$2" "$3" READY=1 "$4" 10 && notify_fields "$2" "$3" | grep -q RELOADING=1' \
	_ "$HN_HARNESS" "$D/notify" "$mark" "$A"
hn_check "after the reload the new prefix is used" test "$(q reloaded "$U:policy")" = "second-reloaded"

# --- SIGTERM with a request in flight: it is answered, then exit 0
"$SMC" "$U" query map sleep:1500 >"$D/inflight.out" 2>&1 &
INF=$!
hn_wait 10 grep -q "request in flight: sleeping 1500 ms" "$D/a.log"
t0=$(hn_ms)
kill -TERM "$A"
exit_status "$A"
rc=$?
t1=$(hn_ms)
wait "$INF"
hn_check "SIGTERM with a request in flight: exit 0" test $rc -eq 0
hn_check "the request in flight was answered" test "$(cat "$D/inflight.out")" = "OK second-sleep:1500"
hn_check "the stop waited for it, within the deadline ($((t1 - t0)) ms)" \
	test $((t1 - t0)) -ge 500 -a $((t1 - t0)) -lt 9000
hn_check "the socket file is removed at exit" test ! -e "$D/run/a.sock"

# --- idle timeout and connection limit (another instance: idle 3 s, 2 connections)
conf b "unix:$D/run/b.sock"
hn_check "instance with max_conns 2 starts" start b STREAMD_IDLE_MS=3000 STREAMD_MAX_CONNS=2
B=$PID
t=$("$SMC" "unix:$D/run/b.sock" idle 8)
hn_check "an idle client is closed after the idle timeout (${t}s)" \
	python3 -c 'import sys; t = sys.argv[1]; sys.exit(not (t != "open" and 2.9 < float(t) < 6))' "$t"
hn_check "beyond the limit a client waits until a slot frees" "$SMC" "unix:$D/run/b.sock" limit 2
hn_check "the limit is logged" grep -q "connection limit reached (2)" "$D/b.log"
# a request longer than the stop deadline (10 s): the stop gives up on it after the
# deadline and a short grace, and the daemon still exits
"$SMC" "unix:$D/run/b.sock" query map sleep:30000 >"$D/long.out" 2>&1 &
LONG=$!
hn_wait 10 grep -q "request in flight: sleeping 30000 ms" "$D/b.log"
t0=$(hn_ms)
kill -TERM "$B"
exit_status "$B"
rc=$?
t1=$(hn_ms)
wait "$LONG"
hn_check "a request past the deadline: exit 0 ($((t1 - t0)) ms)" \
	test $rc -eq 0 -a $((t1 - t0)) -ge 9500 -a $((t1 - t0)) -lt 14000
hn_check "a request past the deadline: its client was closed" grep -q "closed by the server" "$D/long.out"
hn_check "a request past the deadline: logged" grep -q "stop deadline passed with 1 connection open: closing it" "$D/b.log"

# --- systemd socket activation: both inherited sockets (unix and inet) are adopted and
# served, `listen =` is not bound, and the socket file, systemd's, is left at exit
if command -v systemd-socket-activate >/dev/null 2>&1; then
	PORT2=$(hn_free_port) || hn_die "no free port"
	conf act "unix:$D/run/not-bound.sock"
	systemd-socket-activate -l "$D/run/act.sock" -l "127.0.0.1:$PORT2" \
		"$STREAMD" -f -c "$D/act.conf" >>"$D/act.log" 2>&1 &
	ACT=$!
	hn_on_exit hn_stop "$ACT"
	hn_wait 10 test -S "$D/run/act.sock"
	hn_check "socket activation: the unix socket answers" \
		test "$(q activated "unix:$D/run/act.sock:policy")" = "first-activated"
	hn_check "socket activation: the inet socket answers" \
		test "$(q activated "inet:127.0.0.1:$PORT2:policy")" = "first-activated"
	hn_check "socket activation: two fds adopted" \
		test "$(grep -c 'listening on systemd socket fd' "$D/act.log")" -eq 2
	hn_check "socket activation: listen = not bound" test ! -e "$D/run/not-bound.sock"
	kill -TERM "$ACT"
	exit_status "$ACT"
	hn_check "socket activation: SIGTERM, exit 0" test $? -eq 0
	hn_check "socket activation: systemd's socket file is left alone" test -S "$D/run/act.sock"
else
	hn_skip "socket activation" "systemd-socket-activate not installed"
fi

# --- SIGTERM with an idle client: prompt exit 0, the client closed at once
conf c "unix:$D/run/c.sock"
hn_check "third instance starts" start c
C=$PID
"$SMC" "unix:$D/run/c.sock" hold "$D/hold.out" 20 &
HOLD=$!
hn_wait 5 grep -q connected "$D/hold.out"
sleep 0.1
t0=$(hn_ms)
kill -TERM "$C"
exit_status "$C"
rc=$?
t1=$(hn_ms)
wait "$HOLD"
hn_check "SIGTERM with an idle client: exit 0" test $rc -eq 0
hn_check "... within two seconds, the deadline being 10 ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 2000
hn_check "the idle client was closed" grep -q "^closed [0-9]" "$D/hold.out"
hn_check "the close is logged" grep -q "stopping: closed while idle" "$D/c.log"

hn_summary
