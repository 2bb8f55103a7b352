#!/bin/bash
# faults-lmdb.sh: faults on the whole mail path, with every daemon on the embedded LMDB
# store, its directory a small tmpfs (the test runs in its own mount namespace: unshare -m).
# The site of mail-path.sh (e2e_site_up): alice submits over 587 (STARTTLS, SASL) to
# user@sts.example.test (MTA-STS enforce) through milter-av and milter-dkim; A's Postfix
# relays with policyd-mtasts' policy; tlsrpt follows A's log. Mail is counted from B's
# Maildir and A's queue (tests/e2e/e2e_load.py): each message the client saw accepted is
# delivered exactly once, scanned (X-Virus-Scanned) and with both DKIM signatures passing
# dkimpy; none the client saw refused is delivered.
#
#  2. clamd killed (SIGKILL) mid-load (60 messages) and started again: what arrives while
#     it is down is refused 4xx at submission (milter-av: on_error = tempfail; none accepted
#     unscanned); then mail flows again, no daemon restarted; submitted = delivered +
#     tempfailed at the client.
#     Daemon level: tests/integration/av-failure.sh (a private Postfix, no submission path).
#  3. The resolver hangs (unbound SIGSTOPped: queries are dropped): milter-dkim reloads
#     (its DNS gate check fails) and goes on signing with both selectors; policyd-mtasts
#     answers the enforce domain from its cache at once, and a domain it has not seen
#     within fetch_timeout: `dane`, as doc/operations.md says for a failed MX lookup with
#     DANE on (the domain's real answer is dane-only). Mail submitted meanwhile waits in
#     A's queue (Postfix needs DNS too) and is delivered signed once unbound answers again
#     (SIGCONT); then milter-dkim's gate check gets answers again, and a domain not seen
#     before is discovered (dane-only), with no restart.
#     Daemon level: mtasts.sh (NXDOMAIN, host down after caching), dkim-dns.sh.
#  4. A policy host that accepts and never answers (slowloris, a python listener on
#     127.0.0.3:443 in A): policyd-mtasts answers NOTFOUND within fetch_timeout, answers
#     other domains at once meanwhile, records the fetch failure for TLS-RPT; mail to the
#     domain is delivered (RFC 8461: a failed fetch never holds mail).
#     Daemon level: mtasts.sh has no hanging host.
#  5. The LMDB file system full (a 16 MB tmpfs filled with a file): mail still flows signed
#     and scanned. LMDB reuses pages it freed, so at first no write fails (logged only);
#     then a reader holds a snapshot (mdb_copy stalled on its output) so every commit must
#     grow the file: ENOSPC, logged by milter-av and milter-dkim at most once a minute,
#     mail still flows; after the file is removed the counters are written again.
# (Faults 1, 6, 7 are in faults-redis.sh.) Needs root; exits 77 when namespaces cannot be made.
# shellcheck disable=SC2016 # bash -c bodies expand in the child
set -u
if [ -z "${E2E_UNSHARED:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces, Postfix)"; exit 77; }
	unshare -m true 2>/dev/null || { echo "SKIP: cannot make a mount namespace (unshare -m)"; exit 77; }
	E2E_UNSHARED=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/e2e-lib.sh"
e2e_init e2e-faults-lmdb
T0=$(hn_ms)
E2E_STATE_TMPFS=16m e2e_site_up lmdb
pf_set "$SND" "queue_run_delay = 1s" "minimal_backoff_time = 1s" "maximal_backoff_time = 2s"
A postfix -c "$SND/etc" reload >/dev/null 2>&1
RCPT=user@sts.$Z
e2e_pids_keep

# lmdb_hget KEY FIELD: a counter of the store's hash db (value: 8-byte expiry, then digits)
lmdb_hget() {
	mdb_dump -p -s hash "$D/state" 2>/dev/null | sed -n '/^HEADER=END/,$p' |
		awk -v k=" $1\\\\1f$2" 'f { sub(/^ /, ""); gsub(/\\[0-9a-f][0-9a-f]/, ""); print; exit }
			$0 == k { f = 1 }'
}
has_key() { [ -n "$(e2e_store_keys "$1")" ]; }
at_least() { [ "$(lmdb_hget "$1" "$2")" -ge "$3" ] 2>/dev/null; }
timed() { local max=$1 t rc; shift; t=$(hn_ms); "$@"; rc=$?; t=$(($(hn_ms) - t))
	echo "took $t ms (max $max)" >&2; [ $rc = 0 ] && [ "$t" -le "$max" ]; }
