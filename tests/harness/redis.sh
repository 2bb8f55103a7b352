# shellcheck shell=bash
# tests/harness/redis.sh: a throwaway redis-server for tests.
#
#   redis_up DIR [PORT]   start redis-server in DIR: unix socket DIR/redis.sock (mode 0777,
#                         so daemons run as other users can reach it), TCP 127.0.0.1:PORT
#                         only when PORT is given (0 or none = no TCP). No persistence.
#                         Waits for PING -> PONG (10 s max). PID in DIR/redis.pid.
#                         Registers redis_down on the harness cleanup stack.
#   redis_down DIR        stop it (TERM, bounded wait, KILL); idempotent.
#   redis_cli DIR ARGS... redis-cli over the unix socket.

[ -n "${HN_REDIS_LOADED:-}" ] && return 0
HN_REDIS_LOADED=1
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

redis_up() {
	local d=$1 port=${2:-0}
	hn_require redis-server redis-cli
	mkdir -p "$d"
	d=$(realpath "$d")
	redis-server --bind 127.0.0.1 --port "$port" \
		--unixsocket "$d/redis.sock" --unixsocketperm 777 \
		--dir "$d" --save '' --appendonly no --protected-mode yes \
		--daemonize no --logfile "$d/redis.log" --loglevel warning \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$d/redis.pid"
	hn_on_exit redis_down "$d"
	if ! hn_wait 10 redis__ping "$d"; then
		hn_log "redis in $d not ready"
		tail -n 20 "$d/redis.log" >&2 2>/dev/null || true
		return 1
	fi
}

redis__ping() { [ "$(redis-cli -s "$1/redis.sock" ping 2>/dev/null)" = PONG ]; }

redis_down() { hn_stop_pidfile "$1/redis.pid"; }

redis_cli() {
	local d=$1
	shift
	redis-cli -s "$d/redis.sock" "$@"
}
