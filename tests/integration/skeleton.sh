#!/bin/bash
# skeleton.sh: the daemon skeleton and the milter runner, end to end, with the
# test daemon tests/integration/testd: flags (-V -h -n), exit codes (64, 78),
# config errors naming file:line (a bad listen endpoint too, its bytes escaped; a FIFO
# as config), -n output read back by -c, a real milter session driven by miltertest (an
# LF in MAIL FROM forges no log line), SIGUSR1 reload (good and bad config), socket mode
# and owner, privilege drop when root, a graceful SIGTERM stop while a message is in
# flight, a quick SIGUSR2 stop, logging to stderr without -f when there is no /dev/log,
# and who may take or remove the socket path (a second instance, a restart overlapping
# the old process's exit, a hand run beside a socket-activated daemon).
set -u
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
HN_NAME=skeleton
TESTD=${TESTD:-$POSTWARDEN_BUILD/tests/integration/testd}
hn_require miltertest socat
[ -x "$TESTD" ] || { echo "FAIL: $TESTD not built"; exit 1; }
hn_tmpdir D skeleton
# the socket directory belongs to the service user, as packaging/tmpfiles.d makes it
mkdir "$D/run"
[ "$(id -u)" != 0 ] || chown nobody:nogroup "$D/run"

cat >"$D/ok.conf" <<CONF
# a comment
listen = unix:$D/run/milter.sock:0666   # the socket
user = nobody
group = nogroup
greeting = first
store =
CONF

# --- flags and exit codes
hn_check "-V prints the version" bash -c '"$1" -V | grep -q "^testd [0-9]"' _ "$TESTD"
hn_check "-h lists commands and exit codes" bash -c '"$1" -h | grep -q "echo \[ARG\]" && "$1" -h | grep -q "78 config error"' _ "$TESTD"
"$TESTD" -x >/dev/null 2>&1
hn_check "bad flag exits 64" test $? -eq 64
"$TESTD" -c "$D/ok.conf" nosuchcmd >/dev/null 2>&1
hn_check "unknown command exits 64" test $? -eq 64
out=$("$TESTD" -c "$D/ok.conf" echo x)
hn_check "subcommand runs with the config" test "$out" = "greeting=first args=1"
out=$("$TESTD" -c "$D/ok.conf" built)
hn_check "a command that needs the built config gets it, as the service user" \
	test "$out" = "built greeting=first uid=$(if [ "$(id -u)" = 0 ]; then id -u nobody; else id -u; fi)"
sed 's/^greeting = first/greeting = invalid/' "$D/ok.conf" >"$D/invalid.conf"
err=$("$TESTD" -c "$D/invalid.conf" built 2>&1 >/dev/null)
rc=$?
hn_check "build() refusing a command's config: exit 78" test $rc -eq 78
hn_check "build() refusing a command's config: one line naming the file" \
	test "$err" = "testd: error: $D/invalid.conf: greeting: 'invalid' is refused by build()"

printf 'greeting = a\nbogus = 1\n' >"$D/bad.conf"
err=$("$TESTD" -c "$D/bad.conf" -n 2>&1 >/dev/null)
rc=$?
hn_check "unknown key exits 78" test $rc -eq 78
hn_check "error names file:line" bash -c '[[ $1 == *"$2:2:"* ]]' _ "$err" "$D/bad.conf"
"$TESTD" -c "$D/missing.conf" -n >/dev/null 2>&1
hn_check "missing config exits 78" test $? -eq 78
# a config path that would block (a FIFO nobody writes) is refused at once, not waited on
mkfifo "$D/fifo.conf"
err=$(timeout 10 "$TESTD" -f -c "$D/fifo.conf" 2>&1)
rc=$?
hn_check "FIFO as config: exits 78 at once" test $rc -eq 78
hn_check "FIFO as config: says why" bash -c '[[ $1 == *"fifo.conf: not a regular file"* ]]' _ "$err"

