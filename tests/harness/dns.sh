# shellcheck shell=bash
# tests/harness/dns.sh: a private DNSSEC test DNS on loopback (doc/protocols.md,
# "The test DNS").
#
#   . "$POSTWARDEN_HARNESS/dns.sh"
#   dns_up DIR                 knotd (authoritative, auto-signing example.test, unsigned
#                              plain.test) + a validating unbound forwarder; both on free
#                              127.0.0.1 ports. Registers dns_down with hn_on_exit.
#   dns_add_record DIR "NAME TTL TYPE RDATA"   add a record at runtime (knotc zone transaction;
#                              knot re-signs example.test); NAME is absolute (example.test or
#                              plain.test, trailing dot optional)
#   dns_del_record DIR NAME TYPE               remove an RRset at runtime
#   dns_down DIR               stop both servers
#   dns_up_netns NS DIR        dns_up inside network namespace NS (`ip netns exec NS`, through
#                              the executable form below): both servers listen on NS's own
#                              loopback, so with DNS_UNBOUND_PORT=53 a resolv.conf written by
#                              ns_resolv (netns.sh) can name 127.0.0.1. Imports DIR/env into
#                              this shell, registers dns_down. The servers answer only inside
#                              NS: run dns_add_record / dns_del_record there too
#                              (`ip netns exec NS bash dns.sh add DIR RR`).
#
# Before dns_up, callers may append zone-file lines (absolute names) to DIR/example.test.extra
# or DIR/plain.test.extra. After dns_up, DIR/env holds (and the shell has exported)
# DNS_FORWARDER=127.0.0.1@PORT (the validating unbound), DNS_AUTH=127.0.0.1@PORT (knotd) and
# DNS_TA=DIR/example.test.ds (the trust anchor: example.test's DS). unbound caps cache TTLs at
# 5 s (negative: 1 s) so runtime changes show quickly. Executable form: dns.sh up|down DIR,
# dns.sh add DIR "RR", dns.sh del DIR NAME TYPE. Missing knotd/keymgr/knotc/unbound/dig: exit 77.
# DNS_UNBOUND_PORT=53 puts unbound on port 53, for a resolv.conf (glibc's resolver knows
# no other port): in a private network namespace, or on another loopback address given as
# DNS_UNBOUND_ADDR (default 127.0.0.1). DNS_LOG_QUERIES=1 makes unbound log every query it
# receives (log-queries) to DIR/unbound.log: "info: ADDR NAME. TYPE IN" lines.
# DNS_UNBOUND_ALSO="ADDR..." makes unbound also listen on each IPv4 ADDR (same port) and
# answer its /24: another namespace's host reaching this one over the veth pair.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DNS_TLSA_HASH=8a1a5fb9f00a4d2a1b5fbd3bf3e5a07f7f6a53d2c0d5b7bd2f6f0c9f1e7c3a21

# dns__udp_free PORT: true if nothing listens on UDP PORT.
dns__udp_free() { ! ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }

