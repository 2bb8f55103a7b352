#!/bin/bash
# soak.sh [lmdb|redis]: mixed mail through all four daemons for SOAK_SECONDS (default 120;
# `make soak` runs 1800 on the ASan build), on the site of mail-path.sh (e2e_site_up: two
# Postfix hosts in network namespaces, submission with SASL through Dovecot, milter-av,
# milter-dkim with two selectors, policyd-mtasts, tlsrpt following A's log), store lmdb
# (default) or redis.
#
# The load (tests/e2e/e2e_load.py load): alice submits over 587 (STARTTLS, AUTH), at most
# SOAK_CONCURRENCY sessions at once (default 4) and SOAK_RATE messages a second (default 4),
# bodies of 2 KB to 1 MB cycled (11 sizes), to four recipient sets cycled: sts (MTA-STS
# enforce), dane (TLSA 3 1 1, policyd answers dane-only), nopolicy (policy host 404) and
# one message to all three; every 13th message is EICAR (refused 550 by milter-av).
# Before it, a warm-up of the same mix (52 messages) so caches and pools exist before the
# first sample. Every SOAK_SAMPLE seconds (default 5) each daemon's open fds
# (/proc/PID/fd) and VmRSS are sampled; once quiet before the load (start) and once quiet
# after it, A's queue empty (end).
#
# Asserted at the end:
#  - lost messages: none. e2e_load.py audit: every accepted message is in B's Maildir once
#    per recipient, scanned (X-Virus-Scanned), both DKIM signatures pass dkimpy; nothing
#    refused but EICAR (550, virus), no session error, no 4xx; every EICAR refused;
#  - the load did run: at least SOAK_SECONDS/2 messages submitted;
#  - policyd-mtasts: every session to mx.sts and mx.dane was Verified (enforce and DANE
#    applied), none weaker; tlsrpt: the day's report counts exactly the sessions A's log
#    has to mx.sts (sts policy), mx.dane (tlsa) and mx.nopolicy (no-policy-found);
#  - fds and RSS (tests/e2e/e2e_soak.py, which states the rules): fds at end <= start + 2;
#    RSS median of the last third of the load samples <= the first third's x 1.25 + 4 MB;
#  - each daemon stops on SIGTERM with exit status 0, and its log has no AddressSanitizer,
#    LeakSanitizer or UBSan report. Under an ASan build (the binaries need libasan) the
#    daemons run with detect_leaks=1 added to ASAN_OPTIONS, so a leak at exit makes the
#    exit status non-zero and writes the report to the log; and quarantine_size_mb=4
#    (ASan holds freed memory back to catch its use: 256 MB by default, which fills for
#    minutes and reads as RSS growth; 16 MB still grew milter-av and milter-dkim by ~17 MB
#    over a 40 s run; 4 MB is full after the warm-up). Without ASan the rest still runs.
# Prints the figures: messages, msg/s, MB/s, and fds and RSS per daemon at start/mid/end.
# Needs root; exits 77 when namespaces cannot be made or a server is not installed.
# shellcheck disable=SC2016 # bash -c bodies expand in the child
set -u
KIND=${1:-lmdb}
SECS=${SOAK_SECONDS:-120}
SAMPLE=${SOAK_SAMPLE:-5}
CONC=${SOAK_CONCURRENCY:-4}
RATE=${SOAK_RATE:-4}
. "$(dirname "$0")/e2e-lib.sh"
e2e_init "e2e-soak-$KIND"
T0=$(hn_ms)
DAEMONS=(milter-av milter-dkim policyd-mtasts tlsrpt)

asan=yes
for b in "$AV" "$DKIM" "$MT" "$TLSRPT"; do
	readelf -d "$b" 2>/dev/null | grep -q 'NEEDED.*libasan' || asan=no
done
if [ "$asan" = yes ]; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1}:detect_leaks=1:quarantine_size_mb=4"
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
hn_log "ASan build: $asan${ASAN_OPTIONS:+ (ASAN_OPTIONS=$ASAN_OPTIONS)}; $SECS s, concurrency $CONC, at most $RATE msg/s, store $KIND"

e2e_site_up "$KIND"
# a delivery that fails for a moment is retried within seconds, not after 300 s
pf_set "$SND" "queue_run_delay = 1s" "minimal_backoff_time = 1s" "maximal_backoff_time = 2s"
A postfix -c "$SND/etc" reload >/dev/null 2>&1

