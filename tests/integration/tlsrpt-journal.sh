#!/bin/bash
# tlsrpt-journal.sh: `logfile = journal:NAMESPACE` (tlsrpt/follow.c, sd-journal), against a
# private systemd-journald instance of a journal namespace of its own (so the host's journal
# and /dev/log are left alone; a container without a running journal can still run this):
#  - the collector starts and follows the namespace from its end
#  - the smtp lines of the captured Postfix 3.7.11 log are sent through the namespace's
#    syslog socket (logger, with the original smtp process ids), then SIGTERM: exit 0, and
#    `status` shows the same per-domain sessions as `ingest-log` of the captured log into
#    a separate store
# Skipped (77) unless root, with systemd-journald, logger, journalctl and a tlsrpt built
# with libsystemd. Bounded waits only.
set -u
. "$POSTWARDEN_HARNESS/lib.sh"
. "$POSTWARDEN_HARNESS/notify.sh"
HN_NAME=tlsrpt-journal
T=${POSTWARDEN_BUILD:-}/tlsrpt/tlsrpt
[ -x "$T" ] || { echo "FAIL: tlsrpt not built ($T)"; exit 1; }
SRC=${POSTWARDEN_SOURCE:-$(dirname "$0")/../..}
hn_require logger journalctl
JD=/lib/systemd/systemd-journald
[ -x "$JD" ] || { echo "SKIP: no $JD"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a journald instance)"; exit 77; }
grep -q '^#define HAVE_SYSTEMD' "${POSTWARDEN_BUILD:-}/config.h" 2>/dev/null ||
	{ echo "SKIP: tlsrpt built without libsystemd"; exit 77; }
[ -s /etc/machine-id ] || { echo "SKIP: no /etc/machine-id"; exit 77; }
export TZ=UTC
hn_tmpdir D tlsrpt-journal
mkdir -p "$D/state" "$D/state2" "$D/run"
NS=pwtest$$
{
	echo "listen = unix:$D/run/tlsrpt.sock"
	echo "user = root"
	echo "group = root"
	echo "store = lmdb:$D/state"
	echo "logfile = journal:$NS"
} >"$D/t.conf"
sed "s|lmdb:$D/state|lmdb:$D/state2|; s|^logfile.*||" "$D/t.conf" >"$D/ref.conf"

jd_cleanup() {
	rm -rf "/run/systemd/journal.$NS" "/var/log/journal/$(cat /etc/machine-id).$NS" \
		"/run/log/journal/$(cat /etc/machine-id).$NS"
}
"$JD" "$NS" >"$D/journald.log" 2>&1 &
JPID=$!
hn_on_exit jd_cleanup
hn_on_exit hn_stop "$JPID"
SOCK=/run/systemd/journal.$NS/dev-log
hn_check "a journald instance for namespace $NS" hn_wait 10 test -S "$SOCK"

start() { notify_start "$D" "$D/t.log" "$T" -f -c "$D/t.conf"; }
stop_wait() { hn_term_wait "$PID"; }
rows() { # rows CONF OUT
	"$T" -c "$1" status >"$2.full" 2>&1
	grep -E '^  [^ ]+ +[^ ]+ +success [0-9]+, failure [0-9]+$' "$2.full" | sort >"$2"
	[ -s "$2" ]
}
send() { # the smtp lines, each with its smtp process id
	local pid msg
	sed -nE 's/^.{15} [^ ]+ postfix\/smtp\[([0-9]+)\]: (.*)$/\1 \2/p' \
		"$SRC/tests/data/postfix-3.7.11-tls-maillog.txt" >"$D/smtp.txt"
	while read -r pid msg; do
		logger -u "$SOCK" --id="$pid" -t postfix/smtp -- "$msg" || return 1
	done <"$D/smtp.txt"
}
in_journal() { [ "$(journalctl --namespace="$NS" -q -t postfix/smtp | wc -l)" = "$(wc -l <"$D/smtp.txt")" ]; }

hn_check "collector with logfile = journal:$NS starts (READY=1)" start
hn_check "  follows the namespace from its end" hn_wait 10 grep -q "journal:$NS: following from its end" "$D/t.log"
hn_check "the captured smtp lines logged through the namespace's syslog socket" send
hn_check "  all of them in the journal" hn_wait 10 in_journal
hn_check "SIGTERM: exit 0" stop_wait
cp "$SRC/tests/data/postfix-3.7.11-tls-maillog.txt" "$D/maillog" # dated today below
sed -i "s/^[A-Z][a-z][a-z] [ 0-9][0-9] /$(LC_ALL=C date -u '+%b %e') /" "$D/maillog"
hn_check "ingest-log of the captured log into a separate store" \
	bash -c '"$0" -c "$1" ingest-log "$2" >"$3/ingest.out" 2>&1' "$T" "$D/ref.conf" "$D/maillog" "$D"
hn_check "  status: the journal follower counted what ingest-log counts, per domain" \
	bash -c "$(declare -f rows); T=\$0; rows \"\$1/t.conf\" \"\$1/s\" && rows \"\$1/ref.conf\" \"\$1/r\" && diff \"\$1/s\" \"\$1/r\" >&2" "$T" "$D"
hn_check "  status shows the follower's lines" grep -qE "log: $(wc -l <"$D/smtp.txt") lines" "$D/s.full"
cat "$D/s.full" "$D/ingest.out" >&2
hn_summary
