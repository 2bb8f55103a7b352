#!/bin/bash
# tests/bench/dkim-ab.sh OLD NEW [BUILD_DIR]: two milter-dkim builds side by side, same keys,
# same messages, same load, in one run, alternating three rounds each: 4 KB and 1 MB mail
# signed with RSA-2048 (the legacy selector "mail", never DNS-gated) and with Ed25519 (a
# selector "ed" served by the harness DNS, tests/harness/dns.sh), milterload -c 16 -a.
# OLD and NEW are milter-dkim binaries, or git revisions of this tree, which are then
# exported (git archive) and built in the temp dir (milter-dkim only). BUILD_DIR (default
# build) provides milterload. Before loading, each daemon's signature is checked by dkimpy.
# Rounds run old-new, new-old, old-new, so that a drift of the machine favours neither.
# Prints one line per run (messages, errors, signatures added, msg/s, the daemon's CPU time
# per message from /proc/PID/stat) and a median-of-three summary with the ratios NEW / OLD. Every load is bounded by count and time (milterload -n,
# -t 20); unix sockets and loopback DNS only. For checking that a change costs the signing
# path nothing; not a test.
set -u
OLD=$1 NEW=$2
BUILD=$(realpath "${3:-build}")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
HN_NAME=dkim-ab
. "$SRC/tests/harness/lib.sh"
. "$SRC/tests/harness/dns.sh"
hn_require openssl python3
[ -x "$BUILD/tests/bench/milterload" ] || hn_die "no $BUILD/tests/bench/milterload"
hn_tmpdir D dkim-ab

# binary VAR OLD|NEW: the milter-dkim to run, building a git revision when given one.
binary() {
	local arg=$2 dir=$D/src-$1
	if [ -x "$arg" ] && [ -f "$arg" ]; then
		printf -v "$1" '%s' "$(realpath "$arg")"
		return 0
	fi
	git -C "$SRC" rev-parse --verify -q "$arg^{commit}" >/dev/null || hn_die "$arg: no binary, no revision"
	hn_log "building milter-dkim of $arg ($(git -C "$SRC" rev-parse --short "$arg"))"
	mkdir -p "$dir"
	git -C "$SRC" archive "$arg" | tar -x -C "$dir" || hn_die "git archive $arg failed"
	meson setup "$dir/build" "$dir" -Dtests=disabled -Dmilter-av=disabled -Dman=disabled \
		>"$dir.log" 2>&1 && ninja -C "$dir/build" -j2 milter-dkim/milter-dkim >>"$dir.log" 2>&1 ||
		hn_die "build of $arg failed (see $dir.log)"
	printf -v "$1" '%s' "$dir/build/milter-dkim/milter-dkim"
}
binary OLD_BIN "$OLD"
binary NEW_BIN "$NEW"

mkdir -p "$D/keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$D/keys/rsa.key" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$D/keys/ed.key" 2>/dev/null
chmod 600 "$D/keys/"*.key
RSA_TXT="v=DKIM1; k=rsa; p=$(openssl pkey -in "$D/keys/rsa.key" -pubout -outform DER | base64 -w0)"
ED_TXT="v=DKIM1; k=ed25519; p=$(openssl pkey -in "$D/keys/ed.key" -pubout -outform DER | tail -c 32 | base64 -w0)"
printf 'mail._domainkey.example.test %s\ned._domainkey.example.test %s\n' "$RSA_TXT" "$ED_TXT" \
	>"$D/records"
