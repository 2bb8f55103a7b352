#!/bin/bash
# dkim-keys.sh: milter-dkim's keys, against a running daemon (miltertest) and the harness DNS.
#   - legacy: a domain without `selectors` and an existing RSA key at <keydir>/<d>.mail.key
#     (PKCS#1 PEM, as older signers wrote them) signs with s=mail although no record exists
#   - a missing default key is generated (0600) and gated: unsigned ("no selector
#     published") until its record is published and a reload re-checks; still gated after
#     a restart (not mistaken for a legacy key)
#   - key = credential:NAME read from $CREDENTIALS_DIRECTORY signs
#   - a key readable by others (0644) or by its group (0640): the daemon refuses to start
#     (exit 78) naming the file; allow_group_readable = yes accepts 0640; a reload with a
#     bad key keeps the old configuration and keeps signing
#   - no key material ever appears in the log or in command output
set -u
. "$(dirname "$0")/dkim-lib.sh"
dk_init dkim-keys
hn_require openssl
LUA=$DK_SRC/dkim/session.lua
dk_dns
export CREDENTIALS_DIRECTORY=$D/creds
mkdir -m 700 "$CREDENTIALS_DIRECTORY"

# legacy key, made like `opendkim-genkey` / `openssl genrsa` did
openssl genrsa -traditional -out "$D/keys/legacy.plain.test.mail.key" 2048 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$CREDENTIALS_DIRECTORY/dkim-c1" 2>/dev/null
chmod 600 "$D/keys/legacy.plain.test.mail.key" "$CREDENTIALS_DIRECTORY/dkim-c1"
chown -R "$DK_USER" "$D/keys" "$CREDENTIALS_DIRECTORY" 2>/dev/null

dk_conf "$D/m.conf" <<EOF
[legacy.plain.test]
[fresh.plain.test]
[cred.plain.test]
selectors = c1
[cred.plain.test/c1]
algorithm = ed25519-sha256
key = credential:dkim-c1
EOF
"$DKIM" -c "$D/m.conf" keygen >"$D/keygen.out" 2>&1
hn_check "keygen creates only the missing default key" bash -c \
	'[ "$(grep -c "^created" "$1")" = 1 ] && grep -q "^created .*/fresh.plain.test.mail.key (rsa)" "$1"' _ "$D/keygen.out"
hn_check "generated key is 0600, owned by the service user" bash -c \
	'[ "$(stat -c "%a %U" "$1")" = "600 $2" ]' _ "$D/keys/fresh.plain.test.mail.key" "$DK_USER"
hn_check "legacy key untouched" grep -q 'BEGIN RSA PRIVATE KEY' "$D/keys/legacy.plain.test.mail.key"
hn_check "credential selector published" dk_publish_selector "$D/m.conf" c1 cred.plain.test
hn_check "daemon starts" dk_start "$D/m.conf"

mt() { dk_mt "$LUA" HOST=localhost IP=127.0.0.1 "$@"; }
hn_check "legacy key signs without any DNS record" mt QID=LEG1 FROM=a@legacy.plain.test EXPECT=signed
hn_check "  s=mail" grep -q 'LEG1: signed d=legacy.plain.test s=mail (rsa-sha256)$' "$D/dkim.log"
hn_check "generated default key is gated" mt QID=FRE1 FROM=b@fresh.plain.test EXPECT=unsigned
hn_check "  reason logged" grep -q 'FRE1: not signed: no selector published for fresh.plain.test' "$D/dkim.log"
hn_check "  warning logged once for the domain" bash -c \
	'[ "$(grep -c "fresh.plain.test: no selector passes the DNS gate" "$1")" = 1 ]' _ "$D/dkim.log"
hn_check "  dns: awaiting publication" bash -c '"$1" -c "$2" dns fresh.plain.test | grep -q "^mail._domainkey.fresh.plain.test. IN TXT .*; awaiting publication$"' _ "$DKIM" "$D/m.conf"
hn_check "credential:NAME key signs" mt QID=CRE1 FROM=c@cred.plain.test EXPECT=signed
hn_check "  s=c1 ed25519" grep -q 'CRE1: signed d=cred.plain.test s=c1 (ed25519-sha256)$' "$D/dkim.log"

hn_check "publish the generated key" dk_publish_selector "$D/m.conf" mail fresh.plain.test
hn_check "reload" dk_reload
hn_check "generated key signs once published" mt QID=FRE2 FROM=b@fresh.plain.test EXPECT=signed
hn_check "  s=mail" grep -q 'FRE2: signed d=fresh.plain.test s=mail (rsa-sha256)$' "$D/dkim.log"

# --- bad permissions
chmod 644 "$D/keys/legacy.plain.test.mail.key"
hn_check "reload with a 0644 key" dk_reload
hn_check "  reload failed, naming the file" bash -c \
	'grep -q "reload failed" "$1" && grep -q "$2" "$1"' _ "$D/dkim.log" "$D/keys/legacy.plain.test.mail.key"
hn_check "  old configuration keeps signing" mt QID=LEG2 FROM=a@legacy.plain.test EXPECT=signed
hn_check "  and the daemon is alive" hn_alive "$DK_PID"
hn_stop "$DK_PID" 10
wait "$DK_PID"
hn_check "clean stop" test $? -eq 0

timeout 30 "$DKIM" -f -c "$D/m.conf" >"$D/bad.log" 2>&1
hn_check "start with a 0644 key: exit 78" test $? -eq 78
hn_check "  error names the file" grep -q "$D/keys/legacy.plain.test.mail.key" "$D/bad.log"
chmod 640 "$D/keys/legacy.plain.test.mail.key"
timeout 30 "$DKIM" -f -c "$D/m.conf" >"$D/bad2.log" 2>&1
hn_check "start with a 0640 key: exit 78" test $? -eq 78
hn_check "  error names the file" grep -q "$D/keys/legacy.plain.test.mail.key" "$D/bad2.log"
{ echo "allow_group_readable = yes"; cat "$D/m.conf"; } >"$D/agr.conf"
hn_check "allow_group_readable = yes accepts 0640" dk_start "$D/agr.conf"
hn_check "  and signs" mt QID=LEG3 FROM=a@legacy.plain.test EXPECT=signed
hn_stop "$DK_PID" 10
chmod 600 "$D/keys/legacy.plain.test.mail.key"

# --- restart: the generated default key stays gated (marker), not taken for a legacy key
hn_check "restart" dk_start "$D/m.conf"
"$DKIM" -c "$D/m.conf" status >"$D/status.out" 2>&1
hn_check "status: fresh is sign=yes, not legacy" grep -qE '^ +mail +rsa +sign=yes +signing' <(sed -n '/^\[fresh/,/^\[/p' "$D/status.out")
hn_check "status: legacy is legacy" grep -qE '^ +mail +rsa +legacy ' <(sed -n '/^\[legacy/,/^\[/p' "$D/status.out")
hn_check "signs after restart" mt QID=FRE3 FROM=b@fresh.plain.test EXPECT=signed

# --- keys never logged
leak() {
	local f k line
	for k in "$D/keys"/*.key "$CREDENTIALS_DIRECTORY"/*; do
		line=$(sed -n 2p "$k")
		for f in "$D"/*.log "$D"/*.out; do
			grep -qF -- "$line" "$f" && { echo "key material of $k in $f"; return 1; }
		done
	done
	! grep -l 'PRIVATE KEY' "$D"/*.log "$D"/*.out
}
hn_check "no key material in logs or command output" leak
dk_dump
hn_summary