# has TEXT FIXED: TEXT contains the fixed string FIXED
has() { grep -qF -- "$2" <<<"$1"; }

# --- every listen endpoint is parsed when the config is read: exit 78 naming file:line,
# with -n too (not 69 with no line after binding)
sed 's#^listen = .*#listen = inet:localhost:99999#' "$D/ok.conf" >"$D/badlisten.conf"
err=$("$TESTD" -c "$D/badlisten.conf" -n 2>&1 >/dev/null)
rc=$?
hn_check "-n: bad listen exits 78" test $rc -eq 78
hn_check "-n: bad listen names file:line and the endpoint" \
	has "$err" "$D/badlisten.conf:2: listen: bad endpoint 'inet:localhost:99999'"
err=$("$TESTD" -f -c "$D/badlisten.conf" 2>&1)
rc=$?
hn_check "start: bad listen exits 78" test $rc -eq 78
hn_check "start: bad listen names file:line and the endpoint" \
	has "$err" "$D/badlisten.conf:2: listen: bad endpoint 'inet:localhost:99999'"
sed "s#^listen = .*#listen = unix:$D/run/a.sock unix:$D/run/b.sock#" "$D/ok.conf" >"$D/twolisten.conf"
err=$("$TESTD" -c "$D/twolisten.conf" -n 2>&1 >/dev/null)
rc=$?
hn_check "-n: two listen endpoints for a milter exit 78" test $rc -eq 78
hn_check "-n: two listen endpoints named at file:line" \
	has "$err" "$D/twolisten.conf:2: listen: a milter takes one endpoint, not 2"
printf 'greeting = a\nlisten = unix:rel\001\033[2J\377\n' >"$D/badbytes.conf"
err=$("$TESTD" -c "$D/badbytes.conf" -n 2>&1 >/dev/null)
rc=$?
hn_check "unprintable bytes in a bad listen: exit 78" test $rc -eq 78
hn_check "unprintable config bytes are escaped in the error" \
	has "$err" "badbytes.conf:2: listen: bad endpoint 'unix:rel\x01\x1b[2J\xff'"
hn_check "no raw control byte in the error" bash -c '! LC_ALL=C grep -q "[[:cntrl:]]" <<<"$1"' _ "$err"

# --- -n prints the effective config, defaults included, and -c reads it back
"$TESTD" -c "$D/ok.conf" -n >"$D/n1.conf"
hn_check "-n includes defaults" grep -q '^reject_all *= *no' "$D/n1.conf"
"$TESTD" -c "$D/n1.conf" -n >"$D/n2.conf"
hn_check "-n output reads back identically" cmp -s "$D/n1.conf" "$D/n2.conf"

# --- a build() error after binding: exit 78, the error names the config, no socket left
sed 's/^greeting = first/greeting = invalid/' "$D/ok.conf" >"$D/invalid.conf"
err=$("$TESTD" -f -c "$D/invalid.conf" 2>&1)
rc=$?
hn_check "build() refusal exits 78" test $rc -eq 78
hn_check "build() error names the file" bash -c '[[ $1 == *"invalid.conf: greeting: '"'"'invalid'"'"' is refused"* ]]' _ "$err"
hn_check "no socket left after a failed start" test ! -e "$D/run/milter.sock"

# --- serve
start_testd() {
	"$TESTD" -f -c "$D/ok.conf" >>"$D/testd.log" 2>&1 &
	PID=$!
	hn_on_exit hn_stop "$PID"
	hn_wait 10 test -S "$D/run/milter.sock"
}
# testd_exit_status: wait (at most 10 s) until testd has exited; return its exit status.
testd_exit_status() {
	hn_wait 10 bash -c '! kill -0 "$1" 2>/dev/null || grep -q " Z " "/proc/$1/stat"' _ "$PID"
	wait "$PID"
}
hn_check "daemon starts and binds its socket" start_testd
hn_check "socket mode from listen =" bash -c '[ "$(stat -c %a "$1")" = 666 ]' _ "$D/run/milter.sock"
if [ "$(id -u)" = 0 ]; then
	hn_check "root: privileges dropped to nobody" bash -c \
		'[ "$(awk "/^Uid:/{print \$2}" /proc/$1/status)" = "$(id -u nobody)" ]' _ "$PID"