python3 - "$D" <<'PY'
import sys
d = sys.argv[1]
head = ("From: Bench Sender <sender@example.test>\r\nTo: Bench Recipient <rcpt@example.net>\r\n"
        "Subject: dkim-ab\r\nDate: Thu, 03 Dec 2026 06:00:00 +0000\r\n"
        "Message-ID: <dkim-ab@example.test>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
for name, size in (("4k", 4096), ("1m", 1024 * 1024)):
    out, i = [head], 0
    total = len(head)
    while total < size:
        line = "Line %07d: the quick brown fox jumps over the lazy dog 0123456789\r\n" % i
        out.append(line); total += len(line); i += 1
    open(f"{d}/m{name}.eml", "w", newline="").write("".join(out))
PY

mkdir -p "$D/dns"
printf 'ed._domainkey.example.test. 300 IN TXT "%s"\n' "$ED_TXT" >"$D/dns/example.test.extra"
dns_up "$D/dns" >&2 || hn_die "the test DNS did not start"

# start V ALG BIN: one milter-dkim on $D/V-ALG/milter.sock, waited for.
start() {
	local d=$D/$1-$2
	mkdir -p "$d/keys"
	{
		printf 'listen = unix:%s/milter.sock\nstore = memory:\nkeydir = %s/keys\n' "$d" "$d"
		printf 'user = root\ngroup = root\nresolver = %s\ntrust_anchor = %s\n' \
			"$DNS_FORWARDER" "$DNS_TA"
		printf '\n[example.test]\n'
		if [ "$2" = rsa ]; then
			install -m 0600 "$D/keys/rsa.key" "$d/keys/example.test.mail.key"
		else
			printf 'selectors = ed\n\n[example.test/ed]\nalgorithm = ed25519-sha256\n'
			printf 'key = %s/keys/ed.key\nsign = yes\n' "$D"
		fi
	} >"$d/milter-dkim.conf"
	"$3" -f -c "$d/milter-dkim.conf" >"$d/log" 2>&1 &
	echo $! >"$d/pid"
	hn_on_exit hn_stop $!
	hn_wait 10 grep -q started "$d/log" || hn_die "$1 $2 did not start: $(tail -n 3 "$d/log")"
}

# verify V ALG: one message signed under light load must verify with dkimpy (the Ed25519
# selector signs once its DNS check has passed: retried for up to 10 s).
verify() {
	local d=$D/$1-$2 out i
	for i in $(seq 20); do
		rm -f "$d/signed.eml"
		"$BUILD/tests/bench/milterload" -s "unix:$d/milter.sock" -m "$D/m4k.eml" -c 4 -n 50 \
			-t 10 -a -o "$d/signed.eml" >/dev/null 2>&1
		if [ -s "$d/signed.eml" ] && out=$(/usr/bin/python3 "$SRC/tests/bench/dkimverify.py" \
			"$D/records" "$d/signed.eml" 2>&1); then
			hn_log "$1 $2: $out"
			return 0
		fi
		sleep 0.5
	done
	hn_die "$1 $2: no verifiable signature: ${out:-no message written}"
}

# cpu_ticks PID: utime + stime of the process (all its threads), in clock ticks.
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat") || return 1
	s=${s##*) }
	set -- $s
	echo $((${12} + ${13}))
}
HZ=$(getconf CLK_TCK)

for alg in rsa ed25519; do
	for v in old new; do
		[ $v = old ] && bin=$OLD_BIN || bin=$NEW_BIN
		start $v $alg "$bin"
		verify $v $alg
	done
done

: >"$D/results"
for alg in rsa ed25519; do
	for size in 4k 1m; do
		n=16000
		[ $alg = ed25519 ] && n=30000
		[ $size = 1m ] && n=1500
		for round in 1 2 3; do
			order="old new"
			[ $round = 2 ] && order="new old"
			for v in $order; do
				pid=$(cat "$D/$v-$alg/pid")
				c0=$(cpu_ticks "$pid")
				out=$("$BUILD/tests/bench/milterload" -s "unix:$D/$v-$alg/milter.sock" \
					-m "$D/m$size.eml" -a -c 16 -n $n -t 20)
				c1=$(cpu_ticks "$pid")
				signed=$(awk '$1 == "header" && $2 == "DKIM-Signature" { print $3 }' <<<"$out")
				res=$(grep '^result' <<<"$out")
				msgs=$(sed -nE 's/.*messages=([0-9]+).*/\1/p' <<<"$res")
				rate=$(sed -nE 's/.* rate=([0-9.]+).*/\1/p' <<<"$res")
				cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v m="${msgs:-0}" \
					'BEGIN { printf "%.3f", (m > 0 ? d * 1000 / hz / m : 0) }')
				echo "$alg $size round $round $v: messages=${msgs:-0}" \
					"errors=$(sed -nE 's/.*errors=([0-9]+).*/\1/p' <<<"$res")" \
					"signed=${signed:-0} msg/s=${rate:-0} cpu_ms/msg=$cpu"
				echo "$alg $size $v ${rate:-0} $cpu" >>"$D/results"
			done
		done
	done
done

# median V ALG SIZE COLUMN: the middle of the three rounds' values.
median() {
	awk -v v=$1 -v a=$2 -v s=$3 -v c=$4 '$1 == a && $2 == s && $3 == v { print $c }' \
		"$D/results" | sort -g | sed -n 2p
}
echo "medians of three: alg size | msg/s old new new/old | server cpu ms/msg old new new/old"
for alg in rsa ed25519; do
	for size in 4k 1m; do
		awk -v a=$alg -v s=$size -v o="$(median old $alg $size 4)" -v n="$(median new $alg $size 4)" \
			-v co="$(median old $alg $size 5)" -v cn="$(median new $alg $size 5)" \
			'BEGIN { printf "%s %s | %s %s %.2f | %s %s %.2f\n", a, s, o, n, (o > 0 ? n / o : 0),
				co, cn, (co > 0 ? cn / co : 0) }'
	done
done
