#!/bin/bash
# systemd-activation.sh: socket activation of all four daemons as their units run them.
# Each daemon runs from the build tree under systemd-socket-activate (systemd 252 creates
# the socket, starts the daemon on the first connection or datagram and passes
# NOTIFY_SOCKET with -E), as an unprivileged user (nobody, as systemd's User= does) with
# `user =`/`group =` naming a user and a group that do not exist: the skeleton must skip
# the privilege drop when not started as root (under the units' ~@privileged filter
# setgroups/setuid/chown fail). For each daemon:
#  - the first connection (a datagram for tlsrpt) starts it: READY=1 on the harness's
#    NOTIFY_SOCKET, and it is served through the inherited socket (milters: libmilter's
#    fd:N, miltertest session; policyd-mtasts: LISTEN_FDS, a socketmap query; tlsrpt:
#    LISTEN_FDS, a libtlsrpt datagram counted in `tlsrpt status`); its own `listen =`
#    path is never created;
#  - the unit's ExecReload= signal (read from packaging/systemd/<daemon>.service):
#    RELOADING=1 then READY=1, and it still serves;
#  - the unit's KillSignal=: STOPPING=1, exit 0.
# Control: as root, the same config (a user that does not exist) stops the start (78).
set -u
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/notify.sh"
. "$HN_HARNESS/clamd.sh"
HN_NAME=systemd-activation
SRC=${POSTWARDEN_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${POSTWARDEN_BUILD:-$SRC/build}
UNITS=$SRC/packaging/systemd
hn_require systemd-socket-activate setpriv miltertest python3 clamd
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (runs each daemon as nobody)"; exit 1; }
for b in milter-dkim milter-av policyd-mtasts tlsrpt; do
	[ -x "$BUILD/$b/$b" ] || { echo "FAIL: $BUILD/$b/$b not built"; exit 1; }
done
hn_tmpdir D systemd-activation
NOUSER=pw-no-such-user
NOGROUP=pw-no-such-group
if getent passwd "$NOUSER" >/dev/null || getent group "$NOGROUP" >/dev/null; then
	hn_die "$NOUSER or $NOGROUP exists"
fi

# as_nobody CMD...: CMD as nobody:nogroup, no supplementary groups (systemd's User=)
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
# unit_signal DAEMON KEY: the signal the unit sends: ExecReload's kill -SIG, or KillSignal=
unit_signal() {
	case $2 in
	reload) sed -n 's/^ExecReload=.*kill -\([A-Z0-9]*\) .*/\1/p' "$UNITS/$1.service" ;;
	stop) sed -n 's/^KillSignal=SIG\([A-Z0-9]*\)$/\1/p' "$UNITS/$1.service" ;;
	esac
}
# unit_listen DAEMON: the socket unit's Listen*= line ("ListenStream=/path")
unit_listen() { grep -E '^Listen(Stream|Datagram)=' "$UNITS/$1.socket"; }
# states DIR MARK: the RELOADING/READY/STOPPING fields after MARK, on one line
states() { notify_fields "$1" "$2" | grep -E '^(RELOADING|READY|STOPPING)=' | tr '\n' ' '; }
# gone PID: PID exited within 15 s; its exit status in EXIT_RC
gone() {
	hn_wait 15 bash -c '! kill -0 "$1" 2>/dev/null || grep -q ") Z " "/proc/$1/stat"' _ "$1" ||
		return 1
	wait "$1" 2>/dev/null
	EXIT_RC=$?
}
# mkdirs DIR: DIR with run/ (the socket) and state/ (the store), owned by nobody
mkdirs() {
	mkdir -p "$1/run" "$1/state"
	chown nobody:nogroup "$1/run" "$1/state"
}
# common_conf DIR: the keys every daemon has; `listen =` a path activation must not use
common_conf() {
	echo "listen = unix:$1/run/own.sock"
	echo "user = $NOUSER"
	echo "group = $NOGROUP"
	echo "listen_group = $NOGROUP"
	echo "store = lmdb:$1/state"
}

# activate NAME DIR SOCK [--datagram] -- CMD...: CMD as nobody under systemd-socket-activate
# listening on SOCK, NOTIFY_SOCKET=DIR/notify.sock; its PID (the daemon's, once started:
# systemd-socket-activate execs it) in PID, the notify mark before the start in MARK
activate() {
	local name=$1 dir=$2 sock=$3 dgram=()
	shift 3
	[ "$1" = --datagram ] && { dgram=(--datagram); shift; }
	[ "$1" = -- ] && shift
	notify_up "$dir" || return 1
	MARK=$(notify_mark "$dir")
	systemd-socket-activate "${dgram[@]}" -l "$sock" -E NOTIFY_SOCKET="$dir/notify.sock" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@" >>"$dir/$name.log" 2>&1 &
	PID=$!
	hn_on_exit hn_stop "$PID"
	hn_wait 10 test -S "$sock"
}

