#!/bin/bash
# systemd-units.sh DAEMON...: the units of packaging/systemd/ for each built DAEMON, as
# systemd reads them, in a temp dir with ExecStart= pointed at the build tree:
#  - `systemd-analyze verify --man=no` on every .socket and .service: exit 0 and nothing
#    printed (an unknown or misspelt directive is only a warning there: it fails here);
#  - `systemd-analyze security --offline=yes --threshold=20` on each service: the gate
#    (exposure at most 2.0); each score is printed (doc/hardening.md records them);
#  - what the units promise (doc/hardening.md): a service is Type=notify, has no [Install]
#    (its socket starts it), Requires= and After= its socket, runs as its own user in group
#    postwarden with UMask=0007 and PrivateMounts=yes, and writes to the shared store;
#    a socket is SocketUser= the daemon, SocketGroup=postfix, SocketMode=0660, wanted by
#    sockets.target; sysusers.d makes each user, in group postwarden; tmpfiles.d makes the
#    store 2770 root:postwarden; sysctl.d raises net.unix.max_dgram_qlen, and tlsrpt.socket
#    is ordered after systemd-sysctl.service.
set -u
. "${POSTWARDEN_HARNESS:-$(dirname "$0")/../harness}/lib.sh"
HN_NAME=systemd-units
SRC=${POSTWARDEN_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${POSTWARDEN_BUILD:-$SRC/build}
P=$SRC/packaging
hn_require systemd-analyze
[ $# -gt 0 ] || { echo "SKIP: no daemon built"; exit 77; }
hn_tmpdir D systemd-units

for d in "$@"; do
	[ -x "$BUILD/$d/$d" ] || { echo "FAIL: $BUILD/$d/$d not built"; exit 1; }
	cp "$P/systemd/$d.socket" "$D/"
	sed "s#^ExecStart=/usr/sbin/$d #ExecStart=$BUILD/$d/$d #" "$P/systemd/$d.service" \
		>"$D/$d.service"
	hn_check "$d.service: ExecStart= points at the build tree" \
		grep -q "^ExecStart=$BUILD/$d/$d -c /etc/postwarden/$d.conf\$" "$D/$d.service"
done

# verify: every unit at once (Requires= finds the sockets beside the services)
(cd "$D" && systemd-analyze verify --man=no ./*.socket ./*.service) >"$D/verify.out" 2>&1
rc=$?
hn_check "systemd-analyze verify: exit 0" test $rc = 0
hn_check "systemd-analyze verify: no warning" test ! -s "$D/verify.out"
[ ! -s "$D/verify.out" ] || cat "$D/verify.out"

# key UNIT SECTION LINE: LINE is in [SECTION] of UNIT
key() {
	awk -v s="[$2]" -v l="$3" '/^\[/{in_s = ($0 == s)} in_s && $0 == l {f = 1} END {exit !f}' "$1"
}
for d in "$@"; do
	s=$D/$d.service
	out=$(cd "$D" && systemd-analyze security --offline=yes --threshold=20 --no-pager "$d.service" 2>&1)
	rc=$?
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' <<<"$out")
	echo "$d.service: exposure ${score:-?}"
	hn_check "$d.service: systemd-analyze security passes --threshold=20 (exposure ${score:-?})" \
		test $rc = 0 -a -n "$score"
	[ $rc = 0 ] || grep '✗' <<<"$out"
	hn_check "$d.service: Type=notify" key "$s" Service Type=notify
	hn_check "$d.service: no [Install] (socket-activated)" bash -c '! grep -q "^\[Install\]" "$1"' _ "$s"
	hn_check "$d.service: Requires= its socket" key "$s" Unit "Requires=$d.socket"
	hn_check "$d.service: After= its socket" grep -Eq "^After=.*(^|[= ])$d\.socket( |\$)" "$s"
	hn_check "$d.service: User=$d Group=postwarden UMask=0007" bash -c \
		'grep -qx "User=$2" "$1" && grep -qx Group=postwarden "$1" && grep -qx UMask=0007 "$1"' _ "$s" "$d"
	hn_check "$d.service: PrivateMounts=yes, no PrivateUsers=" bash -c \
		'grep -qx PrivateMounts=yes "$1" && ! grep -q "^PrivateUsers=" "$1"' _ "$s"
	hn_check "$d.service: writes the shared store, never StateDirectory=postwarden" bash -c \
		'grep -qx ReadWritePaths=/var/lib/postwarden/state "$1" &&
		 ! grep -q "^StateDirectory=.*postwarden" "$1"' _ "$s"
	k=$D/$d.socket
	hn_check "$d.socket: SocketUser=$d SocketGroup=postfix SocketMode=0660" bash -c \
		'grep -qx "SocketUser=$2" "$1" && grep -qx SocketGroup=postfix "$1" &&
		 grep -qx SocketMode=0660 "$1"' _ "$k" "$d"
	hn_check "$d.socket: WantedBy=sockets.target" key "$k" Install WantedBy=sockets.target
	hn_check "sysusers.d: user $d, in group postwarden" bash -c \
		'grep -Eq "^u $2 " "$1" && grep -qx "m $2 postwarden" "$1"' _ "$P/sysusers.d/postwarden.conf" "$d"
done
hn_check "tmpfiles.d: the store 2770 root:postwarden" grep -Eq \
	'^d /var/lib/postwarden/state +2770 +root +postwarden ' "$P/tmpfiles.d/postwarden.conf"
hn_check "sysctl.d: net.unix.max_dgram_qlen raised" grep -Eq \
	'^net\.unix\.max_dgram_qlen = ([5-9][0-9]|[1-9][0-9]{2,})$' "$P/sysctl.d/postwarden.conf"
case " $* " in
*" tlsrpt "*)
	hn_check "tlsrpt.socket: After=systemd-sysctl.service" \
		key "$D/tlsrpt.socket" Unit After=systemd-sysctl.service
	hn_check "tlsrpt.service: postdrop group, maildrop writable (sendmail)" bash -c \
		'grep -qx SupplementaryGroups=postdrop "$1" &&
		 grep -qx ReadWritePaths=/var/spool/postfix/maildrop "$1"' _ "$D/tlsrpt.service"
	hn_check "sysusers.d: tlsrpt in postdrop" grep -qx "m tlsrpt postdrop" "$P/sysusers.d/postwarden.conf"
	;;
esac
hn_summary
