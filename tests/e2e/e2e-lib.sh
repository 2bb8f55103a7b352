# shellcheck shell=bash
# tests/e2e/e2e-lib.sh: what the end-to-end tests of tests/e2e/ share; sourced, not a test.
# Built on tests/harness/ (lib, netns, dns, pki, https, postfix, redis, clamd, notify).
#
#   e2e_init NAME            harness libraries, HN_NAME; the daemons' binaries in $DKIM $AV
#                            $MT $TLSRPT (exit 1 when one is not built); exit 77 naming a
#                            missing server or tool; two network namespaces (ns_pair_up:
#                            exit 77 when they cannot be made), none with E2E_LOOPBACK=1
#                            (NS_A and NS_B empty: both hosts in this namespace, on
#                            127.0.0.x and free ports); D = the test's temp dir; TZ=UTC
#                            (the mail log's times are the report day's)
#   A CMD...                 run CMD in the sending host's namespace (here when loopback)
#   e2e_in NS CMD...         run CMD in namespace NS, here when NS is empty
#   e2e_addr_add NS ADDR     one more address (/24) on NS's end of the veth pair
#   e2e_store_up KIND        the one store every daemon is given: redis (the harness
#                            redis-server in D/redis, unix socket only, reached through the
#                            file system from every namespace) or lmdb (directory D/state);
#                            sets STORE (the URI) and STORE_KIND
#   e2e_store_keys PREFIX    the store's keys (plain and hash) that start with PREFIX
#   e2e_start NAME BIN CONF [NS]
#                            start `BIN -f -c CONF` in A (or namespace NS; here when both are
#                            empty) as a service manager
#                            would (NOTIFY_SOCKET, tests/harness/notify.sh), log D/NAME.log;
#                            wait for READY=1 (30 s; 1 at once if it exits). PID: E2E_PID[NAME]
#   e2e_stop NAME            SIGTERM, wait up to 10 s; returns the daemon's exit status
#   e2e_dovecot DIR SOCKET USER PASSWORD
#                            Dovecot with the auth service only (no protocols), from DIR
#                            (base_dir, state_dir, log): a passwd-file with USER:PASSWORD
#                            and an auth listener at SOCKET for Postfix's smtpd
#                            (smtpd_sasl_type = dovecot), user and group postfix, 0660;
#                            started in A, waits for SOCKET (10 s); E2E_PID[dovecot]
#   e2e_submit ARGS...       tests/e2e/e2e_submit.py ARGS in A; its line also in
#                            D/submit.log; its exit status (0 accepted, 4/5 refused 4xx/5xx)
#   e2e_dkim_verify FILE N   dkimpy (tests/integration/dkim_verify.py) in A, keys from A's
#                            validating resolver ($E2E_RESOLVER): at least N signatures,
#                            every one passes
#   e2e_dkim_verify_b FILE N the same in B, asking A's resolver over the veth pair
#                            ($E2E_RESOLVER_B)
#   e2e_site_up KIND         the site of mail-path.sh (its header describes it), every daemon
#                            on store KIND, up and checked: sets Z, STS_DOMS, ALL_DOMS,
#                            USER_NAME, PASS, SND, RCV, SPOOL (A's queue), TODAY, SPKI,
#                            E2E_AUTH (alice's --user/--password), RF (tlsrpt's report_from),
#                            B_ID (B's host name and authserv-id), RPT_DOMS (the domains
#                            with a _smtp._tls record), $D/<daemon>.conf. With E2E_B_VERIFY=1
#                            B's port 25 runs a milter-dkim of its own (verify = yes,
#                            authserv_id = B_ID; $D/b-milter-dkim.conf, E2E_PID[b-milter-dkim])
#                            Also sets SUBMIT_PORT (A's submission), E2E_RESOLVER (A's
#                            validating unbound, ADDR@PORT) and E2E_RESOLVER_B (the same as
#                            B reaches it). With E2E_LOOPBACK=1 (no namespaces): the DNS,
#                            nginx (MTA-STS policy hosts), A's smtpd and submission and B's
#                            smtpd (B_ADDR:B_PORT) on free ports of 127.0.0.1 and 127.0.0.2;
#                            A reaches B through transport_maps, not MX, and has no
#                            dnssec_probe (its resolver is /etc/resolv.conf); policyd-mtasts
#                            and tlsrpt get `resolver =` the test DNS, policyd-mtasts
#                            `connect_to =` nginx and dane_mode = off (its DANE precondition
#                            asks /etc/resolv.conf's resolver); B has one listener only
#   e2e_answer DOMAIN WANT   policyd-mtasts' answer for DOMAIN.$Z as A's Postfix asks
#                            (postmap, socketmap) is WANT (empty: NOTFOUND)
#   e2e_msg TAG RCPT [BODY]  a message file "Subject: e2e TAG" from alice; its path
#   e2e_send TAG RCPT ARGS   e2e_submit of e2e_msg TAG RCPT over 127.0.0.1:$SUBMIT_PORT (587)
#                            with STARTTLS, plus ARGS
#   e2e_refused RC PAT CMD   CMD exits RC and its output matches PAT (grep -E)
#   e2e_load TAG COUNT SECS INTERVAL RCPT [LOAD-ARGS...]
#                            tests/e2e/e2e_load.py load in A: up to COUNT messages as alice
#                            ("e2e TAG-<i>"), one session each, INTERVAL s apart, at most SECS
#                            seconds; outcomes in $D/load.TAG (run it with & to inject a fault);
#                            LOAD-ARGS: more of its options (--rcpt, --size, --eicar,
#                            --concurrency, --rate: mixed traffic, soak.sh)
#   e2e_load_wait TAG N SECS until $D/load.TAG has N outcomes (SECS max)
#   e2e_flush_until SECS CMD...  CMD until it succeeds, A's queue flushed each second
#   e2e_load_delivered TAG SECS
#                            until every message of TAG accepted at submission is in B's
#                            Maildir (A's queue flushed each second; SECS max)
#   e2e_audit TAG... [-- AUDIT-ARGS]
#                            e2e_load.py audit of $D/load.TAG... in A against B's Maildir;
#                            its summary in E2E_AUDIT (also printed); its exit status
#   e2e_n KEY                KEY's number in E2E_AUDIT (e2e_n refused4)
#   e2e_restart NAME         start daemon NAME again with its binary and $D/NAME.conf
# With E2E_STATE_TMPFS=SIZE set, e2e_store_up lmdb mounts a tmpfs of SIZE on D/state (run
# the test in its own mount namespace: unshare -m); it is unmounted at exit.

