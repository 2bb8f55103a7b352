# shellcheck shell=bash
# dkim-lib.sh: what the milter-dkim integration tests (dkim-*.sh) share; sourced, not a test.
#
#   dk_init NAME           harness libs, DKIM=<milter-dkim binary> (exit 1 if not built),
#                          D=<temp dir> with keys/, run/, state/ owned by nobody
#   dk_dns                 start the harness DNS in $D/dns; RESOLVER=127.0.0.1@PORT
#   dk_conf FILE           write a config: the common globals (socket, nobody, keydir, store
#                          $DK_STORE or lmdb in $D/state, resolver) then stdin
#   dk_publish CONF [DOM]  publish every uncommented `milter-dkim dns` line in the harness DNS
#   dk_start CONF          start the daemon in the foreground (log: $D/dkim.log) with
#                          NOTIFY_SOCKET=$D/notify.sock (tests/harness/notify.sh), wait for
#                          READY=1; DK_PID, DK_NOTIFY_MARK (the notify_mark before the
#                          start). Returns 1 if it exits or is not ready within 30 s.
#   dk_reload              SIGUSR1 and wait for the next "configuration reloaded" or
#                          "reload failed" line (DNS re-check included)
#   dk_mt LUA [NAME=VAL..] run a miltertest script against the socket (output: $D/mt.log)
#   dk_verify FILE [N]     dkimpy: at least N signatures, all pass
#   dk_verify_pl FILE [N]  Mail::DKIM: at least N rsa-sha256 signatures, all pass
#   dk_dump                print the daemon log and miltertest log (on failure)

. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/dns.sh"
. "$HN_HARNESS/notify.sh"
DK_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

dk_init() {
	HN_NAME=$1
	DKIM=${DKIM:-${POSTWARDEN_BUILD:-}/milter-dkim/milter-dkim}
	[ -x "$DKIM" ] || { echo "FAIL: milter-dkim not built ($DKIM)"; exit 1; }
	hn_require miltertest knotd unbound dig
	[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import dkim, dns.resolver' 2>/dev/null ||
		{ echo "SKIP: dkimpy (python3-dkim) not installed"; exit 77; }
	hn_tmpdir D "$1"
	mkdir "$D/keys" "$D/run" "$D/state"
	chmod 700 "$D/keys"
	if [ "$(id -u)" = 0 ]; then
		chown nobody:nogroup "$D/keys" "$D/run" "$D/state"
		DK_USER=nobody
	else
		DK_USER=$(id -un)
	fi
	SOCK=$D/run/milter.sock
	DK_RELOADS=0
}

dk_dns() {
	dns_up "$D/dns"
	RESOLVER=$DNS_FORWARDER
}

dk_conf() {
	local f=$1
	{
		echo "listen = unix:$SOCK:0666"
		echo "user = $DK_USER"
		echo "group = $(id -gn "$DK_USER")"
		echo "store = ${DK_STORE:-lmdb:$D/state}"
		echo "keydir = $D/keys"
		echo "resolver = ${RESOLVER:-127.0.0.1@1}"
		# no harness DNS: nothing answers there, so the DNS gate gives up after 1 s, not 5
		[ -n "${RESOLVER:-}" ] || echo "dns_timeout = 1s"
		echo "trust_anchor = ${DNS_TA:-}"
		cat
	} >"$f"
}

# dk_records CONF [DOM]: the uncommented `dns` lines as "NAME TTL TXT RDATA".
dk_records() {
	"$DKIM" -c "$1" dns ${2:+"$2"} | grep -v '^;' |
		sed -E 's/^([^ ]+) IN TXT \( (.*) \) ;.*$/\1 5 TXT \2/'
}

# dk_visible NAME RDATA: the validating resolver answers NAME TXT with exactly RDATA (quotes
# and blanks ignored). Its cache, aggressive NSEC included, may still hold the previous
# answer for a few seconds after a change.
dk_visible() {
	[ "$(dns__dig "$RESOLVER" "$1" TXT +short | tr -d '" \n')" = "$(tr -d '" \n' <<<"$2")" ]
}

# dk_add "NAME TTL TXT RDATA": publish and wait until the resolver serves it.
dk_add() {
	local name ttl type rdata
	read -r name ttl type rdata <<<"$1"
	dns_add_record "$D/dns" "$1" || return 1
	hn_wait 15 dk_visible "$name" "$rdata" ||
		{ hn_log "$name: not visible through $RESOLVER"; return 1; }
}

# dk_del NAME: remove NAME's TXT and wait until the resolver no longer serves it.
dk_del() {
	dns_del_record "$D/dns" "$1" TXT || return 1
	hn_wait 15 dk_visible "$1" "" || { hn_log "$1: still served by $RESOLVER"; return 1; }
}

dk_publish() {
	local rr n=0
	while IFS= read -r rr; do
		dk_add "$rr" || return 1
		n=$((n + 1))
	done < <(dk_records "$@")
	[ "$n" -gt 0 ]
}

# dk_publish_selector CONF SELECTOR DOMAIN: publish one selector's record only.
dk_publish_selector() {
	local rr
	rr=$(dk_records "$1" "$3" | grep "^$2\._domainkey\.$3\. ") || return 1
	dk_add "$rr"
}

dk_start() {
	: >>"$D/dkim.log"
	DK_LOGSTART=$(wc -l <"$D/dkim.log")
	notify_up "$D" || return 1
	DK_NOTIFY_MARK=$(notify_mark "$D")
	NOTIFY_SOCKET=$D/notify.sock "$DKIM" -f ${DK_DEBUG:+-d} -c "$1" >>"$D/dkim.log" 2>&1 &
	DK_PID=$!
	hn_on_exit hn_stop "$DK_PID"
	DK_RELOADS=$(grep -c 'configuration reloaded\|reload failed' "$D/dkim.log")
	notify_wait "$D" "$DK_NOTIFY_MARK" READY=1 "$DK_PID" 30
}

dk_reload() {
	local want=$((DK_RELOADS + 1))
	kill -USR1 "$DK_PID" || return 1
	hn_wait 30 bash -c '[ "$(grep -c "configuration reloaded\|reload failed" "$1")" -ge "$2" ]' _ \
		"$D/dkim.log" "$want" || return 1
	DK_RELOADS=$want
}

dk_mt() {
	local lua=$1 a args=()
	shift
	for a in "$@"; do args+=(-D "$a"); done
	echo "--- $lua $*" >>"$D/mt.log"
	timeout 60 miltertest -D SOCK="unix:$SOCK" "${args[@]}" -s "$lua" >>"$D/mt.log" 2>&1
}

dk_verify() {
	/usr/bin/python3 "$DK_SRC/dkim_verify.py" "$RESOLVER" "${2:-1}" <"$1"
}

dk_verify_pl() {
	perl "$DK_SRC/dkim_verify.pl" "$RESOLVER" "${2:-1}" <"$1"
}

# dk_sigs FILE: number of DKIM-Signature headers in a delivered message.
dk_sigs() { grep -ci '^DKIM-Signature:' "$1"; }

dk_dump() {
	[ "$HN_FAILED" -eq 0 ] && return 0
	echo "--- dkim.log"
	tail -n 80 "$D/dkim.log"
	[ ! -f "$D/mt.log" ] || { echo "--- mt.log"; tail -n 40 "$D/mt.log"; }
}

# dk_fails CMD...: succeed when CMD fails (for negative controls under hn_check).
dk_fails() { ! "$@"; }
