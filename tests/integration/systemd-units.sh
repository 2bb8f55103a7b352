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
#    is ordered after systemd-sysctl.service;
#  - as root: systemd-sysusers and systemd-tmpfiles --create applied to a scratch root (a
#    copy of /etc/passwd and /etc/group; the host is not touched): the users, groups,
#    memberships (tlsrpt in postdrop) and directories with their modes and owners.
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
# sysusers.d and tmpfiles.d applied to a scratch root (a copy of /etc/passwd and /etc/group):
# what they make there, and that neither prints a warning
if [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	R=$D/root
	mkdir -p "$R/etc"
	cp /etc/passwd /etc/group "$R/etc/"
	systemd-sysusers --root="$R" "$P/sysusers.d/postwarden.conf" >"$D/sysusers.out" 2>&1
	hn_check "systemd-sysusers --root: exit 0" test $? = 0
	systemd-tmpfiles --root="$R" --create "$P/tmpfiles.d/postwarden.conf" >"$D/tmpfiles.out" 2>&1
	hn_check "systemd-tmpfiles --root --create: exit 0, no warning" test $? = 0 -a ! -s "$D/tmpfiles.out"
	cat "$D/tmpfiles.out"
	# made PATH MODE OWNER GROUP: PATH in the scratch root has that mode, owner and group
	made() {
		local u g
		u=$(awk -F: -v n="$3" '$1 == n {print $3}' "$R/etc/passwd")
		g=$(awk -F: -v n="$4" '$1 == n {print $3}' "$R/etc/group")
		[ -n "$u" ] && [ -n "$g" ] && [ "$(stat -c %a:%u:%g "$R$1")" = "$2:$u:$g" ]
	}
	for d in "$@"; do
		hn_check "sysusers.d: user $d, member of postwarden" bash -c \
			'grep -q "^$2:" "$1/etc/passwd" && grep -Eq "^postwarden:[^:]*:[^:]*:(.*,)?$2(,|\$)" "$1/etc/group"' \
			_ "$R" "$d"
	done
	hn_check "tmpfiles.d: /var/lib/postwarden 0750 root:postwarden" made /var/lib/postwarden 750 root postwarden
	hn_check "tmpfiles.d: /var/lib/postwarden/state 2770 root:postwarden" \
		made /var/lib/postwarden/state 2770 root postwarden
	hn_check "tmpfiles.d: /var/lib/milter-dkim/keys 0700 milter-dkim" \
		made /var/lib/milter-dkim/keys 700 milter-dkim postwarden
	hn_check "tmpfiles.d: the milter socket directories, group postfix" bash -c \
		'[ "$(stat -c %a:%G "$1/var/spool/postfix/milter-dkim")" = 750:postfix ] &&
		 [ "$(stat -c %a:%G "$1/var/spool/postfix/milter-av")" = 750:postfix ]' _ "$R"
	hn_check "tmpfiles.d: tlsrpt's socket directory, group postfix" \
		test "$(stat -c %a:%G "$R/var/spool/postfix/run/tlsrpt")" = 750:postfix
	hn_check "sysusers.d: tlsrpt in postdrop" grep -Eq '^postdrop:[^:]*:[^:]*:(.*,)?tlsrpt(,|$)' \
		"$R/etc/group"
else
	hn_skip "sysusers.d and tmpfiles.d in a scratch root" "needs root, systemd-sysusers, systemd-tmpfiles"
fi

case " $* " in
*" tlsrpt "*)
	hn_check "tlsrpt.socket: After=systemd-sysctl.service" \
		key "$D/tlsrpt.socket" Unit After=systemd-sysctl.service
	hn_check "tlsrpt.service: postdrop group, maildrop writable (sendmail)" bash -c \
		'grep -qx SupplementaryGroups=postdrop "$1" &&
		 grep -qx ReadWritePaths=-/var/spool/postfix/maildrop "$1"' _ "$D/tlsrpt.service"
	hn_check "sysusers.d: tlsrpt in postdrop" grep -qx "m tlsrpt postdrop" "$P/sysusers.d/postwarden.conf"
	;;
esac
hn_summary
