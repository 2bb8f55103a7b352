# shellcheck shell=bash
# av-lib.sh: helpers shared by the milter-av integration tests (av-miltertest.sh,
# av-postfix.sh, av-failure.sh, av-size.sh, av-daemon.sh). Sourced after
# tests/harness/lib.sh (and tests/harness/postfix.sh for av_postfix).
#
#   av_bin                  path of the milter-av binary ($AV_BIN, else the build tree)
#   av_up DIR [KEY=VALUE...] write DIR/av.conf (socket DIR/run/av.sock, lmdb store in
#                           DIR/state unless store= is given, user nobody) with the given
#                           keys, start milter-av -f (log DIR/av.log, PID DIR/av.pid) with
#                           NOTIFY_SOCKET=DIR/notify.sock (tests/harness/notify.sh) and
#                           wait for READY=1 (1 at once if it exits); AV_NOTIFY_MARK is
#                           the notify_mark from before the start; registers av_down
#   av_down DIR             SIGTERM, bounded wait; idempotent
#   av_reconf DIR KEY=VALUE... rewrite av.conf with these keys and SIGUSR1; waits for the
#                           reload log line
#   av_msgs DIR EICAR_FILE  write the test messages (LF line ends; see av__mkmsgs)
#   av_sock DIR             the milter socket spec for Postfix / miltertest
#   av_preflight WHY        fail (exit 1, not a skip) unless milter-av is built and we are
#                           root; WHY says what root is needed for
#   av_postfix D AVDIR      a private Postfix in D/pf on a free loopback port with AVDIR's
#                           milter-av as its milter; av_smtp then talks to it
#   av_smtp FILE [TIMEOUT]  send FILE over SMTP (swaks, TIMEOUT s, default 30); transcript
#                           in D/smtp.out, appended to D/smtp.log; swaks' exit status
#   AV_REJ                  the 550 5.7.1 reply with the harness DB's EICAR name (ERE)
# The EICAR string is never in these files: it is read from the file the harness made.

[ -n "${AV_LIB_LOADED:-}" ] && return 0
AV_LIB_LOADED=1
. "$HN_HARNESS/notify.sh"

av_bin() { echo "${AV_BIN:-${POSTWARDEN_BUILD:-build}/milter-av/milter-av}"; }

AV_REJ='<\*\* 550 5\.7\.1 Message rejected: virus found: PW-Test\.EICAR-(NDB|HDB)\.UNOFFICIAL'

av_preflight() {
	[ -x "$(av_bin)" ] || { echo "FAIL: $(av_bin) not built"; exit 1; }
	[ "$(id -u)" = 0 ] || { echo "FAIL: needs root ($1): run the tests as root"; exit 1; }
}

av_postfix() {
	AV_WORK=$1
	AV_SMTP_PORT=$(hn_free_port)
	pf_make "$1/pf" "127.0.0.1:$AV_SMTP_PORT"
	pf_milters "$1/pf" "$(av_sock "$2")"
	pf_up "$1/pf"
}

av_smtp() {
	swaks --server 127.0.0.1 --port "$AV_SMTP_PORT" --from sender@example.org \
		--to rcpt@example.test --helo client.example.org --data "@$1" --timeout "${2:-30}" \
		>"$AV_WORK/smtp.out" 2>&1
	local rc=$?
	{ echo "== $1 rc=$rc"; grep -a '^<' "$AV_WORK/smtp.out"; } >>"$AV_WORK/smtp.log"
	return $rc
}

av_sock() { echo "unix:$1/run/av.sock"; }

av__write_conf() {
	local d=$1 kv
	shift
	{
		echo "listen = unix:$d/run/av.sock:0666"
		echo "user = nobody"
		echo "group = nogroup"
		case " $* " in *" store="*) ;; *) echo "store = lmdb:$d/state" ;; esac
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >"$d/av.conf.new"
	mv "$d/av.conf.new" "$d/av.conf"
}

av_up() {
	local d=$1
	shift
	mkdir -p "$d/run" "$d/state"
	chown nobody:nogroup "$d/run" "$d/state"
	av__write_conf "$d" "$@"
	notify_up "$d" || return 1
	AV_NOTIFY_MARK=$(notify_mark "$d")
	NOTIFY_SOCKET=$d/notify.sock "$(av_bin)" -f -c "$d/av.conf" >>"$d/av.log" 2>&1 &
	echo $! >"$d/av.pid"
	hn_on_exit av_down "$d"
	if ! notify_wait "$d" "$AV_NOTIFY_MARK" READY=1 "$(av_pid "$d")" 10; then
		hn_log "milter-av in $d did not report READY=1"
		cat "$d/av.log" >&2
		return 1
	fi
}

av_down() { hn_stop_pidfile "$1/av.pid" 10; }

av_pid() { tr -dc 0-9 <"$1/av.pid"; }

av_reconf() {
	local d=$1 n
	shift
	n=$(grep -c 'reloaded' "$d/av.log")
	av__write_conf "$d" "$@"
	kill -USR1 "$(av_pid "$d")"
	hn_wait 5 bash -c '[ "$(grep -c reloaded "$1")" -gt "$2" ]' _ "$d/av.log" "$n"
}

