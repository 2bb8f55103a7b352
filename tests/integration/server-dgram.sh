#!/bin/bash
# server-dgram.sh: the datagram runner (common/server_dgram.c) end to end, with the counting
# daemon tests/integration/dgramd and the sender dgsend.py (AF_UNIX SOCK_DGRAM, blocking and
# MSG_DONTWAIT). READY=1 through the notify harness; the socket's mode (and group as root);
# blocking sends all counted; bursts of 20000 with MSG_DONTWAIT: every datagram the kernel
# accepted is counted by the daemon (sender-side EAGAIN is the only loss); an oversize
# datagram counted as truncated, not fatal; a second instance refused (69); SIGTERM right
# after a burst into a slow worker: every accepted datagram handled before the exit (0);
# a full queue counted as drops (received + dropped = sent); the socket file removed at
# exit; a stale one (after SIGKILL) replaced; systemd socket activation (--datagram).
set -u
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/notify.sh"
HN_NAME=server-dgram
DGRAMD=${DGRAMD:-$POSTWARDEN_BUILD/tests/integration/dgramd}
SEND=$(dirname "$0")/dgsend.py
hn_require python3
[ -x "$DGRAMD" ] || { echo "FAIL: $DGRAMD not built"; exit 1; }
hn_tmpdir D server-dgram
mkdir "$D/run"
ROOT=
if [ "$(id -u)" = 0 ]; then
	ROOT=1
	chown nobody:nogroup "$D/run"
	chmod 755 "$D"
fi

# conf NAME SOCKET-ENDPOINT: a config file $D/NAME.conf
conf() {
	printf 'listen = %s\nlisten_group = nogroup\nuser = nobody\ngroup = nogroup\nstore =\n' \
		"$2" >"$D/$1.conf"
}
# start NAME [VAR=VALUE...]: dgramd on $D/NAME.conf in the background (PID), log $D/NAME.log,
# counts in $D/NAME.out; wait for READY=1
start() {
	local name=$1 mark
	shift
	notify_up "$D/notify" || return 1
	mark=$(notify_mark "$D/notify")
	: >"$D/$name.out"
	[ -z "$ROOT" ] || chown nobody "$D/$name.out"
	chmod 666 "$D/$name.out"
	chmod 777 "$D"
	env NOTIFY_SOCKET="$D/notify/notify.sock" DGRAMD_OUT="$D/$name.out" "$@" "$DGRAMD" -f \
		-c "$D/$name.conf" >>"$D/$name.log" 2>&1 &
	PID=$!
	hn_on_exit hn_stop "$PID"
	notify_wait "$D/notify" "$mark" READY=1 "$PID" 10
}
# exit_status PID: wait (at most 30 s) for PID to end; its exit status
exit_status() {
	hn_wait 30 bash -c '! kill -0 "$1" 2>/dev/null || grep -q " Z " "/proc/$1/stat"' _ "$1"
	wait "$1"
}
# count NAME KEY: the value of KEY in $D/NAME.out (0 when absent)
count() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$D/$1.out"; }
# wait_count NAME KEY VALUE: until the written count reaches VALUE (the tick is 1 s)
wait_count() { hn_wait 15 bash -c '[ "$(awk -v k="$2" '"'"'$1 == k { print $2 }'"'"' "$1")" = "$3" ]' _ "$D/$1.out" "$2" "$3"; }
sent_of() { sed -n 's/^sent \([0-9]*\).*/\1/p' <<<"$1"; }
lost_of() { sed -n 's/.* lost \([0-9]*\)$/\1/p' <<<"$1"; }

S="$D/run/a.sock"
conf a "unix:$S:0660"

# --- start, socket mode and group
hn_check "READY=1 on a unix datagram socket" start a
A=$PID
hn_check "socket made with the mode asked for (660)" test "$(stat -c %a "$S")" = 660
if [ -n "$ROOT" ]; then
	hn_check "socket group from listen_group (root)" test "$(stat -c %G "$S")" = nogroup
fi
hn_check "the receive buffer is logged" grep -q "datagram receive buffer: [0-9]* bytes" "$D/a.log"

# --- blocking sends: every one counted
out=$(python3 "$SEND" "$S" send 2000 blk)
hn_check "2000 blocking sends, none lost ($out)" test "$out" = "sent 2000 lost 0"
hn_check "the daemon counted 2000" wait_count a blk 2000

# --- bursts with MSG_DONTWAIT: every datagram the kernel accepted is counted
for i in 1 2 3; do
	out=$(python3 "$SEND" "$S" send 20000 "burst$i" dontwait)
	sent=$(sent_of "$out")
	lost=$(lost_of "$out")
	hn_check "burst $i: 20000 with MSG_DONTWAIT, $sent accepted, $lost EAGAIN at the sender" \
		test $((sent + lost)) -eq 20000 -a "$sent" -gt 0
	hn_check "burst $i: the daemon counted exactly the $sent accepted" wait_count a "burst$i" "$sent"
done
hn_check "no drop inside the daemon (queue never full)" test "$(count a dropped_full)" = 0

# --- an oversize datagram: counted as truncated, dropped, not fatal
out=$(python3 "$SEND" "$S" big 70000 huge)
hn_check "a 70000-byte datagram is sent ($out)" test "$out" = "sent 1"
hn_check "it is counted as truncated" wait_count a truncated 1
hn_check "it is not handled" test "$(count a huge)" = 0
hn_check "the truncation is logged" grep -q "a datagram longer than 65536 bytes was dropped" "$D/a.log"
out=$(python3 "$SEND" "$S" send 10 after)
hn_check "the daemon still counts after it" wait_count a after 10

