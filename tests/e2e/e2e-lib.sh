# shellcheck shell=bash
# tests/e2e/e2e-lib.sh: what the end-to-end tests of tests/e2e/ share; sourced, not a test.
# Built on tests/harness/ (lib, netns, dns, pki, https, postfix, redis, clamd, notify).
#
#   e2e_init NAME            harness libraries, HN_NAME; the daemons' binaries in $DKIM $AV
#                            $MT $TLSRPT (exit 1 when one is not built); exit 77 naming a
#                            missing server or tool; two network namespaces (ns_pair_up:
#                            exit 77 when they cannot be made); D = the test's temp dir;
#                            TZ=UTC (the mail log's times are the report day's)
#   A CMD...                 run CMD in the sending host's namespace
#   e2e_addr_add NS ADDR     one more address (/24) on NS's end of the veth pair
#   e2e_store_up KIND        the one store every daemon is given: redis (the harness
#                            redis-server in D/redis, unix socket only, reached through the
#                            file system from every namespace) or lmdb (directory D/state);
#                            sets STORE (the URI) and STORE_KIND
#   e2e_store_keys PREFIX    the store's keys (plain and hash) that start with PREFIX
#   e2e_start NAME BIN CONF  start `BIN -f -c CONF` in A as a service manager would
#                            (NOTIFY_SOCKET, tests/harness/notify.sh), log D/NAME.log; wait for
#                            READY=1 (30 s; 1 at once if it exits). Its PID: E2E_PID[NAME]
#   e2e_stop NAME            SIGTERM, wait up to 10 s; returns the daemon's exit status
#   e2e_dovecot DIR SOCKET USER PASSWORD
#                            Dovecot with the auth service only (no protocols), from DIR
#                            (base_dir, state_dir, log): a passwd-file with USER:PASSWORD
#                            and an auth listener at SOCKET for Postfix's smtpd
#                            (smtpd_sasl_type = dovecot), user and group postfix, 0660;
#                            started in A, waits for SOCKET (10 s); E2E_PID[dovecot]
#   e2e_submit ARGS...       tests/e2e/e2e_submit.py ARGS in A; its line also in
#                            D/submit.log; its exit status (0 accepted, 4/5 refused 4xx/5xx)
#   e2e_dkim_verify FILE N   dkimpy (tests/integration/dkim_verify.py) in A, keys from A's
#                            validating resolver: at least N signatures, every one passes

[ -n "${E2E_LIB_LOADED:-}" ] && return 0
E2E_LIB_LOADED=1
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "${POSTWARDEN_HARNESS:-$E2E_DIR/../harness}/lib.sh"
. "$HN_HARNESS/netns.sh"
. "$HN_HARNESS/dns.sh"
. "$HN_HARNESS/pki.sh"
. "$HN_HARNESS/https.sh"
. "$HN_HARNESS/postfix.sh"
. "$HN_HARNESS/redis.sh"
. "$HN_HARNESS/clamd.sh"
. "$HN_HARNESS/notify.sh"
declare -gA E2E_PID=()

e2e_init() {
	local b
	HN_NAME=$1
	export TZ=UTC
	DKIM=${POSTWARDEN_BUILD:-}/milter-dkim/milter-dkim
	AV=${POSTWARDEN_BUILD:-}/milter-av/milter-av
	MT=${POSTWARDEN_BUILD:-}/policyd-mtasts/policyd-mtasts
	TLSRPT=${POSTWARDEN_BUILD:-}/tlsrpt/tlsrpt
	for b in "$DKIM" "$AV" "$MT" "$TLSRPT"; do
		[ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }
	done
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, Postfix)"; exit 77; }
	hn_require ip postfix postconf postmap postqueue nginx openssl curl python3 knotd keymgr \
		knotc unbound dig clamd sigtool socat xxd dovecot
	/usr/bin/python3 -c 'import dkim, dns.resolver' 2>/dev/null ||
		{ echo "SKIP: dkimpy (python3-dkim) not installed"; exit 77; }
	ns_pair_up pwe # exits 77 when namespaces cannot be made
	hn_tmpdir D "$1"
}

A() { ns_exec "$NS_A" "$@"; }

