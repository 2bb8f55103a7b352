#!/bin/bash
# tests/bench/dgram-ab.sh [BUILD_DIR] [COUNT] [ROUNDS]: the datagram runner against its
# ceiling in one run: dgramsink (a bare recv loop) and dgramd (tests/integration/dgramd on
# common/server_dgram.c), each loaded by dgramload with COUNT (default 200000) copies of a
# captured libtlsrpt datagram, blocking and then with --dontwait at full speed, ROUNDS
# (default 3) times. Prints one line per run: the sender's result and what the receiver
# counted. For the figures in doc/benchmarks.md; not a test.
set -u
BUILD=$(realpath "${1:-build}")
N=${2:-200000}
ROUNDS=${3:-3}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
HN_NAME=dgram-ab
. "$SRC/tests/harness/lib.sh"
hn_tmpdir D dgram-ab
chmod 777 "$D"
LOAD=$BUILD/tests/bench/dgramload
SINK=$BUILD/tests/bench/dgramsink
DGRAMD=$BUILD/tests/integration/dgramd
printf 'listen = unix:%s/d.sock\nlisten_group = nogroup\nuser = nobody\ngroup = nogroup\nstore =\n' \
	"$D" >"$D/d.conf"
echo "net.unix.max_dgram_qlen = $(cat /proc/sys/net/unix/max_dgram_qlen)"
for r in $(seq "$ROUNDS"); do
	for mode in blocking dontwait; do
		flag=
		[ $mode = dontwait ] && flag=--dontwait
		"$SINK" -s "$D/s.sock" >"$D/s.out" &
		pid=$!
		hn_wait 5 grep -q ready "$D/s.out"
		out=$("$LOAD" -s "$D/s.sock" -n "$N" $flag)
		sleep 0.3
		kill -TERM "$pid"
		wait "$pid"
		echo "round $r dgramsink $mode: $out | $(grep '^result' "$D/s.out")"
		: >"$D/d.out"
		chmod 666 "$D/d.out"
		DGRAMD_OUT="$D/d.out" "$DGRAMD" -f -c "$D/d.conf" >"$D/d.log" 2>&1 &
		pid=$!
		hn_wait 5 test -S "$D/d.sock"
		sleep 0.2
		out=$("$LOAD" -s "$D/d.sock" -n "$N" $flag)
		sleep 0.3
		kill -TERM "$pid"
		wait "$pid"
		echo "round $r dgramd $mode: $out | $(grep -E '^(received|handled|dropped_full)' "$D/d.out" | tr '\n' ' ')"
	done
done
