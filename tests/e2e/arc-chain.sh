#!/bin/bash
# arc-chain.sh: a three-hop ARC chain through real Postfix hosts, each in its own network
# namespace, every hop on its own address, joined by veth pairs (a hop reaches only its
# neighbours: no routing, so the mail has to take the hops):
#
#   ORIGIN .231.X.1 -- .231.X.2 FWD1 .232.X.1 -- .232.X.2 FWD2 .233.X.1 -- .233.X.2 FINAL
#                                         FWD2 .234.X.1 -- .234.X.2 FWD3 .235.X.1 -- .235.X.2 FINAL
#   (all 10.x; .231 is the harness's ns_pair_up, the other pairs are made here)
#
#   ORIGIN  Postfix + milter-dkim signing origin.example.test (selector o1); a client on
#           ORIGIN's 127.0.0.1 (sign_networks) submits on port 25; relayhost FWD1.
#           Also runs the one DNS: knot (signed example.test) + the validating unbound on its
#           127.0.0.1:53 (tests/harness/dns.sh), which answers loopback clients only.
#   FWD1    Postfix relaying final.example.test and third.example.test to FWD2;
#           milter-dkim verify = yes, arc_seal = relay, arc_domain fwd1.example.test (a1).
#   FWD2    the same, final.example.test to FINAL and third.example.test to FWD3,
#           arc_domain fwd2.example.test (a2); its cleanup has body_checks with a REPLACE
#           action for one marker line (the modified body).
#   FWD3    relays third.example.test to FINAL, arc_domain fwd3.example.test (a3): the
#           forwarder after a cv=fail seal.
#   FINAL   Postfix delivering both domains to a Maildir; dkimpy checks there.
#
# Each milter-dkim runs in its hop's namespace and makes its own key (keygen), which the test
# publishes in the signed zone. The other hops reach the DNS through tests/e2e/arc_dnsrelay.py:
# a relay on the hop's own 127.0.0.1:53 that forwards from the ORIGIN namespace (setns), so
# unbound sees loopback clients and each hop's resolver (libunbound with the trust anchor;
# dnspython) is unchanged. The Postfix lines are the README's: ORIGIN signs on port 25 and
# sendmail(1) (smtpd_milters = non_smtpd_milters = unix:milter-dkim/milter.sock,
# milter_default_action = tempfail); the forwarders verify with
# `smtpd_milters = { unix:milter-dkim/milter.sock, default_action=accept }`.
#
# Checked: the intact chain, ORIGIN-FWD1-FWD2-FINAL (FINAL's dkimpy: ARC cv=pass over i=1 by
# fwd1 and i=2 by fwd2, the origin's DKIM-Signature by milter-dkim passes; each hop logged
# `signed` / `sealed i=N cv=...` with the queue id its Postfix gave the message; FWD2's
# Authentication-Results says dkim=pass and arc=pass); then a body that FWD2's cleanup
# rewrites before its milter sees it: body_checks = regexp with a REPLACE action
# (header_checks(5) of Postfix 3.7 documents REPLACE for body lines but does not say what a
# milter sees; cleanup(8) sends smtpd's milters the content it queued, so the milter gets the
# replaced line, which this test checks): FWD2 verifies dkim=fail (body hash mismatch) and
# arc=fail and seals i=2 cv=fail; FWD3 does not extend the chain ("not sealed: the ARC chain
# ended"); FINAL's dkimpy reports the chain terminated (ARC-Seal[2] reported cv=fail) and the
# origin's signature failing. Then each milter exits 0 on SIGTERM without a sanitizer report,
# and the teardown (by pid and pidfile) leaves no process and no namespace.
# Needs root; exits 77 when namespaces cannot be made or a tool is not installed.
# shellcheck disable=SC2016 # bash -c bodies expand in the child
set -u
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
. "${POSTWARDEN_HARNESS:-$E2E_DIR/../harness}/lib.sh"
. "$HN_HARNESS/netns.sh"
. "$HN_HARNESS/dns.sh"
. "$HN_HARNESS/postfix.sh"
. "$HN_HARNESS/notify.sh"
# shellcheck disable=SC2034 # read by lib.sh
HN_NAME=e2e-arc-chain
export TZ=UTC
DKIM=${POSTWARDEN_BUILD:-}/milter-dkim/milter-dkim
VERIFY=$E2E_DIR/../integration/dkim_verify.py
[ -x "$DKIM" ] || { echo "FAIL: $DKIM not built"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, Postfix)"; exit 77; }
hn_require ip postfix postconf swaks python3 knotd keymgr knotc unbound dig
/usr/bin/python3 -c 'import dkim, dns.resolver, authres' 2>/dev/null ||
	{ echo "SKIP: dkimpy with ARC (python3-dkim, python3-authres) not installed"; exit 77; }