fi

cat >"$D/t.lua" <<'LUA'
local conn = mt.connect(SOCK, 40, 0.05)
if conn == nil then error("connect failed") end
if mt.conninfo(conn, "client.example", "127.0.0.1") ~= nil then error("conninfo") end
mt.macro(conn, SMFIC_MAIL, "i", "ABC123")
if mt.mailfrom(conn, FROM or "a@example.test") ~= nil then error("mailfrom") end
mt.macro(conn, SMFIC_RCPT, "i", "ABC123")
if mt.rcptto(conn, "b@example.test") ~= nil then error("rcptto") end
if mt.header(conn, "From", "a@example.test") ~= nil then error("header") end
if mt.eoh(conn) ~= nil then error("eoh") end
if mt.bodystring(conn, "hi\r\n") ~= nil then error("body") end
if mt.eom(conn) ~= nil then error("eom") end
if EXPECT == "reject" then
  if mt.getreply(conn) ~= SMFIR_REPLYCODE then error("expected a reject reply") end
else
  if not mt.eom_check(conn, MT_HDRADD, "X-Testd", EXPECT) then error("no X-Testd: " .. EXPECT) end
  if mt.getreply(conn) ~= SMFIR_ACCEPT then error("expected accept") end
end
mt.disconnect(conn)
LUA
mt() { miltertest -D SOCK="unix:$D/run/milter.sock" -D EXPECT="$1" -s "$D/t.lua" >>"$D/mt.log" 2>&1; }
hn_check "milter session: header added" mt first
hn_check "queue id logged" grep -q 'ABC123: tagged' "$D/testd.log"
# an LF in MAIL FROM must not write a second, forged log line
FORGED=$'<a@example.test>\ntestd: FORGED1: tagged'
hn_check "milter session with an LF in MAIL FROM" \
	miltertest -D SOCK="unix:$D/run/milter.sock" -D EXPECT=first -D FROM="$FORGED" \
	-s "$D/t.lua" >>"$D/mt.log" 2>&1
hn_check "  no forged log line" bash -c '! grep -q "^testd: FORGED1" "$1"' _ "$D/testd.log"
hn_check "  the LF logged as \\x0a on the sender's line" \
	grep -qF ': from=<a@example.test>\x0atestd: FORGED1: tagged' "$D/testd.log"

# --- a second instance on the same path (a hand run beside the service) refuses to start
# and leaves the running daemon's socket alone
ino() { stat -c %i "$D/run/milter.sock"; }
INO=$(ino)
timeout 10 "$TESTD" -f -c "$D/ok.conf" >"$D/second.log" 2>&1
hn_check "second instance on a live socket exits 69" test $? -eq 69
hn_check "second instance says who holds the path" \
	grep -q "another process is listening on $D/run/milter.sock" "$D/second.log"
hn_check "second instance left the socket file alone" test "$(ino)" = "$INO"
hn_check "first instance still answers" mt first

sed -i 's/^greeting = first/greeting = second/' "$D/ok.conf"
kill -USR1 "$PID"
hn_check "SIGUSR1 reload applies the new config" hn_wait 5 mt second
printf 'greeting = third\nnot_a_key = 1\n' >>"$D/ok.conf"
kill -USR1 "$PID"
hn_wait 5 grep -q 'reload failed' "$D/testd.log"
hn_check "bad reload logged with file:line" grep -q "ok.conf:7: duplicate key" "$D/testd.log"
hn_check "bad reload keeps the old config" mt second
hn_check "daemon still alive after bad reload" hn_alive "$PID"

