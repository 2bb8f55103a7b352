# shellcheck shell=bash
# tests/harness/postfix.sh: private Postfix instances for tests (never touches /etc/postfix).
#
#   pf_make DIR ADDR:PORT [NAME=VALUE...]
#       DIR/etc (main.cf, master.cf), DIR/spool (queue), DIR/data, DIR/maillog (the only
#       log: there is no syslog here), and Maildir delivery of every recipient in
#       $virtual_mailbox_domains (default example.test) to DIR/mail/inbox/new/.
#       smtpd listens on ADDR:PORT only. Extra main.cf settings via postconf -e.
#   pf_set DIR NAME=VALUE...     change main.cf (and backdate it; see pf_backdate)
#   pf_milters DIR SPEC [ACTION] smtpd_milters = SPEC, non_smtpd_milters = $smtpd_milters,
#                                milter_default_action = ACTION (default tempfail)
#   pf_up DIR [NETNS]            start (inside NETNS if given), wait for the 220 banner;
#                                registers pf_down on the harness cleanup stack
#   pf_down DIR                  stop the master (it takes its children down); idempotent
#   pf_reload DIR                postfix reload
#   pf_mail_count DIR            number of delivered messages in DIR/mail/inbox/new
#   pf_wait_mail DIR COUNT SECS  wait until at least COUNT messages are delivered
#   pf_send_smtp HOST PORT FROM TO FILE   submit FILE over SMTP with swaks (quiet)
#   pf_sendmail DIR FROM TO...   submit stdin with this instance's sendmail (-C DIR/etc)
#   pf_flush DIR                 postqueue -f
#
# Gotchas handled here: mktemp's 0700 dirs (chmod 755), the main.cf "still being edited"
# mtime guard that makes every Postfix command sleep up to ~2 s (pf_backdate after every
# change), maillog_file needing maillog_file_prefixes and a postlog service.

[ -n "${HN_POSTFIX_LOADED:-}" ] && return 0
HN_POSTFIX_LOADED=1
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# pf_backdate DIR: set main.cf/master.cf mtime 5 s in the past. Postfix re-reads a
# main.cf modified within the current second, sleeping 300 ms each time.
pf_backdate() { touch -d '-5 seconds' "$1/etc/main.cf" "$1/etc/master.cf"; }