FETCH_MS=5000 # fetch_timeout in e2e_site_up's policyd-mtasts.conf

e2e_load warm 2 20 0 "$RCPT" >/dev/null
hn_check "warm-up: 2 messages delivered, policy of sts cached" e2e_load_delivered warm 20
hn_check "  sts: secure match=" e2e_answer sts "secure match=mx.sts.$Z servername=hostname"

# --- 2. clamd killed mid-load
hn_log "--- 2. clamd killed (SIGKILL) mid-load"
m_av=$(logmark milter-av)
e2e_load c 60 60 0.05 "$RCPT" &
lp=$!
e2e_load_wait c 15 30
kill -KILL "$(cat "$D/clamd/clamd.shell.pid")"
hn_check "2: clamd killed after 15 messages" hn_wait 5 eval '! clamd_ping "$D/clamd/clamd.sock"'
e2e_load_wait c 35 30
hn_check "2: clamd started again after 35 messages" clamd_up "$D/clamd"
wait "$lp"
hn_check "2: every accepted message delivered (30 s)" e2e_load_delivered c 30
hn_check "2: 60 submitted = accepted + refused 4xx; none lost, none delivered unscanned or unsigned, none refused and delivered" \
	e2e_audit c
hn_log "clamd: $E2E_AUDIT"
hn_check "2: messages were refused while clamd was down ($(e2e_n refused4)), accepted before and after ($(e2e_n accepted))" \
	bash -c '[ "$0" -ge 1 ] && [ "$1" -ge 15 ]' "$(e2e_n refused4)" "$(e2e_n accepted)"
e2e_load c-after 3 20 0 "$RCPT" >/dev/null
hn_check "2: mail flows again with clamd back: 3 more delivered" e2e_load_delivered c-after 20
hn_check "  accepted, scanned, both signatures pass" audit_ok c-after 3 0
hn_check "2: refusals are 451 4.7.1" bash -c \
	'! awk "\$2 == \"refused\"" "$0" | grep -v " 451 4\.7\.1" | grep .' "$D/load.c"
hn_check "2: milter-av logged the scan failures with action=tempfail" \
	bash -c 'tail -n +"$(($1 + 1))" "$0" | grep -q "scan failed: .*action=tempfail"' "$D/milter-av.log" "$m_av"
hn_check "2: no daemon restarted" same_pids

# --- 3. the resolver hangs
hn_log "--- 3. DNS: unbound stopped (SIGSTOP: queries dropped)"
# cold1, cold2: never asked before; their MX is mx.dane (DNSSEC-secure TLSA): dane-only
for d in cold1 cold2; do
	A bash "$HN_HARNESS/dns.sh" add "$D/dns" "$d.$Z 60 MX 10 mx.dane.$Z." || hn_die "dns add $d"
done
UB=$(cat "$D/dns/unbound.pid.shell")
m_dk=$(logmark milter-dkim)
kill -STOP "$UB"
hn_on_exit kill -CONT "$UB"
dns_dead() { ! A dig +time=1 +tries=1 @127.0.0.1 "sts.$Z" MX >/dev/null; }
hn_check "3: unbound stopped: dig gets no answer" dns_dead
hn_check "3: policyd-mtasts: the cached enforce domain still gets secure match= (1 s)" \
	timed 1000 e2e_answer sts "secure match=mx.sts.$Z servername=hostname"
# doc/operations.md: with DANE on, a failed MX lookup is answered dane, never a weaker level
hn_check "3: policyd-mtasts: a domain never seen (cold1) gets dane (MX lookup failed) within fetch_timeout + 1 s" \
	timed $((FETCH_MS + 1000)) e2e_answer cold1 dane
hn_check "3: milter-dkim: SIGUSR1 while DNS hangs: reloaded" bash -c 'kill -USR1 "$0" &&
	for i in $(seq 300); do tail -n +"$(($2 + 1))" "$1" | grep -q "configuration reloaded" && exit 0; sleep 0.1; done; exit 1' \
	"${E2E_PID[milter-dkim]}" "$D/milter-dkim.log" "$m_dk"
since milter-dkim "$m_dk" >&2
e2e_load dns 5 30 0 "$RCPT" >/dev/null
hn_check "3: 5 messages accepted while DNS hangs" bash -c '[ "$(grep -c " accepted " "$0")" = 5 ]' "$D/load.dns"
hn_check "3: they wait in A's queue (nothing delivered without DNS)" bash -c \
	'! grep -qh "^Subject: e2e dns-" "$0"/mail/inbox/new/* 2>/dev/null' "$RCV"