[ -n "${E2E_LIB_LOADED:-}" ] && return 0
E2E_LIB_LOADED=1
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "${POSTWARDEN_HARNESS:-$E2E_DIR/../harness}/lib.sh"
. "$HN_HARNESS/netns.sh"
. "$HN_HARNESS/dns.sh"
. "$HN_HARNESS/pki.sh"
. "$HN_HARNESS/https.sh"
. "$HN_HARNESS/postfix.sh"
. "$HN_HARNESS/redis.sh"
. "$HN_HARNESS/clamd.sh"
. "$HN_HARNESS/notify.sh"
declare -gA E2E_PID=()

e2e_init() {
	local b
	HN_NAME=$1
	export TZ=UTC
	DKIM=${POSTWARDEN_BUILD:-}/milter-dkim/milter-dkim
	AV=${POSTWARDEN_BUILD:-}/milter-av/milter-av
	MT=${POSTWARDEN_BUILD:-}/policyd-mtasts/policyd-mtasts
	TLSRPT=${POSTWARDEN_BUILD:-}/tlsrpt/tlsrpt
	for b in "$DKIM" "$AV" "$MT" "$TLSRPT"; do
		[ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }
	done
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, Postfix)"; exit 77; }
	hn_require ip postfix postconf postmap postqueue nginx openssl curl python3 knotd keymgr \
		knotc unbound dig clamd sigtool socat xxd dovecot
	/usr/bin/python3 -c 'import dkim, dns.resolver' 2>/dev/null ||
		{ echo "SKIP: dkimpy (python3-dkim) not installed"; exit 77; }
	if [ "${E2E_LOOPBACK:-0}" = 1 ]; then
		NS_A='' NS_B=''
	else
		ns_pair_up pwe # exits 77 when namespaces cannot be made
	fi
	hn_tmpdir D "$1"
}

e2e_in() {
	local ns=$1
	shift
	if [ -n "$ns" ]; then ns_exec "$ns" "$@"; else "$@"; fi
}
A() { e2e_in "$NS_A" "$@"; }

e2e_addr_add() {
	local dev
	dev=$(ip -n "$1" -o link show type veth | awk -F': ' '{ sub(/@.*/, "", $2); print $2; exit }')
	[ -n "$dev" ] || { hn_log "no veth in namespace $1"; return 1; }
	ip -n "$1" addr add "$2/24" dev "$dev"
}

e2e_store_up() {
	STORE_KIND=$1
	case "$1" in
	redis)
		hn_require redis-server redis-cli
		redis_up "$D/redis" || hn_die "redis-server did not start"
		STORE="redis+unix://$D/redis/redis.sock"
		;;
	lmdb)
		hn_require mdb_dump
		mkdir -p "$D/state"
		if [ -n "${E2E_STATE_TMPFS:-}" ]; then
			mount -t tmpfs -o "size=$E2E_STATE_TMPFS,mode=2770" e2e-state "$D/state" ||
				hn_die "cannot mount a tmpfs on $D/state"
			hn_on_exit umount -l "$D/state"
		fi
		chown nobody:nogroup "$D/state"
		chmod 2770 "$D/state"
		# shellcheck disable=SC2034 # read by the tests
		STORE="lmdb:$D/state"
		;;
	*) hn_die "store kind $1: want redis or lmdb" ;;
	esac
}

e2e_store_keys() {
	case "$STORE_KIND" in
	redis) redis_cli "$D/redis" --scan --pattern "$1*" ;;
	lmdb)
		# mdb_dump -p: one key line then one value line, each indented by one blank
		local db
		for db in kv hash; do
			mdb_dump -p -s "$db" "$D/state" 2>/dev/null | sed -n '/^HEADER=END/,$p' |
				sed -n '2~2{s/^ //;s/\\1f.*//;p}' | awk -v p="$1" 'index($0, p) == 1'
		done | sort -u
		;;
	esac
}