# --- a second instance on the same path: 69, the first keeps counting
conf a2 "unix:$S"
err=$("$DGRAMD" -f -c "$D/a2.conf" 2>&1)
rc=$?
hn_check "second instance on a live socket exits 69" test $rc -eq 69
hn_check "second instance says why" grep -qF "another process is listening on $S" <<<"$err"
hn_check "the socket file is still there" test -S "$S"
python3 "$SEND" "$S" send 5 still >/dev/null
hn_check "the first instance still counts" wait_count a still 5

# --- SIGTERM: exit 0, socket removed, final counts written
kill -TERM "$A"
exit_status "$A"
hn_check "SIGTERM: exit 0" test $? -eq 0
hn_check "the socket file is removed at exit" test ! -e "$S"
hn_check "the final tick wrote the counts" grep -q "counts written to" "$D/a.log"

# --- SIGTERM right after a burst into a slow worker (50 us per datagram): all handled
conf b "unix:$D/run/b.sock"
hn_check "slow-worker instance starts" start b DGRAMD_SLOW_US=50
B=$PID
out=$(python3 "$SEND" "$D/run/b.sock" send 20000 term dontwait)
kill -TERM "$B"
sent=$(sent_of "$out")
exit_status "$B"
rc=$?
hn_check "SIGTERM right after a burst ($out): exit 0" test $rc -eq 0
hn_check "every accepted datagram was handled before the exit ($sent)" \
	test "$(count b term)" = "$sent" -a "$(count b dropped_full)" = 0
hn_check "... and the handled counter says so" test "$(count b handled)" = "$sent"
hn_check "the queued datagrams were drained at the stop" grep -q "stopping: handling the [0-9]* queued" "$D/b.log"

# --- a full queue (100 datagrams, a slow worker): drops counted, the receiver never waits
conf c "unix:$D/run/c.sock"
hn_check "small-queue instance starts" start c DGRAMD_QUEUE_MAX=100 DGRAMD_SLOW_US=1000
C=$PID
out=$(python3 "$SEND" "$D/run/c.sock" send 3000 full)
sent=$(sent_of "$out")
kill -TERM "$C"
exit_status "$C"
hn_check "small queue: exit 0 after the stop" test $? -eq 0
rcv=$(count c received)
drop=$(count c dropped_full)
hn_check "the queue overflowed: $drop dropped" test "$drop" -gt 0
hn_check "every accepted datagram is counted: received $rcv + dropped $drop = sent $sent" \
	test $((rcv + drop)) -eq "$sent"
hn_check "what was received was handled" test "$(count c full)" = "$rcv" -a "$(count c handled)" = "$rcv"
hn_check "the drop is logged" grep -q "queue full (100 datagrams)" "$D/c.log"

# --- a stale socket file (the previous instance was killed) is replaced
conf e "unix:$D/run/e.sock"
hn_check "instance e starts" start e
kill -KILL "$PID"
wait "$PID" 2>/dev/null
hn_check "SIGKILL leaves the socket file" test -S "$D/run/e.sock"
hn_check "a new instance replaces the stale socket" start e
E=$PID
python3 "$SEND" "$D/run/e.sock" send 7 stale >/dev/null
hn_check "and counts" wait_count e stale 7
kill -TERM "$E"
exit_status "$E"
hn_check "exit 0, socket removed" test $? -eq 0 -a ! -e "$D/run/e.sock"

# --- systemd socket activation: the inherited datagram socket is adopted, `listen =` is not
# bound, the datagram that woke the daemon is counted; a hand run beside it exits 69
# (systemd-socket-activate passes only the environment given with -E)
if command -v systemd-socket-activate >/dev/null 2>&1; then
	conf act "unix:$D/run/not-bound.sock"
	: >"$D/act.out"
	chmod 666 "$D/act.out"
	systemd-socket-activate --datagram -E DGRAMD_OUT="$D/act.out" -l "$D/run/act.sock" \
		"$DGRAMD" -f -c "$D/act.conf" >>"$D/act.log" 2>&1 &
	APID=$!
	hn_on_exit hn_stop "$APID"
	hn_wait 10 test -S "$D/run/act.sock"
	out=$(python3 "$SEND" "$D/run/act.sock" send 50 act)
	hn_check "socket activation: 50 datagrams sent ($out)" test "$out" = "sent 50 lost 0"
	hn_check "socket activation: all 50 counted" wait_count act act 50
	hn_check "socket activation: fd adopted" grep -q 'listening on systemd datagram socket fd 3' "$D/act.log"
	hn_check "socket activation: listen = not bound" test ! -e "$D/run/not-bound.sock"
	conf hand "unix:$D/run/act.sock"
	timeout 10 "$DGRAMD" -f -c "$D/hand.conf" >"$D/hand.log" 2>&1
	hn_check "hand run beside the socket-activated one exits 69" test $? -eq 69
	kill -TERM "$APID"
	exit_status "$APID"
	hn_check "socket activation: SIGTERM, exit 0" test $? -eq 0
	hn_check "socket activation: systemd's socket file is left alone" test -S "$D/run/act.sock"
else
	hn_skip "socket activation" "systemd-socket-activate not installed"
fi

hn_summary