# dns__port: a port free for both TCP and UDP.
dns__port() {
	local p i
	for ((i = 0; i < 20; i++)); do
		p=$(hn_free_port) || return 1
		dns__udp_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

# dns__zone NAME SERIAL: the base zone file for NAME on stdout (+ NAME.extra if present).
dns__zone() {
	local z=$1
	printf '$ORIGIN %s.\n$TTL 300\n' "$z"
	printf '@ SOA ns.%s. hostmaster.%s. %s 3600 600 86400 60\n' "$z" "$z" "$2"
	printf '@ NS ns.%s.\nns A 127.0.0.1\n' "$z"
	printf '@ MX 10 mx.%s.\nmx A 127.0.0.1\nmx AAAA ::1\nmta-sts A 127.0.0.1\n' "$z"
	printf '@ TXT "v=spf1 -all"\n'
	printf '_mta-sts TXT "v=STSv1; id=20240101T000000;"\n'
	printf '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@%s"\n' "$z"
	printf 'multi TXT "part one;" " part two"\n'
	printf '_25._tcp.mx TLSA 3 1 1 %s\n' "$DNS_TLSA_HASH"
	[ ! -f "$D/$z.extra" ] || cat "$D/$z.extra"
}

# dns_up DIR
dns_up() {
	local D auth res ap rp z
	hn_require knotd keymgr knotc unbound dig
	D=$(realpath -m "$1")
	mkdir -p "$D/db"
	ap=$(dns__port) || hn_die "dns: no free port"
	rp=${DNS_UNBOUND_PORT:-$(dns__port)} || hn_die "dns: no free port"
	[ "$ap" != "$rp" ] || rp=$(dns__port) || hn_die "dns: no free port"
	auth=127.0.0.1@$ap
	res=${DNS_UNBOUND_ADDR:-127.0.0.1}@$rp
	for z in example.test plain.test; do
		dns__zone "$z" "$(date +%s)" >"$D/$z.zone"
	done
	cat >"$D/knot.conf" <<EOF
server:
    listen: $auth
    rundir: "$D"
control:
    listen: "$D/knot.sock"
log:
  - target: "$D/knot.log"
    any: info
database:
    storage: "$D/db"
template:
  - id: default
    storage: "$D"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: example.test
    dnssec-signing: on
  - domain: plain.test
EOF
	hn_on_exit dns_down "$D"
	knotd -c "$D/knot.conf" >"$D/knot.stdout" 2>&1 &
	echo $! >"$D/knot.pid.shell"
	if ! hn_wait 10 dns__signed "$auth"; then
		tail -n 5 "$D/knot.stdout" "$D/knot.log" >&2
		hn_die "dns: knotd on $auth not ready (example.test not signed)"
	fi
	keymgr -c "$D/knot.conf" example.test ds | head -n 1 >"$D/example.test.ds"
	grep -q ' DS ' "$D/example.test.ds" || hn_die "dns: keymgr gave no DS"
	cat >"$D/unbound.conf" <<EOF
server:
  interface: ${DNS_UNBOUND_ADDR:-127.0.0.1}
$(for a in ${DNS_UNBOUND_ALSO:-}; do printf '  interface: %s\n  access-control: %s.0/24 allow\n' "$a" "${a%.*}"; done)
  port: $rp
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$D"
  pidfile: "$D/unbound.pid"
  use-syslog: no
  logfile: "$D/unbound.log"
  val-log-level: 2
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "$D/example.test.ds"
  local-zone: "test." nodefault
  domain-insecure: "plain.test"
  cache-max-ttl: 5
  cache-max-negative-ttl: 1
  qname-minimisation: no
  log-queries: $([ "${DNS_LOG_QUERIES:-0}" = 1 ] && echo yes || echo no)
stub-zone:
  name: "example.test"
  stub-addr: $auth
stub-zone:
  name: "plain.test"
  stub-addr: $auth
remote-control:
  control-enable: no
EOF
	unbound -d -c "$D/unbound.conf" >"$D/unbound.stdout" 2>&1 &
	echo $! >"$D/unbound.pid.shell"
	if ! hn_wait 10 dns__validated "$res"; then
		tail -n 5 "$D/unbound.stdout" "$D/unbound.log" >&2
		hn_die "dns: unbound on $res not ready (no AD bit for example.test)"
	fi
	printf 'DNS_FORWARDER=%s\nDNS_AUTH=%s\nDNS_TA=%s\n' "$res" "$auth" "$D/example.test.ds" \
		>"$D/env"
	export DNS_FORWARDER=$res DNS_AUTH=$auth DNS_TA=$D/example.test.ds
}

# dns__dig ADDR@PORT ARGS...: one quick dig against a server.
dns__dig() {
	local s=$1
	shift
	dig +time=1 +tries=1 -p "${s#*@}" "@${s%@*}" "$@"
}
dns__signed() { dns__dig "$1" example.test SOA +dnssec | grep -q RRSIG; }
dns__validated() { dns__dig "$1" example.test SOA +dnssec | grep -q 'flags:.* ad'; }

# dns_add_record DIR "NAME TTL TYPE RDATA": add one record while the servers run. Waits
# until knotd serves it (signed, for example.test). Also kept in DIR/ZONE.extra.
dns_add_record() {
	local D=$1 rr=$2 name ttl type rdata zone auth
	read -r name ttl type rdata <<<"$rr"
	name=${name%.}
	case "$name" in
	example.test | *.example.test) zone=example.test ;;
	plain.test | *.plain.test) zone=plain.test ;;
	*) hn_log "dns_add_record: $name is in no test zone"; return 1 ;;
	esac
	[ -n "$rdata" ] || { hn_log "dns_add_record: want NAME TTL TYPE RDATA, got: $rr"; return 1; }
	auth=$(sed -n 's/^DNS_AUTH=//p' "$D/env")
	knotc -c "$D/knot.conf" zone-begin "$zone" >/dev/null || return 1
	# shellcheck disable=SC2086 # rdata is several words on purpose
	if ! knotc -c "$D/knot.conf" zone-set "$zone" "$name." "$ttl" "$type" $rdata >/dev/null; then
		knotc -c "$D/knot.conf" zone-abort "$zone" >/dev/null
		hn_log "dns_add_record: knotc zone-set refused: $rr"
		return 1
	fi
	knotc -c "$D/knot.conf" zone-commit "$zone" >/dev/null || return 1
	echo "$name. $ttl $type $rdata" >>"$D/$zone.extra"
	hn_wait 5 dns__served "$auth" "$name" "$type" "$zone" ||
		{ hn_log "dns_add_record: $name $type not served"; return 1; }
}
# dns_del_record DIR NAME TYPE: remove the whole NAME/TYPE RRset at runtime (knotc zone-unset);
# waits until knotd no longer serves it. Together with dns_add_record this replaces a record.
dns_del_record() {
	local D=$1 name=${2%.} type=$3 zone auth
	case "$name" in
	example.test | *.example.test) zone=example.test ;;
	plain.test | *.plain.test) zone=plain.test ;;
	*) hn_log "dns_del_record: $name is in no test zone"; return 1 ;;
	esac
	auth=$(sed -n 's/^DNS_AUTH=//p' "$D/env")
	knotc -c "$D/knot.conf" zone-begin "$zone" >/dev/null || return 1
	if ! knotc -c "$D/knot.conf" zone-unset "$zone" "$name." "$type" >/dev/null; then
		knotc -c "$D/knot.conf" zone-abort "$zone" >/dev/null
		hn_log "dns_del_record: knotc zone-unset refused: $name $type"
		return 1
	fi
	knotc -c "$D/knot.conf" zone-commit "$zone" >/dev/null || return 1
	hn_wait 5 eval '! dns__served "$auth" "$name" "$type" plain.test' ||
		{ hn_log "dns_del_record: $name $type still served"; return 1; }
}
dns__served() {
	local out
	out=$(dns__dig "$1" "$2" "$3" +dnssec +norec) || return 1
	grep -q "IN[[:space:]]*$3[[:space:]]" <<<"$out" || return 1
	[ "$4" = plain.test ] || grep -q "RRSIG[[:space:]]*$3[[:space:]]" <<<"$out"
}

