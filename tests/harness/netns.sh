# shellcheck shell=bash
# tests/harness/netns.sh: two test "hosts" in network namespaces joined by a veth pair.
#
#   ns_pair_up [PREFIX]   create namespaces NS_A="PREFIX<pid>a" and NS_B="PREFIX<pid>b"
#                         (PREFIX default "pw"; <pid> is this shell's PID, so parallel runs
#                         never collide), lo up in both, veth NS_A_IP/24 <-> NS_B_IP/24 with
#                         NS_A_IP=10.231.X.1, NS_B_IP=10.231.X.2, X derived from the PID.
#                         Sets NS_A NS_B NS_A_IP NS_B_IP NS_NET (e.g. "10.231.17").
#                         Exits 77 ("SKIP: ...") when namespaces cannot be created here.
#                         Registers ns_pair_down on the harness cleanup stack.
#   ns_pair_down          stop every process left in the two namespaces, delete them and
#                         their /etc/netns/NAME dirs; idempotent.
#   ns_usable             true if this machine lets us create a namespace (probe only).
#   ns_resolv NAME NAMESERVER...
#                         write /etc/netns/NAME/resolv.conf (with "options trust-ad");
#                         `ip netns exec NAME` bind-mounts it over /etc/resolv.conf.
#   ns_hosts NAME LINE... write /etc/netns/NAME/hosts (localhost is always included).
#   ns_exec NAME CMD...   ip netns exec NAME CMD...
# Traffic stays inside the pair: no route to the host or beyond is ever added.

[ -n "${HN_NETNS_LOADED:-}" ] && return 0
HN_NETNS_LOADED=1
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NS_A=
NS_B=

ns_usable() {
	local probe="pwprobe$$"
	command -v ip >/dev/null 2>&1 || return 1
	ip netns add "$probe" 2>/dev/null || return 1
	ip netns del "$probe" 2>/dev/null
	return 0
}

ns_pair_up() {
	local prefix=${1:-pw} x err
	hn_require ip
	x=$(($$ % 250 + 1))
	NS_A="${prefix}$$a"
	NS_B="${prefix}$$b"
	NS_NET="10.231.$x"
	NS_A_IP="$NS_NET.1"
	NS_B_IP="$NS_NET.2"
	if ! err=$(ip netns add "$NS_A" 2>&1); then
		echo "SKIP: cannot create network namespaces here (ip netns add: $err)"
		NS_A=
		NS_B=
		exit 77
	fi
	hn_on_exit ns_pair_down
	ip netns add "$NS_B" || return 1
	ip link add "pwv$$a" netns "$NS_A" type veth peer name "pwv$$b" netns "$NS_B" || return 1
	ip -n "$NS_A" addr add "$NS_A_IP/24" dev "pwv$$a" || return 1
	ip -n "$NS_B" addr add "$NS_B_IP/24" dev "pwv$$b" || return 1
	ip -n "$NS_A" link set lo up || return 1
	ip -n "$NS_B" link set lo up || return 1
	ip -n "$NS_A" link set "pwv$$a" up || return 1
	ip -n "$NS_B" link set "pwv$$b" up || return 1
	ns_hosts "$NS_A" "$NS_A_IP $NS_A"
	ns_hosts "$NS_B" "$NS_B_IP $NS_B"
}

ns_pair_down() {
	local ns pid
	for ns in $NS_A $NS_B; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			hn_stop "$pid" 5
		done
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/${ns:?}"
	done
	NS_A=
	NS_B=
	return 0
}

ns_resolv() {
	local ns=$1 n
	shift
	mkdir -p "/etc/netns/$ns"
	{
		for n in "$@"; do echo "nameserver $n"; done
		echo "options trust-ad"
	} >"/etc/netns/$ns/resolv.conf"
}

ns_hosts() {
	local ns=$1
	shift
	mkdir -p "/etc/netns/$ns"
	{
		echo "127.0.0.1 localhost"
		printf '%s\n' "$@"
	} >"/etc/netns/$ns/hosts"
}

ns_exec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