e2e_start() {
	local name=$1 bin=$2 conf=$3 ns=${4:-$NS_A} mark x=()
	notify_up "$D" || return 1
	mark=$(notify_mark "$D")
	[ -z "$ns" ] || x=(ip netns exec "$ns") # ip execs BIN: $! is the daemon's pid
	NOTIFY_SOCKET=$D/notify.sock "${x[@]}" "$bin" -f -c "$conf" >>"$D/$name.log" 2>&1 &
	E2E_PID[$name]=$!
	hn_on_exit hn_stop "$!" 10
	notify_wait "$D" "$mark" READY=1 "$!" 30
}

e2e_stop() {
	local pid=${E2E_PID[$1]}
	kill -TERM "$pid" 2>/dev/null || return 1
	# shellcheck disable=SC2016 # eval expands it
	hn_wait 10 eval '! hn_alive "$pid"' || return 1
	wait "$pid"
}

e2e_dovecot() {
	local d=$1 sock=$2 x=()
	mkdir -p "$d/run" "$d/state"
	printf '%s:{PLAIN}%s\n' "$3" "$4" >"$d/passwd"
	chgrp dovecot "$d/passwd" # Dovecot's auth process runs as its internal user, dovecot
	chmod 640 "$d/passwd"
	cat >"$d/dovecot.conf" <<-EOF
		# the auth service only: Postfix's SASL backend (smtpd_sasl_type = dovecot)
		instance_name = e2e-$$
		base_dir = $d/run
		state_dir = $d/state
		log_path = $d/dovecot.log
		protocols =
		ssl = no
		auth_mechanisms = plain
		disable_plaintext_auth = no
		passdb {
		  driver = passwd-file
		  args = scheme=PLAIN username_format=%u $d/passwd
		}
		userdb {
		  driver = static
		  args = uid=nobody gid=nogroup home=/nonexistent
		}
		service auth {
		  unix_listener $sock {
		    mode = 0660
		    user = postfix
		    group = postfix
		  }
		}
	EOF
	[ -z "$NS_A" ] || x=(ip netns exec "$NS_A")
	"${x[@]}" dovecot -F -c "$d/dovecot.conf" >>"$d/stdout" 2>&1 &
	E2E_PID[dovecot]=$!
	hn_on_exit hn_stop "$!" 10
	hn_wait 10 test -S "$sock" || { cat "$d/stdout" "$d/dovecot.log" >&2; return 1; }
}

e2e_submit() {
	local out rc
	out=$(A /usr/bin/python3 "$E2E_DIR/e2e_submit.py" "$@")
	rc=$?
	printf '%s -> %s\n' "$*" "$out" >>"$D/submit.log"
	printf '%s\n' "$out" >&2
	return $rc
}

e2e_dkim_verify() {
	A /usr/bin/python3 "$E2E_DIR/../integration/dkim_verify.py" "$E2E_RESOLVER" "$2" <"$1"
}
e2e_dkim_verify_b() {
	e2e_in "$NS_B" /usr/bin/python3 "$E2E_DIR/../integration/dkim_verify.py" "$E2E_RESOLVER_B" \
		"$2" <"$1"
}

