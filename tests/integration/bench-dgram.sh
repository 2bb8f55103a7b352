#!/bin/bash
# bench-dgram.sh: the datagram load tools do what they claim, with small bounded loads:
# dgramsink counts every datagram dgramload sent (blocking, and with --dontwait where
# sent + lost = count); dgramload -f cycles the file's lines (dgramd counts them by
# prefix); -r paces the sends. Performance is not asserted. Args: DGRAMLOAD DGRAMSINK DGRAMD.
set -u
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/notify.sh"
HN_NAME=bench-dgram
LOAD=$1 SINK=$2 DGRAMD=$3
hn_tmpdir D bench-dgram
chmod 777 "$D"
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<" $1"; }

# --- dgramsink
"$SINK" -s "$D/sink.sock" >"$D/sink.out" 2>&1 &
SP=$!
hn_on_exit hn_stop "$SP"
hn_wait 5 grep -q ready "$D/sink.out"
out=$("$LOAD" -s "$D/sink.sock" -n 5000)
hn_check "blocking: 5000 sent, none lost ($out)" test "$(field "$out" sent)" = 5000 -a "$(field "$out" lost)" = 0
out=$("$LOAD" -s "$D/sink.sock" -n 20000 --dontwait)
sent=$(field "$out" sent)
lost=$(field "$out" lost)
hn_check "--dontwait: sent + lost = 20000 ($out)" test $((sent + lost)) -eq 20000
kill -TERM "$SP"
wait "$SP"
hn_check "dgramsink exits 0 at SIGTERM" test $? -eq 0
res=$(grep '^result' "$D/sink.out")
hn_check "dgramsink received exactly what was sent: $((5000 + sent)) ($res)" \
	test "$(field "$res" received)" = $((5000 + sent))
hn_check "dgramsink removed its socket" test ! -e "$D/sink.sock"

# --- dgramload -f against dgramd: lines cycled, counted by prefix
printf 'listen = unix:%s/d.sock\nlisten_group = nogroup\nuser = nobody\ngroup = nogroup\nstore =\n' "$D" >"$D/d.conf"
printf 'a:1\nb:2\n\nc:3\n' >"$D/lines"
notify_up "$D/notify"
mark=$(notify_mark "$D/notify")
: >"$D/d.out"
chmod 666 "$D/d.out"
NOTIFY_SOCKET="$D/notify/notify.sock" DGRAMD_OUT="$D/d.out" "$DGRAMD" -f -c "$D/d.conf" >"$D/d.log" 2>&1 &
DP=$!
hn_on_exit hn_stop "$DP"
hn_check "dgramd starts" notify_wait "$D/notify" "$mark" READY=1 "$DP" 10
out=$("$LOAD" -s "$D/d.sock" -n 3000 -f "$D/lines")
hn_check "-f: 3000 sent ($out)" test "$(field "$out" sent)" = 3000
kill -TERM "$DP"
wait "$DP"
hn_check "dgramd exits 0" test $? -eq 0
hn_check "the three lines were cycled: 1000 each" \
	test "$(grep -c '^[abc] 1000$' "$D/d.out")" = 3

# --- -r paces
t0=$(hn_ms)
"$LOAD" -s /nonexistent/x.sock -n 200 -r 1000 >/dev/null 2>&1
rc=$?
t1=$(hn_ms)
hn_check "a missing socket is an error (exit 1)" test $rc -eq 1
hn_check "-r 1000: 200 sends take about 0.2 s ($((t1 - t0)) ms)" test $((t1 - t0)) -ge 180
hn_summary
