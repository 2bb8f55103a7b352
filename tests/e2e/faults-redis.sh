#!/bin/bash
# faults-redis.sh: faults on the whole mail path, with every daemon on Redis over a unix
# socket (the site of mail-path.sh, built by e2e_site_up). alice submits over 587 (STARTTLS,
# SASL) to user@sts.example.test (MTA-STS enforce), through milter-av and milter-dkim, A's
# Postfix relays with policyd-mtasts' policy, tlsrpt follows A's log. Every phase counts
# from B's Maildir and A's queue (tests/e2e/e2e_load.py): each message the client saw
# accepted is delivered exactly once, scanned (X-Virus-Scanned) and with both DKIM
# signatures passing dkimpy; none the client saw refused is delivered.
#
#  1. Redis killed (SIGKILL) and restarted mid-load (60 messages): nothing refused, all
#     delivered signed and scanned; no daemon restarted; the counters reach the new Redis
#     by themselves (milter-av, milter-dkim, tlsrpt), and grow with more mail; a store
#     warning is logged at most once (a minute's rate limit).
#     Daemon level: tests/integration/store-redis.sh (store_outage.c) and dkim-store.sh.
#  6. A reload with a broken configuration (SIGUSR1 for the milters, SIGHUP for
#     policyd-mtasts and tlsrpt): logged with file:line, "reload failed", same pid, the old
#     configuration keeps working (mail signed twice and scanned, EICAR rejected, the same
#     policy answers, sessions counted); then a fixed one takes effect (one selector only;
#     on_virus = tag; dane_mode = dane), and the original is restored.
#     Daemon level: tests/integration/skeleton.sh (reload of the skeleton's test daemon).
#  7. SIGTERM during load, one daemon at a time (milter-av, milter-dkim: 40 messages, the
#     milter stopped after 10 and started again 2 s later; policyd-mtasts the same while
#     Postfix relays): milter_default_action = tempfail refuses (4xx) what arrives while a
#     milter is down, nothing is accepted and lost, nothing delivered unsigned or unscanned;
#     while policyd-mtasts is down Postfix defers (the policy lookup fails), and no mail
#     for the enforce domain leaves without a verified certificate.
#     Daemon level: skeleton.sh (graceful stop with a message in flight), milters-postfix.sh.
# (Faults 2-5 are in faults-lmdb.sh.) Needs root; exits 77 when namespaces cannot be made.
# shellcheck disable=SC2016 # bash -c bodies expand in the child
set -u
. "$(dirname "$0")/e2e-lib.sh"
e2e_init e2e-faults-redis
T0=$(hn_ms)
e2e_site_up redis
# retries within seconds, for the mail a fault defers in A's queue
pf_set "$SND" "queue_run_delay = 1s" "minimal_backoff_time = 1s" "maximal_backoff_time = 2s"
A postfix -c "$SND/etc" reload >/dev/null 2>&1
RCPT=user@sts.$Z
e2e_pids_keep

hget() { redis_cli "$D/redis" hget "$1" "$2" 2>/dev/null | tr -dc 0-9; }
at_least() { [ "$(hget "$1" "$2")" -ge "$3" ] 2>/dev/null; }
# rpt_success: tlsrpt's successful sessions to sts today (a hash per policy: cnt:DAY:DOMAIN:ID)
rpt_success() {
	local k n=0
	for k in $(redis_cli "$D/redis" --scan --pattern "pw:tlsrpt:cnt:$TODAY:sts.$Z:*"); do
		n=$((n + $(hget "$k" success)))
	done
	echo "$n"
}
rpt_at_least() { [ "$(rpt_success)" -ge "$1" ]; }