# shellcheck disable=SC2016,SC2034,SC2317 # bash -c bodies; globals the tests read; publish
e2e_site_up() {
	local KIND=$1 d i n b s f lb=${E2E_LOOPBACK:-0} a_smtp b_extra=() a_extra=() mt_extra=() sub
	Z=example.test
	STS_DOMS=(sts expired wrongname nostarttls) # enforce policies
	ALL_DOMS=(sts dane expired wrongname nostarttls badtlsa down nopolicy)
	USER_NAME=alice@$Z
	PASS=e2e-$RANDOM-secret
	SND=$D/snd
	RCV=$D/rcv
	SPOOL=$SND/spool
	TODAY=$(date -u +%F)
	RF=tlsrpt-noreply@$Z
	B_ID=mx.sts.$Z
	RPT_DOMS=(sts expired) # rua=mailto:tlsrpt@<domain>, a mailbox on B
	if [ "$lb" = 1 ]; then
		# one namespace: free ports; B on 127.0.0.2 (smtp's loop check: not one of A's addresses)
		B_ADDR=127.0.0.2
		B_PORT=$(hn_free_port) || hn_die "no free port"
		a_smtp=$(hn_free_port) || hn_die "no free port"
		SUBMIT_PORT=$(hn_free_port) || hn_die "no free port"
		HTTPS_POLICY_PORT=$(hn_free_port) || hn_die "no free port"
		[ "$(printf '%s\n' "$B_PORT" "$a_smtp" "$SUBMIT_PORT" "$HTTPS_POLICY_PORT" | sort -u | wc -l)" = 4 ] ||
			hn_die "the same free port twice: run again"
		sub=127.0.0.1:$SUBMIT_PORT
	else
		B_ADDR=$NS_B_IP B_PORT=25 a_smtp=25 SUBMIT_PORT=587 HTTPS_POLICY_PORT=443 sub=submission
	fi

	# --- certificates: B's (good, expired, wrong name), the policy hosts', A's submission
	mx_names=()
	for d in sts dane badtlsa down nopolicy; do mx_names+=("mx.$d.$Z"); done
	pki_leaf "$D/pki" mx "${mx_names[@]}" 2>/dev/null
	PKI_DATES="20200101000000Z 20200201000000Z" pki_leaf "$D/pki" expired "mx.expired.$Z" \
		>/dev/null 2>&1 || hn_die "expired certificate"
	pki_leaf "$D/pki" other "mx.other.$Z" 2>/dev/null
	sts_names=()
	for d in "${STS_DOMS[@]}" nopolicy; do sts_names+=("mta-sts.$d.$Z"); done
	pki_leaf "$D/pki" sts "${sts_names[@]}" 2>/dev/null
	pki_leaf "$D/pki" submit "sender.$Z" 127.0.0.1 2>/dev/null
	chmod 644 "$D"/pki/*.key
	SPKI=$(openssl x509 -in "$D/pki/mx.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -hex | sed 's/.*= *//')
	[[ $SPKI =~ ^[0-9a-f]{64}$ ]] || hn_die "cannot hash B's public key ($SPKI)"
	if [ "$lb" != 1 ]; then
		for i in 3 4 5; do e2e_addr_add "$NS_B" "$NS_NET.$i" || hn_die "address $NS_NET.$i"; done
	fi

	# --- the store every daemon is given
	e2e_store_up "$KIND"
	mkdir -p "$D/keys" "$SPOOL/milter-dkim" "$SPOOL/milter-av" "$SPOOL/run/tlsrpt"
	chmod 700 "$D/keys"
	chown nobody:nogroup "$D/keys"

	# --- DNS in A: MX of each domain -> B; STS TXT + policy host; TLSA
	ip_of() {
		[ "$lb" != 1 ] || { echo "$B_ADDR"; return; }
		case $1 in expired) echo "$NS_NET.3" ;; wrongname) echo "$NS_NET.4" ;;
		nostarttls) echo "$NS_NET.5" ;; *) echo "$NS_B_IP" ;; esac
	}
	mkdir -p "$D/dns"
	{
		for d in "${ALL_DOMS[@]}"; do
			echo "$d.$Z. 60 IN MX 10 mx.$d.$Z."
			echo "mx.$d.$Z. 60 IN A $(ip_of "$d")"
		done
		for d in "${STS_DOMS[@]}" down nopolicy; do
			echo "_mta-sts.$d.$Z. 60 IN TXT \"v=STSv1; id=${d}1\""
			# down's policy host: an address nothing listens on (connection refused)
			echo "mta-sts.$d.$Z. 60 IN A 127.0.0.$([ "$d" = down ] && echo 2 || echo 1)"
		done
		echo "_25._tcp.mx.dane.$Z. 60 IN TLSA 3 1 1 $SPKI"
		echo "_25._tcp.mx.badtlsa.$Z. 60 IN TLSA 3 1 1 $DNS_TLSA_HASH"
		for d in "${RPT_DOMS[@]}"; do
			echo "_smtp._tls.$d.$Z. 60 IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@$d.$Z\""
		done
	} >"$D/dns/$Z.extra"
	if [ "$lb" = 1 ]; then
		# knot + unbound on free ports of 127.0.0.1; /etc/resolv.conf is left alone: only the
		# daemons (resolver =) and dkimpy ask the test DNS; Postfix is kept from DNS lookups
		dns_up "$D/dns"
		E2E_RESOLVER=$DNS_FORWARDER E2E_RESOLVER_B=$DNS_FORWARDER
	else
		ns_resolv "$NS_A" 127.0.0.1
		ns_resolv "$NS_B" 127.0.0.1 # nothing listens there: B's lookups fail at once
		# unbound also on A's veth address: B's milter-dkim and dkimpy ask it (resolver =)
		DNS_UNBOUND_ALSO=$NS_A_IP DNS_UNBOUND_PORT=53 dns_up_netns "$NS_A" "$D/dns"
		E2E_RESOLVER=127.0.0.1@53 E2E_RESOLVER_B=$NS_A_IP@53
	fi

	# --- milter-dkim's keys, published as `milter-dkim dns` prints them (knot re-signs the zone)
	cat >"$D/milter-dkim.conf" <<EOF
listen = unix:$SPOOL/milter-dkim/milter.sock
user = nobody
group = nogroup
store = $STORE
keydir = $D/keys
sign_networks =
resolver = $E2E_RESOLVER
trust_anchor = $D/dns/example.test.ds

[$Z]
selectors = e2e-rsa e2e-ed

[$Z/e2e-rsa]
algorithm = rsa-sha256
bits = 2048

