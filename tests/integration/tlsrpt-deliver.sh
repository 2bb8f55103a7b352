#!/bin/bash
# tlsrpt-deliver.sh: `tlsrpt report --day D` sending (RFC 8460 sections 3 and 5), against a
# private Postfix (Maildir delivery), the test DNS (the _smtp._tls records) and an HTTPS
# server on loopback with the harness CA:
#  - today is refused (the day is not over): exit 75, nothing sent
#  - without an active DKIM selector of report_from's domain in the store: exit 78, the
#    domain named, nothing sent
#  - another host holding the day's lock: exit 75, nothing sent
#  - the day two days ago: rpt.example.test (rua mailto + https, the record in two strings)
#    gets a multipart/report mail in the Maildir with the section 5.3.1 headers and a gzip part
#    that is the report, and the same gzip POSTed as application/tlsrpt+gzip;
#    part.example.test (https rua answering 500, then mailto) is delivered by mail and marked
#    sent with the failure recorded; fail.example.test (only the failing https rua) fails
#    (exit 1); none.example.test (no record) takes no reports
#  - a second run sends nothing more (already sent), the failing domain is tried again
#  - the daemon with report_time = 00:00 sends yesterday's report by itself (from 00:16 UTC)
#  - a sendmail that exits 75: the domain failed with its status and stderr; the program got
#    "-f report_from -i -- rcpt" and the message
# The counters of that past day are written by tlsrpt_seed (tlsrpt's aggregate.c), the DKIM
# selector record too (as milter-dkim keeps it). tlsrpt runs as root here: Postfix's sendmail
# takes -C for a private instance only from root (or from a directory listed in the main
# instance's alternate_config_directories).
set -u
. "$POSTWARDEN_HARNESS/lib.sh"
. "$POSTWARDEN_HARNESS/postfix.sh"
. "$POSTWARDEN_HARNESS/dns.sh"
. "$POSTWARDEN_HARNESS/pki.sh"
HN_NAME=tlsrpt-deliver
T=${POSTWARDEN_BUILD:-}/tlsrpt/tlsrpt
SEED=${1:?usage: tlsrpt-deliver.sh TLSRPT_SEED}
[ -x "$T" ] || { echo "FAIL: tlsrpt not built ($T)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (Postfix sendmail -C)"; exit 77; }
hn_require python3 postfix sendmail
HERE=$(cd "$(dirname "$0")" && pwd)
hn_tmpdir D tlsrpt-deliver
mkdir -p "$D/state" "$D/posts" "$D/run"

# the HTTPS endpoint
pki_leaf "$D/pki" server localhost 127.0.0.1 >/dev/null
HP=$(hn_free_port) || hn_die "no free port"
python3 "$HERE/tlsrpt-post.py" "$D/pki/server.crt" "$D/pki/server.key" "$HP" "$D/posts" \
	>"$D/post.log" 2>&1 &
echo $! >"$D/post.pid"
hn_on_exit hn_stop_pidfile "$D/post.pid"
post_ready() { curl -s -o /dev/null --max-time 2 --cacert "$D/pki/ca.crt" "https://127.0.0.1:$HP/"; }
hn_wait 10 post_ready || hn_die "https server not ready"

# the DNS records
U=https://127.0.0.1:$HP
mkdir -p "$D/dns"
{
	echo "_smtp._tls.rpt.example.test. TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@example.test,\" \"$U/upload\""
	echo "_smtp._tls.part.example.test. TXT \"v=TLSRPTv1;rua=$U/fail , mailto:tlsrpt@example.test\""
	echo "_smtp._tls.fail.example.test. TXT \"v=TLSRPTv1;rua=$U/fail\""
	echo "_smtp._tls.sched.example.test. TXT \"v=TLSRPTv1;rua=mailto:tlsrpt@example.test\""
	echo "_smtp._tls.missed.example.test. TXT \"v=TLSRPTv1;rua=mailto:tlsrpt@example.test\""
} >"$D/dns/example.test.extra"
dns_up "$D/dns"

# the Postfix instance delivering example.test into its Maildir
PF=$D/pf
SMTP=127.0.0.1:$(hn_free_port) || hn_die "no free port"
pf_make "$PF" "$SMTP" || hn_die "pf_make failed"
pf_up "$PF" || hn_die "postfix did not start"

