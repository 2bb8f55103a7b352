#!/bin/bash
# tlsrpt-follow.sh: `logfile = PATH`, the collector following a Postfix 3.7 mail log like
# tail -F (tlsrpt/follow.c), against a real store (LMDB). The captured Postfix 3.7.11 log
# with its dates moved to today (the daemon and ingest-log run with TZ=UTC, so the local
# times of the lines are UTC and land on today's UTC day):
#  - the collector starts on an empty log (no saved position: from its end) and says so
#  - lines 1-46 appended one by one, line 47 (an smtp line) written in two pieces (a
#    partial line waits for its newline), lines 48-49, then a rotation (mv + a new file)
#    in the middle of a session and lines 50-52 in the new file, then SIGTERM: exit 0, and
#    `status` shows the same per-domain sessions as `ingest-log` of lines 1-52 into a
#    separate store, and the follower's line and rotation counts
#  - lines 53-59 appended while the collector is down, a restart continues from the
#    position it saved (pw:tlsrpt:logpos:<host>:<path>): after SIGTERM the counts equal
#    ingest-log of 1-52 plus 53-59, so no line was counted twice or missed
#  - while it runs, the log is emptied in place (copytruncate): the follower reads it
#    again from its start; a malformed smtp line and lines 53-59 once more are appended
#    and counted as ingest-log counts them; the malformed line is counted, not fatal
#  - a reload that changes logfile keeps following the same log and says so
# Bounded waits only.
set -u
. "$POSTWARDEN_HARNESS/lib.sh"
. "$POSTWARDEN_HARNESS/notify.sh"
HN_NAME=tlsrpt-follow
T=${POSTWARDEN_BUILD:-}/tlsrpt/tlsrpt
[ -x "$T" ] || { echo "FAIL: tlsrpt not built ($T)"; exit 1; }
SRC=${POSTWARDEN_SOURCE:-$(dirname "$0")/../..}
export TZ=UTC
hn_tmpdir D tlsrpt-follow
mkdir -p "$D/state" "$D/state2" "$D/run" "$D/log"
if [ "$(id -u)" = 0 ]; then
	chown nobody:nogroup "$D/state" "$D/state2" "$D/run"
	U=nobody G=nogroup
else
	U=$(id -un) G=$(id -gn)
fi
LOGF=$D/log/maillog
conf() { # conf STORE_DIR
	echo "listen = unix:$D/run/tlsrpt.sock"
	echo "user = $U"
	echo "group = $G"
	echo "store = lmdb:$1"
	echo "logfile = $LOGF"
	echo "sending_ip = 192.0.2.1"
}
conf "$D/state" >"$D/t.conf"
conf "$D/state2" >"$D/ref.conf"

# The captured log, dated today (syslog form: "Dec  3 00:41:27").
today_syslog=$(LC_ALL=C date -u '+%b %e')
sed "s/^[A-Z][a-z][a-z] [ 0-9][0-9] /$today_syslog /" "$SRC/tests/data/postfix-3.7.11-tls-maillog.txt" >"$D/all.txt"
total=$(wc -l <"$D/all.txt")
sed -n 1,52p "$D/all.txt" >"$D/part1.txt"
sed -n "53,${total}p" "$D/all.txt" >"$D/part2.txt"

start() { : >"$D/t.log" && notify_start "$D" "$D/t.log" "$T" -f -c "$D/t.conf"; }
stop_wait() { hn_term_wait "$PID"; }
# following OFFSET-REGEX: the follower has opened the log
following() { hn_wait 10 grep -qE "maillog: following from offset $1\$" "$D/t.log"; }
# rows CONF OUT: today's per-domain rows of `status`
rows() {
	"$T" -c "$1" status >"$2.full" 2>&1
	grep -E '^  [^ ]+ +[^ ]+ +success [0-9]+, failure [0-9]+$' "$2.full" | sort >"$2"
	[ -s "$2" ]
}
same() { diff "$1" "$2" >&2; }
ingest() { # ingest FILE: into the reference store
	cp "$1" "$D/log/ref.txt"
	"$T" -c "$D/ref.conf" ingest-log "$D/log/ref.txt" >>"$D/ingest.out" 2>&1
}
append_lines() { # append_lines FROM TO: one write per line, a pause now and then
	local n=0 line
	while IFS= read -r line; do
		n=$((n + 1))
		printf '%s\n' "$line" >>"$LOGF"
		[ $((n % 10)) = 0 ] && sleep 0.1
	done
	return 0
}

