#!/bin/bash
# milters-notify.sh [MILTER_AV]: what a service manager sees of each milter through its
# notification socket (tests/harness/notify.sh): READY=1 and a STATUS= line at start;
# on SIGUSR1 RELOADING=1 (with MONOTONIC_USEC) then READY=1 and a STATUS= line saying
# reloaded, or, when the new file is bad, serving the previous configuration; STOPPING=1
# on SIGTERM, then exit 0. A daemon that exits at start is noticed at once, not after
# the harness's timeout. No clamd and no DNS: neither milter needs them to start.
set -u
. "$(dirname "$0")/dkim-lib.sh"
. "$(dirname "$0")/av-lib.sh"
[ $# -ge 1 ] && AV_BIN=$1
dk_init milters-notify
hn_require python3
av_preflight "privilege drop to nobody"

# states DIR MARK: the RELOADING/READY/STOPPING fields received after MARK, on one line
states() { notify_fields "$1" "$2" | grep -E '^(RELOADING|READY|STOPPING)=' | tr '\n' ' '; }
# status_after DIR MARK PATTERN: a STATUS= field after MARK matches PATTERN (a shell pattern)
status_after() { notify__seen "$1" "$2" "STATUS=$3"; }
# exited PID SECONDS: PID gone within SECONDS; its exit status in EXIT_RC
exited() {
	hn_wait "$2" dk_fails hn_alive "$1" || return 1
	wait "$1" 2>/dev/null
	EXIT_RC=$?
}

# reload_checks NAME DIR PID CONFPATH BREAK FIX: SIGUSR1 after FIX (a good file), then
# after BREAK (a bad one), then FIX again; each time RELOADING=1, READY=1 and the STATUS=.
reload_checks() {
	local name=$1 d=$2 pid=$3 conf=$4 break=$5 fix=$6 m
	$fix
	m=$(notify_mark "$d")
	kill -USR1 "$pid"
	hn_check "$name: SIGUSR1: READY=1 again" notify_wait "$d" "$m" READY=1 "$pid"
	hn_check "$name:   RELOADING=1 then READY=1" test "$(states "$d" "$m")" = "RELOADING=1 READY=1 "
	hn_check "$name:   RELOADING=1 carries MONOTONIC_USEC" grep -Eq \
		"^RELOADING=1	MONOTONIC_USEC=[0-9]+$" <(tail -n +"$((m + 1))" "$d/notify.log")
	hn_check "$name:   STATUS= says reloaded" \
		hn_wait 5 status_after "$d" "$m" "serving; $conf reloaded"
	$break
	m=$(notify_mark "$d")
	kill -USR1 "$pid"
	hn_check "$name: bad file: READY=1 again" notify_wait "$d" "$m" READY=1 "$pid"
	hn_check "$name:   RELOADING=1 then READY=1" test "$(states "$d" "$m")" = "RELOADING=1 READY=1 "
	hn_check "$name:   STATUS= says the previous configuration is served" hn_wait 5 \
		status_after "$d" "$m" "serving the previous configuration: reload of $conf failed"
	$fix
}

# stop_checks NAME DIR PID: SIGTERM: STOPPING=1, nothing after it but STATUS=, exit 0.
stop_checks() {
	local name=$1 d=$2 pid=$3 m
	m=$(notify_mark "$d")
	kill -TERM "$pid"
	hn_check "$name: SIGTERM: STOPPING=1" notify_wait "$d" "$m" STOPPING=1 "" 10
	hn_check "$name:   exits" exited "$pid" 10
	hn_check "$name:   exit status 0" test "${EXIT_RC:-x}" = 0
	hn_check "$name:   STOPPING=1 is the last state" test "$(states "$d" "$m")" = "STOPPING=1 "
}

# --- milter-av
AVD=$D/av
AVCL="clamd=unix:$D/no-clamd.sock"
t0=$(hn_ms)
hn_check "milter-av: READY=1 at start" av_up "$AVD" "$AVCL"
hn_log "milter-av ready in $(($(hn_ms) - t0)) ms"
AVPID=$(av_pid "$AVD")
hn_check "milter-av:   STATUS= names the configuration" \
	hn_wait 5 status_after "$AVD" "$AV_NOTIFY_MARK" "serving; configuration $AVD/av.conf"
hn_check "milter-av:   its socket is there once READY=1 came" test -S "$AVD/run/av.sock"
av_good() { av__write_conf "$AVD" "$AVCL" on_virus=tag; }
av_bad() { av__write_conf "$AVD" "$AVCL" on_virus=bogus; }
reload_checks milter-av "$AVD" "$AVPID" "$AVD/av.conf" av_bad av_good
stop_checks milter-av "$AVD" "$AVPID"
rm -f "$AVD/av.pid"

t0=$(hn_ms)
hn_check "milter-av: a bad file at start: av_up fails" dk_fails av_up "$D/avbad" "$AVCL" on_virus=bogus
hn_check "milter-av:   noticed in $(($(hn_ms) - t0)) ms (< 5 s), no READY=1" bash -c \
	'[ "$1" -lt 5000 ] && ! grep -q "READY=1" "$2"' _ "$(($(hn_ms) - t0))" "$D/avbad/notify.log"

# --- milter-dkim
dk_conf "$D/m.conf" <<EOF2
[notify.test]
selectors = n1
EOF2
hn_check "milter-dkim: keygen" "$DKIM" -c "$D/m.conf" keygen
t0=$(hn_ms)
hn_check "milter-dkim: READY=1 at start" dk_start "$D/m.conf"
hn_log "milter-dkim ready in $(($(hn_ms) - t0)) ms"
hn_check "milter-dkim:   STATUS= names the configuration" \
	hn_wait 5 status_after "$D" "$DK_NOTIFY_MARK" "serving; configuration $D/m.conf"
hn_check "milter-dkim:   its socket is there once READY=1 came" test -S "$SOCK"
dk_good() { cp "$D/m.conf" "$D/m.conf.good"; }
dk_bad() { echo "no_such_key = 1" >>"$D/m.conf"; }
dk_fix() { cp "$D/m.conf.good" "$D/m.conf"; }
dk_good
reload_checks milter-dkim "$D" "$DK_PID" "$D/m.conf" dk_bad dk_fix
stop_checks milter-dkim "$D" "$DK_PID"

cp "$D/m.conf" "$D/bad.conf"
echo "no_such_key = 1" >>"$D/bad.conf"
t0=$(hn_ms)
hn_check "milter-dkim: a bad file at start: dk_start fails" dk_fails dk_start "$D/bad.conf"
hn_check "milter-dkim:   noticed in $(($(hn_ms) - t0)) ms (< 5 s)" \
	test "$(($(hn_ms) - t0))" -lt 5000

if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- av notify.log"; cat "$AVD/notify.log"; echo "--- av.log"; tail -n 30 "$AVD/av.log"
	echo "--- dkim notify.log"; cat "$D/notify.log"; dk_dump
fi
hn_summary
