# shellcheck shell=bash
# mtasts-nslib.sh: policyd-mtasts started inside a network namespace for the end-to-end tests
# (mtasts-e2e.sh, tlsrpt-transport.sh, tlsrpt-postfixlog.sh), with that namespace's resolv.conf and the sending
# Postfix's main.cf (MAIL_CONFIG) for its DANE precondition check.
#
#   mt_ns_start NS D SOCK MAIL_CONFIG [ARGS...]
#       write D/mt.conf (listen = unix:SOCK, LMDB store D/state, the harness trust anchor
#       $DNS_TA and CA D/pki/ca.crt, policies fetched from 127.0.0.1:443 of NS), start
#       $MT -f ARGS -c D/mt.conf in NS with the notify harness; MTPID is its pid. Returns as
#       notify_wait does for READY=1 (30 s).
#
# Sourced, it checks the tools these tests need (exit 77 when one is missing) and loads the
# harness parts they use: netns, dns, pki, https, postfix, notify.

hn_require ip postfix postconf postmap postqueue sendmail nginx openssl curl python3 \
	knotd keymgr knotc unbound dig
. "$POSTWARDEN_HARNESS/netns.sh"
. "$POSTWARDEN_HARNESS/dns.sh"
. "$POSTWARDEN_HARNESS/pki.sh"
. "$POSTWARDEN_HARNESS/https.sh"
. "$POSTWARDEN_HARNESS/postfix.sh"
. "$POSTWARDEN_HARNESS/notify.sh"

mt_ns_start() {
	local ns=$1 d=$2 sock=$3 mc=$4 mark
	shift 4
	cat >"$d/mt.conf" <<EOC
listen = unix:$sock:0666
user = nobody
group = nogroup
store = lmdb:$d/state
trust_anchor = $DNS_TA
ca_file = $d/pki/ca.crt
connect_to = 127.0.0.1:443
fetch_timeout = 5s
EOC
	export MAIL_CONFIG=$mc
	notify_up "$d" || return 1
	mark=$(notify_mark "$d")
	NOTIFY_SOCKET=$d/notify.sock ip netns exec "$ns" "$MT" -f "$@" -c "$d/mt.conf" \
		>>"$d/mt.log" 2>&1 &
	MTPID=$!
	hn_on_exit hn_stop "$MTPID" 10
	notify_wait "$d" "$mark" READY=1 "$MTPID" 30
}
