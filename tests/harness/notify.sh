# shellcheck shell=bash
# tests/harness/notify.sh: a service manager's notification socket for one daemon, so a
# test waits for READY=1 (sd_notify(3)) instead of guessing from a socket file or a log
# line, and can check RELOADING=1 / READY=1 / STOPPING=1 / STATUS= as systemd sees them.
#
#   notify_up DIR         start a listener on DIR/notify.sock (AF_UNIX datagrams, mode
#                         0666: the daemon sends as its service user); each datagram
#                         becomes one line of DIR/notify.log, its fields ("READY=1",
#                         "STATUS=...") separated by tabs. Idempotent; stopped at exit.
#                         Start the daemon with NOTIFY_SOCKET=DIR/notify.sock.
#   notify_mark DIR       the number of datagrams received so far (a point to wait from)
#   notify_wait DIR MARK FIELD PID [SECONDS]
#                         wait (default 10 s) for a datagram after MARK with a field
#                         matching FIELD (a shell pattern: READY=1, STATUS=serving*).
#                         Returns 1 at once if PID (when not empty) exits first.
#   notify_fields DIR MARK  every field received after MARK, one per line, in order
#   notify_start DIR LOG CMD...
#                         start CMD in the background with NOTIFY_SOCKET=DIR/notify.sock,
#                         output appended to LOG; its pid in PID (stopped at exit); wait
#                         30 s for its READY=1 (as notify_wait)
#
# Sourced after lib.sh. Needs python3.

[ -n "${HN_NOTIFY_LOADED:-}" ] && return 0
HN_NOTIFY_LOADED=1

notify_up() {
	local d=$1
	if [ -f "$d/notify.pid" ] && hn_alive "$(tr -dc 0-9 <"$d/notify.pid")"; then
		return 0
	fi
	mkdir -p "$d"
	rm -f "$d/notify.sock"
	: >>"$d/notify.log"
	python3 - "$d/notify.sock" "$d/notify.log" <<'PY' &
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path + ".new")
os.chmod(path + ".new", 0o666)
os.rename(path + ".new", path)
with open(log, "a") as out:
    while True:
        msg = s.recv(65536).decode("utf-8", "replace")
        out.write("\t".join(f for f in msg.split("\n") if f) + "\n")
        out.flush()
PY
	echo $! >"$d/notify.pid"
	hn_on_exit hn_stop_pidfile "$d/notify.pid"
	hn_wait 5 test -S "$d/notify.sock" || { hn_log "notify listener in $d did not start"; return 1; }
}

notify_mark() { wc -l <"$1/notify.log"; }

notify_fields() { tail -n +"$(($2 + 1))" "$1/notify.log" | tr '\t' '\n'; }

# notify__seen DIR MARK FIELD: a field after MARK matches FIELD.
notify__seen() {
	local f
	while IFS= read -r f; do
		# shellcheck disable=SC2053 # FIELD is a pattern
		[[ $f == $3 ]] && return 0
	done < <(notify_fields "$1" "$2")
	return 1
}

notify_wait() {
	local d=$1 mark=$2 field=$3 pid=$4 secs=${5:-10} end
	end=$(($(date +%s%N) + secs * 1000000000))
	while :; do
		notify__seen "$d" "$mark" "$field" && return 0
		if [ -n "$pid" ] && ! hn_alive "$pid"; then
			notify__seen "$d" "$mark" "$field" && return 0
			hn_log "pid $pid exited before $field"
			return 1
		fi
		[ "$(date +%s%N)" -lt "$end" ] || { hn_log "no $field within ${secs}s"; return 1; }
		sleep 0.01
	done
}

notify_start() {
	local dir=$1 log=$2 mark
	shift 2
	notify_up "$dir" || return 1
	mark=$(notify_mark "$dir")
	NOTIFY_SOCKET=$dir/notify.sock "$@" >>"$log" 2>&1 &
	PID=$!
	hn_on_exit hn_stop "$PID"
	notify_wait "$dir" "$mark" READY=1 "$PID" 30
}
