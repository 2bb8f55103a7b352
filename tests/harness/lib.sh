# shellcheck shell=bash
# tests/harness/lib.sh: the helpers every harness script and integration test uses.
#
#   . "$POSTWARDEN_HARNESS/lib.sh"   (or: . "$(dirname "$0")/../harness/lib.sh")
#
# Process control that copes with the lazy zombie reaping of this machine's PID 1
# (a killed orphan stays in state Z for ~2 s, so `kill -0` lies: we read /proc/PID/stat),
# bounded waits, free loopback ports, temp dirs, one cleanup stack run from one EXIT
# trap, skip handling (exit 77), and PASS/FAIL bookkeeping with a closing
# "N passed, N failed" line.
#
# Every function is safe under `set -eu`. Nothing here reaches outside 127.0.0.0/8.
# Environment: HN_KEEP=1 keeps temp dirs (printed at exit) for post-mortems.
# Scripts register teardown with hn_on_exit and never set an EXIT/INT/TERM trap themselves.

[ -n "${HN_LIB_LOADED:-}" ] && return 0
HN_LIB_LOADED=1
# shellcheck disable=SC2034 # for the scripts that source this file
HN_HARNESS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# --- messages ---------------------------------------------------------------------------

hn_log() { printf '%s: %s\n' "${HN_NAME:-harness}" "$*" >&2; }
hn_die() { hn_log "ERROR: $*"; exit 1; }

HN_PASSED=0
HN_FAILED=0
HN_SKIPPED=0
# hn_pass NAME / hn_fail NAME [DETAIL] / hn_skip NAME WHY: one result line each, counted.
hn_pass() { HN_PASSED=$((HN_PASSED + 1)); printf 'PASS: %s\n' "$1"; }
hn_fail() { HN_FAILED=$((HN_FAILED + 1)); printf 'FAIL: %s%s\n' "$1" "${2:+ ($2)}"; }
hn_skip() { HN_SKIPPED=$((HN_SKIPPED + 1)); printf 'SKIP: %s%s\n' "$1" "${2:+ ($2)}"; }
# hn_check NAME CMD...: run CMD (output to stderr), PASS if it succeeds, else FAIL.
hn_check() {
	local name=$1
	shift
	if "$@" >&2; then hn_pass "$name"; else hn_fail "$name" "rc=$?"; fi
}
# hn_summary: print "N passed, N failed[, N skipped]"; return 1 if anything failed.
hn_summary() {
	local s="$HN_PASSED passed, $HN_FAILED failed"
	[ "$HN_SKIPPED" -eq 0 ] || s="$s, $HN_SKIPPED skipped"
	echo "$s"
	[ "$HN_FAILED" -eq 0 ]
}

# hn_require BIN...: exit 77 (meson's skip) naming the first missing binary.
hn_require() {
	local b
	for b in "$@"; do
		if ! command -v "$b" >/dev/null 2>&1; then
			echo "SKIP: $b not installed"
			exit 77
		fi
	done
}

# --- cleanup stack ----------------------------------------------------------------------