{
	echo "listen = unix:$D/run/tlsrpt.sock"
	echo "user = root"
	echo "group = root"
	echo "store = lmdb:$D/state"
	echo "organization_name = Test Org"
	echo "contact_info = tlsrpt@sender.test"
	echo "report_from = tlsrpt-noreply@sender.test"
	echo "sendmail = $(command -v sendmail) -C $PF/etc"
	echo "resolver = $DNS_FORWARDER"
	echo "ca_file = $D/pki/ca.crt"
} >"$D/t.conf"

day=$(date -u -d '2 days ago' +%F)
today=$(date -u +%F)
for dom in rpt part fail none; do
	"$SEED" "lmdb:$D/state" events 2 "$dom.example.test" 5 2 || hn_die "seed $dom"
done
"$SEED" "lmdb:$D/state" events 0 rpt.example.test 1 0 || hn_die "seed today"

# run NAME ARGS...: tlsrpt report ARGS, output in $D/NAME.out, exit status in $D/NAME.rc
run() {
	local n=$1
	shift
	"$T" -c "$D/t.conf" report "$@" >"$D/$n.out" 2>&1
	echo $? >"$D/$n.rc"
	cat "$D/$n.out" >&2
}
rc_is() { [ "$(cat "$D/$1.rc")" = "$2" ]; }
nothing_sent() {
	[ "$(pf_mail_count "$PF")" = 0 ] && [ -z "$(ls "$D/posts")" ] && ! pgrep -f "postdrop -r" >/dev/null
}

run today --day "$today"
hn_check "today is refused (not over): exit 75" rc_is today 75
hn_check "  saying so" grep -q "is not over yet" "$D/today.out"

run nodkim --day "$day"
hn_check "no DKIM selector for sender.test: exit 78" rc_is nodkim 78
hn_check "  the domain named" grep -q "no active DKIM selector for sender.test" "$D/nodkim.out"
hn_check "  nothing sent" nothing_sent
# status DAY: the last run of the day, refused or what it did per domain
status_has() { "$T" -c "$D/t.conf" status "$day" | tee "$D/status.out" >&2; grep -qE "$1" "$D/status.out"; }
hn_check "  status: the run REFUSED, and why" \
	status_has "^  $day: [0-9-]{10} [0-9:]{8} UTC by [^ ]+:[0-9]+: REFUSED: no active DKIM selector"

check_out() { # RC PATTERN: tlsrpt check exits RC and prints a line matching PATTERN
	"$T" -c "$D/t.conf" check >"$D/check.out" 2>&1
	local rc=$?
	cat "$D/check.out" >&2
	[ "$rc" = "$1" ] && grep -qE "$2" "$D/check.out"
}
hn_check "check: no DKIM selector for report_from's domain: exit 69, said" \
	check_out 69 "DKIM: no active selector for sender.test in the store"
"$SEED" "lmdb:$D/state" dkim sender.test s2026 || hn_die "seed dkim"
hn_check "check: the selector found, all well: exit 0" \
	check_out 0 "DKIM: milter-dkim signs sender.test as d=sender.test, selector s2026$"
hn_check "  and the summary line" grep -q ": ok$" "$D/check.out"
"$SEED" "lmdb:$D/state" lock "pw:tlsrpt:lock:report:$day" other-host || hn_die "seed lock"
run locked --day "$day"
hn_check "another host holds the day's lock: exit 75" rc_is locked 75
hn_check "  the holder named" grep -q "another host or process (other-host) is sending" "$D/locked.out"
hn_check "  nothing sent" nothing_sent

hn_check "the other host's lock released" "$SEED" "lmdb:$D/state" unlock "pw:tlsrpt:lock:report:$day" other-host

run first --day "$day"
hn_check "the day's reports sent; exit 1 (fail.example.test failed)" rc_is first 1
hn_check "  rpt.example.test: mailto and https delivered" \
	grep -qE "^rpt.example.test: mailto:tlsrpt@example.test delivered, $U/upload delivered$" "$D/first.out"
hn_check "  part.example.test: https FAILED (500), mailto delivered" \
	grep -qE "^part.example.test: $U/fail FAILED \(.*500.*\), mailto:tlsrpt@example.test delivered$" "$D/first.out"
hn_check "  fail.example.test: FAILED" grep -qE "^fail.example.test: $U/fail FAILED" "$D/first.out"
hn_check "  none.example.test: takes no reports" grep -qE "^none.example.test: takes no reports" "$D/first.out"
hn_check "  two mails delivered to the Maildir" pf_wait_mail "$PF" 2 30
hn_check "  one POST to /upload, as application/tlsrpt+gzip" \
	bash -c '[ "$(ls "$1"/*.body | wc -l)" = 1 ] && [ "$(cat "$1/1.type")" = application/tlsrpt+gzip ]' _ "$D/posts"