[$Z/e2e-ed]
algorithm = ed25519-sha256
EOF
	hn_check "milter-dkim keygen: an RSA and an Ed25519 key" \
		bash -c '"$0" -c "$1" keygen >"$2/keygen.out" 2>&1 || { cat "$2/keygen.out"; exit 1; }' \
		"$DKIM" "$D/milter-dkim.conf" "$D"

	publish() {
		local rr n=0
		while IFS= read -r rr; do
			A bash "$HN_HARNESS/dns.sh" add "$D/dns" "$rr" </dev/null || return 1
			n=$((n + 1))
		done < <("$DKIM" -c "$D/milter-dkim.conf" dns | grep -v '^;' |
			sed -E 's/^([^ ]+) IN TXT \( (.*) \) ;.*$/\1 5 TXT \2/')
		[ "$n" = 2 ]
	}
	hn_check "milter-dkim dns: both selectors' TXT records published in the signed zone" publish

	# --- the MTA-STS policies (enforce), served by nginx in A; nopolicy's host has no file (404)
	for d in "${STS_DOMS[@]}" nopolicy; do mkdir -p "$D/www/mta-sts.$d.$Z/.well-known"; done
	for d in "${STS_DOMS[@]}"; do
		printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.%s.%s\r\nmax_age: 86400\r\n' "$d" "$Z" \
			>"$D/www/mta-sts.$d.$Z/.well-known/mta-sts.txt"
	done
	HTTPS_POLICY_PORT=$HTTPS_POLICY_PORT https_policy_hosts "$NS_A" "$D" sts "${sts_names[@]}"

	# --- B's port 25 verifying (E2E_B_VERIFY=1): its own milter-dkim, the README's verify
	# line without milter-av (B runs none): a stopped verifier never holds inbound mail
	local b_milter=()
	if [ "${E2E_B_VERIFY:-0}" = 1 ]; then
		e2e__b_verifier "$KIND"
		b_milter=("smtpd_milters = { unix:milter-dkim/milter.sock, default_action=accept }")
	fi

	# --- B: Postfix, STARTTLS on .2 (good), .3 (expired), .4 (other name); .5 without STARTTLS
	# (loopback: B_ADDR:B_PORT only, and no peer name lookups, which would ask the resolver
	# of /etc/resolv.conf; inet_interfaces = all, as Postfix finds no interface of 127.0.0.2)
	b_extra=("inet_interfaces = all")
	[ "$lb" != 1 ] || b_extra+=("smtpd_peername_lookup = no")
	pf_make "$RCV" "$B_ADDR:$B_PORT" "myhostname = $B_ID" "${b_extra[@]}" \
		"virtual_mailbox_domains = $(printf '%s.'"$Z"' ' "${ALL_DOMS[@]}")" \
		"smtpd_tls_security_level = may" "smtpd_tls_chain_files = $D/pki/mx.key $D/pki/mx.crt" \
		"smtpd_tls_loglevel = 1" "${b_milter[@]}" || hn_die "B main.cf"
	[ "$lb" = 1 ] || for s in "3 expired" "4 other" "5 -"; do
		set -- "${s% *}" "${s#* }"
		postconf -c "$RCV/etc" -Me "$NS_NET.$1:25/inet=$NS_NET.$1:25 inet n - n - - smtpd"
		if [ "$2" = - ]; then
			postconf -c "$RCV/etc" -Pe "$NS_NET.$1:25/inet/smtpd_tls_security_level=none"
		else
			postconf -c "$RCV/etc" -Pe \
				"$NS_NET.$1:25/inet/smtpd_tls_chain_files=$D/pki/$2.key,$D/pki/$2.crt"
		fi
	done
	pf_backdate "$RCV"
	if [ "$lb" = 1 ]; then
		hn_check "B: Postfix up ($B_ADDR:$B_PORT)" pf_up "$RCV"
	else
		hn_check "B: Postfix up ($NS_B_IP, $NS_NET.3-5 port 25)" pf_up "$RCV" "$NS_B"
	fi

	# --- A: Postfix with the README's lines (paths relative to the queue directory).
	# Loopback: every recipient to B by transport_maps (no MX lookup, so no MTA-STS or DANE
	# applied by Postfix: its resolver is /etc/resolv.conf's), no DNSSEC probe, no peer name
	# lookups: Postfix asks the resolver of /etc/resolv.conf nothing
	a_extra=("dnssec_probe = ns:$Z")
	[ "$lb" != 1 ] || a_extra=("dnssec_probe =" "transport_maps = static:smtp:[$B_ADDR]:$B_PORT"
		"smtpd_peername_lookup = no")
	pf_make "$SND" "127.0.0.1:$a_smtp" "myhostname = sender.$Z" "virtual_mailbox_domains =" \
		"smtpd_milters = unix:milter-av/milter.sock" \
		"non_smtpd_milters = unix:milter-dkim/milter.sock" \
		"milter_default_action = tempfail" \
		"smtp_tls_policy_maps = socketmap:unix:private/mtasts:postfix" \
		"smtp_dns_support_level = dnssec" "smtp_tls_security_level = dane" \
		"${a_extra[@]}" "smtp_tls_CAfile = $D/pki/ca.crt" "smtp_tls_loglevel = 1" \
		"smtpd_tls_chain_files = $D/pki/submit.key $D/pki/submit.crt" \
		"smtpd_sasl_type = dovecot" "smtpd_sasl_path = private/auth" \
		"queue_run_delay = 300s" "minimal_backoff_time = 300s" "maximal_backoff_time = 300s" \
		"sender_dependent_default_transport_maps = inline:{$RF=tlsrpt-out:}" ||
		hn_die "A main.cf"
	# One delivery attempt per deferred message (long backoff), so the report's failure counts
	# are exact. Retries are left out on purpose: tlsrpt's log reader (logscan.c, ls_refusal)
	# counts a STARTTLS refusal once per smtp process, queue id and relay, so a retry of the
	# same message by the same smtp process is not counted again (seen with ingest-log).
	cat >>"$SND/etc/master.cf" <<EOF
