#!/bin/bash
# dkim-miltertest.sh: milter-dkim's libmilter side, driven by miltertest against a running
# daemon whose selectors are published in the harness DNS (knot + validating unbound).
# Verifies: who gets signed (SMTP AUTH from anywhere, sign_networks; others get ACCEPT at
# MAIL and are never logged, even with the host name "localhost" on a real port); dual
# signing (RSA + Ed25519 selectors); a [*.domain] section signing subdomains with d=domain;
# the info line "<queue id>: not signed: <reason>" for an unconfigured From domain, no From,
# two From, an unparsable (8-bit) From; 8-bit junk headers and 1000 headers signed without a
# crash; an LF in the queue id forges no log line; two sections differing only in case
# refused naming both lines; the daemon alive at the end and stopping cleanly on SIGTERM.
# Local submission (Postfix's "localhost" with port 0) cannot be sent by miltertest (its
# port is always 12345): dkim-postfix.sh covers it with a real sendmail.
set -u
. "$(dirname "$0")/dkim-lib.sh"
dk_init dkim-miltertest
LUA=$DK_SRC/dkim/session.lua
dk_dns

dk_conf "$D/m.conf" <<EOF
sign_networks = 127.0.0.0/8 10.1.0.0/16
[example.test]
selectors = m1 m2
[example.test/m2]
algorithm = ed25519-sha256
[*.plain.test]
selectors = s1
EOF
# section names ignore case: a case-only duplicate is a config error naming both lines
dk_conf "$D/dup.conf" <<EOF
[example.test]
selectors = m1
[Example.TEST]
selectors = m2
EOF
err=$("$DKIM" -c "$D/dup.conf" -n 2>&1 >/dev/null)
hn_check "case-only duplicate sections: exit 78" test $? -eq 78
hn_check "case-only duplicate sections: both lines named" grep -qF \
	"$D/dup.conf:10: duplicate section [Example.TEST]: same as [example.test] on line 8" \
	<<<"$err"
hn_check "keygen creates the keys" bash -c '"$1" -c "$2" keygen | grep -c "^created" | grep -qx 3' \
	_ "$DKIM" "$D/m.conf"
hn_check "selectors published in the test DNS" dk_publish "$D/m.conf"
hn_check "check-dns: all selectors pass" "$DKIM" -c "$D/m.conf" check-dns
hn_check "daemon starts" dk_start "$D/m.conf"
# `status`: the daemon running with its pid (exit 0), no last_signed time before the first
# signed message, then its time and signed=1 for the domain; after the stop, NOT REACHABLE
# (exit 1).
"$DKIM" -c "$D/m.conf" status >"$D/status.fresh" 2>&1
hn_check "status with the daemon up: exit 0" test $? -eq 0
hn_check "  first line: daemon running, its pid, start time (ISO 8601 UTC)" grep -Eqx \
	"daemon: running \(pid $DK_PID, since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\)" \
	<(head -n 1 "$D/status.fresh")
hn_check "  nothing signed yet: every selector last_signed=never" \
	test "$(grep -c 'last_signed=never' "$D/status.fresh")" -eq 3
hn_check "  nothing counted yet" \
	grep -qx '\[example.test\] d=example.test signed=0 unsigned=0 failed=0' "$D/status.fresh"

signed() { grep -q "$1: signed d=$2 s=m1 (rsa-sha256), m2 (ed25519-sha256)" "$D/dkim.log"; }
reason() { grep -qF "$1: not signed: $2" "$D/dkim.log"; }
mt() { dk_mt "$LUA" "$@"; }

# --- who is signed
hn_check "authenticated client outside sign_networks: signed" \
	mt HOST=far.example IP=192.0.2.10 AUTH=alice QID=AUTH1 FROM=alice@example.test EXPECT=dual
hn_check "  logged with the queue id, both selectors" signed AUTH1 example.test
status_signed() {
	"$DKIM" -c "$D/m.conf" status >"$D/status.signed" 2>&1 &&
		grep -qx '\[example.test\] d=example.test signed=1 unsigned=0 failed=0' "$D/status.signed"
}
hn_check "status after one signed message: signed=1 for example.test" hn_wait 15 status_signed
hn_check "  m1 and m2 show when they signed" test "$(grep -Ec \
	'^ +m[12] .* last_signed=[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC' "$D/status.signed")" -eq 2
hn_check "  s1 (no mail for plain.test yet) still never" \
	grep -Eq '^ +s1 .* last_signed=never' "$D/status.signed"
hn_check "trusted network (10.1/16): signed" \
	mt HOST=relay.example IP=10.1.2.3 QID=NET1 FROM='"Bob B." <bob@example.test>' EXPECT=dual
hn_check "  logged" signed NET1 example.test
hn_check "loopback (default network): signed" \
	mt HOST=localhost IP=127.0.0.1 QID=LO1 FROM=carol@example.test EXPECT=dual
lines=$(wc -l <"$D/dkim.log")
hn_check "unauthenticated client outside sign_networks: ACCEPT at MAIL" \
	mt HOST=far.example IP=192.0.2.11 QID=OUT1 FROM=mallory@example.test EXPECT=mailaccept