# dns_up_netns NS DIR
dns_up_netns() {
	local ns=$1 D
	hn_require ip
	D=$(realpath -m "$2")
	mkdir -p "$D"
	hn_on_exit dns_down "$D"
	ip netns exec "$ns" bash "$HN_HARNESS/dns.sh" up "$D" >/dev/null ||
		hn_die "dns: dns_up inside namespace $ns failed"
	DNS_FORWARDER=$(sed -n 's/^DNS_FORWARDER=//p' "$D/env")
	DNS_AUTH=$(sed -n 's/^DNS_AUTH=//p' "$D/env")
	DNS_TA=$(sed -n 's/^DNS_TA=//p' "$D/env")
	export DNS_FORWARDER DNS_AUTH DNS_TA
}

# dns_down DIR
dns_down() {
	hn_stop_pidfile "$1/unbound.pid.shell"
	hn_stop_pidfile "$1/knot.pid.shell"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	case "${1:-}" in
	up)
		dns_up "$2"
		HN_CLEANUP=()
		cat "$2/env"
		;;
	down) dns_down "$2" ;;
	add) dns_add_record "$2" "$3" ;;
	del) dns_del_record "$2" "$3" "$4" ;;
	*) echo "usage: $0 up|down DIR | add DIR 'NAME TTL TYPE RDATA' | del DIR NAME TYPE" >&2; exit 2 ;;
	esac
fi
