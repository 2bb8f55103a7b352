#!/bin/bash
# av-size.sh [MILTER_AV]: message size limits through a private Postfix. max_size = 1M
# with a 2 MB message: oversize = accept (delivered with "X-Virus-Scanned: skipped
# (oversize)", logged, even with EICAR inside: never a truncated scan called clean),
# tempfail (451 4.7.1), reject (552 5.3.4). Default max_size = 25M: 24 MiB with EICAR
# on its last line is found over INSTREAM and over FILDES; 26 MiB gets the oversize
# action. clamd's own limits: its "INSTREAM size limit exceeded" (StreamMaxLength 1M)
# and Heuristics.Limits.Exceeded over FILDES (MaxFileSize 1M, AlertExceedsMax yes) get
# the oversize action, never a clean verdict and never the virus action.
set -u
HN_NAME=av-size
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
. "$HN_HARNESS/clamd.sh"
. "$HN_HARNESS/postfix.sh"
. "$(dirname "$0")/av-lib.sh"
[ $# -ge 1 ] && AV_BIN=$1
hn_require postfix postconf swaks clamd sigtool socat xxd python3
av_preflight "Postfix instance"

hn_tmpdir D avsize
clamd_up "$D/c1" || hn_die "clamd did not start"
CLAMD_EXTRA=$'StreamMaxLength 1M\nMaxFileSize 1M\nMaxScanSize 1M' clamd_up "$D/c3" ||
	hn_die "small clamd did not start"
av_msgs "$D/msgs" "$D/c1/eicar.com"
av_bigmsg "$D/msgs/24v.eml" 24 "$D/c1/eicar.com"
av_bigmsg "$D/msgs/26.eml" 26 -
C1="clamd=unix:$D/c1/clamd.sock"
av_up "$D/av" "$C1" max_size=1M || hn_die "milter-av did not start"
av_postfix "$D" "$D/av" || hn_die "postfix did not start"
SKIP='X-Virus-Scanned: skipped (oversize)'

# smtp MSG: send $D/msgs/MSG over SMTP (40 s: the 24 MiB messages)
smtp() { av_smtp "$D/msgs/$1" 40; }
# delivered SUBJECT: the newest delivered file with that Subject (waits up to 20 s)
delivered() {
	local f
	for _ in $(seq 200); do
		f=$(grep -l "^Subject: $1\$" $(ls -t "$D/pf/mail/inbox/new/"* 2>/dev/null) \
			2>/dev/null | head -n1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	echo /dev/null
	return 1
}
# clear: empty the mailbox (each step looks for its own delivery)
clear() { rm -f "$D/pf/mail/inbox/new/"*; }

# --- max_size = 1M
hn_check "oversize = accept: 2 MB accepted" smtp clean-big.eml
hn_check "oversize = accept: delivered with $SKIP" grep -qxF "$SKIP" "$(delivered 'clean 2 MB')"
hn_check "oversize logged" grep -q 'not scanned: oversize (.*action=accept' "$D/av/av.log"
clear
hn_check "oversize = accept, EICAR at 1.5 MB: accepted (not scanned)" smtp big.eml
f=$(delivered 'eicar at 1.5 MB')
hn_check "... marked skipped (oversize), not clean" grep -qxF "$SKIP" "$f"
av_reconf "$D/av" "$C1" max_size=1M oversize=tempfail || hn_fail "reload"
smtp clean-big.eml
hn_check "oversize = tempfail: 451 4.7.1" grep -aq '<\*\* 451 4\.7\.1 Message too large to scan' \
	"$D/smtp.out"
av_reconf "$D/av" "$C1" max_size=1M oversize=reject || hn_fail "reload"
smtp clean-big.eml
hn_check "oversize = reject: 552 5.3.4" grep -aq '<\*\* 552 5\.3\.4 Message too large to scan' \
	"$D/smtp.out"
hn_check "oversize = reject: small clean mail still passes" smtp clean.eml

# --- default max_size (25M), 24 MiB and 26 MiB
av_reconf "$D/av" "$C1" fildes=no || hn_fail "reload"
smtp 24v.eml
hn_check "25M, INSTREAM: EICAR at the end of 24 MiB found (550)" grep -aEq "$AV_REJ" "$D/smtp.out"
av_reconf "$D/av" "$C1" || hn_fail "reload"
smtp 24v.eml
hn_check "25M, FILDES: EICAR at the end of 24 MiB found (550)" grep -aEq "$AV_REJ" "$D/smtp.out"
hn_check "the FILDES path was used (and INSTREAM before it)" bash -c \
	'grep "infected: " "$1" | tail -n 2 | sed "s/.*clamd.sock//" | tr "\n" / | grep -qx "/ (fildes)/"' \
	_ "$D/av/av.log"
clear
hn_check "26 MiB: accepted" smtp 26.eml
hn_check "26 MiB: delivered with $SKIP" grep -qxF "$SKIP" "$(delivered 'big 26 MB')"

# --- clamd's own limits are oversize, never clean and never a virus
C3="clamd=unix:$D/c3/clamd.sock"
av_reconf "$D/av" "$C3" fildes=no max_size=4M || hn_fail "reload"
clear
smtp clean-big.eml
hn_check "clamd INSTREAM size limit exceeded: oversize action (skipped)" \
	grep -qxF "$SKIP" "$(delivered 'clean 2 MB')"
av_reconf "$D/av" "$C3" max_size=4M oversize=reject || hn_fail "reload"
smtp clean-big.eml
hn_check "clamd Heuristics.Limits.Exceeded (FILDES): oversize = reject -> 552" \
	grep -aq '<\*\* 552 5\.3\.4' "$D/smtp.out"
hn_check "... logged as oversize with the heuristic name" \
	grep -q 'not scanned: oversize (.*Heuristics.Limits.Exceeded' "$D/av/av.log"

if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- smtp.log"; cat "$D/smtp.log"; echo "--- av.log"; tail -n 40 "$D/av/av.log"
	echo "--- maillog"; tail -n 30 "$D/pf/maillog"
fi
hn_summary