hn_check "host name 'localhost' on a real port is not local submission" \
	mt HOST=localhost IP=192.0.2.12 QID=OUT2 FROM=mallory@example.test EXPECT=mailaccept
hn_check "  inbound mail is not logged" test "$(wc -l <"$D/dkim.log")" -eq "$lines"
hn_check "[*.plain.test] signs a subdomain with d=plain.test" \
	mt HOST=localhost IP=127.0.0.1 QID=SUB1 FROM=dave@mail.plain.test EXPECT=signed
hn_check "  logged d=plain.test s=s1" grep -q 'SUB1: signed d=plain.test s=s1 (rsa-sha256)$' \
	"$D/dkim.log"
hn_check "[*.plain.test] does not match plain.test itself" \
	mt HOST=localhost IP=127.0.0.1 QID=SUB2 FROM=dave@plain.test EXPECT=unsigned
hn_check "  reason logged" reason SUB2 "From domain plain.test not configured"

# --- unsigned with a reason, never an error
hn_check "unconfigured From domain: unsigned" \
	mt HOST=localhost IP=127.0.0.1 QID=UNC1 FROM=eve@other.example EXPECT=unsigned
hn_check "  reason logged" reason UNC1 "From domain other.example not configured"
hn_check "no From header: unsigned" mt HOST=localhost IP=127.0.0.1 QID=NOF1 FROM= EXPECT=unsigned
hn_check "  reason logged" reason NOF1 "no From header"
hn_check "two From headers: unsigned" \
	mt HOST=localhost IP=127.0.0.1 QID=TWO1 FROM='a@example.test|b@example.test' EXPECT=unsigned
hn_check "  reason logged" reason TWO1 "2 From headers"
hn_check "8-bit junk From: unsigned" \
	mt HOST=localhost IP=127.0.0.1 QID=JNK1 "$(printf 'FROM=\377\376@@\001 <>')" EXPECT=unsigned
hn_check "  reason logged" grep -q 'JNK1: not signed: ' "$D/dkim.log"
hn_check "LF in the queue id: unsigned" mt HOST=localhost IP=127.0.0.1 \
	QID=$'FRG1\nmilter-dkim: FAKE1: signed d=example.test' FROM=eve@other.example EXPECT=unsigned
hn_check "  no forged log line" bash -c '! grep -q "^milter-dkim: FAKE1" "$1"' _ "$D/dkim.log"
hn_check "  the LF logged as \\x0a" reason 'FRG1\x0amilter-dkim: FAKE1: signed d=example.test' \
	"From domain other.example not configured"
hn_check "8-bit junk in other headers: signed" \
	mt HOST=localhost IP=127.0.0.1 QID=JNK2 FROM=f@example.test SHAPE=junk8bit EXPECT=dual
hn_check "  logged" signed JNK2 example.test
hn_check "1000 headers: signed" \
	mt HOST=localhost IP=127.0.0.1 QID=MANY1 FROM=g@example.test SHAPE=many EXPECT=dual
hn_check "  logged" signed MANY1 example.test

# a 90 KiB header: one milter packet over libmilter's default 64 KiB (miltertest itself
# crashes on a header that long, so the project's milterload sends it, from 127.0.0.1)
python3 - "$D/h90.eml" <<'PY'
import sys
fold = "\n\t".join("x%05d-long-header-line-padding-0123456789-abcdefghijklmnopqrstuvwxyz" % i
                    for i in range(90 * 1024 // 72))
open(sys.argv[1], "w").write("From: frank@example.test\nTo: rcpt@example.net\n"
                             "Subject: header 90k\nX-Long: " + fold + "\n\nbig header\n")
PY
"$POSTWARDEN_BUILD/tests/bench/milterload" -s "unix:$SOCK" -m "$D/h90.eml" -c 1 -n 1 -T 20 \
	>"$D/ml.out" 2>&1
hn_check "a 90 KiB header (one packet over 64 KiB): signed by both selectors" \
	grep -q 'errors=0 .*accept=1 .*hdr_added=2' "$D/ml.out"
hn_check "daemon alive after all sessions" hn_alive "$DK_PID"
hn_check "no key material in the log" bash -c '! grep -q "PRIVATE KEY\|BEGIN " "$1"' _ "$D/dkim.log"
hn_stop "$DK_PID" 10
wait "$DK_PID"
hn_check "SIGTERM: exit 0" test $? -eq 0
hn_check "socket removed" test ! -e "$SOCK"
"$DKIM" -c "$D/m.conf" status >"$D/status.dead" 2>&1
hn_check "status with the daemon stopped: exit 1" test $? -eq 1
hn_check "  daemon: NOT REACHABLE at the socket path" \
	grep -q "^daemon: NOT REACHABLE at $SOCK " "$D/status.dead"
hn_check "  the store view follows (signed messages counted)" \
	grep -Eq '^\[example.test\] d=example.test signed=[1-9][0-9]* ' "$D/status.dead"
dk_dump
hn_summary