HN_CLEANUP=()
# hn_on_exit CMD [ARG...]: push a command (run LIFO at exit, each one's failure ignored;
# its stdout is discarded, its stderr kept).
# Must be called in the main shell, not inside $(...), or the registration is lost.
hn_on_exit() {
	local q
	printf -v q '%q ' "$@"
	HN_CLEANUP+=("$q")
	hn__arm_trap
}
hn__cleanup() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	for ((i = ${#HN_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${HN_CLEANUP[i]}" >/dev/null </dev/null || true
	done
	HN_CLEANUP=()
	exit "$rc"
}
hn__arm_trap() {
	[ -n "${HN_TRAP_ARMED:-}" ] && return 0
	HN_TRAP_ARMED=1
	trap hn__cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
# hn_cleanup_now: run the stack now (tests that want to check for leftovers afterwards).
hn_cleanup_now() {
	local i
	for ((i = ${#HN_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${HN_CLEANUP[i]}" >/dev/null </dev/null || true
	done
	HN_CLEANUP=()
}

# hn_tmpdir VAR [TAG]: make a fresh directory under ${TMPDIR:-/tmp}, mode 0755 (Postfix
# daemons and nobody-owned workers must traverse it), store its path in VAR and register
# its removal (skipped when HN_KEEP=1; the path is then printed at exit).
hn_tmpdir() {
	local __d
	__d=$(mktemp -d "${TMPDIR:-/tmp}/pw-${2:-test}.XXXXXX") || hn_die "mktemp failed"
	chmod 755 "$__d"
	if [ -n "${HN_KEEP:-}" ]; then
		hn_on_exit hn_log "kept $__d"
	else
		hn_on_exit rm -rf "$__d"
	fi
	printf -v "$1" '%s' "$__d"
}

# --- processes --------------------------------------------------------------------------

# hn_alive PID: true while PID exists and is not a zombie.
hn_alive() {
	local stat
	[ -n "${1:-}" ] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ] && [ "${stat%% *}" != X ]
}

# hn_stop PID [SECONDS]: SIGTERM, wait up to SECONDS (default 5) until dead or zombie,
# then SIGKILL and wait up to 2 s more. Return 0 once gone, 1 if it would not die.
hn_stop() {
	local pid=${1:-} secs=${2:-5} i
	[ -n "$pid" ] || return 0
	hn_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < secs * 100; i++)); do
		hn_alive "$pid" || return 0
		sleep 0.01
	done
	hn_log "pid $pid ignored SIGTERM for ${secs}s: SIGKILL"
	kill -KILL "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 200; i++)); do
		hn_alive "$pid" || return 0
		sleep 0.01
	done
	return 1
}

# hn_term_wait PID: SIGTERM to a child of this shell, wait up to 10 s for it to exit;
# return its exit status (1 if it is still alive).
hn_term_wait() {
	local i
	kill -TERM "$1"
	for ((i = 0; i < 200; i++)); do hn_alive "$1" || break; sleep 0.05; done
	hn_alive "$1" && return 1
	wait "$1"
}

# hn_stop_pidfile FILE [SECONDS]: hn_stop the PID written in FILE, then remove FILE.
hn_stop_pidfile() {
	local pid
	[ -f "$1" ] || return 0
	pid=$(tr -dc '0-9' <"$1")
	hn_stop "$pid" "${2:-5}"
	local rc=$?
	rm -f "$1"
	return $rc
}

# hn_ms: milliseconds since the epoch.
hn_ms() { echo $(($(date +%s%N) / 1000000)); }

# hn_wait SECONDS CMD...: run CMD (quietly) every 10 ms until it succeeds; give up after
# SECONDS (whole seconds). Return 0 on success, 1 on timeout.
hn_wait() {
	local secs=$1 end
	shift
	end=$(($(date +%s%N) + secs * 1000000000))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.01
	done
}

# --- network (loopback only) ------------------------------------------------------------

# hn_port_in_use PORT: true if something listens on TCP PORT (any local address).
hn_port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# hn_free_port [LO HI]: print a TCP port in LO..HI (default 20000..32767, below the
# kernel's ephemeral range 32768..60999, so a client socket of a parallel test cannot take
# it between this check and the bind) that nothing listens on. Random so parallel tests
# rarely pick the same one.
hn_free_port() {
	local lo=${1:-20000} hi=${2:-32767} p i
	for ((i = 0; i < 100; i++)); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
		hn_port_in_use "$p" || { echo "$p"; return 0; }
	done
	hn_log "no free port in $lo..$hi"
	return 1
}

# hn_banner HOST PORT [PREFIX]: connect, read one line, succeed if it starts with PREFIX
# (default "220"). Uses bash's /dev/tcp; bounded to 2 s.
hn_banner() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 2 l <&3 && [[ $l == "$3"* ]]' \
		_ "$1" "$2" "${3:-220}"
}

# hn_procs_matching STRING: PIDs of live processes (not this shell) whose command line or
# environment contains STRING (e.g. a test's temp dir: Postfix children carry
# MAIL_CONFIG=DIR/etc). Used to prove that cleanup left nothing running.
hn_procs_matching() {
	local f pid
	for f in $(grep -slF -- "$1" /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%%/*}
		[ "$pid" != $$ ] && [ "$pid" != "$BASHPID" ] || continue
		hn_alive "$pid" || continue
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != grep ] || continue
		echo "$pid"
	done | sort -u
}