: >"$LOGF"
chmod 644 "$LOGF"
hn_check "collector with logfile = starts (READY=1)" start
hn_check "  the follower opened the empty log at its end" following 0
hn_check "lines 1-46 appended one by one" append_lines <<<"$(sed -n 1,46p "$D/part1.txt")"
line47=$(sed -n 47p "$D/part1.txt")
printf '%s' "${line47:0:60}" >>"$LOGF"
sleep 0.6 # the follower sees the partial line and must wait for the rest
printf '%s\n' "${line47:60}" >>"$LOGF"
hn_check "line 47 in two pieces, lines 48-49 appended" append_lines <<<"$(sed -n 48,49p "$D/part1.txt")"
sleep 0.5
mv "$LOGF" "$LOGF.1"
: >"$LOGF"
chmod 644 "$LOGF"
hn_check "rotation (mv + new file), lines 50-52 into the new file" append_lines <<<"$(sed -n 50,52p "$D/part1.txt")"
hn_check "SIGTERM: exit 0" stop_wait
hn_check "ingest-log of the same lines 1-52 into a separate store" ingest "$D/part1.txt"
hn_check "  status: the follower counted what ingest-log counts, per domain" \
	bash -c 'rows() { "$T" -c "$1" status >"$2.full" 2>&1; grep -E "^  [^ ]+ +[^ ]+ +success [0-9]+, failure [0-9]+\$" "$2.full" | sort >"$2"; [ -s "$2" ]; }
		T=$0; rows "$1/t.conf" "$1/s1" && rows "$1/ref.conf" "$1/r1" && diff "$1/s1" "$1/r1" >&2' "$T" "$D"
hn_check "  status shows the follower's 52 lines" grep -qE "log: 52 lines" "$D/s1.full"
hn_check "  the rotation was seen" grep -qE "log: .*1 rotation" "$D/s1.full"
hn_check "  the position was saved in the store" \
	bash -c '"$0" -c "$1" status >/dev/null; grep -q . "$2"' "$T" "$D/t.conf" "$LOGF"

hn_check "lines 53-$total appended while the collector is down" append_lines <"$D/part2.txt"
size1=$(($(stat -c %s "$LOGF") - $(stat -c %s "$D/part2.txt")))
hn_check "the collector restarts" start
hn_check "  and continues from the saved position ($size1)" following "$size1"
hn_check "  has read lines 53-$total before the log is truncated" \
	hn_wait 10 bash -c '"$0" -c "$1" status | grep -q "log: $2 lines"' "$T" "$D/t.conf" "$((total - 52))"
: >"$LOGF"
hn_check "copytruncate: the follower reads the emptied log from its start" \
	hn_wait 10 grep -q "maillog: truncated: reading from the start" "$D/t.log"
{
	echo "$today_syslog 00:41:50 sender postfix/smtp[31000]: Verified TLS connection established to nohost"
	cat "$D/part2.txt"
} >"$D/part3.txt"
hn_check "  a malformed smtp line and lines 53-$total again appended" append_lines <"$D/part3.txt"
sed -i "s|^logfile = .*|logfile = $D/log/other|" "$D/t.conf"
kill -HUP "$PID"
hn_check "a reload naming another log says it takes effect at the next start" \
	hn_wait 10 grep -q "logfile = $D/log/other takes effect at the next start" "$D/t.log"
hn_check "  SIGTERM: exit 0" stop_wait
ingest23() { ingest "$D/part2.txt" && ingest "$D/part3.txt"; }
hn_check "ingest-log of lines 53-$total, then of what followed the truncation, into the separate store" ingest23
hn_check "  status: the same per-domain counts, nothing counted twice" \
	bash -c 'rows() { "$T" -c "$1" status >"$2.full" 2>&1; grep -E "^  [^ ]+ +[^ ]+ +success [0-9]+, failure [0-9]+\$" "$2.full" | sort >"$2"; [ -s "$2" ]; }
		T=$0; rows "$1/t.conf" "$1/s2" && rows "$1/ref.conf" "$1/r2" && diff "$1/s2" "$1/r2" >&2' "$T" "$D"
hn_check "  the counts did grow with the new lines" bash -c '! cmp -s "$0/s1" "$0/s2"' "$D"
hn_check "  the malformed line is counted" grep -qE "log: $((2 * (total - 52) + 1)) lines, [0-9]+ sessions, 1 malformed" "$D/s2.full"
cat "$D/s2.full" "$D/ingest.out" >&2
hn_summary