kill -CONT "$UB"
hn_check "3: unbound answers again" hn_wait 10 A dig +time=1 +tries=1 @127.0.0.1 sts.example.test MX
hn_check "3: the 5 messages delivered once DNS is back (60 s)" e2e_load_delivered dns 60
hn_check "3: accepted, delivered once, scanned, both signatures pass (signed during the outage)" \
	audit_ok dns 5 0
m_dk=$(logmark milter-dkim)
hn_check "3: milter-dkim: SIGUSR1 with DNS back: reloaded" bash -c 'kill -USR1 "$0" &&
	for i in $(seq 300); do tail -n +"$(($2 + 1))" "$1" | grep -q "configuration reloaded" && exit 0; sleep 0.1; done; exit 1' \
	"${E2E_PID[milter-dkim]}" "$D/milter-dkim.log" "$m_dk"
hn_check "  its DNS gate check got answers this time (no \"every lookup failed\")" \
	bash -c '! tail -n +"$(($1 + 1))" "$0" | grep "every lookup failed"' "$D/milter-dkim.log" "$m_dk"
hn_check "  check-dns: both selectors sign, published, matching, validated" bash -c \
	'[ "$(ip netns exec "$0" "$1" -c "$2" check-dns | grep -cE "^e2e-(rsa|ed)\._domainkey\.$3 +yes +signs +yes, matches key +validated")" = 2 ]' \
	"$NS_A" "$DKIM" "$D/milter-dkim.conf" "$Z"
hn_check "3: recovered: a domain never seen before (cold2, DANE) is discovered: dane-only (20 s)" \
	hn_wait 20 e2e_answer cold2 dane-only
hn_check "3: no daemon restarted" same_pids

# --- 4. a policy host that accepts and never answers
hn_log "--- 4. slowloris policy host (accepts, never answers)"
for rr in "_mta-sts.hang.$Z 60 TXT \"v=STSv1; id=hang1\"" "mta-sts.hang.$Z 60 A 127.0.0.3" \
	"hang.$Z 60 MX 10 mx.nopolicy.$Z."; do
	A bash "$HN_HARNESS/dns.sh" add "$D/dns" "$rr" || hn_die "dns add $rr"
done
pf_set "$RCV" "virtual_mailbox_domains = $(postconf -c "$RCV/etc" -h virtual_mailbox_domains) hang.$Z"
ip netns exec "$NS_B" postfix -c "$RCV/etc" reload >/dev/null 2>&1
A /usr/bin/python3 - "$D/slowloris.log" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.3", 443))
s.listen(64)
held = []
with open(sys.argv[1], "a") as log:
    log.write("listening\n"); log.flush()
    while True:
        c, a = s.accept()
        held.append(c)  # never read, never answered, never closed
        log.write("accepted %s:%d\n" % a); log.flush()
PY
SL=$!
hn_on_exit hn_stop "$SL" 2
hn_check "4: slowloris listening on 127.0.0.3:443 in A" hn_wait 5 grep -q listening "$D/slowloris.log"
A timeout 30 postmap -c "$SND/etc" -q "hang.$Z" "socketmap:unix:$SPOOL/private/mtasts:postfix" \
	>"$D/hang.answer" 2>&1 &
hq=$!
t_hang=$(hn_ms)
sleep 1
hn_check "4: while the hang.$Z fetch hangs, sts is answered at once (500 ms)" \
	timed 500 e2e_answer sts "secure match=mx.sts.$Z servername=hostname"
wait "$hq"
rc=$?
t_hang=$(($(hn_ms) - t_hang))
hn_log "hang.$Z: rc=$rc answer '$(cat "$D/hang.answer")' after $t_hang ms"
hn_check "4: hang.$Z: NOTFOUND (postmap rc 1, no answer) within fetch_timeout + 1 s ($t_hang ms)" \
	bash -c '[ "$0" = 1 ] && [ ! -s "$1" ] && [ "$2" -le "$3" ]' "$rc" "$D/hang.answer" "$t_hang" $((FETCH_MS + 1000))
hn_check "4: the policy host was connected to" grep -q "^accepted " "$D/slowloris.log"
hn_check "4: the fetch failure is recorded for TLS-RPT (pw:mtasts:fail:$TODAY:hang.$Z:sts-policy-fetch-error, 15 s)" \
	hn_wait 15 has_key "pw:mtasts:fail:$TODAY:hang.$Z:sts-policy-fetch-error"