$sub inet n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_milters=unix:milter-av/milter.sock,unix:milter-dkim/milter.sock
tlsrpt-out unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/tlsrpt-out
  -o smtp_tls_security_level=may
  -o smtp_tls_policy_maps=static:may
EOF
	pf_backdate "$SND"
	hn_check "A: Postfix up (127.0.0.1:$a_smtp and submission 127.0.0.1:$SUBMIT_PORT)" \
		pf_up "$SND" "$NS_A"

	# --- A: Dovecot auth, clamd, the four daemons on $STORE
	hn_check "Dovecot auth service up: $SPOOL/private/auth" \
		e2e_dovecot "$D/dovecot" "$SPOOL/private/auth" "$USER_NAME" "$PASS"
	clamd_up "$D/clamd" || hn_die "clamd did not start"
	cat >"$D/milter-av.conf" <<EOF
listen = unix:$SPOOL/milter-av/milter.sock
user = nobody
group = nogroup
store = $STORE
clamd = unix:$D/clamd/clamd.sock
EOF
	# loopback: DNS and the policy hosts as the daemon's settings say, not resolv.conf and
	# port 443; DANE answers off: the daemon's DANE precondition asks the resolver of
	# /etc/resolv.conf (Postfix's), which knows nothing of the test zone, nor may be asked
	[ "$lb" != 1 ] || mt_extra=("resolver = $E2E_RESOLVER"
		"connect_to = 127.0.0.1:$HTTPS_POLICY_PORT" "dane_mode = off")
	cat >"$D/policyd-mtasts.conf" <<EOF
listen = unix:$SPOOL/private/mtasts
user = nobody
group = nogroup
store = $STORE
trust_anchor = $D/dns/example.test.ds
ca_file = $D/pki/ca.crt
fetch_timeout = 5s
EOF
	[ "${#mt_extra[@]}" = 0 ] || printf '%s\n' "${mt_extra[@]}" >>"$D/policyd-mtasts.conf"
	cat >"$D/tlsrpt.conf" <<EOF
listen = unix:$SPOOL/run/tlsrpt/tlsrpt.sock
user = nobody
group = nogroup
store = $STORE
organization_name = postwarden e2e
contact_info = tlsrpt@$Z
report_time = off
logfile = $SND/maillog
report_from = $RF
sendmail = $(command -v sendmail) -C $SND/etc
EOF
	[ "$lb" != 1 ] || echo "resolver = $E2E_RESOLVER" >>"$D/tlsrpt.conf"
	export MAIL_CONFIG=$SND/etc # policyd-mtasts checks Postfix's DANE settings there
	# `check` first, as README asks after every configuration change (tlsrpt has none)
	for n in milter-av milter-dkim policyd-mtasts tlsrpt; do
		case $n in milter-av) b=$AV ;; milter-dkim) b=$DKIM ;; policyd-mtasts) b=$MT ;;
		tlsrpt) b=$TLSRPT ;; esac
		[ "$n" = tlsrpt ] ||
			hn_check "$n check: config, store ($KIND) and its backends" \
				e2e__check "$NS_A" "$b" "$D/$n.conf" "$D/$n.check"
		hn_check "$n up in A (READY=1)" e2e_start "$n" "$b" "$D/$n.conf"
	done
	hn_check "  sockets in A's queue directory, mode 0660, group postfix" bash -c 'cd "$0" &&
		for s in milter-dkim/milter.sock milter-av/milter.sock private/mtasts run/tlsrpt/tlsrpt.sock; do
			[ "$(stat -c %a:%G "$s")" = 660:postfix ] || { stat -c "%a:%G %n" "$s"; exit 1; }; done' "$SPOOL"
	[ "$lb" = 1 ] || hn_check "  policyd-mtasts check: DANE: Postfix applies it" \
		grep -q "DANE: Postfix applies it" "$D/policyd-mtasts.check"
	hn_check "  tlsrpt follows A's mail log" hn_wait 10 grep -q "following" "$D/tlsrpt.log"
	hn_check "milter-dkim: both selectors live in DNS (check-dns, 30 s)" \
		hn_wait 30 A "$DKIM" -c "$D/milter-dkim.conf" check-dns
	hn_check "  check-dns: both sign, published, matching their keys, DNSSEC-validated" \
		e2e__check_dns_both
	# the daemon's own gate may have run before the records were live, and takes check-dns's
	# results from the store only at its next 5 s sync: a reload runs its DNS pass now
	hn_check "milter-dkim: reloaded (SIGUSR1), its own DNS gate pass with both records live" \
		e2e_reload milter-dkim USR1
	hn_check "A: submission answers on $SUBMIT_PORT" \
		A bash -c "$(declare -f hn_banner); hn_banner 127.0.0.1 $SUBMIT_PORT"
	# shellcheck disable=SC2034 # read by the tests
	E2E_AUTH=(--user "$USER_NAME" --password "$PASS")
}