# lifecycle NAME DIR SERVE: after the daemon (PID) reported READY=1, the unit's reload
# signal (RELOADING=1 then READY=1, SERVE succeeds again), then its stop signal.
lifecycle() {
	local name=$1 dir=$2 serve=$3 rsig ssig m
	rsig=$(unit_signal "$name" reload)
	ssig=$(unit_signal "$name" stop)
	hn_check "$name: the unit has ExecReload= ($rsig) and KillSignal= ($ssig)" \
		test -n "$rsig" -a -n "$ssig"
	hn_check "$name:   runs as nobody (no privilege drop attempted)" bash -c \
		'[ "$(awk "/^Uid:/{print \$2}" /proc/$1/status)" = "$(id -u nobody)" ]' _ "$PID"
	hn_check "$name:   its own listen = path was not bound" test ! -e "$dir/run/own.sock"
	m=$(notify_mark "$dir")
	kill -"$rsig" "$PID"
	hn_check "$name: SIG$rsig (ExecReload=): READY=1 again" notify_wait "$dir" "$m" READY=1 "$PID"
	hn_check "$name:   RELOADING=1 then READY=1" test "$(states "$dir" "$m")" = "RELOADING=1 READY=1 "
	hn_check "$name:   reloaded, not kept the old configuration" \
		grep -q 'configuration reloaded' "$dir/$name.log"
	hn_check "$name:   serves after the reload" "$serve"
	m=$(notify_mark "$dir")
	kill -"$ssig" "$PID"
	hn_check "$name: SIG$ssig (KillSignal=): STOPPING=1" notify_wait "$dir" "$m" STOPPING=1 "" 15
	hn_check "$name:   exits" gone "$PID"
	hn_check "$name:   exit status 0" test "${EXIT_RC:-x}" = 0
	hn_check "$name:   STOPPING=1 is the last state" test "$(states "$dir" "$m")" = "STOPPING=1 "
	if [ "$HN_FAILED" -ne 0 ]; then
		echo "--- $name.log"; tail -n 40 "$dir/$name.log"
		echo "--- $name notify.log"; cat "$dir/notify.log"
	fi
}

# A miltertest session: connect, MAIL, RCPT, headers, a body, end of message; every
# reply is continue until the milter accepts the message (milter-dkim accepts an
# unauthenticated sender at MAIL: it has nothing to sign). The negotiation offers what
# Debian 12's miltertest can skip (tests/integration/dkim/session.lua says why).
cat >"$D/session.lua" <<'LUA'
local conn = mt.connect(SOCK, 100, 0.1)
if conn == nil then error("connect failed") end
if mt.negotiate(conn, 6, 0x811B7, 0x1FF) ~= nil then error("negotiate") end
local steps = {
  { "conninfo", function() return mt.conninfo(conn, "client.example", "127.0.0.1") end },
  { "mailfrom", function()
      mt.macro(conn, SMFIC_MAIL, "i", "ACT123")
      return mt.mailfrom(conn, "sender@example.org") end },
  { "rcptto", function() return mt.rcptto(conn, "rcpt@example.test") end },
  { "header", function() return mt.header(conn, "From", "sender@example.org") end },
  { "eoh", function() return mt.eoh(conn) end },
  { "body", function() return mt.bodystring(conn, "hello, nothing to see here\r\n") end },
  { "eom", function() return mt.eom(conn) end },
}
for _, s in ipairs(steps) do
  if s[2]() ~= nil then error(s[1] .. " failed") end
  local r = mt.getreply(conn)
  if r == SMFIR_ACCEPT then
    print("accepted at " .. s[1])
    mt.disconnect(conn)
    return
  end
  if r ~= SMFIR_CONTINUE then error(s[1] .. ": reply " .. tostring(r)) end
end
error("not accepted at the end of the message")
LUA
# milter_session DIR SOCK NAME: one session through the socket activation made
milter_session() {
	echo "--- session" >>"$1/mt.log"
	timeout 60 miltertest -D SOCK="unix:$2" -s "$D/session.lua" >>"$1/mt.log" 2>&1
}

