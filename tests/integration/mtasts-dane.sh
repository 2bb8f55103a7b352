#!/bin/bash
# mtasts-dane.sh: policyd-mtasts's DANE probe (dane_probe + dane_decide) against the test
# DNS (tests/harness/dns.sh: knotd signing example.test, unsigned plain.test, a validating
# unbound). Adds one domain per case to the zones before they start, then runs the Check
# program given as $1 (test_mtasts_dane.c) with DNS_FORWARDER, DNS_AUTH, DNS_TA, DNS_DIR.
# Skips (77) when knot/unbound/dig are missing.
set -eu
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/dns.sh"
HN_NAME=mtasts-dane
T=${1:?usage: mtasts-dane.sh TEST_BINARY}
hn_require knotd keymgr knotc unbound dig
hn_tmpdir D mtasts-dane
H=$DNS_TLSA_HASH
cat >"$D/example.test.extra" <<EOF2
all.example.test. MX 10 mx1.all.example.test.
all.example.test. MX 20 mx2.all.example.test.
mx1.all.example.test. A 127.0.0.1
mx2.all.example.test. AAAA ::1
_25._tcp.mx1.all.example.test. TLSA 3 1 1 $H
_25._tcp.mx2.all.example.test. TLSA 2 0 1 $H
some.example.test. MX 10 mx1.some.example.test.
some.example.test. MX 20 mx2.some.example.test.
mx1.some.example.test. A 127.0.0.1
mx2.some.example.test. A 127.0.0.2
_25._tcp.mx1.some.example.test. TLSA 3 1 1 $H
unusable.example.test. MX 10 mx1.unusable.example.test.
mx1.unusable.example.test. A 127.0.0.1
_25._tcp.mx1.unusable.example.test. TLSA 0 0 1 $H
_25._tcp.mx1.unusable.example.test. TLSA 1 1 1 $H
nodane.example.test. MX 10 mx1.nodane.example.test.
nodane.example.test. MX 20 mx2.nodane.example.test.
mx1.nodane.example.test. A 127.0.0.1
mx2.nodane.example.test. A 127.0.0.2
toplain.example.test. MX 10 mx.plain.test.
mixed.example.test. MX 10 mx.plain.test.
mixed.example.test. MX 20 mx1.mixed.example.test.
mx1.mixed.example.test. A 127.0.0.1
_25._tcp.mx1.mixed.example.test. TLSA 3 1 1 $H
implicit.example.test. A 127.0.0.1
_25._tcp.implicit.example.test. TLSA 3 1 1 $H
implicit-nodane.example.test. A 127.0.0.1
nullmx.example.test. MX 0 .
cname.example.test. MX 10 alias.cname.example.test.
alias.cname.example.test. CNAME target.cname.example.test.
target.cname.example.test. A 127.0.0.1
_25._tcp.target.cname.example.test. TLSA 3 1 1 $H
noaddr.example.test. MX 10 mx1.noaddr.example.test.
noaddr.example.test. MX 20 gone.noaddr.example.test.
mx1.noaddr.example.test. A 127.0.0.1
_25._tcp.mx1.noaddr.example.test. TLSA 3 1 1 $H
EOF2
# a TLSA record in the unsigned zone: insecure, so it must not count
cat >"$D/plain.test.extra" <<EOF2
_25._tcp.mx.plain.test. TLSA 3 1 1 $H
EOF2
dns_up "$D"
export DNS_DIR=$D POSTWARDEN_HARNESS=$HN_HARNESS
"$T"