T0=$(hn_ms)

# --- namespaces: the harness's pair (ORIGIN, FWD1), then FWD2, FINAL and FWD3, joined by veth
# pairs down the line (the drawing above)
ns_pair_up pwc # exits 77 when namespaces cannot be made
N_ORIGIN=$NS_A
N_FWD1=$NS_B
X=${NS_NET##*.}
N_FWD2=pwc$$c
N_FINAL=pwc$$d
N_FWD3=pwc$$e
IP_ORIGIN=$NS_A_IP
IP_FWD1=$NS_B_IP
IP_FWD1_OUT=10.232.$X.1
IP_FWD2=10.232.$X.2
IP_FWD2_OUT=10.233.$X.1
IP_FINAL=10.233.$X.2
IP_FWD2_OUT3=10.234.$X.1
IP_FWD3=10.234.$X.2
IP_FWD3_OUT=10.235.$X.1
IP_FINAL3=10.235.$X.2
arc_ns_down() {
	local ns pid
	for ns in "$N_FWD2" "$N_FINAL" "$N_FWD3"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do hn_stop "$pid" 5; done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/${ns:?}"
	done
}
# arc_link NS1 IP1 NS2 IP2 TAG: a veth pair between two namespaces, IP1/24 and IP2/24
arc_link() {
	ip link add "pwv$$$5" netns "$1" type veth peer name "pwv$$$5p" netns "$3" &&
		ip -n "$1" addr add "$2/24" dev "pwv$$$5" && ip -n "$3" addr add "$4/24" dev "pwv$$$5p" &&
		ip -n "$1" link set "pwv$$$5" up && ip -n "$3" link set "pwv$$$5p" up
}
hn_on_exit arc_ns_down
for ns in "$N_FWD2" "$N_FINAL" "$N_FWD3"; do
	ip netns add "$ns" && ip -n "$ns" link set lo up || hn_die "namespace $ns"
done
arc_link "$N_FWD1" "$IP_FWD1_OUT" "$N_FWD2" "$IP_FWD2" c || hn_die "link FWD1-FWD2"
arc_link "$N_FWD2" "$IP_FWD2_OUT" "$N_FINAL" "$IP_FINAL" d || hn_die "link FWD2-FINAL"
arc_link "$N_FWD2" "$IP_FWD2_OUT3" "$N_FWD3" "$IP_FWD3" e || hn_die "link FWD2-FWD3"
arc_link "$N_FWD3" "$IP_FWD3_OUT" "$N_FINAL" "$IP_FINAL3" f || hn_die "link FWD3-FINAL"
for ns in "$N_ORIGIN" "$N_FWD1" "$N_FWD2" "$N_FINAL" "$N_FWD3"; do ns_resolv "$ns" 127.0.0.1; done
hn_tmpdir D arc-chain
HOPS=(origin fwd1 fwd2 fwd3 final)
MILTERS=(origin fwd1 fwd2 fwd3)
declare -A NS=([origin]=$N_ORIGIN [fwd1]=$N_FWD1 [fwd2]=$N_FWD2 [final]=$N_FINAL [fwd3]=$N_FWD3)
declare -A PID=()

hn_check "the line of hosts: ORIGIN reaches FWD1, FWD1 FWD2, FWD2 FINAL" bash -c '
	ip netns exec "$0" ping -c1 -W2 "$1" && ip netns exec "$2" ping -c1 -W2 "$3" &&
	ip netns exec "$4" ping -c1 -W2 "$5"' \
	"$N_ORIGIN" "$IP_FWD1" "$N_FWD1" "$IP_FWD2" "$N_FWD2" "$IP_FINAL"
hn_check "  and no further: ORIGIN has no route to FWD2" \
	bash -c '! ip netns exec "$0" ping -c1 -W1 "$1"' "$N_ORIGIN" "$IP_FWD2"

# --- the DNS in ORIGIN, a relay to it in each other hop
DNS_UNBOUND_PORT=53 dns_up_netns "$N_ORIGIN" "$D/dns"
arc_relay() { # HOP: start the DNS relay in HOP's namespace, wait until it answers validated
	local ns=${NS[$1]}
	ip netns exec "$ns" /usr/bin/python3 "$E2E_DIR/arc_dnsrelay.py" "$N_ORIGIN" \
		"$D/relay.$1.ready" >>"$D/relay.$1.log" 2>&1 &
	PID[relay-$1]=$!
	hn_on_exit hn_stop "$!" 5
	hn_wait 10 test -s "$D/relay.$1.ready" || return 1
	hn_wait 10 ip netns exec "$ns" bash -c \
		'dig +time=1 +tries=1 @127.0.0.1 example.test SOA +dnssec | grep -q "flags:.* ad"'
}
for h in fwd1 fwd2 fwd3 final; do
	hn_check "$h: the DNS answers (validated, AD) on its own 127.0.0.1:53 (relay)" arc_relay "$h"
done

# --- one milter-dkim per hop (FINAL has none): config, key, published record
arc_conf() { # HOP DOMAIN SELECTOR [EXTRA LINES]
	local h=$1 dir=$D/$1
	mkdir -p "$dir/keys" "$dir/state" "$dir/spool/milter-dkim" "$dir/notify"
	chmod 700 "$dir/keys"
	chown nobody:nogroup "$dir/keys" "$dir/state"
	{
		echo "listen = unix:$dir/spool/milter-dkim/milter.sock"
		echo "user = nobody"
		echo "group = nogroup"
		echo "store = lmdb:$dir/state"
		echo "keydir = $dir/keys"
		echo "resolver = 127.0.0.1@53"
		echo "trust_anchor = $D/dns/example.test.ds"
		printf '%s\n' "${@:4}"
		echo "[$2]"
		echo "selectors = $3"
	} >"$dir/milter-dkim.conf"
}
arc_conf origin origin.example.test o1 "sign_networks = 127.0.0.0/8"
for n in 1 2 3; do
	arc_conf "fwd$n" "fwd$n.example.test" "a$n" "sign_networks =" "verify = yes" \
		"authserv_id = mx.fwd$n.example.test" "arc_seal = relay" \
		"arc_domain = fwd$n.example.test" "arc_selector = a$n"
done
arc_publish() { # HOP: keygen, then its `milter-dkim dns` record into the signed zone
	local h=$1 rr n=0 conf=$D/$1/milter-dkim.conf
	ip netns exec "${NS[$h]}" "$DKIM" -c "$conf" keygen >"$D/$h/keygen.out" 2>&1 ||
		{ cat "$D/$h/keygen.out"; return 1; }
	while IFS= read -r rr; do
		ip netns exec "$N_ORIGIN" bash "$HN_HARNESS/dns.sh" add "$D/dns" "$rr" </dev/null ||
			return 1
		n=$((n + 1))
	done < <("$DKIM" -c "$conf" dns | grep -v '^;' |
		sed -E 's/^([^ ]+) IN TXT \( (.*) \) ;.*$/\1 5 TXT \2/')
	[ "$n" = 1 ]
}
for h in "${MILTERS[@]}"; do
	hn_check "$h: milter-dkim keygen, its record published" arc_publish "$h"
done
for h in "${MILTERS[@]}"; do
	hn_check "$h: milter-dkim check-dns: its selector live, validated, from its namespace" \
		hn_wait 20 bash -c 'ip netns exec "$0" "$1" -c "$2" check-dns | grep -qE "^[a-z0-9]+\._domainkey\..* yes +signs +yes, matches key +validated"' \
		"${NS[$h]}" "$DKIM" "$D/$h/milter-dkim.conf"
done
arc_start() { # HOP: milter-dkim -f in HOP's namespace, READY=1 on its notify socket
	local h=$1 mark
	notify_up "$D/$h/notify" || return 1
	mark=$(notify_mark "$D/$h/notify")
	NOTIFY_SOCKET=$D/$h/notify/notify.sock ip netns exec "${NS[$h]}" "$DKIM" -f \
		-c "$D/$h/milter-dkim.conf" >>"$D/$h/milter-dkim.log" 2>&1 &
	PID[$h]=$!
	hn_on_exit hn_stop "$!" 10
	notify_wait "$D/$h/notify" "$mark" READY=1 "$!" 30
}
for h in "${MILTERS[@]}"; do
	hn_check "$h: milter-dkim up in its namespace (READY=1)" arc_start "$h"
done

# --- the four Postfix hosts. Relayed mail goes by relayhost to the next hop's address.
MSGID_BASE=arc-chain.$$
cat >"$D/body_checks" <<'EOF'
/^REWRITE-AT-FWD2$/ REPLACE rewritten by fwd2
EOF
pf_make "$D/final" "$IP_FINAL:25" "myhostname = mx.final.example.test" \
	"inet_interfaces = all" "virtual_mailbox_domains = final.example.test third.example.test" ||
	hn_die "FINAL main.cf"
# FINAL also listens on its link to FWD3
postconf -c "$D/final/etc" -Me "$IP_FINAL3:25/inet=$IP_FINAL3:25 inet n - n - - smtpd" ||
	hn_die "FINAL master.cf"
pf_make "$D/fwd3" "$IP_FWD3:25" "myhostname = mx.fwd3.example.test" "inet_interfaces = all" \
	"virtual_mailbox_domains =" "relay_domains = third.example.test" \
	"relayhost = [$IP_FINAL3]:25" || hn_die "FWD3 main.cf"
pf_make "$D/fwd2" "$IP_FWD2:25" "myhostname = mx.fwd2.example.test" "inet_interfaces = all" \
	"virtual_mailbox_domains =" "relay_domains = final.example.test third.example.test" \
	"relayhost = [$IP_FINAL]:25" "transport_maps = inline:{third.example.test=smtp:[$IP_FWD3]:25}" \
	"body_checks = regexp:$D/body_checks" || hn_die "FWD2 main.cf"
pf_make "$D/fwd1" "$IP_FWD1:25" "myhostname = mx.fwd1.example.test" "inet_interfaces = all" \
	"virtual_mailbox_domains =" "relay_domains = final.example.test third.example.test" \
	"relayhost = [$IP_FWD2]:25" || hn_die "FWD1 main.cf"
pf_make "$D/origin" "127.0.0.1:25" "myhostname = mx.origin.example.test" \
	"inet_interfaces = all" "virtual_mailbox_domains =" "relayhost = [$IP_FWD1]:25" ||
	hn_die "ORIGIN main.cf"
# the README's lines (paths relative to the queue directory)
pf_set "$D/origin" "smtpd_milters = unix:milter-dkim/milter.sock" \
	"non_smtpd_milters = unix:milter-dkim/milter.sock" "milter_default_action = tempfail"
for h in fwd1 fwd2 fwd3; do
	pf_set "$D/$h" "smtpd_milters = { unix:milter-dkim/milter.sock, default_action=accept }" \
		"non_smtpd_milters = unix:milter-dkim/milter.sock" "milter_default_action = tempfail"
done
for h in final fwd3 fwd2 fwd1 origin; do
	hn_check "$h: Postfix up in its namespace" pf_up "$D/$h" "${NS[$h]}"
done

# --- submission at ORIGIN
arc_msg() { # TAG BODY-LINE...: a message from ann@origin.example.test to $RCPT
	local f=$D/msg.$1
	{
		printf 'From: Ann <ann@origin.example.test>\nTo: <%s>\n' "$RCPT"
		printf 'Subject: arc chain %s\nDate: %s\nMessage-ID: <%s.%s@origin.example.test>\n\n' \
			"$1" "$(date -R)" "$MSGID_BASE" "$1"
		printf '%s\n' "${@:2}"
	} >"$f"
	echo "$f"
}
arc_send() { # TAG BODY-LINE...: submit at ORIGIN over SMTP from its 127.0.0.1
	ip netns exec "$N_ORIGIN" swaks --silent 2 --server 127.0.0.1 --port 25 \
		--from ann@origin.example.test --to "$RCPT" \
		--helo client.origin.example.test --data "@$(arc_msg "$@")" --timeout 20
}
inbox() { grep -ls "^Subject: arc chain $1\$" "$D"/final/mail/inbox/new/* 2>/dev/null | head -n 1; }
arrived() { [ -n "$(inbox "$1")" ]; }
# qid HOP TAG: the queue id HOP's Postfix gave message TAG (cleanup's message-id= line)
qid() {
	sed -nE "s/^.* postfix\/cleanup\[[0-9]+\]: ([0-9A-F]+): message-id=<$MSGID_BASE\.$1@origin\.example\.test>.*/\1/p" \
		"$D/$2/maillog" | head -n 1
}
# logged HOP TAG REGEX: HOP's milter-dkim logged "<its Postfix queue id of TAG>: REGEX"
logged() {
	local q
	q=$(qid "$2" "$1")
	[ -n "$q" ] || { echo "$1: no queue id for $2 in its maillog"; return 1; }
	grep -E "^milter-dkim: $q: $3" "$D/$1/milter-dkim.log" ||
		{ echo "$1: no '$q: $3' in milter-dkim.log"; return 1; }
}
# replaced: FWD2's cleanup logged its body_checks REPLACE of message 'rewritten' (its queue id)
replaced() {
	local q
	q=$(qid rewritten fwd2)
	grep -E "cleanup\[[0-9]+\]: $q: replace: body REWRITE-AT-FWD2 .*: rewritten by fwd2$" \
		"$D/fwd2/maillog"
}
# hdr FILE NAME: every NAME header field of FILE, unfolded, one per line
hdr() {
	awk -v n="$2" 'BEGIN { IGNORECASE = 1 } /^$/ { exit }
		/^[ \t]/ { if (on) cur = cur " " $0; next }
		{ if (on) print cur; on = (tolower(substr($0, 1, length(n) + 1)) == tolower(n) ":"); cur = $0 }
		END { if (on) print cur }' "$1" | tr -s ' \t' ' '
}
dkimpy_arc() { # FILE WANT-CV: FINAL's dkimpy on the ARC chain (DNS through FINAL's relay)
	local rc
	ARC_OUT=$(ip netns exec "$N_FINAL" /usr/bin/python3 "$VERIFY" --arc 127.0.0.1@53 "$2" <"$1")
	rc=$?
	printf '%s\n' "$ARC_OUT"
	return $rc
}
dkimpy_sig() { # FILE: FINAL's dkimpy: one DKIM-Signature, d=origin.example.test s=o1, passes
	local out rc
	out=$(ip netns exec "$N_FINAL" /usr/bin/python3 "$VERIFY" 127.0.0.1@53 1 <"$1")
	rc=$?
	printf '%s\n' "$out"
	[ $rc = 0 ] && grep -q '^dkimpy: sig 0 d=origin.example.test s=o1 a=rsa-sha256: pass$' <<<"$out"
}
fails() { ! "$@"; }
# chain_pass FILE: cv=pass over exactly two sets
chain_pass() { dkimpy_arc "$1" pass && grep -q "cv=pass i=2:" <<<"$ARC_OUT"; }
# chain_ended FILE: dkimpy stops at a seal that reported cv=fail (its "chain is terminated")
chain_ended() { dkimpy_arc "$1" ended && grep -q 'ARC-Seal\[2\] reported failure' <<<"$ARC_OUT"; }
# seals FILE: ARC-Seal i=1 by fwd1 (s=a1, cv=none) and i=2 by fwd2 (s=a2, CV2), no other
seals() {
	local s
	s=$(hdr "$1" ARC-Seal)
	printf '%s\n' "$s"
	[ "$(grep -c . <<<"$s")" = 2 ] &&
		grep "i=1;" <<<"$s" | grep "cv=none;" | grep "d=fwd1\.example\.test;" | grep -q "s=a1;" &&
		grep "i=2;" <<<"$s" | grep "cv=$2;" | grep "d=fwd2\.example\.test;" | grep -q "s=a2;"
}
# two_each FILE: two ARC-Message-Signature and two ARC-Authentication-Results, i=1 and i=2
two_each() {
	local n s
	for n in ARC-Message-Signature ARC-Authentication-Results; do
		s=$(hdr "$1" "$n")
		[ "$(grep -c . <<<"$s")" = 2 ] && grep -q "i=1;" <<<"$s" && grep -q "i=2;" <<<"$s" ||
			{ echo "$n: $s"; return 1; }
	done
}
# ar FILE AUTHSERV-ID REGEX...: exactly one Authentication-Results of that id, matching each REGEX
ar() {
	local a r
	a=$(hdr "$1" Authentication-Results | grep -F "Authentication-Results: $2;")
	printf '%s\n' "$a"
	[ "$(grep -c . <<<"$a")" = 1 ] || return 1
	for r in "${@:3}"; do grep -qE "$r" <<<"$a" || { echo "no $r"; return 1; }; done
}
# path FILE IP...: the Received lines name each IP as a client (the hops, last first)
path() {
	local r ip
	r=$(grep -E '^Received: from ' "$1")
	printf '%s\n' "$r"
	[ "$(grep -c . <<<"$r")" = $(($# - 1)) ] || { echo "want $(($# - 1)) hops"; return 1; }
	for ip in "${@:2}"; do
		grep -qF "[$ip])" <<<"$r" || { echo "no hop from $ip"; return 1; }
	done
}

# --- 1. the intact chain
RCPT=user@final.example.test
hn_check "ORIGIN: message 'intact' accepted on port 25 (sign_networks)" \
	arc_send intact "Hello  final," "" "the body, untouched."
hn_check "FINAL: 'intact' delivered to the Maildir (30 s)" hn_wait 30 arrived intact
f=$(inbox intact)
if [ -n "$f" ]; then
	hn_check "  origin: signed, logged with its queue id" \
		logged origin intact 'signed d=origin\.example\.test s=o1 \(rsa-sha256\)$'
	hn_check "  fwd1: verified dkim=pass arc=none" logged fwd1 intact \
		'verified: dkim=pass header\.d=origin\.example\.test .*arc=none'
	hn_check "  fwd1: sealed i=1 cv=none d=fwd1.example.test s=a1 (its queue id)" \
		logged fwd1 intact 'sealed i=1 cv=none d=fwd1\.example\.test s=a1$'
	hn_check "  fwd2: verified dkim=pass arc=pass" logged fwd2 intact \
		'verified: dkim=pass header\.d=origin\.example\.test .*arc=pass'
	hn_check "  fwd2: sealed i=2 cv=pass d=fwd2.example.test s=a2 (its queue id)" \
		logged fwd2 intact 'sealed i=2 cv=pass d=fwd2\.example\.test s=a2$'
	hn_check "  FINAL's dkimpy: ARC cv=pass over 2 sets" chain_pass "$f"
	hn_check "  ARC-Seal i=1 by fwd1.example.test (s=a1, cv=none), i=2 by fwd2.example.test (s=a2, cv=pass)" \
		seals "$f" pass
	hn_check "  two ARC-Message-Signature and two ARC-Authentication-Results (i=1, i=2)" two_each "$f"
	hn_check "  FINAL's dkimpy: the origin's DKIM-Signature (milter-dkim, d=origin.example.test s=o1) passes" \
		dkimpy_sig "$f"
	hn_check "  FWD2's Authentication-Results: dkim=pass header.d=origin.example.test, arc=pass" \
		ar "$f" mx.fwd2.example.test 'dkim=pass header\.d=origin\.example\.test' 'arc=pass'
	hn_check "  FWD1's Authentication-Results: dkim=pass header.d=origin.example.test, arc=none" \
		ar "$f" mx.fwd1.example.test 'dkim=pass header\.d=origin\.example\.test' 'arc=none'
	hn_check "  the path: FINAL got it from FWD2, FWD2 from FWD1, FWD1 from ORIGIN (Received)" \
		path "$f" "$IP_FWD2_OUT" "$IP_FWD1_OUT" "$IP_ORIGIN" 127.0.0.1
fi

# --- 2. the body rewritten at FWD2 (cleanup's body_checks, before its milter sees it)
# to third.example.test: FWD2 relays it to FWD3, which must not extend the ended chain
RCPT=user@third.example.test
hn_check "ORIGIN: message 'rewritten' (to $RCPT: through FWD3) accepted" \
	arc_send rewritten "Hello  final," "" "REWRITE-AT-FWD2" "the rest."
hn_check "FINAL: 'rewritten' delivered to the Maildir (30 s)" hn_wait 30 arrived rewritten
f=$(inbox rewritten)
if [ -n "$f" ]; then
	hn_check "  FWD2's cleanup replaced the line (body_checks REPLACE)" \
		bash -c 'grep -qx "rewritten by fwd2" "$0" && ! grep -q "REWRITE-AT-FWD2" "$0"' "$f"
	hn_check "  FWD2's cleanup logged the REPLACE under the queue id its milter logs" replaced
	hn_check "  fwd1: verified dkim=pass, sealed i=1 cv=none (the body still intact there)" \
		logged fwd1 rewritten 'sealed i=1 cv=none d=fwd1\.example\.test s=a1$'
	hn_check "  fwd2: verified dkim=fail (body hash) and arc=fail" logged fwd2 rewritten \
		'verified: dkim=fail [^;]*body hash[^;]* header\.d=origin\.example\.test .*arc=fail'
	hn_check "  fwd2: sealed i=2 cv=fail d=fwd2.example.test s=a2 (its queue id)" \
		logged fwd2 rewritten 'sealed i=2 cv=fail d=fwd2\.example\.test s=a2$'
	hn_check "  fwd3: verified dkim=fail and arc=fail" logged fwd3 rewritten \
		'verified: dkim=fail [^;]*header\.d=origin\.example\.test .*arc=fail'
	hn_check "  fwd3: not sealed: the ARC chain ended with cv=fail at i=2 (its queue id)" \
		logged fwd3 rewritten 'not sealed: the ARC chain ended with cv=fail at i=2$'
	hn_check "  fwd3 did not extend it: ARC-Seal i=1 by fwd1 (cv=none), i=2 by fwd2 (cv=fail), no i=3" \
		seals "$f" fail
	hn_check "  FWD3's Authentication-Results: dkim=fail, arc=fail" \
		ar "$f" mx.fwd3.example.test 'dkim=fail' 'arc=fail'
	hn_check "  the path: FINAL from FWD3, FWD3 from FWD2, FWD2 from FWD1, FWD1 from ORIGIN" \
		path "$f" "$IP_FWD3_OUT" "$IP_FWD2_OUT3" "$IP_FWD1_OUT" "$IP_ORIGIN" 127.0.0.1
	hn_check "  FWD2's Authentication-Results: dkim=fail, arc=fail" \
		ar "$f" mx.fwd2.example.test 'dkim=fail' 'arc=fail'
	hn_check "  FINAL's dkimpy: the chain failed (ARC-Seal[2] reported cv=fail: terminated)" \
		chain_ended "$f"
	hn_check "  FINAL's dkimpy: not cv=pass" fails dkimpy_arc "$f" pass
	hn_check "  FINAL's dkimpy: the origin's DKIM-Signature fails" fails dkimpy_sig "$f"
fi

for h in "${MILTERS[@]}"; do
	hn_check "$h: milter-dkim still running" hn_alive "${PID[$h]}"
done
# clean_exit HOP: its milter-dkim exits 0 on SIGTERM, no sanitizer report in its log (ASan builds)
clean_exit() {
	hn_term_wait "${PID[$1]}" || return 1
	! grep -E 'Sanitizer|runtime error:' "$D/$1/milter-dkim.log"
}
for h in "${MILTERS[@]}"; do
	hn_check "$h: milter-dkim: SIGTERM, exit 0, no sanitizer report" clean_exit "$h"
done
if [ "$HN_FAILED" -ne 0 ]; then
	for h in "${MILTERS[@]}"; do echo "--- $h milter-dkim.log"; tail -n 30 "$D/$h/milter-dkim.log"; done
	for h in "${HOPS[@]}"; do echo "--- $h maillog"; tail -n 25 "$D/$h/maillog"; done
fi
# --- teardown by pid and pidfile only (other test runs share this machine): nothing left.
# dns_up_netns exported DNS_TA (a path under D): un-export it, or hn_procs_matching would find
# its own pipeline's commands (sort) through their environment.
hn_cleanup_now
export -n DNS_FORWARDER DNS_AUTH DNS_TA
gone() { # no namespace of this test, no live process with D in its command line or environment
	local ns left
	for ns in "$N_ORIGIN" "$N_FWD1" "$N_FWD2" "$N_FWD3" "$N_FINAL"; do
		! ip netns list | grep -qw "$ns" || { LEFT="namespace $ns"; return 1; }
	done
	left=$(hn_procs_matching "$D")
	[ -z "$left" ] && return 0
	LEFT=$(for p in $left; do
		echo "$p ($(cat "/proc/$p/comm" 2>&1)): $(tr '\0' ' ' <"/proc/$p/cmdline" 2>&1)"
	done)
	return 1
}
gone_wait() {
	LEFT=
	hn_wait 10 gone && return 0
	printf 'left: %s\n' "$LEFT"
	return 1
}
hn_check "teardown: no process of this test left, its four namespaces gone (10 s)" gone_wait
hn_log "total $(($(hn_ms) - T0)) ms"
hn_summary