# activated_milter NAME DIR BIN CONF: BIN -f -c CONF under systemd-socket-activate on
# DIR/run/milter.sock; not started before the first connection, which is a milter session;
# READY=1; libmilter took the inherited socket (fd:3)
activated_milter() {
	local name=$1 dir=$2 bin=$3 conf=$4
	hn_check "$name: socket made by systemd-socket-activate" \
		activate "$name" "$dir" "$dir/run/milter.sock" -- "$bin" -f -c "$conf"
	hn_check "$name:   not started before the first connection" \
		test "$(notify_mark "$dir")" = "$MARK"
	hn_check "$name: first connection: a milter session" \
		milter_session "$dir" "$dir/run/milter.sock"
	hn_check "$name:   READY=1" notify_wait "$dir" "$MARK" READY=1 "$PID" 30
	hn_check "$name:   took the socket from systemd (libmilter fd:3)" \
		grep -q 'listening on systemd socket fd 3' "$dir/$name.log"
}

# --- milter-dkim: keys made (as nobody) by keygen, the socket as fd:3 through libmilter
DK=$D/dkim
mkdirs "$DK"
mkdir -m 700 "$DK/keys"
chown nobody:nogroup "$DK/keys"
{
	common_conf "$DK"
	echo "keydir = $DK/keys"
	echo "resolver = 127.0.0.1@1"
	echo "dns_timeout = 1s" # nothing answers there: the DNS gate gives up sooner
	echo "[example.org]"
	echo "selectors = act"
} >"$DK/dkim.conf"
DKIM=$BUILD/milter-dkim/milter-dkim
hn_check "milter-dkim: the unit listens where main.cf looks" \
	test "$(unit_listen milter-dkim)" = "ListenStream=/var/spool/postfix/milter-dkim/milter.sock"
hn_check "milter-dkim: keygen as nobody (user = $NOUSER: no drop tried)" \
	as_nobody "$DKIM" -c "$DK/dkim.conf" keygen
"$DKIM" -f -c "$DK/dkim.conf" >"$DK/root.log" 2>&1
rc=$?
hn_check "control: started as root, user = $NOUSER stops the start (78)" test $rc = 78
hn_check "control:   the log names the failed drop" grep -q "cannot drop privileges" "$DK/root.log"
rm -f "$DK/run/own.sock"
activated_milter milter-dkim "$DK" "$DKIM" "$DK/dkim.conf"
serve_dkim() { milter_session "$DK" "$DK/run/milter.sock"; }
lifecycle milter-dkim "$DK" serve_dkim

# --- milter-av: clamd from the harness
AV=$D/av
mkdirs "$AV"
hn_check "milter-av: clamd up" clamd_up "$D/clamd"
{
	common_conf "$AV"
	echo "clamd = unix:$D/clamd/clamd.sock"
} >"$AV/av.conf"
MAV=$BUILD/milter-av/milter-av
hn_check "milter-av: the unit listens where main.cf looks" \
	test "$(unit_listen milter-av)" = "ListenStream=/var/spool/postfix/milter-av/milter.sock"
activated_milter milter-av "$AV" "$MAV" "$AV/av.conf"
serve_av() { milter_session "$AV" "$AV/run/milter.sock"; }
lifecycle milter-av "$AV" serve_av

# --- policyd-mtasts: LISTEN_FDS, a socketmap query (no DNS here: NOTFOUND or TEMP)
MT=$D/mtasts
mkdirs "$MT"
{
	common_conf "$MT"
	echo "resolver = 127.0.0.1@1"
	echo "dane_mode = off"
	echo "fetch_timeout = 2s"
} >"$MT/mtasts.conf"
PMT=$BUILD/policyd-mtasts/policyd-mtasts
hn_check "policyd-mtasts: the unit listens where main.cf looks" \
	test "$(unit_listen policyd-mtasts)" = "ListenStream=/var/spool/postfix/private/mtasts"
# socketmap_query: one request, a well-formed socketmap reply (OK, NOTFOUND or TEMP)
socketmap_query() {
	local a
	a=$(timeout 30 python3 "$SRC/tests/integration/smask.py" "$MT/run/mtasts.sock" postfix \
		example.test 2>>"$MT/smask.err") || return 1
	echo "reply: $a" >>"$MT/smask.err"
	[[ $a == OK* || $a == NOTFOUND* || $a == TEMP* ]]
}
hn_check "policyd-mtasts: socket made by systemd-socket-activate" \
	activate policyd-mtasts "$MT" "$MT/run/mtasts.sock" -- "$PMT" -f -c "$MT/mtasts.conf"
hn_check "policyd-mtasts:   not started before the first connection" \
	test "$(notify_mark "$MT")" = "$MARK"