# e2e__check NS BIN CONF OUT: `BIN -c CONF check` in namespace NS (here when empty), its
# output in OUT (printed when it fails)
e2e__check() {
	e2e_in "$1" "$2" -c "$3" check >"$4" 2>&1 || { cat "$4"; return 1; }
}
# e2e__check_dns_both: milter-dkim check-dns in A: both selectors sign, published, matching
# their keys, DNSSEC-validated
e2e__check_dns_both() {
	local out
	out=$(A "$DKIM" -c "$D/milter-dkim.conf" check-dns)
	printf '%s\n' "$out"
	[ "$(grep -cE "^e2e-(rsa|ed)\._domainkey\.$Z +yes +signs +yes, matches key +validated" <<<"$out")" = 2 ]
}

# e2e__b_verifier KIND: B's milter-dkim, verifying (no signing domain, no ARC), on a store of
# its own (another host: lmdb, its own directory; redis, database 1 of the same server),
# asking A's resolver over the veth pair; its socket in B's queue directory. Checked, then
# started in B.
# shellcheck disable=SC2016 # bash -c bodies
e2e__b_verifier() {
	local B_STORE
	mkdir -p "$RCV/spool/milter-dkim" "$D/b-keys"
	chown nobody:nogroup "$D/b-keys"
	chmod 700 "$D/b-keys"
	case $1 in
	lmdb) B_STORE=lmdb:$D/b-state; mkdir -p "$D/b-state"; chown nobody:nogroup "$D/b-state" ;;
	redis) B_STORE="$STORE?db=1" ;;
	esac
	cat >"$D/b-milter-dkim.conf" <<EOF
listen = unix:$RCV/spool/milter-dkim/milter.sock
user = nobody
group = nogroup
store = $B_STORE
keydir = $D/b-keys
resolver = $E2E_RESOLVER_B
verify = yes
authserv_id = $B_ID
arc_seal = no
EOF
	hn_check "B: milter-dkim check (verify = yes, authserv_id = $B_ID, no signing domain)" \
		e2e__check "$NS_B" "$DKIM" "$D/b-milter-dkim.conf" "$D/b-milter-dkim.check"
	hn_check "B: milter-dkim up in B (READY=1)" \
		e2e_start b-milter-dkim "$DKIM" "$D/b-milter-dkim.conf" "$NS_B"
}

e2e_answer() {
	local got rc
	got=$(A timeout 30 postmap -c "$SND/etc" -q "$1.$Z" "socketmap:unix:$SPOOL/private/mtasts:postfix" \
		2>>"$D/postmap.err")
	rc=$?
	if [ -z "$2" ]; then [ $rc = 1 ] && [ -z "$got" ] && return 0; else
		[ $rc = 0 ] && [ "$got" = "$2" ] && return 0; fi
	echo "$1.$Z: rc=$rc '$got', want '${2:-NOTFOUND}'" >&2
	return 1
}
e2e_msg() {
	local f=$D/msg.$1
	{
		printf 'From: Alice <%s>\nTo: <%s>\nSubject: e2e %s\n' "$USER_NAME" "$2" "$1"
		printf 'Date: %s\nMessage-ID: <e2e.%s.%s@%s>\n\n' "$(date -R)" "$1" "$$" "$Z"
		if [ -n "${3:-}" ]; then cat "$3"; echo; else printf 'Hello %s,\nend to end.\n' "$2"; fi
	} >"$f"
	echo "$f"
}
e2e_send() {
	local tag=$1 rcpt=$2
	shift 2
	e2e_submit 127.0.0.1 "$SUBMIT_PORT" "$USER_NAME" "$rcpt" "$(e2e_msg "$tag" "$rcpt")" \
		--cafile "$D/pki/ca.crt" "$@"
}
e2e_refused() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" >&2
	[ "$rc" = "$want" ] && grep -Eq "$pat" <<<"$out"
}

e2e_load() {
	A /usr/bin/python3 "$E2E_DIR/e2e_load.py" load --tag "$1" --count "$2" --seconds "$3" \
		--interval "$4" --rcpt "$5" --sender "$USER_NAME" --cafile "$D/pki/ca.crt" \
		--user "$USER_NAME" --password "$PASS" --port "$SUBMIT_PORT" --out "$D/load.$1" "${@:6}"
}

e2e_load_wait() {
	# shellcheck disable=SC2016 # the child expands it
	hn_wait "$3" bash -c '[ "$(grep -c . "$0" 2>/dev/null)" -ge "$1" ]' "$D/load.$1" "$2"
}