mail_of() { grep -l "^TLS-Report-Domain: $1" "$PF"/mail/inbox/new/* | head -n 1; }
hn_check "  rpt.example.test's mail: multipart/report, headers, gzip part = the report = the POST body" \
	python3 "$HERE/tlsrpt_mail_check.py" "$(mail_of rpt.example.test)" rpt.example.test sender.test \
	tlsrpt-noreply@sender.test 5 2 "$D/posts/1.body"
hn_check "  part.example.test's mail" \
	python3 "$HERE/tlsrpt_mail_check.py" "$(mail_of part.example.test)" part.example.test sender.test \
	tlsrpt-noreply@sender.test 5 2
hn_check "  envelope sender is report_from" grep -q "^Return-Path: <tlsrpt-noreply@sender.test>" "$(mail_of rpt.example.test)"
hn_check "  part.example.test marked sent, the failed https rua recorded" \
	bash -c '"$0" "lmdb:$1/state" get "pw:tlsrpt:sent:$2:part.example.test" | grep -q "\"failed\":\[{\"rua\":\"https://"' \
	"$SEED" "$D" "$day"
hn_check "  fail.example.test not marked sent" \
	bash -c '! "$0" "lmdb:$1/state" get "pw:tlsrpt:sent:$2:fail.example.test"' "$SEED" "$D" "$day"
hn_check "  the day's lock released" \
	bash -c '! "$0" "lmdb:$1/state" get "pw:tlsrpt:lock:report:$2"' "$SEED" "$D" "$day"

hn_check "  status: 2 delivered, 1 without a TLSRPT record, 1 FAILED" \
	status_has "^  $day: .* 2 delivered, 0 already sent, 1 without a TLSRPT record, 1 FAILED$"
hn_check "  status: the failed domain and its endpoint" status_has "^    fail.example.test: $U/fail FAILED"
run second --day "$day"
hn_check "a second run: exit 1 (fail.example.test tried again)" rc_is second 1
hn_check "  rpt.example.test already sent" grep -qE "^rpt.example.test: already sent$" "$D/second.out"
hn_check "  part.example.test already sent" grep -qE "^part.example.test: already sent$" "$D/second.out"
sleep 2
hn_check "  no new mail" test "$(pf_mail_count "$PF")" = 2
hn_check "  no new upload" test "$(ls "$D/posts"/*.body | wc -l)" = 1
run third --day "$day" --domain rpt.example.test
hn_check "--domain rpt.example.test: exit 0, already sent" \
	bash -c '[ "$(cat "$1/third.rc")" = 0 ] && grep -q "^rpt.example.test: already sent$" "$1/third.out"' _ "$D"
hn_check "  status: the second run's record (a --domain run leaves it)" \
	status_has "^  $day: .* 0 delivered, 2 already sent, 1 without a TLSRPT record, 1 FAILED$"
cat >"$D/fake-sendmail" <<'SH'
#!/bin/sh
printf '%s\n' "$@" >"$(dirname "$0")/fake.args"
cat >"$(dirname "$0")/fake.msg"
echo "fake: queue file write error" >&2
exit 75
SH
chmod 755 "$D/fake-sendmail"
sed "s|^sendmail = .*|sendmail = $D/fake-sendmail|" "$D/t.conf" >"$D/t2.conf"
"$SEED" "lmdb:$D/state" events 2 example.test 3 0 || hn_die "seed example.test"
"$T" -c "$D/t2.conf" report --day "$day" --domain example.test >"$D/fake.out" 2>&1
echo $? >"$D/fake.rc"
cat "$D/fake.out" >&2
hn_check "a sendmail exiting 75: exit 1, its status and what it said shown" \
	bash -c '[ "$(cat "$1/fake.rc")" = 1 ] && grep -qF "example.test: mailto:tlsrpt@example.test FAILED ($1/fake-sendmail exited with status 75: fake: queue file write error)" "$1/fake.out"' _ "$D"
hn_check "  its arguments: -f report_from -i -- rcpt" \
	test "$(tr '\n' ' ' <"$D/fake.args")" = "-f tlsrpt-noreply@sender.test -i -- tlsrpt@example.test "
hn_check "  the message on its stdin" grep -q "^TLS-Report-Domain: example.test$" "$D/fake.msg"
hn_check "  example.test not marked sent" \
	bash -c '! "$0" "lmdb:$1/state" get "pw:tlsrpt:sent:$2:example.test"' "$SEED" "$D" "$day"
# the daemon's daily run: report_time 00:00 sends yesterday's reports once its grace is over
if [ "$(date -u +%H%M)" -ge 0016 ]; then
	yday=$(date -u -d yesterday +%F)
	"$SEED" "lmdb:$D/state" events 1 sched.example.test 4 0 || hn_die "seed sched"
	# a day no run covered (the daemon was down): sent first, by the same run
	d4=$(date -u -d '4 days ago' +%F)
	"$SEED" "lmdb:$D/state" events 4 missed.example.test 2 1 || hn_die "seed missed"
	sed -e "s|^report_time = .*||" -e "s|^report_delay = .*||" "$D/t.conf" >"$D/t3.conf"
	# report_delay: a random wait of up to 12 hours after report_time, logged when the day
	# starts (on an empty store of its own: whenever it is due, it has nothing to send)
	grep -v "^store = " "$D/t3.conf" >"$D/t4.conf"
	printf 'store = lmdb:%s\nreport_time = 00:00\nreport_delay = 12h\n' "$D/state4" >>"$D/t4.conf"
	mkdir -p "$D/state4"
	"$T" -f -c "$D/t4.conf" >"$D/delay.log" 2>&1 &
	DPID=$!
	hn_check "report_delay 12h: the day's due time is logged" \
		hn_wait 10 grep -Eq "reports of $yday: due at $(date -u +%F) [0-9:]{8} UTC \(random delay [0-9]+s\)" "$D/delay.log"
	delay_s=$(sed -nE 's/.*random delay ([0-9]+)s.*/\1/p' "$D/delay.log" | head -1)
	hn_check "  the delay is within 0-43200 s" test "${delay_s:-99999}" -le 43200
	due=$(sed -nE 's/.*due at ([0-9-]+ [0-9:]+) UTC.*/\1/p' "$D/delay.log" | head -1)
	hn_check "  due = 00:15:05 (report_time 00:00 falls in the grace) + the delay" \
		test "$(date -u -d "$due" +%s)" = $(($(date -u -d "$(date -u +%F) 00:15:05" +%s) + ${delay_s:-0}))
	kill -TERM "$DPID"
	wait "$DPID"
	echo "report_time = 00:00" >>"$D/t3.conf"
	echo "report_delay = 0" >>"$D/t3.conf"
	"$T" -f -c "$D/t3.conf" >"$D/daemon.log" 2>&1 &
	DPID=$!
	hn_on_exit hn_stop "$DPID"
	hn_check "the daemon sends yesterday's report at once (report_time 00:00), and a missed day's" \
		pf_wait_mail "$PF" 4 30
	hn_check "  logged" hn_wait 10 grep -q "report $yday sched.example.test: mailto:tlsrpt@example.test delivered" "$D/daemon.log"
	missed_first() {
		local a b
		a=$(grep -n "report $d4 missed.example.test: mailto:tlsrpt@example.test delivered" "$D/daemon.log" | cut -d: -f1)
		b=$(grep -n "report $yday sched.example.test: mailto" "$D/daemon.log" | cut -d: -f1)
		[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
	}
	hn_check "  $d4 (no run record) sent before yesterday: oldest first" missed_first
	hn_check "  the missed day's mail is missed.example.test's" \
		python3 "$HERE/tlsrpt_mail_check.py" "$(mail_of missed.example.test)" missed.example.test \
		sender.test tlsrpt-noreply@sender.test 2 1
	hn_check "  $day (its run record exists) not run again" \
		bash -c '! grep -q "reports of $1:" "$2"' _ "$day" "$D/daemon.log"
	hn_check "  the mail is sched.example.test's" \
		python3 "$HERE/tlsrpt_mail_check.py" "$(mail_of sched.example.test)" sched.example.test \
		sender.test tlsrpt-noreply@sender.test 4 0
	hn_check "  marked sent" "$SEED" "lmdb:$D/state" get "pw:tlsrpt:sent:$yday:sched.example.test"
	stop_daemon() {
		kill -TERM "$DPID"
		wait "$DPID"
	}
	hn_check "  SIGTERM: exit 0" stop_daemon
	hn_check "  nothing sent twice" test "$(pf_mail_count "$PF")" = 4
	cat "$D/daemon.log" >&2
else
	hn_skip "the daemon's daily run" "yesterday's grace is not over before 00:16 UTC"
fi
hn_check "--out without --dry-run: usage (64)" \
	bash -c '"$0" -c "$1" report --day "$2" --out /tmp >/dev/null 2>&1; [ $? = 64 ]' "$T" "$D/t.conf" "$day"
hn_summary