# --- SIGUSR2, the graceful stop: a session idle between two commands (which
# libmilter's own SIGTERM stop would abandon) still completes
sed 's/^if mt.eoh(conn)/mt.sleep(2)\nif mt.eoh(conn)/' "$D/t.lua" >"$D/idle.lua"
( miltertest -D SOCK="unix:$D/run/milter.sock" -D EXPECT=second -s "$D/idle.lua" \
	>>"$D/mt.log" 2>&1; echo $? >"$D/idle.rc" ) &
IDLE=$!
sleep 0.7
kill -USR2 "$PID"
wait "$IDLE"
hn_check "SIGUSR2: a session idle between commands completes" test "$(cat "$D/idle.rc")" = 0
testd_exit_status
hn_check "SIGUSR2 exits 0" test $? -eq 0
hn_check "SIGUSR2 logged" grep -q 'SIGUSR2: stopping once 1 open sessions are done' "$D/testd.log"
sed -i '/^not_a_key/d; /^greeting = third/d' "$D/ok.conf"
hn_check "daemon starts again" start_testd

# --- graceful stop with a message in flight: the session finishes, exit 0
sed -i 's/^greeting = second/greeting = slow/' "$D/ok.conf"
echo 'delay = 1500ms' >>"$D/ok.conf"
kill -USR1 "$PID"
hn_wait 5 bash -c 'grep -c "configuration reloaded" "$1" | grep -q 2' _ "$D/testd.log"
( mt slow; echo $? >"$D/inflight.rc" ) &
MT=$!
sleep 0.5
kill -TERM "$PID"
wait "$MT"
hn_check "in-flight session completed during stop" test "$(cat "$D/inflight.rc")" = 0
testd_exit_status
hn_check "SIGTERM exits 0" test $? -eq 0
hn_check "SIGTERM logged" grep -q 'SIGTERM: stopping now' "$D/testd.log"
hn_check "stop logged" grep -q 'testd stopped' "$D/testd.log"
hn_check "ticks ran, and a last one after the in-flight session" bash -c \
	'l=$(grep -n "last tick, after [1-9]" "$1" | tail -n 1 | cut -d: -f1)
	 t=$(grep -n ": tagged" "$1" | tail -n 1 | cut -d: -f1)
	 s=$(grep -n "testd stopped" "$1" | tail -n 1 | cut -d: -f1)
	 [ -n "$l" ] && [ -n "$t" ] && [ "$t" -lt "$l" ] && [ "$l" -lt "$s" ]' _ "$D/testd.log"
hn_check "socket removed at stop" test ! -e "$D/run/milter.sock"

# --- a restart that overlaps the old process's exit: the new process takes the path once
# the old one stopped listening, and the old one's exit does not remove the new socket
hn_check "daemon starts for the restart race" start_testd
OLD=$PID
( mt slow; echo $? >"$D/race.rc" ) &
MT=$!
sleep 0.5
kill -TERM "$OLD"
hn_check "old process stops listening, its session still open" hn_wait 5 bash -c \
	'! socat -u OPEN:/dev/null "UNIX-CONNECT:$1" 2>/dev/null' _ "$D/run/milter.sock"
hn_check "stale socket file still there while the old process finishes" test -S "$D/run/milter.sock"
"$TESTD" -f -c "$D/ok.conf" >>"$D/new.log" 2>&1 &
PID=$!
hn_on_exit hn_stop "$PID"
hn_check "new process starts on the stale path" hn_wait 10 grep -q 'testd .* started' "$D/new.log"
wait "$MT"
hn_check "old process's session completed" test "$(cat "$D/race.rc")" = 0
PID_NEW=$PID
PID=$OLD
testd_exit_status
hn_check "old process exited 0" test $? -eq 0
PID=$PID_NEW
hn_check "new socket kept after the old process's exit" test -S "$D/run/milter.sock"
hn_check "new process answers after the old one exited" mt slow
if [ "$(id -u)" = 0 ]; then
	hn_check "root: socket file owned by the service user" \
		test "$(stat -c %U "$D/run/milter.sock")" = nobody