# e2e__all_delivered TAG: every accepted tag's Subject is in B's Maildir.
e2e__all_delivered() {
	local want got
	want=$(awk '$2 == "accepted" { print "Subject: e2e " $1 }' "$D/load.$1" | sort -u)
	got=$(grep -h -m1 "^Subject: e2e $1-" "$RCV"/mail/inbox/new/* 2>/dev/null | sort -u)
	! comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$got") | grep -q .
}

# e2e_flush_until SECS CMD...: CMD until it succeeds, flushing A's queue once a second
# while it does not; CMD's status after SECS.
e2e_flush_until() {
	local end=$((SECONDS + $1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" && return 0
		A postqueue -c "$SND/etc" -f >/dev/null 2>&1
		sleep 1
	done
	"$@"
}

e2e_load_delivered() { e2e_flush_until "$2" e2e__all_delivered "$1"; }

e2e_audit() {
	local files=() rc
	while [ $# -gt 0 ] && [ "$1" != -- ]; do files+=("$D/load.$1"); shift; done
	[ $# -eq 0 ] || shift
	E2E_AUDIT=$(A /usr/bin/python3 "$E2E_DIR/e2e_load.py" audit --maildir "$RCV/mail/inbox" \
		--resolver "$E2E_RESOLVER" "$@" "${files[@]}")
	rc=$?
	printf '%s\n' "$E2E_AUDIT" >&2
	return $rc
}

# e2e_reload NAME SIG: send SIG to daemon NAME, wait (30 s) until it logs "configuration
# reloaded" (after its reload hooks, e.g. milter-dkim's DNS pass)
e2e_reload() {
	local mark i
	mark=$(wc -l <"$D/$1.log")
	kill -"$2" "${E2E_PID[$1]}" || return 1
	for i in $(seq 300); do
		tail -n +"$((mark + 1))" "$D/$1.log" | grep -q "configuration reloaded" && return 0
		sleep 0.1
	done
	return 1
}

e2e_n() { sed -n "1s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$E2E_AUDIT"; }

e2e_restart() {
	local b
	case $1 in milter-av) b=$AV ;; milter-dkim) b=$DKIM ;; policyd-mtasts) b=$MT ;;
	tlsrpt) b=$TLSRPT ;; *) return 1 ;; esac
	e2e_start "$1" "$b" "$D/$1.conf"
}

# --- for the fault tests (faults-*.sh)
# e2e_pids_keep: note each daemon's pid now; same_pids: they are all still those, alive
e2e_pids_keep() {
	local n
	declare -gA PID0
	for n in milter-av milter-dkim policyd-mtasts tlsrpt; do PID0[$n]=${E2E_PID[$n]}; done
}
same_pids() {
	local n
	for n in milter-av milter-dkim policyd-mtasts tlsrpt; do
		if [ "${E2E_PID[$n]}" != "${PID0[$n]}" ] || ! hn_alive "${PID0[$n]}"; then
			echo "$n: pid ${PID0[$n]} -> ${E2E_PID[$n]}"
			return 1
		fi
	done
}
logmark() { wc -l <"$D/$1.log"; }                      # NAME: lines in D/NAME.log now
since() { tail -n +"$(($2 + 1))" "$D/$1.log"; }        # NAME MARK: its lines after MARK
audit_ok() { # TAG ACCEPTED REFUSED4 [audit args]: the audit passes with these counts
	local tag=$1 acc=$2 r4=$3
	shift 3
	e2e_audit "$tag" -- "$@" || return 1
	[ "$(e2e_n accepted)" = "$acc" ] && [ "$(e2e_n refused4)" = "$r4" ]
}

# e2e_submission_checks: what every mail-path run checks at submission: no AUTH is refused
# (5.7.1), a wrong password is refused by Dovecot (535), EICAR is rejected 550 5.7.1 with
# the virus name.
e2e_submission_checks() {
	hn_check "no AUTH: relay refused (5xx, 5.7.1)" e2e_refused 5 '^refused 5[0-9][0-9] 5\.7\.1' \
		e2e_send noauth "user@sts.$Z"
	hn_check "wrong password: AUTH refused by Dovecot (535)" e2e_refused 5 '^refused 535' \
		e2e_send badpass "user@sts.$Z" --user "$USER_NAME" --password wrong
	hn_check "EICAR: rejected at submission, 550 5.7.1 with the virus name" \
		e2e_refused 5 '^refused 550 5\.7\.1 .*virus found: PW-Test\.EICAR' \
		e2e_submit 127.0.0.1 "$SUBMIT_PORT" "$USER_NAME" "user@sts.$Z" \
		"$(e2e_msg eicar "user@sts.$Z" "$D/clamd/eicar.com")" --cafile "$D/pki/ca.crt" "${E2E_AUTH[@]}"
}

# e2e_report_dry: the day's TLS-RPT reports as tlsrpt would send them, into D/reports
# (`tlsrpt report --dry-run --out`, run as tlsrpt's user); rep DOMAIN ARGS... checks one
# (tests/e2e/e2e_report.py).
# shellcheck disable=SC2016 # the bash -c body expands in the child
e2e_report_dry() {
	mkdir -p "$D/reports"
	chown nobody:nogroup "$D/reports"
	hn_check "tlsrpt report --day $TODAY --dry-run --out: exit 0" \
		bash -c '"$0" -c "$1" report --day "$2" --dry-run --out "$3" >"$3.json" 2>"$3.err" ||
			{ cat "$3.err"; exit 1; }' "$TLSRPT" "$D/tlsrpt.conf" "$TODAY" "$D/reports"
}
rep() { /usr/bin/python3 "$E2E_DIR/e2e_report.py" "$D/reports" "$1.$Z" "${@:2}"; }