MIX=(--rcpt "user@sts.$Z" --rcpt "user@dane.$Z" --rcpt "user@nopolicy.$Z"
	--rcpt "all@sts.$Z,all@dane.$Z,all@nopolicy.$Z"
	--eicar "$D/clamd/eicar.com" --eicar-every 13 --concurrency "$CONC" --rate "$RATE")
for s in 2000 8000 3000 40000 5000 200000 2000 1000000 16000 4000 100000; do MIX+=(--size "$s"); done

# sample PHASE: one line per daemon, "PHASE SECONDS NAME FDS RSS_KB ANON_KB FILE_KB", to
# $D/samples
sample() {
	local n pid fds rss
	for n in "${DAEMONS[@]}"; do
		pid=${E2E_PID[$n]}
		fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		rss=$(awk '/^(VmRSS|RssAnon|RssFile):/ { printf " %s", $2 }' "/proc/$pid/status" 2>/dev/null)
		echo "$1 $((($(hn_ms) - TL) / 1000)) $n $fds ${rss:- 0 0 0}" >>"$D/samples"
	done
}
# drained TAG...: A's queue is empty and every accepted message of TAG... has arrived
drained() {
	local t
	[ -z "$(A postqueue -c "$SND/etc" -j 2>/dev/null)" ] || return 1
	for t in "$@"; do e2e__all_delivered "$t" || return 1; done
}
wait_drained() { e2e_flush_until "$1" drained "${@:2}"; } # SECS TAG...
for n in "${DAEMONS[@]}"; do
	hn_check "$n is the daemon itself (pid ${E2E_PID[$n]}, /proc/PID/exe)" bash -c \
		'[ "$(readlink "/proc/$0/exe")" = "$(readlink -f "$1")" ]' "${E2E_PID[$n]}" \
		"$(case $n in milter-av) echo "$AV" ;; milter-dkim) echo "$DKIM" ;; policyd-mtasts) echo "$MT" ;; tlsrpt) echo "$TLSRPT" ;; esac)"
done

# --- milter-dkim signs with both selectors once its DNS gate has passed both: its own pass
# at start may not see the newest record yet, and it takes check-dns's results from the
# store at its next 5-second tick. Probes (not audited) until a message gets both.
both_sign() {
	local m
	m=$(grep -c "e2e-ed (ed25519-sha256)" "$D/milter-dkim.log")
	e2e_send "probe-$RANDOM" "user@sts.$Z" "${E2E_AUTH[@]}" 2>/dev/null || return 1
	hn_wait 5 bash -c '[ "$(grep -c "e2e-ed (ed25519-sha256)" "$0")" -gt "$1" ]' "$D/milter-dkim.log" "$m"
}
hn_check "milter-dkim signs with both selectors (probe messages, 60 s)" hn_wait 60 both_sign
hn_log "probes signed by e2e-rsa alone first: $(grep -c "s=e2e-rsa (rsa-sha256)\$" "$D/milter-dkim.log")"

# --- warm-up: the same mix, 52 messages (four EICAR): pools, caches and, under ASan, the
# quarantine are full before the first sample
ml=$(wc -l <"$SND/maillog")
e2e_load warm 52 120 0 "user@sts.$Z" "${MIX[@]:2}" >/dev/null
hn_check "warm-up: 52 messages submitted" bash -c '[ "$(grep -c . "$0")" = 52 ]' "$D/load.warm"
hn_check "warm-up: delivered, A's queue empty (60 s)" wait_drained 60 warm
sleep 2
TL=$(hn_ms)
: >"$D/samples"
sample start

# --- the soak
hn_log "load: $SECS s"
e2e_load soak $((SECS * RATE + 1)) "$SECS" 0 "user@sts.$Z" "${MIX[@]:2}" &
lp=$!
t_load=$(hn_ms)
while hn_alive "$lp" && [ $(($(hn_ms) - t_load)) -lt $(((SECS + 60) * 1000)) ]; do
	sample load
	sleep "$SAMPLE"
done
if hn_alive "$lp"; then
	hn_fail "the load ended within SOAK_SECONDS + 60 s"
	kill "$lp"
else
	hn_pass "the load ended within SOAK_SECONDS + 60 s"
fi
wait "$lp"
load_ms=$(($(hn_ms) - t_load))
hn_check "every accepted message delivered, A's queue empty ($((60 + SECS / 10)) s)" \
	wait_drained $((60 + SECS / 10)) soak
sleep 2
sample end
drain_ms=$(($(hn_ms) - t_load))

