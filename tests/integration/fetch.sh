#!/bin/bash
# fetch.sh: start two HTTPS servers (tests/harness/https.sh: nginx, and openssl s_server -WWW
# which sends no Content-Length) with fixture files, make a second unrelated CA, and run
# test_fetch (common/fetch against them). Usage: fetch.sh PATH/TO/test_fetch.
# Skips (77) when nginx/openssl/curl are missing.
set -eu
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/https.sh"
HN_NAME=fetch
T=${1:?usage: fetch.sh TEST_BINARY}
hn_require nginx openssl curl
hn_tmpdir D fetch
policy='version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n'
for s in ng ss; do
	mkdir -p "$D/$s/www/.well-known" "$D/$s/www/chunked"
	printf "$policy" >"$D/$s/www/.well-known/mta-sts.txt"
	head -c 3000 /dev/zero | tr '\0' a >"$D/$s/www/big.txt"
	cp "$D/$s/www/big.txt" "$D/$s/www/chunked/big.txt"
done
https_up "$D/ng" nginx
export FETCH_NGINX=$HTTPS_ADDR FETCH_CA=$HTTPS_CA
https_up "$D/ss" sserver
export FETCH_SSERVER=$HTTPS_ADDR FETCH_SSERVER_CA=$HTTPS_CA
pki_ca "$D/other"
export FETCH_WRONG_CA=$D/other/ca.crt
[ ! -f "$HTTPS_ECHO_MODULE" ] || export FETCH_ECHO=1
"$T"