hn_check "4: a mail to user@hang.$Z is delivered (a failed fetch never holds mail)" \
	e2e_send hang-1 "user@hang.$Z" "${E2E_AUTH[@]}"
hn_check "  delivered to B (30 s)" hn_wait 30 bash -c 'grep -qs "^Subject: e2e hang-1$" "$0"/mail/inbox/new/*' "$RCV"
hn_check "4: no daemon restarted" same_pids

# --- 5. the LMDB file system full
hn_log "--- 5. LMDB disk full (tmpfs filled)"
df -h "$D/state" >&2
m_av=$(logmark milter-av)
m_dk=$(logmark milter-dkim)
dd if=/dev/zero of="$D/state/fill" bs=64k >/dev/null 2>&1
fs_full() { [ "$(df --output=avail -k "$D/state" | tail -n 1 | tr -dc 0-9)" -le 0 ]; }
hn_check "5: the store's file system is full" fs_full
# a) LMDB rewrites its counters into pages it freed before: the file need not grow
v0=$(lmdb_hget pw:av:count scanned)
e2e_load full 20 30 0.05 "$RCPT" >/dev/null
hn_check "5a: 20 messages delivered while the disk is full (30 s)" e2e_load_delivered full 30
hn_check "5a: all accepted, delivered once, scanned, both signatures pass" audit_ok full 20 0
sleep 6 # a flush round
hn_log "5a: milter-av's scanned count with the disk full: $v0 -> $(lmdb_hget pw:av:count scanned) (LMDB reuses pages it freed before: a full disk need not fail a write)"
# b) a reader holding a snapshot (a backup, mdb_copy, stalled on its output: a 16 KiB pipe
# nobody reads, more than the two meta pages it writes while it holds LMDB's writer lock,
# less than the file) keeps LMDB from reusing pages: every commit must grow the file, and
# fails
/usr/bin/python3 - "$D/state" <<'PY' &
import fcntl, os, subprocess, sys
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 16384)
p = subprocess.Popen(["mdb_copy", sys.argv[1]], stdout=w)
os.close(w)
p.wait()
PY
HOLD=$!
hn_on_exit hn_stop "$HOLD" 2
held() { mdb_stat -r "$D/state" 2>/dev/null | grep -Eq '^ +[0-9]+ +[0-9a-f]+ +[0-9]+'; }
hn_check "5b: a reader holds a snapshot (mdb_copy stalled on its output)" hn_wait 5 held
mdb_stat -r "$D/state" >&2
m_av=$(logmark milter-av)
m_dk=$(logmark milter-dkim)
e2e_load full2 20 30 0.05 "$RCPT" >/dev/null
hn_check "5b: 20 messages delivered while no store write can succeed (30 s)" e2e_load_delivered full2 30
hn_check "5b: all accepted, delivered once, scanned, both signatures pass" audit_ok full2 20 0
sleep 6 # at least one 5-second flush round of each daemon after the load
n_av=$(since milter-av "$m_av" | grep -c "store: counters not written")
n_dk=$(since milter-dkim "$m_dk" | grep -c "store: ")
since milter-av "$m_av" | grep "store" >&2
since milter-dkim "$m_dk" | grep "store" >&2
hn_check "5b: the failed writes are logged (milter-av $n_av, milter-dkim $n_dk)" test "$n_av" -ge 1 -a "$n_dk" -ge 1
hn_check "5b: at most once a minute (each at most 1)" test "$n_av" -le 1 -a "$n_dk" -le 1
rm -f "$D/state/fill"
hn_stop "$HOLD" 2
hn_check "5: space freed, the reader stopped" eval '! fs_full' 
v2=$(lmdb_hget pw:av:count scanned)
e2e_load free 3 20 0 "$RCPT" >/dev/null
hn_check "5: 3 more messages delivered" e2e_load_delivered free 20
hn_check "5: milter-av's counters are written again, by themselves: scanned $v2 -> +3 (15 s)" \
	hn_wait 15 at_least pw:av:count scanned $((v2 + 3))
hn_check "5: no daemon restarted" same_pids

if [ "$HN_FAILED" -ne 0 ]; then
	for f in milter-dkim milter-av policyd-mtasts tlsrpt; do echo "--- $f.log"; tail -n 30 "$D/$f.log"; done
	echo "--- A maillog"; tail -n 60 "$SND/maillog"
fi
hn_log "total $(($(hn_ms) - T0)) ms"
hn_summary