# --- zero lost: the audit (warm-up, then the soak: E2E_AUDIT is the soak's)
hn_check "audit warm-up: every accepted message delivered once per recipient, scanned, signed" \
	e2e_audit warm
t_audit=$(hn_ms)
hn_check "audit: every accepted message delivered once per recipient, scanned, two DKIM signatures pass; only EICAR refused" \
	e2e_audit soak
audit_ms=$(($(hn_ms) - t_audit))
sub=$(e2e_n submitted) acc=$(e2e_n accepted) vir=$(e2e_n virus) copies=$(e2e_n copies)
bytes=$(e2e_n bytes)
hn_check "soak: submitted ($sub) = accepted ($acc) + EICAR refused ($vir), nothing refused 4xx or lost" \
	test "$((acc + vir))" = "$sub" -a "$(e2e_n refused4)" = 0 -a "$(e2e_n lost)" = 0 -a "$(e2e_n errors)" = 0
hn_check "soak: the load ran: at least $((SECS / 2)) messages submitted ($sub), some EICAR ($vir)" \
	test "$sub" -ge $((SECS / 2)) -a "$vir" -ge 1

# --- policyd-mtasts and tlsrpt did their part
tail -n +"$((ml + 1))" "$SND/maillog" >"$D/maillog.soak"
for d in sts dane; do
	nv=$(grep -c "Verified TLS connection established to mx\.$d\.$Z" "$D/maillog.soak")
	hn_check "policyd-mtasts: $nv sessions to mx.$d.$Z, all Verified, none weaker" bash -c \
		'[ "$1" -ge 1 ] && ! grep -Eq "(Trusted|Untrusted|Anonymous) TLS connection established to mx\.$2\." "$0"' \
		"$D/maillog.soak" "$nv" "$d"
done

# --- the figures
hn_log "figures:"
{
	awk -v s="$SECS" -v l="$load_ms" -v d="$drain_ms" -v k="$KIND" -v a="$asan" -v c="$CONC" \
		-v r="$RATE" 'BEGIN { printf "soak %s s (load %.1f s, drained %.1f s after its start), store %s, ASan build %s, concurrency %s, rate cap %s msg/s\n", s, l / 1000, d / 1000, k, a, c, r }'
	awk -v n="$sub" -v acc="$acc" -v cp="$copies" -v v="$vir" -v b="$bytes" -v l="$load_ms" \
		-v au="$audit_ms" 'BEGIN { printf "messages: %d submitted, %d accepted (%d copies delivered), %d EICAR refused; %.2f msg/s accepted, %.2f MB/s accepted (%.1f MB); audit %.1f s\n", n, acc, cp, v, acc * 1000 / l, b / 1048.576 / l, b / 1048576, au / 1000 }'
	/usr/bin/python3 "$E2E_DIR/e2e_soak.py" "$D/samples"
} >"$D/figures"
hn_check "fds not grown, RSS flat (rules above)" grep -qx "rules: ok" "$D/figures"

# --- stop: Postfix first (its log is final), then each daemon on SIGTERM
hn_check "A: Postfix stopped" pf_down "$SND"
for n in "${DAEMONS[@]}"; do
	hn_check "$n: SIGTERM, exit status 0 (a leak under ASan: non-zero)" e2e_stop "$n"
	hn_check "  $n: no sanitizer report in its log" bash -c \
		'! grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|SUMMARY: (Address|Undefined)|runtime error:" "$0"' \
		"$D/$n.log"
done
e2e_report_dry
n_sts=$(grep -c "TLS connection established to mx\.sts\.$Z" "$SND/maillog")
n_dane=$(grep -c "TLS connection established to mx\.dane\.$Z" "$SND/maillog")
n_nop=$(grep -c "TLS connection established to mx\.nopolicy\.$Z" "$SND/maillog")
hn_check "tlsrpt: sts: $n_sts successful sessions, as A's log has" rep sts sts "$n_sts" 0
hn_check "tlsrpt: dane: $n_dane successful sessions (tlsa), as A's log has" rep dane tlsa "$n_dane" 0
hn_check "tlsrpt: nopolicy: $n_nop successful sessions (no-policy-found), as A's log has" \
	rep nopolicy no-policy-found "$n_nop" 0

if [ "$HN_FAILED" -ne 0 ]; then
	for f in "${DAEMONS[@]}"; do echo "--- $f.log"; tail -n 30 "$D/$f.log"; done
	echo "--- A maillog"; tail -n 40 "$SND/maillog"
fi
cat "$D/figures"
hn_log "total $(($(hn_ms) - T0)) ms"
hn_summary
