#!/bin/bash
# bench-tools.sh MILTERLOAD CLAMDRAW NULLMILTER: the benchmark tools measure what they claim.
# Against a real clamd (EICAR-only DB): clamdraw in both modes finds EICAR and passes clean
# mail; nullmilter under milterload accepts every message, and in scan mode (the libmilter
# AV ceiling) really scans: clean -> accept, an EICAR message file -> reject, clamd gone ->
# tempfail. Small bounded loads (-n 20, -t 20): a check of the tools, never a measurement.
set -u
HN_NAME=bench-tools
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/clamd.sh"
[ $# -eq 3 ] || hn_die "usage: bench-tools.sh MILTERLOAD CLAMDRAW NULLMILTER"
ML=$1 CR=$2 NM=$3
hn_require clamd sigtool socat xxd

hn_tmpdir D benchtools
clamd_up "$D/clamd" || hn_die "clamd did not start"
CS="unix:$D/clamd/clamd.sock"
{
	printf 'From: <sender@example.test>\r\nTo: <rcpt@example.net>\r\nSubject: clean\r\n'
	printf 'Message-ID: <clean@example.test>\r\n\r\n'
	for i in $(seq 1 60); do printf 'Line %04d: nothing to see here\r\n' "$i"; done
} >"$D/clean.eml"
{
	printf 'From: <sender@example.test>\r\nTo: <rcpt@example.net>\r\nSubject: eicar\r\n'
	printf 'Message-ID: <eicar@example.test>\r\n\r\n'
	cat "$D/clamd/eicar.com"
	printf '\r\n'
} >"$D/eicar.eml"

kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2" | head -n 1; }
# expect WHAT OUTPUT KEY=VALUE...: every KEY has VALUE in the tool's result line
expect() {
	local what=$1 out=$2 kv_ ok=1
	shift 2
	for kv_ in "$@"; do
		[ "$(kv "${kv_%%=*}" "$out")" = "${kv_#*=}" ] || ok=0
	done
	if [ $ok = 1 ]; then hn_pass "$what"; else hn_fail "$what" "$(grep '^result' <<<"$out")"; fi
}

for m in fildes instream; do
	out=$("$CR" -s "$CS" -m "$D/clean.eml" -M "$m" -c 4 -n 20 -t 20 2>&1)
	expect "clamdraw $m: clean message scanned OK 20 times" "$out" messages=20 errors=0 ok=20
	out=$("$CR" -s "$CS" -m "$D/eicar.eml" -M "$m" -c 4 -n 20 -t 20 2>&1)
	expect "clamdraw $m: EICAR found 20 times" "$out" messages=20 errors=0 found=20
done

# nullmilter, plain: the protocol ceiling accepts everything
"$NM" "unix:$D/null.sock" >"$D/null.log" 2>&1 &
echo $! >"$D/null.pid"
hn_on_exit hn_stop_pidfile "$D/null.pid"
hn_wait 10 test -S "$D/null.sock" || hn_die "nullmilter did not start"
out=$("$ML" -s "unix:$D/null.sock" -m "$D/eicar.eml" -c 4 -n 20 -t 20 2>&1)
expect "nullmilter: 20 messages accepted, no scan" "$out" messages=20 errors=0 accept=20

# nullmilter, scan mode: one scan of its file per message
scan_up() { # NAME FILE
	"$NM" "unix:$D/$1.sock" "$CS" "$2" >"$D/$1.log" 2>&1 &
	echo $! >"$D/$1.pid"
	hn_on_exit hn_stop_pidfile "$D/$1.pid"
	hn_wait 10 test -S "$D/$1.sock" || hn_die "nullmilter ($1) did not start"
}
scan_up ceiling-clean "$D/clean.eml"
scan_up ceiling-eicar "$D/eicar.eml"
out=$("$ML" -s "unix:$D/ceiling-clean.sock" -m "$D/clean.eml" -c 4 -n 20 -t 20 2>&1)
expect "ceiling, clean file: 20 accepted" "$out" messages=20 errors=0 accept=20
out=$("$ML" -s "unix:$D/ceiling-eicar.sock" -m "$D/clean.eml" -c 4 -n 20 -t 20 2>&1)
expect "ceiling, EICAR file: 20 rejected (it scans its file, not the message)" "$out" \
	messages=20 errors=0 reject=20
clamd_down "$D/clamd"
out=$("$ML" -s "unix:$D/ceiling-clean.sock" -m "$D/clean.eml" -c 2 -n 4 -t 20 2>&1)
expect "ceiling, clamd stopped: tempfail, not accept" "$out" messages=4 errors=0 tempfail=4 accept=0
out=$("$CR" -s "$CS" -m "$D/clean.eml" -M fildes -c 2 -n 4 -t 20 2>&1)
expect "clamdraw, clamd stopped: every scan an error" "$out" messages=0 errors=4

hn_summary