pf_make() {
	local d=$1 listen=$2 uid gid
	shift 2
	hn_require postfix postconf
	mkdir -p "$d/etc" "$d/spool" "$d/data" "$d/mail"
	d=$(realpath "$d")
	chmod 755 "$d"
	chown postfix:postfix "$d/data"
	chown nobody:nogroup "$d/mail"
	uid=$(id -u nobody)
	gid=$(getent group nogroup | cut -d: -f3)
	cat >"$d/etc/main.cf" <<-CF
		# private test instance made by tests/harness/postfix.sh
		compatibility_level = 3.6
		queue_directory = $d/spool
		data_directory = $d/data
		mail_owner = postfix
		setgid_group = postdrop
		maillog_file = $d/maillog
		maillog_file_prefixes = $d
		myhostname = mx.example.test
		mydomain = example.test
		myorigin = \$myhostname
		mydestination =
		inet_interfaces = ${listen%:*}
		inet_protocols = ipv4
		mynetworks = 127.0.0.0/8
		smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
		smtpd_banner = \$myhostname ESMTP postwarden-test
		alias_maps =
		alias_database =
		local_recipient_maps =
		biff = no
		virtual_mailbox_domains = example.test
		virtual_mailbox_base = $d/mail
		virtual_mailbox_maps = static:inbox/
		virtual_uid_maps = static:$uid
		virtual_gid_maps = static:$gid
		virtual_mailbox_limit = 0
		message_size_limit = 52428800
		delay_warning_time = 0
		queue_run_delay = 1s
		minimal_backoff_time = 1s
		maximal_backoff_time = 2s
		smtp_connect_timeout = 5s
	CF
	# Debian's stock master.cf: nothing chrooted, smtpd on $listen only, and a postlog
	# service (required by maillog_file).
	awk -v L="$listen" '
		/^smtp[ \t]+inet/ { print L "  inet  n  -  n  -  -  smtpd"; next }
		/^#/ || /^[ \t]/ || NF == 0 { print; next }
		NF >= 8 { $5 = "n" }
		{ print }' /usr/share/postfix/master.cf.dist >"$d/etc/master.cf"
	grep -q '^postlog' "$d/etc/master.cf" ||
		echo 'postlog   unix-dgram n  -  n  -  1  postlogd' >>"$d/etc/master.cf"
	if [ $# -gt 0 ]; then
		postconf -c "$d/etc" -e "$@" || return 1
	fi
	pf_backdate "$d"
	postconf -c "$d/etc" -n >/dev/null
}

pf_set() {
	local d=$1
	shift
	postconf -c "$d/etc" -e "$@" || return 1
	pf_backdate "$d"
}

pf_milters() {
	pf_set "$1" "smtpd_milters = $2" "non_smtpd_milters = \$smtpd_milters" \
		"milter_default_action = ${3:-tempfail}"
}

# pf_listen DIR: the ADDR:PORT of the smtpd inet service.
pf_listen() { postconf -c "$1/etc" -M | awk '$2 == "inet" && $8 == "smtpd" { print $1; exit }'; }

pf_up() {
	local d ns=${2:-} listen
	d=$(realpath "$1")
	local x=()
	[ -z "$ns" ] || x=(ip netns exec "$ns")
	chmod 755 "$d"
	pf_backdate "$d"
	hn_on_exit pf_down "$d"
	if ! "${x[@]}" postfix -c "$d/etc" start </dev/null >>"$d/start.log" 2>&1; then
		hn_log "postfix start failed for $d"
		cat "$d/start.log" >&2
		tail -n 20 "$d/maillog" >&2 2>/dev/null || true
		return 1
	fi
	listen=$(pf_listen "$d")
	if ! hn_wait 20 "${x[@]}" bash -c "$(declare -f hn_banner); hn_banner \"\$1\" \"\$2\"" _ \
		"${listen%:*}" "${listen##*:}"; then
		hn_log "postfix $d: no 220 banner on $listen"
		tail -n 20 "$d/maillog" >&2 2>/dev/null || true
		return 1
	fi
}

# pf_master_pid DIR: the running master's PID, or nothing.
pf_master_pid() {
	local p
	p=$(tr -dc '0-9' <"$1/spool/pid/master.pid" 2>/dev/null) || return 1
	hn_alive "$p" && echo "$p"
}

pf_down() {
	local p
	p=$(pf_master_pid "$1") || return 0
	hn_stop "$p" 10
}

pf_reload() {
	postfix -c "$1/etc" reload </dev/null >>"$1/start.log" 2>&1
}

pf_flush() { postqueue -c "$1/etc" -f; }

pf_mail_count() {
	local n=0 f
	for f in "$1"/mail/inbox/new/*; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

pf_wait_mail() {
	local d=$1 want=$2 secs=$3
	hn_wait "$secs" pf__have_mail "$d" "$want" && return 0
	hn_log "postfix $d: $(pf_mail_count "$d") of $want messages after ${secs}s"
	return 1
}
pf__have_mail() { [ "$(pf_mail_count "$1")" -ge "$2" ]; }

pf_send_smtp() {
	local host=$1 port=$2 from=$3 to=$4 file=$5
	hn_require swaks
	swaks --silent 2 --server "$host" --port "$port" --from "$from" --to "$to" \
		--helo client.example.org --data "@$file" --timeout 20
}

pf_sendmail() {
	local d=$1 from=$2
	shift 2
	sendmail -C "$d/etc" -f "$from" -- "$@"
}
