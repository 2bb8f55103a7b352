#!/bin/bash
# tests/bench/av-ab.sh OLD_MILTER_AV NEW_MILTER_AV [BUILD_DIR]: two milter-av binaries, same
# clamd (harness, EICAR-only DB), same messages, same load, in one run, alternating three
# rounds each: 4 KB and 1 MB clean mail with milterload -c 16. FILDES=no in the environment
# scans over zINSTREAM instead of FILDES. Prints one line per run (messages, errors, msg/s).
# For checking that a change to the scan path costs nothing; not a test.
set -u
OLD=$1 NEW=$2
BUILD=$(realpath "${3:-build}")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
HN_NAME=av-ab
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/clamd.sh"
hn_tmpdir D av-ab
clamd_up "$D/clamd" >/dev/null || hn_die "clamd did not start"
python3 - "$D" <<'PY'
import sys
d = sys.argv[1]
body = "".join("The quick brown fox jumps over the lazy dog %08d 0123456789\n" % i for i in range(60))
for name, size in (("4k", 4096), ("1m", 1024 * 1024)):
    b = (body * (size // len(body) + 1))[:size]
    open(f"{d}/m{name}.eml", "w").write("From: a@example.org\nTo: b@example.net\nSubject: t\n"
        "Message-ID: <x@y>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\n" + b)
PY
mkdir -p "$D/run"
[ "$(id -u)" != 0 ] || chown nobody "$D/run"
for v in old new; do
	printf 'listen = unix:%s/run/%s.sock:0666\nuser = nobody\ngroup = nogroup\nstore = memory:\nclamd = unix:%s/clamd/clamd.sock\nfildes = %s\n' \
		"$D" "$v" "$D" "${FILDES:-auto}" >"$D/$v.conf"
done
"$OLD" -f -c "$D/old.conf" >"$D/old.log" 2>&1 &
hn_on_exit hn_stop $!
"$NEW" -f -c "$D/new.conf" >"$D/new.log" 2>&1 &
hn_on_exit hn_stop $!
hn_wait 10 grep -q started "$D/old.log" && hn_wait 10 grep -q started "$D/new.log" ||
	hn_die "a milter-av did not start"
for size in 4k 1m; do
	n=3000
	[ $size = 1m ] && n=200
	for round in 1 2 3; do
		for v in old new; do
			r=$("$BUILD/tests/bench/milterload" -s "unix:$D/run/$v.sock" -m "$D/m$size.eml" \
				-c 16 -n $n -t 20 | grep '^result' |
				sed -E 's/.*messages=([0-9]+) errors=([0-9]+).*rate=([0-9.]+).*/messages=\1 errors=\2 msg\/s=\3/')
			echo "$size round $round $v: $r"
		done
	done
done