# --- 1. Redis killed and restarted mid-load
hn_log "--- 1. redis killed (SIGKILL) and restarted mid-load"
e2e_load warm 2 20 0 "$RCPT" >/dev/null
hn_check "1: warm-up: 2 messages delivered" e2e_load_delivered warm 20
counters_in() { at_least pw:av:count scanned 2 && at_least "pw:dkim:count:$Z" signed 2 && rpt_at_least 1; }
hn_check "1: before: the counters are in Redis (milter-av, milter-dkim, tlsrpt; 15 s)" hn_wait 15 counters_in
m_av=$(logmark milter-av)
m_dk=$(logmark milter-dkim)
t1=$(hn_ms)
e2e_load r 60 40 0.1 "$RCPT" &
lp=$!
e2e_load_wait r 15 30
kill -KILL "$(cat "$D/redis/redis.pid")"
hn_check "1: Redis killed after 15 messages" hn_wait 5 eval '! hn_alive "$(cat "$D/redis/redis.pid")"'
e2e_load_wait r 40 30
hn_check "1: Redis restarted (same socket, empty) after 40 messages" redis_up "$D/redis"
wait "$lp"
hn_log "load: $(grep -c . "$D/load.r") messages in $(($(hn_ms) - t1)) ms"
hn_check "1: every accepted message is in B's Maildir (30 s)" e2e_load_delivered r 30
hn_check "1: 60 submitted, 60 accepted, none refused; each delivered once, scanned, two DKIM signatures pass" \
	audit_ok r 60 0
hn_check "1: A's queue is empty" bash -c '[ -z "$(ip netns exec "$0" postqueue -c "$1" -j)" ]' "$NS_A" "$SND/etc"
# The counts of a 5-second round the store refused are dropped (statistics), so what the
# new Redis holds depends on the rounds; 3 more messages must be counted in it.
v_av=$(hget pw:av:count scanned)
v_dk=$(hget "pw:dkim:count:$Z" signed)
v_rpt=$(rpt_success)
e2e_load r2 3 20 0 "$RCPT" >/dev/null
hn_check "1: 3 more messages delivered" e2e_load_delivered r2 20
hn_check "1: milter-av's counters reach the new Redis and grow: scanned ${v_av:-none} -> +3 (15 s)" \
	hn_wait 15 at_least pw:av:count scanned $((${v_av:-0} + 3))
hn_check "1: milter-dkim's too: signed ${v_dk:-none} -> +3 (15 s)" \
	hn_wait 15 at_least "pw:dkim:count:$Z" signed $((${v_dk:-0} + 3))
hn_check "1: tlsrpt's too: sessions to sts $v_rpt -> more (15 s)" hn_wait 15 rpt_at_least $((v_rpt + 1))
hn_check "1: no daemon restarted (same pids, alive)" same_pids
n_av=$(since milter-av "$m_av" | grep -c "store: counters not written")
n_dk=$(since milter-dkim "$m_dk" | grep -c "store: ")
hn_log "store warnings during the outage: milter-av $n_av, milter-dkim $n_dk"
hn_check "1: store warnings at most once a minute (milter-av $n_av, milter-dkim $n_dk)" \
	test "$n_av" -le 1 -a "$n_dk" -le 1

