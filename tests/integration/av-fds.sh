#!/bin/bash
# av-fds.sh [MILTER_AV]: milter-av out of file descriptors. The daemon raises its soft
# RLIMIT_NOFILE to the hard limit at start (and logs it); when a scan cannot open the clamd
# connection (EMFILE), the message gets on_error (tempfail), the error says so, and the
# healthy backend is not marked down: once descriptors are free again the next message is
# scanned at once (backend_retry is 60 s here, so a wrong mark-down would show).
set -u
HN_NAME=av-fds
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/clamd.sh"
. "$(dirname "$0")/av-lib.sh"
[ $# -ge 1 ] && AV_BIN=$1
hn_require miltertest clamd sigtool python3
av_preflight "the service user"
LUA=$(cd "$(dirname "$0")" && pwd)/av/msg.lua

hn_tmpdir D avfds
clamd_up "$D/clamd" || hn_die "clamd did not start"
av_msgs "$D/msgs" "$D/clamd/eicar.com"
# av_up runs in subshells below (for ulimit): its listener and stop go on this shell's stack
notify_up "$D/av" || hn_die "notify listener"
hn_on_exit av_down "$D/av"
# the soft limit is raised to the hard one at start
( ulimit -S -n 256; av_up "$D/av" "clamd=unix:$D/clamd/clamd.sock" backend_retry=60s ) ||
	hn_die "milter-av did not start"
PID=$(cat "$D/av/av.pid")
hn_check "soft limit raised to the hard limit" bash -c \
	'[ "$(awk "/^Max open files/{print \$4}" /proc/$1/limits)" = "$(awk "/^Max open files/{print \$5}" /proc/$1/limits)" ]' _ "$PID"
hn_check "open file limit logged at start" grep -q 'milter-av .* started (open file limit [0-9]*)' "$D/av/av.log"

mt() { timeout 30 miltertest -D SOCK="$(av_sock "$D/av")" -D MSG="$D/msgs/$1" -D EXPECT="$2" \
	"${@:3}" -s "$LUA" >>"$D/mt.log" 2>&1; }
hn_check "baseline: clean mail accepted" mt clean.eml accept
# Restart with a hard limit that leaves room for two sessions (a socket and a memfd each)
# and nothing more: a second message in flight runs out at its clamd connect.
n=$(ls /proc/"$PID"/fd | wc -l)
av_down "$D/av"
( ulimit -n $((n + 4)); av_up "$D/av" "clamd=unix:$D/clamd/clamd.sock" backend_retry=60s ) ||
	hn_die "milter-av did not restart"
PID=$(cat "$D/av/av.pid")
( mt clean.eml accept -D PAUSE=3; echo $? >"$D/a.rc" ) &
A=$!
sleep 1
hn_check "out of descriptors: tempfail" mt clean.eml tempfail
hn_check "out of descriptors: logged as such" \
	grep -q 'scan failed: out of file descriptors action=tempfail' "$D/av/av.log"
wait "$A"
hn_check "the message in flight is scanned once descriptors are free" test "$(cat "$D/a.rc")" = 0
hn_check "next message scanned at once (the backend was not marked down)" mt clean.eml accept
hn_check "daemon alive" hn_alive "$PID"
if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- av.log"; tail -n 30 "$D/av/av.log"; echo "--- mt.log"; tail -n 30 "$D/mt.log"
fi
hn_summary