hn_check "policyd-mtasts: first connection: a socketmap answer" socketmap_query
hn_check "policyd-mtasts:   READY=1" notify_wait "$MT" "$MARK" READY=1 "$PID" 30
hn_check "policyd-mtasts:   took the socket from systemd (LISTEN_FDS)" \
	grep -q 'listening on systemd socket fd 3' "$MT/policyd-mtasts.log"
lifecycle policyd-mtasts "$MT" socketmap_query

# --- tlsrpt: LISTEN_FDS, a libtlsrpt datagram (captured from Postfix) counted
TR=$D/tlsrpt
mkdirs "$TR"
{
	common_conf "$TR"
	echo "report_time = off"
	echo "listen_mode = 0660"
} >"$TR/tlsrpt.conf"
TLSRPT=$BUILD/tlsrpt/tlsrpt
DGRAM=$SRC/tests/fuzz/corpus/tlsrpt_datagram/captured-d2-no-policy
hn_check "tlsrpt: the unit listens where main.cf looks" \
	test "$(unit_listen tlsrpt)" = "ListenDatagram=/var/spool/postfix/run/tlsrpt/tlsrpt.sock"
# send_dgram: one datagram of the captured file to the activated socket
send_dgram() {
	python3 - "$TR/run/tlsrpt.sock" "$DGRAM" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(open(sys.argv[2], "rb").read(), sys.argv[1])
PY
}
# counted N: `tlsrpt status` (as nobody) shows N sessions of d2.test today
counted() {
	as_nobody "$TLSRPT" -c "$TR/tlsrpt.conf" status >"$TR/status.out" 2>&1
	grep -qE "^  d2\.test +no-policy-found +success $1, failure 0\$" "$TR/status.out"
}
hn_check "tlsrpt: socket made by systemd-socket-activate --datagram" \
	activate tlsrpt "$TR" "$TR/run/tlsrpt.sock" --datagram -- "$TLSRPT" -f -c "$TR/tlsrpt.conf"
hn_check "tlsrpt:   not started before the first datagram" test "$(notify_mark "$TR")" = "$MARK"
# as with SocketUser=tlsrpt, SocketMode=0640: the socket is the daemon's user's, its mode
# systemd's; listen_mode is for a socket the daemon binds itself
chown nobody "$TR/run/tlsrpt.sock" && chmod 0640 "$TR/run/tlsrpt.sock"
hn_check "tlsrpt: first datagram sent" send_dgram
hn_check "tlsrpt:   READY=1" notify_wait "$TR" "$MARK" READY=1 "$PID" 30
hn_check "tlsrpt:   took the socket from systemd (LISTEN_FDS)" \
	grep -q 'listening on systemd datagram socket fd 3' "$TR/tlsrpt.log"
hn_check "tlsrpt:   the datagram is counted (tlsrpt status)" hn_wait 20 counted 1
hn_check "tlsrpt:   listen_mode left to the socket unit: still 0640, no chmod tried" bash -c \
	'test "$(stat -c %a "$1")" = 640 && ! grep -q "cannot set listen_mode" "$2"' \
	_ "$TR/run/tlsrpt.sock" "$TR/tlsrpt.log"
serve_tlsrpt() { send_dgram && hn_wait 20 counted 2; }
lifecycle tlsrpt "$TR" serve_tlsrpt
hn_check "tlsrpt: counted once more after the stop's flush, nothing lost" counted 2

# --- not socket-activated, as nobody: the daemon binds `listen =` itself and sets no
# owner or group (listen_group = a group that does not exist: as root that is a warning)
bound_unprivileged() {
	local m
	notify_up "$TR" || return 1
	m=$(notify_mark "$TR")
	: >"$TR/bound.log"
	NOTIFY_SOCKET=$TR/notify.sock as_nobody "$TLSRPT" -f -c "$TR/tlsrpt.conf" >>"$TR/bound.log" 2>&1 &
	PID=$!
	hn_on_exit hn_stop "$PID"
	notify_wait "$TR" "$m" READY=1 "$PID" 30 && test -S "$TR/run/own.sock"
}
hn_check "tlsrpt as nobody, binding listen = itself: READY=1" bound_unprivileged
hn_check "  no chown tried (no 'cannot set mode/group')" bash -c \
	'grep -q "listening on unix:" "$1" && ! grep -q "cannot set mode/group" "$1"' _ "$TR/bound.log"
hn_check "  the socket is nobody's, mode listen_mode (0660)" test \
	"$(stat -c %U:%a "$TR/run/own.sock")" = nobody:660
hn_check "  stops" hn_stop "$PID" 10
[ "$HN_FAILED" -eq 0 ] || { cat "$TR/status.out"; cat "$MT/smask.err" 2>/dev/null; }
hn_summary