# av_msgs DIR EICAR_FILE: clean.eml, plain.eml (EICAR in a text body), b64.eml (base64
# attachment), zip.eml (eicar.com inside a zip, base64), big.eml (2 MB of text, EICAR
# at 1.5 MB), clean-big.eml (2 MB clean), nospace.eml (b64.eml with "Name:value" headers),
# header-90k.eml (clean, one 90 KiB header, folded).
av_msgs() {
	python3 - "$1" "$2" <<'PY'
import base64, io, os, sys, zipfile
out, eicar = sys.argv[1], open(sys.argv[2], "rb").read()
os.makedirs(out, exist_ok=True)
n = [0]
def hdr(subject, extra=(), sep=": "):
    n[0] += 1
    h = [("From", "sender@example.org"), ("To", "rcpt@example.test"), ("Subject", subject),
         ("Date", "Mon, 23 Nov 2026 10:00:00 +0000"),
         ("Message-ID", "<av%d.%d@example.org>" % (n[0], os.getpid())), ("MIME-Version", "1.0")]
    h += list(extra)
    return "".join(f"{k}{sep}{v}\n" for k, v in h).encode()
def text(size, seed=0):
    lines, total, i = [], 0, seed
    while total < size:
        l = b"The quick brown fox jumps over the lazy dog %08d 0123456789abcdef\n" % i
        lines.append(l); total += len(l); i += 1
    return b"".join(lines)
def b64(data):
    s = base64.b64encode(data)
    return b"\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + b"\n"
def mime(subject, fname, ctype, data, sep=": "):
    bnd = "pw-boundary-42"
    h = hdr(subject, [("Content-Type", f'multipart/mixed; boundary="{bnd}"')], sep)
    body = (f"--{bnd}\nContent-Type: text/plain\n\nSee attachment.\n\n--{bnd}\n"
            f"Content-Type: {ctype}; name=\"{fname}\"\nContent-Transfer-Encoding: base64\n"
            f"Content-Disposition: attachment; filename=\"{fname}\"\n\n").encode()
    return h + b"\n" + body + b64(data) + f"--{bnd}--\n".encode()
def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
write("clean.eml", hdr("clean") + b"\nhello, nothing to see here\n")
write("plain.eml", hdr("plain eicar") + b"\n" + eicar + b"\n")
write("b64.eml", mime("base64 eicar", "eicar.com", "application/octet-stream", eicar))
write("nospace.eml", mime("no space eicar", "eicar.com", "application/octet-stream", eicar, ":"))
z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
    zf.writestr("readme.txt", "nothing\n")
    zf.writestr("eicar.com", eicar)
write("zip.eml", mime("zipped eicar", "files.zip", "application/zip", z.getvalue()))
big = text(2 * 1024 * 1024)
cut = big.index(b"\n", 1536 * 1024) + 1
write("big.eml", hdr("eicar at 1.5 MB") + b"\n" + big[:cut] + eicar + b"\n" + big[cut:])
write("clean-big.eml", hdr("clean 2 MB") + b"\n" + big)
# one header of 90 KiB (folded lines): a milter packet over libmilter's default 64 KiB
fold = "\n\t".join("x%05d-long-header-line-padding-0123456789-abcdefghijklmnopqrstuvwxyz" % i
                    for i in range(90 * 1024 // 72))
write("header-90k.eml", hdr("header 90k", [("X-Long", fold)]) + b"\nbig header\n")
PY
}

# av_fake_clamd SOCKET MODE: a fake clamd on a unix socket, in the background (PID in
# SOCKET.pid, stopped at exit). MODE "close": answers zVERSION like clamd, and on a
# scan reads 256 KiB then closes the connection (a backend dying mid-stream) and logs
# "dropped after N bytes" to SOCKET.log. MODE
# "silent": accepts and reads everything, never answers (a hung clamd). MODE "slow":
# a zINSTREAM scan is answered "stream: OK" 3 s after its last chunk.
av_fake_clamd() {
	rm -f "$1"
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys, threading, time
path, mode = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
os.chmod(path, 0o666)
srv.listen(64)
def serve(c):
    try:
        if mode == "silent":
            while c.recv(65536):
                pass
            return
        first = c.recv(65536)
        if b"VERSION" in first[:16]:
            c.sendall(b"ClamAV 1.4.6/0/fake\0")
            return
        if mode == "slow":
            buf = first
            def need(n):
                nonlocal buf
                while len(buf) < n:
                    b = c.recv(65536)
                    if not b:
                        raise EOFError
                    buf += b
            need(10)
            buf = buf[10:]  # "zINSTREAM\0"
            while True:
                need(4)
                n = int.from_bytes(buf[:4], "big")
                need(4 + n)
                buf = buf[4 + n:]
                if n == 0:
                    break
            time.sleep(3)
            c.sendall(b"stream: OK\0")
            return
        got = len(first)
        while got < 256 * 1024:
            b = c.recv(65536)
            if not b:
                break
            got += len(b)
        with open(path + ".log", "a") as log:
            log.write("dropped after %d bytes\n" % got)
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	echo $! >"$1.pid"
	hn_on_exit hn_stop_pidfile "$1.pid"
	hn_wait 5 test -S "$1"
}

# av_bigmsg FILE MB EICAR_FILE|-: a text message of about MB MiB, EICAR on its last
# line unless EICAR_FILE is "-".
av_bigmsg() {
	python3 - "$@" <<'PY'
import sys
path, mb, eicar = sys.argv[1], int(sys.argv[2]), sys.argv[3]
line = b"The quick brown fox jumps over the lazy dog 0123456789abcdefghijklmn\n"
with open(path, "wb") as f:
    f.write(b"From: sender@example.org\nTo: rcpt@example.test\nSubject: big %d MB%s\n"
            b"Message-ID: <big%d@example.org>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\n"
            % (mb, b"" if eicar == "-" else b" eicar", mb))
    f.write(line * (mb * 1024 * 1024 // len(line)))
    if eicar != "-":
        f.write(open(eicar, "rb").read() + b"\n")
PY
}
