#!/bin/bash
# av-miltertest.sh [MILTER_AV]: milter-av driven by miltertest (av/msg.lua) against a
# harness clamd with the EICAR-only database: a clean message is accepted with
# X-Virus-Scanned naming the clamd version; EICAR in the body gets SMFIR_REPLYCODE
# 550 5.7.1 with the virus name; a base64 EICAR attachment under headers given the
# way Postfix gives them (no space after the colon: doc/protocols.md, "Header fields as Postfix
# passes them") is found;
# on_virus = tag / quarantine / discard map to X-Virus, SMFIR_QUARANTINE, SMFIR_DISCARD;
# skip_networks and skip_authenticated take a message at MAIL without scanning it.
# An LF in MAIL FROM reaches the infected line escaped (\x0a), never as a forged second
# line. Config errors: a bad clamd or listen endpoint is exit 78 naming file:line and it.
set -u
HN_NAME=av-miltertest
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/clamd.sh"
. "$(dirname "$0")/av-lib.sh"
[ $# -ge 1 ] && AV_BIN=$1
hn_require miltertest socat clamd sigtool socat xxd python3
av_preflight "privilege drop to nobody"
LUA=$(cd "$(dirname "$0")" && pwd)/av/msg.lua

hn_tmpdir D avmt

# --- endpoints are checked when the config is read (-n too), naming file:line
printf 'listen = unix:%s/x.sock\nstore =\nclamd = unix:/run/c.sock tcp:clamd:3310\n' "$D" \
	>"$D/badclamd.conf"
err=$("$(av_bin)" -c "$D/badclamd.conf" -n 2>&1 >/dev/null)
hn_check "bad clamd endpoint: exit 78" test $? -eq 78
hn_check "bad clamd endpoint: file:line and the endpoint named" \
	grep -qF "$D/badclamd.conf:3: clamd: bad endpoint 'tcp:clamd:3310'" <<<"$err"
printf 'store =\n\nlisten = inet:localhost\n' >"$D/badlisten.conf"
err=$("$(av_bin)" -f -c "$D/badlisten.conf" 2>&1)
hn_check "bad listen endpoint: exit 78" test $? -eq 78
hn_check "bad listen endpoint: file:line and the endpoint named" \
	grep -qF "$D/badlisten.conf:3: listen: bad endpoint 'inet:localhost'" <<<"$err"
clamd_up "$D/clamd" || hn_die "clamd did not start"
av_msgs "$D/msgs" "$D/clamd/eicar.com"
av_up "$D/av" "clamd=unix:$D/clamd/clamd.sock" || hn_die "milter-av did not start"
VER=$(printf 'zVERSION\0' | socat -t2 - "UNIX-CONNECT:$D/clamd/clamd.sock" | tr -d '\0')
VER=${VER%%/*}
N1=PW-Test.EICAR-NDB.UNOFFICIAL

# mt NAME MSG EXPECT [REPLY_ERE] [VAR=VALUE...]: one miltertest run through a socat
# proxy that records the wire (socat -v); with REPLY_ERE, the milter's SMFIR_REPLYCODE
# text must match it. PASS/FAIL; output in mt.log.
mt() {
	local name=$1 msg=$2 expect=$3 ere=${4:-} kv args=() ok=1 p
	shift 3
	[ $# -eq 0 ] || shift
	for kv in "$@"; do args+=(-D "$kv"); done
	echo "== $name" >>"$D/mt.log"
	rm -f "$D/proxy.sock"
	socat -v UNIX-LISTEN:"$D/proxy.sock" UNIX-CONNECT:"$D/av/run/av.sock" 2>"$D/wire.log" &
	p=$!
	hn_wait 5 test -S "$D/proxy.sock" || ok=0
	timeout 40 miltertest -D SOCK="unix:$D/proxy.sock" -D MSG="$D/msgs/$msg" \
		-D EXPECT="$expect" "${args[@]}" -s "$LUA" >>"$D/mt.log" 2>&1 || ok=0
	hn_stop "$p" 2
	if [ -n "$ere" ] && ! grep -aEq "$ere" "$D/wire.log"; then
		echo "reply on the wire does not match: $ere" >>"$D/mt.log"
		grep -a ' 5\.\| 4\.' "$D/wire.log" >>"$D/mt.log"
		ok=0
	fi
	if [ $ok = 1 ]; then hn_pass "$name"; else hn_fail "$name"; fi
}
REJ='550 5\.7\.1 Message rejected: virus found: PW-Test\.EICAR-(NDB|HDB)\.UNOFFICIAL'
rej=("$REJ" NOHDR=X-Virus-Scanned)

mt "clean: accepted, X-Virus-Scanned names clamd" clean.eml accept "" HDR=X-Virus-Scanned \
	"HDRVAL=postwarden milter-av ($VER)" NOHDR=X-Virus
mt "EICAR in body: 550 5.7.1 with the virus name" plain.eml reject "${rej[@]}"
mt "Name:value headers + base64 EICAR attachment: found" nospace.eml reject "${rej[@]}"
mt "base64 EICAR attachment: found" b64.eml reject "${rej[@]}"
mt "EICAR inside a zip: found" zip.eml reject "${rej[@]}"
mt "EICAR at 1.5 MB of 2 MB: found" big.eml reject "${rej[@]}"
mt "clean 2 MB: accepted" clean-big.eml accept "" HDR=X-Virus-Scanned
# a 90 KiB header: one milter packet over libmilter's default 64 KiB (miltertest itself
# crashes on a header that long, so the project's milterload sends it)
ML=$POSTWARDEN_BUILD/tests/bench/milterload
"$ML" -s "unix:$D/av/run/av.sock" -m "$D/msgs/header-90k.eml" -c 1 -n 1 -T 20 >"$D/ml.out" 2>&1
hn_check "a 90 KiB header (one packet over 64 KiB): scanned and accepted" \
	grep -q 'errors=0 .*accept=1 .*hdr_added=1' "$D/ml.out"
hn_check "infection logged with queue id, name and sender" \
	grep -Eq "MTQ1D: infected: PW-Test.EICAR-(NDB|HDB).UNOFFICIAL from=<?sender@example.org" \
	"$D/av/av.log"
# an LF in MAIL FROM: escaped on the infected line, no forged second line
mt "LF in MAIL FROM: rejected" plain.eml reject "${rej[@]}" \
	FROM=$'<x@example.org>\nmilter-av: FAKEQ: clean backend=none'
hn_check "LF in MAIL FROM: no forged log line" \
	bash -c '! grep -q "^milter-av: FAKEQ" "$1"' _ "$D/av/av.log"
hn_check "LF in MAIL FROM: logged as \\x0a on the infected line" grep -qF \
	'from=<x@example.org>\x0amilter-av: FAKEQ: clean backend=none' "$D/av/av.log"
# the test must be able to fail: a policy that never rejects
av_reconf "$D/av" "clamd=unix:$D/clamd/clamd.sock" on_virus=tag || hn_fail "reload to tag"
mt "on_virus = tag: accepted with X-Virus" plain.eml accept "" HDR=X-Virus "HDRVAL=$N1"
av_reconf "$D/av" "clamd=unix:$D/clamd/clamd.sock" on_virus=quarantine || hn_fail "reload"
mt "on_virus = quarantine: quarantine requested" plain.eml quarantine
av_reconf "$D/av" "clamd=unix:$D/clamd/clamd.sock" on_virus=discard || hn_fail "reload"
mt "on_virus = discard: SMFIR_DISCARD" plain.eml discard
mt "on_virus = discard: clean still accepted" clean.eml accept "" HDR=X-Virus-Scanned

# what not to scan: skip_networks and skip_authenticated take the message at MAIL
av_reconf "$D/av" "clamd=unix:$D/clamd/clamd.sock" "skip_networks=127.0.0.0/8 ::1" ||
	hn_fail "reload"
mt "skip_networks: a client inside is not scanned (ACCEPT at MAIL)" plain.eml skip
av_reconf "$D/av" "clamd=unix:$D/clamd/clamd.sock" "skip_networks=192.0.2.0/24" ||
	hn_fail "reload"
mt "skip_networks: a client outside is scanned" plain.eml reject "${rej[@]}"
av_reconf "$D/av" "clamd=unix:$D/clamd/clamd.sock" skip_authenticated=yes || hn_fail "reload"
mt "skip_authenticated: an authenticated sender is not scanned" plain.eml skip "" AUTH=alice
mt "skip_authenticated: an unauthenticated one is" plain.eml reject "${rej[@]}"
av_reconf "$D/av" "clamd=unix:$D/clamd/clamd.sock" || hn_fail "reload"
mt "default: an authenticated sender is scanned too" plain.eml reject "${rej[@]}" AUTH=alice

if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- mt.log"; cat "$D/mt.log"; echo "--- av.log"; tail -n 40 "$D/av/av.log"
fi
hn_summary
