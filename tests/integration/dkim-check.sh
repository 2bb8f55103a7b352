#!/bin/bash
# dkim-check.sh: milter-dkim `keygen` and `check` on whole configs, run as root with
# user = nobody (the service user), no daemon and no DNS needed:
#   - keygen on the shipped examples/milter-dkim.conf (paths moved into a temp dir)
#     creates exactly its two keys (one RSA, one Ed25519), prints both, exits 0
#   - a config with a bad selector after good ones is refused (78) and leaves no key
#   - a sign = no selector never gets a key: keygen is refused, naming it, and creates
#     no other key either (the old mid-rotation example)
#   - check: 0 on a good config and on one whose keys keygen has yet to make; 78
#     naming the file, the user and the chown/chmod fix for a key the service user
#     cannot read, every problem on its own line; 69 for an unreachable redis store;
#     and it never creates anything (directory listings compared before and after)
set -u
HN_NAME=dkim-check
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
SRC=${POSTWARDEN_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
DKIM=${DKIM:-${POSTWARDEN_BUILD:-build}/milter-dkim/milter-dkim}
[ -x "$DKIM" ] || { echo "FAIL: milter-dkim not built ($DKIM)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (check drops to user nobody)"; exit 1; }
hn_tmpdir D dkim-check

# fresh DIR: keys/ run/ state/ owned by nobody, nothing in them
fresh() {
	rm -rf "$1"
	mkdir -p "$1/keys" "$1/run" "$1/state"
	chmod 700 "$1/keys"
	chown nobody:nogroup "$1/keys" "$1/run" "$1/state"
}
# example DIR: the shipped example with its paths moved into DIR, run as nobody
example() {
	sed -e "s|^listen = .*|listen = unix:$1/run/milter.sock|" \
		-e "s|^store = .*|store = lmdb:$1/state|" \
		-e "s|^keydir = .*|keydir = $1/keys|" -e "s|^user = .*|user = nobody|" \
		-e "s|^group = .*|group = nogroup|" "$SRC/examples/milter-dkim.conf"
}
# conf DIR: the common globals of a test config, then stdin
conf() {
	printf 'listen = unix:%s/run/milter.sock\nstore = %s\nkeydir = %s/keys\nuser = nobody\ngroup = nogroup\n' \
		"$1" "${STORE:-lmdb:$1/state}" "$1"
	cat
}
listing() { (cd "$1" && find . -printf '%p %m %u %s\n' | sort); }
nkeys() { find "$1/keys" -type f | wc -l; }

# --- keygen on the shipped example
E=$D/example
fresh "$E"
example "$E" >"$D/example.conf"
"$DKIM" -c "$D/example.conf" check >"$D/check0.out" 2>&1
hn_check "check before keygen: exit 0 (missing keys are keygen's to make)" test $? -eq 0
hn_check "  and it created nothing" test -z "$(find "$E" -mindepth 2)"
"$DKIM" -c "$D/example.conf" keygen >"$D/keygen.out" 2>&1
hn_check "keygen on examples/milter-dkim.conf: exit 0" test $? -eq 0
hn_check "  prints two created keys, one RSA and one Ed25519" bash -c \
	'[ "$(grep -c "^created " "$1")" = 2 ] && grep -q "^created .*\.key (rsa)$" "$1" &&
	 grep -q "^created .*\.key (ed25519)$" "$1"' _ "$D/keygen.out"
hn_check "  exactly two key files, 0600, owned by nobody" bash -c \
	'[ "$(find "$1" -type f -perm 0600 -user nobody | wc -l)" = 2 ] &&
	 [ "$(find "$1" -type f | wc -l)" = 2 ]' _ "$E/keys"

before=$(listing "$E")
"$DKIM" -c "$D/example.conf" check >"$D/check1.out" 2>&1
hn_check "check on the example after keygen: exit 0" test $? -eq 0
hn_check "  2 keys loaded" grep -q '^2 keys loaded$' "$D/check1.out"
hn_check "  created nothing (listing unchanged, no socket, no store file)" \
	test "$before" = "$(listing "$E")"

# --- a key the service user cannot read
RK=$(ls "$E"/keys/*.key | head -n1)
chown root:root "$RK"
"$DKIM" -c "$D/example.conf" check >"$D/check2.out" 2>&1
hn_check "check with a key nobody cannot read: exit 78" test $? -eq 78
hn_check "  names the file, the user and the fix" \
	grep -qF "$RK: Permission denied (as user nobody): chown nobody $RK; chmod 0600 $RK" "$D/check2.out"
chmod 0644 "$(ls "$E"/keys/*.key | tail -n1)"
before=$(listing "$E")
"$DKIM" -c "$D/example.conf" check >"$D/check3.out" 2>&1
hn_check "two bad keys: exit 78, each on its own line" bash -c \
	'[ $2 -eq 78 ] && [ "$(grep -c "error: .*key file" "$1")" = 2 ]' _ "$D/check3.out" $?
hn_check "  created nothing" test "$before" = "$(listing "$E")"
chown nobody:nogroup "$E"/keys/*.key
chmod 0600 "$E"/keys/*.key

# --- an unreachable redis store
STORE=redis://127.0.0.1:1 conf "$E" <<EOF2 >"$D/redis.conf"
[example.org]
selectors = 2026r 2026e
[example.org/2026e]
algorithm = ed25519-sha256
EOF2
"$DKIM" -c "$D/redis.conf" check >"$D/check4.out" 2>&1
hn_check "check with redis unreachable: exit 69" test $? -eq 69
hn_check "  says which store and why" grep -q 'store = redis://127.0.0.1:1: unreachable' "$D/check4.out"

# --- keygen refuses a bad config before it creates anything
B=$D/bad
fresh "$B"
conf "$B" <<EOF2 >"$D/bad.conf"
[example.org]
selectors = 2026r 2026e bad/sel
[example.org/2026e]
algorithm = ed25519-sha256
EOF2
"$DKIM" -c "$D/bad.conf" keygen >"$D/bad.out" 2>&1
hn_check "keygen, bad selector after good ones: exit 78" test $? -eq 78
hn_check "  names it" grep -q "bad selector name 'bad/sel'" "$D/bad.out"
hn_check "  no key file left behind" test "$(nkeys "$B")" -eq 0

# the former sample: a mid-rotation config whose sign = no selector has no key
fresh "$B"
conf "$B" <<EOF2 >"$D/rot.conf"
[example.org]
selectors = 2026b 2026e 2025a
[example.org/2026b]
bits = 2048
[example.org/2026e]
algorithm = ed25519-sha256
[example.org/2025a]
sign = no
EOF2
"$DKIM" -c "$D/rot.conf" keygen >"$D/rot.out" 2>&1
hn_check "keygen with a sign = no selector without key: exit 78" test $? -eq 78
hn_check "  names the selector and why" \
	grep -q "\[example.org/2025a\]: key file $B/keys/example.org.2025a.key does not exist (the key of a sign = no selector is never created)" "$D/rot.out"
hn_check "  no key created, not even the sign = yes ones" test "$(nkeys "$B")" -eq 0
"$DKIM" -c "$D/rot.conf" check >"$D/rot-check.out" 2>&1
hn_check "check says the same: exit 78" test $? -eq 78

# sign = no with its key present: keygen makes the others and leaves it alone
"$DKIM" -c "$D/example.conf" keygen >/dev/null 2>&1
cp -p "$E"/keys/*.2026r.key "$B/keys/example.org.2025a.key"
"$DKIM" -c "$D/rot.conf" keygen >"$D/rot2.out" 2>&1
hn_check "sign = no selector with its key: keygen exit 0, creates the two others only" bash -c \
	'[ $2 -eq 0 ] && [ "$(grep -c "^created " "$1")" = 2 ] && ! grep -q "^created .*2025a" "$1"' \
	_ "$D/rot2.out" $?
hn_summary
