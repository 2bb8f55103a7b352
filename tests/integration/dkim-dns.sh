#!/bin/bash
# dkim-dns.sh: milter-dkim's DNS gate validates DNSSEC only when `trust_anchor =` is set.
#  (a) no trust_anchor, resolver = knotd asked directly (no root DNSKEY behind it, nothing
#      recursive: a split-horizon style path): check-dns exits 0, each row says "not
#      validated" (the unsigned plain.test and the signed example.test alike), the daemon
#      signs; through the validating unbound without trust_anchor, still "not validated".
#  (b) trust_anchor = example.test's DS, through the validating unbound: example.test's row
#      says "validated", plain.test's (an insecure delegation) "not validated"; status says
#      which. With a wrong DS the row says "DNSSEC bogus: <unbound's reason>": a failed lookup
#      (exit 1), not "DNS could not be reached" (the resolver answered).
#  (c) failures name themselves: nothing listening on the resolver port gives "lookup failed:
#      timeout", exit 69 and "DNS could not be reached (timeout)"; knotd asked about a zone it
#      does not serve (REFUSED, reported by libunbound as SERVFAIL) gives "lookup failed:
#      SERVFAIL", exit 69 and "DNS could not be reached (SERVFAIL)".
set -u
. "$(dirname "$0")/dkim-lib.sh"
dk_init dkim-dns
LUA=$DK_SRC/dkim/session.lua
dk_dns
VALIDATING=$DNS_FORWARDER

# cdns CONF: run check-dns into $D/check.out, print its exit code.
cdns() { "$DKIM" -c "$1" check-dns >"$D/check.out" 2>&1; echo $?; }
# row NAME REGEX: check-dns's row for NAME matches REGEX (after the name).
row() { grep -qE "^${1//./\\.} +$2" "$D/check.out"; }
says() { grep -qF -- "$1" "$D/check.out"; }

# --- (a) no trust_anchor: no validation, any path
RESOLVER=$DNS_AUTH
DNS_TA='' dk_conf "$D/a.conf" <<EOF2
[plain.test]
selectors = p1
[example.test]
selectors = e1
EOF2
hn_check "keygen" "$DKIM" -c "$D/a.conf" keygen
hn_check "selectors published" dk_publish "$D/a.conf"
hn_check "(a) straight to knotd, no trust_anchor: check-dns exits 0" test "$(cdns "$D/a.conf")" = 0
hn_check "  plain.test row: matches, not validated" \
	row p1._domainkey.plain.test 'yes +signs +yes, matches key +not validated +published'
hn_check "  example.test row (signed zone): matches, not validated" \
	row e1._domainkey.example.test 'yes +signs +yes, matches key +not validated +published'
hn_check "  summary: not validated" says "DNSSEC: not validated (no trust_anchor)"
hn_check "  no DNS failure reported" dk_fails says "could not be reached"
hn_check "(a) daemon starts" dk_start "$D/a.conf"
hn_check "  signs plain.test" dk_mt "$LUA" HOST=localhost IP=127.0.0.1 QID=A1 FROM=a@plain.test EXPECT=signed
hn_check "  logged signed with p1" grep -q 'A1: signed d=plain.test s=p1 ' "$D/dkim.log"
hn_check "  signs example.test" dk_mt "$LUA" HOST=localhost IP=127.0.0.1 QID=A2 FROM=a@example.test EXPECT=signed
hn_check "  logged signed with e1" grep -q 'A2: signed d=example.test s=e1 ' "$D/dkim.log"
hn_check "  nothing logged as bogus" dk_fails grep -qi bogus "$D/dkim.log"
hn_stop "$DK_PID" 10
wait "$DK_PID" 2>/dev/null

RESOLVER=$VALIDATING
DNS_TA='' dk_conf "$D/a2.conf" <<EOF2
[plain.test]
selectors = p1
[example.test]
selectors = e1
EOF2
hn_check "(a) validating unbound, no trust_anchor: check-dns exits 0" test "$(cdns "$D/a2.conf")" = 0
hn_check "  example.test row: not validated" \
	row e1._domainkey.example.test 'yes +signs +yes, matches key +not validated '

# --- (b) trust_anchor set: validation
dk_conf "$D/b.conf" <<EOF2
[plain.test]
selectors = p1
[example.test]
selectors = e1
EOF2
hn_check "(b) trust_anchor = example.test's DS: check-dns exits 0" test "$(cdns "$D/b.conf")" = 0
hn_check "  example.test row: validated" \
	row e1._domainkey.example.test 'yes +signs +yes, matches key +validated +published'
hn_check "  plain.test row (insecure delegation): not validated" \
	row p1._domainkey.plain.test 'yes +signs +yes, matches key +not validated '
hn_check "  summary: validated" says "DNSSEC: validated (trust_anchor = $DNS_TA)"
"$DKIM" -c "$D/b.conf" status >"$D/status.out" 2>&1
hn_check "  status names the trust anchor" \
	grep -qF "dns: $VALIDATING, DNSSEC-validated from $DNS_TA" "$D/status.out"
"$DKIM" -c "$D/a.conf" status >"$D/status.out" 2>&1
hn_check "  status without one: not validated" \
	grep -qF "dns: $DNS_AUTH, not DNSSEC-validated (no trust_anchor)" "$D/status.out"

ds=$(cat "$DNS_TA")
last=${ds: -1}
[ "$last" = 0 ] && last=1 || last=0
echo "${ds%?}$last" >"$D/wrong.ds"
DNS_TA=$D/wrong.ds dk_conf "$D/bogus.conf" <<EOF2
[example.test]
selectors = e1
EOF2
hn_check "(b) wrong DS: check-dns exits 1 (a failed lookup)" test "$(cdns "$D/bogus.conf")" = 1
hn_check "  row: bogus, with unbound's reason" \
	row e1._domainkey.example.test '.* unknown +bogus +DNSSEC bogus: validation failure <e1\._domainkey\.example\.test\. TXT IN>: .'
hn_check "  not reported as DNS unreachable" dk_fails says "could not be reached"

# --- (c) failures
dead=$(dns__port) || hn_die "no free port"
RESOLVER=127.0.0.1@$dead DNS_TA='' dk_conf "$D/dead.conf" <<EOF2
[example.test]
selectors = e1
EOF2
hn_check "(c) nothing listening on the resolver port: check-dns exits 69" \
	test "$(cdns "$D/dead.conf")" = 69
hn_check "  row: lookup failed: timeout" row e1._domainkey.example.test '.* unknown +- +lookup failed: timeout$'
hn_check "  DNS could not be reached (timeout)" says "milter-dkim: DNS could not be reached (timeout)"

RESOLVER=$DNS_AUTH DNS_TA='' dk_conf "$D/servfail.conf" <<EOF2
[servfail.example]
selectors = f1
EOF2
hn_check "keygen servfail.example" "$DKIM" -c "$D/servfail.conf" keygen
hn_check "(c) knotd asked about a zone it does not serve: check-dns exits 69" \
	test "$(cdns "$D/servfail.conf")" = 69
hn_check "  row: lookup failed: SERVFAIL" row f1._domainkey.servfail.example '.* unknown +- +lookup failed: SERVFAIL$'
hn_check "  DNS could not be reached (SERVFAIL)" says "milter-dkim: DNS could not be reached (SERVFAIL)"

if [ "$HN_FAILED" -ne 0 ]; then
	echo "--- check-dns"
	cat "$D/check.out"
fi
dk_dump
hn_summary