# --- 6. reload with a broken configuration, then a fixed one
hn_log "--- 6. reload with a broken configuration"
# reload NAME SIGNAL WANT: signal the daemon, wait for WANT in its log after this point
reload() {
	local m
	m=$(logmark "$1")
	kill "-$2" "${E2E_PID[$1]}" || return 1
	hn_wait 10 bash -c 'tail -n +"$(($1 + 1))" "$0" | grep -q "$2"' "$D/$1.log" "$m" "$3" || {
		since "$1" "$m"
		return 1
	}
	since "$1" "$m" | grep -E "reload|\.conf:[0-9]+" >&2
}
broken_reload() { # NAME SIGNAL BAD-LINE
	cp "$D/$1.conf" "$D/$1.conf.good"
	printf '%s\n' "$3" >>"$D/$1.conf"
	hn_check "6: $1: broken config + SIG$2: reload failed, the error names $1.conf:line" \
		reload "$1" "$2" "reload failed: keeping the previous configuration"
	hn_check "  $1: the error names $1.conf:$(wc -l <"$D/$1.conf")" \
		grep -q "$1\.conf:$(wc -l <"$D/$1.conf")" "$D/$1.log"
	hn_check "  $1: same pid, alive" hn_alive "${PID0[$1]}"
}
set_conf() { # NAME KEY VALUE: the good config with KEY = VALUE
	grep -v "^$2 *=" "$D/$1.conf.good" >"$D/$1.conf"
	printf '%s = %s\n' "$2" "$3" >>"$D/$1.conf"
}
inbox() { grep -ls "^Subject: e2e $1\$" "$RCV"/mail/inbox/new/* | head -n 1; }

broken_reload milter-dkim USR1 "selectors e2e-rsa e2e-ed"
broken_reload milter-av USR1 "on_virus = sometimes"
broken_reload policyd-mtasts HUP "dane_mode = maybe"
broken_reload tlsrpt HUP "report_time = 25:99"
v_rpt=$(rpt_success)
e2e_load b 3 20 0 "$RCPT" >/dev/null
hn_check "6: old configs serving: 3 messages delivered" e2e_load_delivered b 20
hn_check "6: accepted, scanned, both signatures pass (old milter-dkim config)" audit_ok b 3 0
hn_check "6: EICAR still rejected (old milter-av config)" \
	e2e_refused 5 '^refused 550 5\.7\.1 .*virus found' e2e_submit 127.0.0.1 587 "$USER_NAME" \
	"$RCPT" "$(e2e_msg eicar6 "$RCPT" "$D/clamd/eicar.com")" --cafile "$D/pki/ca.crt" "${E2E_AUTH[@]}"
old_answers() { e2e_answer sts "secure match=mx.sts.$Z servername=hostname" && e2e_answer dane dane-only; }
hn_check "6: policy answers unchanged (sts: secure match=, dane: dane-only)" old_answers
hn_check "6: tlsrpt (old config) counts the deliveries' sessions ($v_rpt before, 15 s)" \
	hn_wait 15 rpt_at_least $((v_rpt + 1))

hn_log "--- 6. fixed configurations take effect"
{ cat "$D/milter-dkim.conf.good"; echo "sign = no"; } >"$D/milter-dkim.conf" # [$Z/e2e-ed] is last
hn_check "6: milter-dkim: fixed config (e2e-ed: sign = no) + SIGUSR1: reloaded" \
	reload milter-dkim USR1 "configuration reloaded"
set_conf milter-av on_virus tag
hn_check "6: milter-av: fixed config (on_virus = tag) + SIGUSR1: reloaded" \
	reload milter-av USR1 "configuration reloaded"
set_conf policyd-mtasts dane_mode dane
hn_check "6: policyd-mtasts: fixed config (dane_mode = dane) + SIGHUP: reloaded" \
	reload policyd-mtasts HUP "configuration reloaded"
set_conf tlsrpt organization_name "postwarden e2e reloaded"
hn_check "6: tlsrpt: fixed config + SIGHUP: reloaded" reload tlsrpt HUP "configuration reloaded"
hn_check "6: a message now carries one signature (e2e-rsa)" e2e_send one-sig "$RCPT" "${E2E_AUTH[@]}"
arrived() { [ -n "$(inbox "$1")" ]; }
hn_check "  delivered (20 s)" hn_wait 20 arrived one-sig
f=$(inbox one-sig)
hn_check "  exactly one DKIM-Signature, s=e2e-rsa, dkimpy passes" bash -c \
	'[ "$(grep -c "^DKIM-Signature:" "$0")" = 1 ] && grep -q "s=e2e-rsa" "$0" && "$@" <"$0"' \
	"${f:-/dev/null}" ip netns exec "$NS_A" /usr/bin/python3 "$E2E_DIR/../integration/dkim_verify.py" 127.0.0.1@53 1
hn_check "6: EICAR now accepted and tagged (on_virus = tag)" e2e_submit 127.0.0.1 587 "$USER_NAME" \
	"$RCPT" "$(e2e_msg eicar-tag "$RCPT" "$D/clamd/eicar.com")" --cafile "$D/pki/ca.crt" "${E2E_AUTH[@]}"
tagged() { arrived eicar-tag && grep -q '^X-Virus: ' "$(inbox eicar-tag)"; }
hn_check "  delivered with an X-Virus header (20 s)" hn_wait 20 tagged
hn_check "6: policyd-mtasts answers dane for the DANE domain (dane_mode = dane)" \
	hn_wait 10 e2e_answer dane dane
for n in milter-dkim milter-av policyd-mtasts tlsrpt; do
	cp "$D/$n.conf.good" "$D/$n.conf"
	case $n in milter-*) s=USR1 ;; *) s=HUP ;; esac
	hn_check "6: $n: original config restored + SIG$s: reloaded" reload "$n" "$s" "configuration reloaded"
done
hn_check "6: no daemon restarted (same pids, alive)" same_pids

# --- 7. SIGTERM during load
hn_log "--- 7. SIGTERM during load"
sigterm_milter() { # NAME TAG
	local lp rc
	e2e_load "$2" 40 60 0.15 "$RCPT" &
	lp=$!
	e2e_load_wait "$2" 10 30
	hn_check "7: $1: SIGTERM after 10 messages: exits 0 (10 s)" e2e_stop "$1"
	sleep 2 # submissions meanwhile meet a milter that is not there
	hn_check "7: $1 started again (READY=1)" e2e_restart "$1"
	wait "$lp"
	hn_check "7: $1: every accepted message delivered (30 s)" e2e_load_delivered "$2" 30
	hn_check "7: $1: 40 submitted = accepted + refused 4xx, none lost, none delivered unsigned/unscanned, none refused and delivered" \
		e2e_audit "$2"
	hn_log "$1: $E2E_AUDIT"
	hn_log "$1: the client's first refusal: $(grep -m1 " refused " "$D/load.$2")"
	hn_check "7: $1: the messages sent while it was down were refused 4xx ($(e2e_n refused4))" \
		test "$(e2e_n refused4)" -ge 1
	hn_check "7: $1: A's Postfix refused them with 451 4.7.1 (milter_default_action = tempfail)" \
		bash -c 'grep -q "Milter service unix:$1/milter.sock" "$0" &&
		grep -q "milter-reject: .* 451 4\.7\.1 " "$0"' "$SND/maillog" "$1"
	e2e_load "$2-after" 3 20 0 "$RCPT" >/dev/null
	hn_check "7: $1: mail flows again after the restart: 3 more delivered" e2e_load_delivered "$2-after" 20
	hn_check "  accepted, scanned, both signatures pass" audit_ok "$2-after" 3 0
}
sigterm_milter milter-av t-av
sigterm_milter milter-dkim t-dk

ml=$(wc -l <"$SND/maillog")
e2e_load t-mt 40 60 0.15 "$RCPT" &
lp=$!
e2e_load_wait t-mt 10 30
hn_check "7: policyd-mtasts: SIGTERM after 10 messages: exits 0 (10 s)" e2e_stop policyd-mtasts
sleep 2
hn_check "7: policyd-mtasts started again (READY=1)" e2e_restart policyd-mtasts
wait "$lp"
hn_check "7: policyd-mtasts: every accepted message delivered (30 s)" e2e_load_delivered t-mt 30
hn_check "7: policyd-mtasts: 40 submitted, 40 accepted; delivered once each, signed and scanned" \
	audit_ok t-mt 40 0
tail -n +"$((ml + 1))" "$SND/maillog" >"$D/maillog.t-mt"
n_def=$(grep -c "to=<$RCPT>.*status=deferred" "$D/maillog.t-mt")
hn_log "policyd-mtasts down: $n_def deferrals; $(grep -m1 "to=<$RCPT>.*status=deferred" "$D/maillog.t-mt")"
hn_check "7: policyd-mtasts down: Postfix deferred mail for $RCPT ($n_def), never sent it another way" \
	test "$n_def" -ge 1
hn_check "7: every TLS session to mx.sts.$Z in the meantime was Verified (no weaker policy)" bash -c \
	'grep -q "Verified TLS connection established to mx\.sts" "$0" &&
	! grep -E "(Trusted|Untrusted|Anonymous) TLS connection established to mx\.sts" "$0"' "$D/maillog.t-mt"
PID0[milter-av]=${E2E_PID[milter-av]}
PID0[milter-dkim]=${E2E_PID[milter-dkim]}
PID0[policyd-mtasts]=${E2E_PID[policyd-mtasts]}
hn_check "7: every daemon running at the end" same_pids

if [ "$HN_FAILED" -ne 0 ]; then
	for f in milter-dkim milter-av policyd-mtasts tlsrpt; do echo "--- $f.log"; tail -n 30 "$D/$f.log"; done
	echo "--- A maillog"; tail -n 60 "$SND/maillog"
fi
hn_log "total $(($(hn_ms) - T0)) ms"
hn_summary
