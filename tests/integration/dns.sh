#!/bin/bash
# dns.sh: start the test DNS (tests/harness/dns.sh: knotd + validating unbound) and run
# test_dns (common/dns against it) with DNS_FORWARDER, DNS_AUTH, DNS_TA and DNS_DIR set.
# Usage: dns.sh PATH/TO/test_dns. Skips (77) when knot/unbound/dig are missing.
set -eu
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/dns.sh"
HN_NAME=dns
T=${1:?usage: dns.sh TEST_BINARY}
hn_require knotd keymgr knotc unbound dig
hn_tmpdir D dns
dns_up "$D"
export DNS_DIR=$D POSTWARDEN_HARNESS=$HN_HARNESS
"$T"