e2e_addr_add() {
	local dev
	dev=$(ip -n "$1" -o link show type veth | awk -F': ' '{ sub(/@.*/, "", $2); print $2; exit }')
	[ -n "$dev" ] || { hn_log "no veth in namespace $1"; return 1; }
	ip -n "$1" addr add "$2/24" dev "$dev"
}

e2e_store_up() {
	STORE_KIND=$1
	case "$1" in
	redis)
		hn_require redis-server redis-cli
		redis_up "$D/redis" || hn_die "redis-server did not start"
		STORE="redis+unix://$D/redis/redis.sock"
		;;
	lmdb)
		hn_require mdb_dump
		mkdir -p "$D/state"
		chown nobody:nogroup "$D/state"
		chmod 2770 "$D/state"
		# shellcheck disable=SC2034 # read by the tests
		STORE="lmdb:$D/state"
		;;
	*) hn_die "store kind $1: want redis or lmdb" ;;
	esac
}

e2e_store_keys() {
	case "$STORE_KIND" in
	redis) redis_cli "$D/redis" --scan --pattern "$1*" ;;
	lmdb)
		# mdb_dump -p: one key line then one value line, each indented by one blank
		local db
		for db in kv hash; do
			mdb_dump -p -s "$db" "$D/state" 2>/dev/null | sed -n '/^HEADER=END/,$p' |
				sed -n '2~2{s/^ //;s/\\1f.*//;p}' | awk -v p="$1" 'index($0, p) == 1'
		done | sort -u
		;;
	esac
}

e2e_start() {
	local name=$1 bin=$2 conf=$3 mark
	notify_up "$D" || return 1
	mark=$(notify_mark "$D")
	NOTIFY_SOCKET=$D/notify.sock ip netns exec "$NS_A" "$bin" -f -c "$conf" \
		>>"$D/$name.log" 2>&1 &
	E2E_PID[$name]=$!
	hn_on_exit hn_stop "$!" 10
	notify_wait "$D" "$mark" READY=1 "$!" 30
}

e2e_stop() {
	local pid=${E2E_PID[$1]}
	kill -TERM "$pid" 2>/dev/null || return 1
	# shellcheck disable=SC2016 # eval expands it
	hn_wait 10 eval '! hn_alive "$pid"' || return 1
	wait "$pid"
}

e2e_dovecot() {
	local d=$1 sock=$2
	mkdir -p "$d/run" "$d/state"
	printf '%s:{PLAIN}%s\n' "$3" "$4" >"$d/passwd"
	chgrp dovecot "$d/passwd" # Dovecot's auth process runs as its internal user, dovecot
	chmod 640 "$d/passwd"
	cat >"$d/dovecot.conf" <<-EOF
		# the auth service only: Postfix's SASL backend (smtpd_sasl_type = dovecot)
		instance_name = e2e-$$
		base_dir = $d/run
		state_dir = $d/state
		log_path = $d/dovecot.log
		protocols =
		ssl = no
		auth_mechanisms = plain
		disable_plaintext_auth = no
		passdb {
		  driver = passwd-file
		  args = scheme=PLAIN username_format=%u $d/passwd
		}
		userdb {
		  driver = static
		  args = uid=nobody gid=nogroup home=/nonexistent
		}
		service auth {
		  unix_listener $sock {
		    mode = 0660
		    user = postfix
		    group = postfix
		  }
		}
	EOF
	A dovecot -F -c "$d/dovecot.conf" >>"$d/stdout" 2>&1 &
	E2E_PID[dovecot]=$!
	hn_on_exit hn_stop "$!" 10
	hn_wait 10 test -S "$sock" || { cat "$d/stdout" "$d/dovecot.log" >&2; return 1; }
}

e2e_submit() {
	local out rc
	out=$(A /usr/bin/python3 "$E2E_DIR/e2e_submit.py" "$@")
	rc=$?
	printf '%s -> %s\n' "$*" "$out" >>"$D/submit.log"
	printf '%s\n' "$out" >&2
	return $rc
}

e2e_dkim_verify() {
	A /usr/bin/python3 "$E2E_DIR/../integration/dkim_verify.py" 127.0.0.1@53 "$2" <"$1"
}
