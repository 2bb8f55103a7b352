#!/bin/bash
# av-clamd.sh TEST_AV_CLAMD: milter-av's clamd client against real clamd (harness clamd.sh,
# EICAR-only DB). Starts three clamd: #1 (unix + TCP), #2 (killed mid-stream by the test),
# #3 with StreamMaxLength/MaxFileSize/MaxScanSize 1M; writes the test messages with
# av-mkmsgs.py; runs the C test (test_av_clamd.c). Skips (77) without clamd or python3.
set -eu
HN_NAME=av-clamd
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/clamd.sh"
hn_require clamd sigtool socat xxd python3
[ $# -ge 1 ] && [ -x "$1" ] || hn_die "usage: $0 TEST_AV_CLAMD"
prog=$1

hn_tmpdir D av
port=$(hn_free_port)
clamd_up "$D/c1" "$port"
clamd_up "$D/c2"
CLAMD_EXTRA=$'StreamMaxLength 1M\nMaxFileSize 1M\nMaxScanSize 1M' clamd_up "$D/c3"
python3 "$(dirname "$0")/av-mkmsgs.py" "$D/msgs" "$D/c1/eicar.com"
mkdir "$D/work"

export AV_MSGS="$D/msgs" AV_WORK="$D/work"
export AV_SOCK1="$D/c1/clamd.sock" AV_TCP1="$port"
export AV_SOCK2="$D/c2/clamd.sock" AV_PID2="$(tr -dc 0-9 <"$D/c2/clamd.shell.pid")"
export AV_SOCK3="$D/c3/clamd.sock"
timeout 200 "$prog"
