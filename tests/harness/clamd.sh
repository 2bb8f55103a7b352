# shellcheck shell=bash
# tests/harness/clamd.sh: clamd with a harness-made EICAR-only signature database.
#
#   clamd_up DIR [TCPPORT]  write DIR/db/{pw-test.ndb,pw-test.hdb}, DIR/clamd.conf,
#                           DIR/eicar.com (for tests), start clamd in the foreground
#                           (backgrounded here) on unix socket DIR/clamd.sock (mode 0666)
#                           and, if given, TCP 127.0.0.1:TCPPORT; wait for zPING -> PONG.
#                           Settings: StreamMaxLength 25M, AlertExceedsMax yes. Lines in
#                           $CLAMD_EXTRA are written first and so override these (clamd
#                           keeps the first occurrence of an option).
#                           Registers clamd_down on the harness cleanup stack.
#   clamd_down DIR          stop it; idempotent.
#   clamd_ping SOCKET       true if clamd answers zPING with PONG.
#   clamd_instream SOCKET FILE
#                           raw zINSTREAM (the protocol milter-av speaks); prints clamd's
#                           reply without the trailing NUL, e.g. "stream: OK" or
#                           "stream: PW-Test.EICAR-NDB.UNOFFICIAL FOUND".
# Signature names: PW-Test.EICAR-NDB (pattern, anywhere in any file, MIME-decoded too) and
# PW-Test.EICAR-HDB (whole-file md5); clamd reports them with a ".UNOFFICIAL" suffix.

[ -n "${HN_CLAMD_LOADED:-}" ] && return 0
HN_CLAMD_LOADED=1
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# clamd__eicar: the EICAR test string, assembled from two halves so that this file is
# not itself detected by a scanner.
clamd__eicar() {
	local a='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-' b='TEST-FILE!$H+H*'
	printf '%s%s' "$a" "$b"
}

clamd_up() {
	local d=$1 port=${2:-} hex
	hn_require clamd sigtool socat xxd
	mkdir -p "$d/db" "$d/tmp"
	d=$(realpath "$d")
	chmod 755 "$d"
	clamd__eicar >"$d/eicar.com"
	hex=$(printf '%s' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE' | xxd -p | tr -d '\n')
	printf 'PW-Test.EICAR-NDB:0:*:%s\n' "$hex" >"$d/db/pw-test.ndb"
	(cd "$d" && sigtool --md5 eicar.com) | sed 's/:eicar\.com$/:PW-Test.EICAR-HDB/' \
		>"$d/db/pw-test.hdb"
	grep -q ':PW-Test.EICAR-HDB$' "$d/db/pw-test.hdb" || { hn_log "sigtool --md5 failed"; return 1; }
	{
		# clamd keeps the FIRST occurrence of an option: overrides go before the defaults.
		if [ -n "${CLAMD_EXTRA:-}" ]; then
			printf '%s\n' "$CLAMD_EXTRA"
		fi
		cat <<-CONF
			DatabaseDirectory $d/db
			LocalSocket $d/clamd.sock
			LocalSocketMode 666
			Foreground yes
			PidFile $d/clamd.pid
			LogFile $d/clamd.log
			LogTime yes
			TemporaryDirectory $d/tmp
			SelfCheck 0
			Bytecode no
			ConcurrentDatabaseReload no
			StreamMaxLength 25M
			AlertExceedsMax yes
		CONF
		if [ -n "$port" ]; then
			printf 'TCPSocket %s\nTCPAddr 127.0.0.1\n' "$port"
		fi
	} >"$d/clamd.conf"
	clamd -c "$d/clamd.conf" </dev/null >"$d/clamd.stdout" 2>&1 &
	echo $! >"$d/clamd.shell.pid"
	hn_on_exit clamd_down "$d"
	if ! hn_wait 30 clamd_ping "$d/clamd.sock"; then
		hn_log "clamd in $d not ready"
		tail -n 20 "$d/clamd.stdout" "$d/clamd.log" >&2 2>/dev/null || true
		return 1
	fi
}

clamd_down() {
	hn_stop_pidfile "$1/clamd.shell.pid"
	rm -f "$1/clamd.sock"
}

clamd_ping() {
	[ "$(printf 'zPING\0' | socat -t2 - "UNIX-CONNECT:$1" 2>/dev/null | tr -d '\0')" = PONG ]
}

# clamd__be32 N: N as 4 big-endian bytes.
clamd__be32() {
	printf "\\x$(printf %02x $((($1 >> 24) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))"
	printf "\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $(($1 & 255)))"
}

clamd_instream() {
	# zINSTREAM FILE to SOCK; prints clamd's reply. The reply is read even when clamd
	# closed the connection mid-stream (its "size limit exceeded" answer).
	/usr/bin/python3 - "$1" "$2" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
try:
    s.sendall(b"zINSTREAM\0")
    with open(sys.argv[2], "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            s.sendall(struct.pack("!I", len(chunk)) + chunk)
    s.sendall(struct.pack("!I", 0))
except (BrokenPipeError, ConnectionResetError):
    pass
reply = b""
try:
    while not reply.endswith(b"\0"):
        d = s.recv(4096)
        if not d:
            break
        reply += d
except (ConnectionResetError, socket.timeout):
    pass
print(reply.rstrip(b"\0").decode(errors="replace"))
PY
}
