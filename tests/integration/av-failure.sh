#!/bin/bash
# av-failure.sh [MILTER_AV]: milter-av behind a private Postfix when clamd fails.
# clamd stopped -> 451 4.7.1 at SMTP (on_error = tempfail, the default); clamd back ->
# mail scanned again once backend_retry (1s) has passed, without a reload; with every
# backend marked down (backend_retry 60s) the preferred one is tried at once; on_error =
# accept -> delivered with "X-Virus-Scanned: skipped (error)", never a clean verdict;
# two backends over INSTREAM, the first dying mid-stream (a fake clamd that reads 256 KiB
# and closes) -> the message is replayed on the second and EICAR at 1.5 MB is found;
# a clamd that accepts and never answers with timeout = 1s -> on_error, quickly.
set -u
HN_NAME=av-failure
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/clamd.sh"
. "$HN_HARNESS/postfix.sh"
. "$(dirname "$0")/av-lib.sh"
[ $# -ge 1 ] && AV_BIN=$1
hn_require postfix postconf swaks clamd sigtool socat xxd python3
av_preflight "Postfix instance"

hn_tmpdir D avfail
clamd_up "$D/c1" || hn_die "clamd 1 did not start"
clamd_up "$D/c2" || hn_die "clamd 2 did not start"
av_fake_clamd "$D/close.sock" close || hn_die "fake clamd (close)"
av_fake_clamd "$D/silent.sock" silent || hn_die "fake clamd (silent)"
av_msgs "$D/msgs" "$D/c1/eicar.com"
C1="unix:$D/c1/clamd.sock"
av_up "$D/av" "clamd=$C1" backend_retry=1s timeout=5s || hn_die "milter-av did not start"
av_postfix "$D" "$D/av" || hn_die "postfix did not start"
TEMP='<\*\* 451 4\.7\.1 Virus scan temporarily unavailable'
N=0

# msg SUBJECT: a fresh clean message with that Subject, path on stdout
msg() {
	printf 'From: sender@example.org\nTo: rcpt@example.test\nSubject: %s\nMessage-ID: <%s@x>\n\nhello\n' \
		"$1" "${1// /.}" >"$D/msgs/$1.eml"
	echo "$D/msgs/$1.eml"
}
# delivered SUBJECT: the delivered file with that Subject (waits up to 15 s)
delivered() {
	local f
	for _ in $(seq 150); do
		f=$(grep -l "^Subject: $1\$" "$D/pf/mail/inbox/new/"* 2>/dev/null | head -n1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	echo /dev/null
	return 1
}
scanned() { grep -q '^X-Virus-Scanned: postwarden milter-av (ClamAV' "$(delivered "$1")"; }

# --- clamd stopped, then back
av_smtp "$(msg 'before outage')"
hn_check "baseline: clean mail delivered and scanned" scanned 'before outage'
clamd_down "$D/c1"
av_smtp "$(msg 'during outage')"
hn_check "clamd stopped: 451 4.7.1 at SMTP" grep -aEq "$TEMP" "$D/smtp.out"
hn_check "clamd stopped: the error is logged" grep -q 'scan failed: .*action=tempfail' "$D/av/av.log"
clamd_up "$D/c1" || hn_fail "clamd 1 restart"
sleep 1.2
av_smtp "$(msg 'after outage')"
hn_check "clamd back: scanned again after backend_retry (no reload)" scanned 'after outage'

# --- every backend marked down, clamd back: the preferred backend is tried at once (not
# only after backend_retry, 60 s here)
av_reconf "$D/av" "clamd=$C1" backend_retry=60s timeout=5s || hn_fail "reload"
clamd_down "$D/c1"
av_smtp "$(msg 'long retry outage')"
hn_check "backend_retry 60s, clamd stopped: 451 4.7.1" grep -aEq "$TEMP" "$D/smtp.out"
clamd_up "$D/c1" || hn_fail "clamd 1 restart"
av_smtp "$(msg 'long retry back')"
hn_check "clamd back: the next message is scanned at once, not after backend_retry" \
	scanned 'long retry back'

# --- on_error = accept: delivered, marked as not scanned
av_reconf "$D/av" "clamd=$C1" backend_retry=1s timeout=5s on_error=accept || hn_fail "reload"
clamd_down "$D/c1"
hn_check "on_error = accept: accepted at SMTP" av_smtp "$(msg 'accept on error')"
hn_check "on_error = accept: delivered with X-Virus-Scanned: skipped (error)" \
	grep -qx 'X-Virus-Scanned: skipped (error)' "$(delivered 'accept on error')"
hn_check "on_error = accept: virus not let through as clean" \
	bash -c '! grep -q "^X-Virus-Scanned: postwarden" "$1"' _ "$(delivered 'accept on error')"

# --- two backends, the first dies mid-stream (INSTREAM): replayed on the second
av_reconf "$D/av" "clamd=unix:$D/close.sock unix:$D/c2/clamd.sock" fildes=no \
	backend_retry=1s timeout=5s || hn_fail "reload"
av_smtp "$D/msgs/big.eml"
hn_check "first backend dies mid-stream: EICAR at 1.5 MB found on the second (550)" \
	grep -aEq "$AV_REJ" "$D/smtp.out"
hn_check "the fake backend got (and dropped) the start of the stream" \
	grep -q '^dropped after 2[0-9]\{5\} bytes' "$D/close.sock.log"
hn_check "the verdict came from the second backend, one failover logged" \
	grep -Eq "infected: .* backend=unix:$D/c2/clamd.sock failovers=1\$" "$D/av/av.log"
sleep 1.2 # the fake is retried after backend_retry
av_smtp "$D/msgs/clean-big.eml"
hn_check "first backend dies mid-stream: clean 2 MB delivered, scanned on the second" \
	scanned 'clean 2 MB'
hn_check "clean 2 MB logged as scanned by the second backend" \
	grep -Eq "clean backend=unix:$D/c2/clamd.sock failovers=1 size=2" "$D/av/av.log"

# --- a clamd that never answers, timeout = 1s -> on_error
av_reconf "$D/av" "clamd=unix:$D/silent.sock" timeout=1s backend_retry=1s || hn_fail "reload"
t0=$(hn_ms)
av_smtp "$(msg 'slow tempfail')"
t1=$(hn_ms)
hn_check "hung clamd: 451 4.7.1 (on_error = tempfail)" grep -aEq "$TEMP" "$D/smtp.out"
hn_check "hung clamd: answered within 10 s ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 10000
av_reconf "$D/av" "clamd=unix:$D/silent.sock" timeout=1s on_error=accept || hn_fail "reload"
av_smtp "$(msg 'slow accept')"
hn_check "hung clamd, on_error = accept: delivered with skipped (error)" \
	grep -qx 'X-Virus-Scanned: skipped (error)' "$(delivered 'slow accept')"

# --- two hung backends at start, timeout = 10s: checked at once, the start waits ~3 s,
# not 2 x 10 s (systemd's start timeout is 90 s)
av_fake_clamd "$D/silent2.sock" silent || hn_die "fake clamd (silent 2)"
mkdir -p "$D/av2"
t0=$(hn_ms)
C2="unix:$D/c2/clamd.sock"
av_up "$D/av2" "clamd=unix:$D/silent.sock unix:$D/silent2.sock $C2" timeout=10s ||
	hn_fail "milter-av with two hung backends did not start"
hn_wait 20 grep -q 'milter-av .* started' "$D/av2/av.log"
t1=$(hn_ms)
hn_check "two hung backends: started within 6 s ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 6000
hn_check "two hung backends: each logged as failover only, scanned by the third" \
	test "$(grep -c "not answering (no answer at start): failover only; mail is scanned by $C2" "$D/av2/av.log")" -eq 2
t0=$(hn_ms)
kill -USR2 "$(av_pid "$D/av2")"
hn_wait 10 bash -c '! kill -0 "$1" 2>/dev/null || grep -q " Z " "/proc/$1/stat"' _ "$(av_pid "$D/av2")"
hn_check "SIGUSR2 with no open session: stopped within 1 s ($(($(hn_ms) - t0)) ms)" \
	test $(($(hn_ms) - t0)) -lt 1000

if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- smtp.log"; cat "$D/smtp.log"; echo "--- av.log"; tail -n 40 "$D/av/av.log"
	echo "--- maillog"; tail -n 30 "$D/pf/maillog"
fi
hn_summary