fi
# a stop with no open session returns at once (libmilter's listener alone would notice
# the stop only after its 5 s wait), SIGUSR2 and SIGTERM alike
t0=$(hn_ms)
kill -USR2 "$PID"
testd_exit_status
hn_check "SIGUSR2 with no open session: stopped in under 1 s" test $(($(hn_ms) - t0)) -lt 1000
hn_check "daemon starts for a SIGTERM stop" start_testd
t0=$(hn_ms)
kill -TERM "$PID"
testd_exit_status
hn_check "SIGTERM with no open session: stopped in under 1 s" test $(($(hn_ms) - t0)) -lt 1000
hn_check "new process removes its own socket at stop" test ! -e "$D/run/milter.sock"

# --- systemd socket activation: the inherited socket is adopted (sd_is_socket checked)
# and `listen =` is not bound; Debian's libmilter serves it as "fd:3".
if command -v systemd-socket-activate >/dev/null 2>&1; then
	sed -e "s#^listen = .*#listen = unix:$D/run/not-bound.sock#" -e '/^delay/d' \
		-e 's/^greeting = .*/greeting = activated/' "$D/ok.conf" >"$D/act.conf"
	systemd-socket-activate -l "$D/run/act.sock" "$TESTD" -f -c "$D/act.conf" \
		>>"$D/act.log" 2>&1 &
	APID=$!
	hn_on_exit hn_stop "$APID"
	hn_wait 10 test -S "$D/run/act.sock"
	act() { miltertest -D SOCK="unix:$D/run/act.sock" -D EXPECT=activated -s "$D/t.lua" >>"$D/mt.log" 2>&1; }
	hn_check "socket activation: milter session on the inherited socket" act
	hn_check "socket activation: fd adopted" grep -q 'listening on systemd socket fd 3' "$D/act.log"
	hn_check "socket activation: listen = not bound" test ! -e "$D/run/not-bound.sock"
	sed -e "s#^listen = .*#listen = unix:$D/run/act.sock#" "$D/act.conf" >"$D/hand.conf"
	timeout 10 "$TESTD" -f -c "$D/hand.conf" >"$D/hand.log" 2>&1
	hn_check "hand run beside the socket-activated one exits 69" test $? -eq 69
	hn_check "hand run names the path" grep -q "another process is listening on $D/run/act.sock" "$D/hand.log"
	hn_check "socket-activated daemon still answers" act
	hn_stop "$APID"
else
	hn_skip "socket activation" "systemd-socket-activate not installed"
fi

# --- without -f, without $JOURNAL_STREAM and without /dev/log (a container): log lines
# go to stderr rather than to a syslog socket that is not there
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	sed -e "s#^listen = .*#listen = unix:$D/run/nolog.sock#" -e '/^delay/d' \
		"$D/ok.conf" >"$D/nolog.conf"
	env -u JOURNAL_STREAM unshare -m bash -c \
		'if [ -e /dev/log ]; then mount --bind /dev/null /dev/log || exit 1; fi
		exec "$1" -c "$2"' _ "$TESTD" "$D/nolog.conf" >"$D/nolog.log" 2>&1 &
	NPID=$!
	hn_on_exit hn_stop "$NPID"
	hn_wait 10 test -S "$D/run/nolog.sock"
	hn_check "no /dev/log: the daemon logs to stderr" \
		hn_wait 5 grep -q "^testd: listening on unix:$D/run/nolog.sock" "$D/nolog.log"
	hn_stop "$NPID"
	hn_check "no /dev/log: the stop is logged too" grep -q '^testd: testd stopped' "$D/nolog.log"
else
	hn_skip "no /dev/log: stderr" "needs root and unshare -m"
fi

if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- nolog.log"; cat "$D/nolog.log" 2>/dev/null
	echo "--- testd.log"; cat "$D/testd.log"; echo "--- mt.log"; cat "$D/mt.log"
	echo "--- act.log"; cat "$D/act.log" 2>/dev/null
fi
hn_summary
