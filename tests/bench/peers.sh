# shellcheck shell=bash
# tests/bench/peers.sh: start the benchmark contenders in a temp dir, each on a unix socket,
# each stopped by the harness cleanup stack (hn_on_exit) whatever happens. Sourced by
# scripts/bench after tests/harness/lib.sh. Every function prints the server's main PID
# into the variable named by its first argument and returns 1 (after logging why) when the
# server did not come up. Nothing here listens on anything but unix sockets.
#
#   bench_nullmilter_up VAR DIR [CLAMDSOCK MSG]  tests/bench/nullmilter (with CLAMDSOCK and MSG:
#                                                its scan mode, the libmilter AV ceiling)
#   bench_opendkim_up VAR DIR SELECTOR KEY ALG   Debian's opendkim, signing only
#   bench_opendkim_verify_up VAR DIR RECORDS     Debian's opendkim, verifying only (Mode v),
#                                                keys from the file RECORDS (TestPublicKeys)
#   bench_rspamd_up VAR DIR SELECTOR KEY         rspamd 3.4 as a DKIM-only milter
#   bench_clamav_milter_up VAR DIR CLAMDSOCK     Debian's clamav-milter, OnInfected Reject
#   bench_ours_up VAR DIR BINARY CONF            milter-dkim / milter-av, -f -c CONF
#   bench_cpu_ticks PID                          utime+stime (+ reaped children) of PID
#                                                and all its live descendants, in ticks

# bench__started VAR PID SOCK LOG SECS: register the stop, wait for the socket.
bench__started() {
	local __pid=$2 __sock=$3 __log=$4 __secs=$5
	hn_on_exit hn_stop "$__pid" 10
	printf -v "$1" '%s' "$__pid"
	if ! hn_wait "$__secs" test -S "$__sock"; then
		hn_log "no socket $__sock after ${__secs}s; log tail:"
		tail -n 15 "$__log" >&2 2>/dev/null || true
		return 1
	fi
	if ! hn_alive "$__pid"; then
		hn_log "server $__pid died at start"
		tail -n 15 "$__log" >&2
		return 1
	fi
}

bench_nullmilter_up() {
	mkdir -p "$2"
	"$BENCH_BIN/nullmilter" "unix:$2/milter.sock" "${@:3}" >"$2/out.log" 2>&1 &
	bench__started "$1" $! "$2/milter.sock" "$2/out.log" 10
}

bench_opendkim_up() {
	local d=$2 sel=$3 key=$4 alg=$5
	mkdir -p "$d"
	install -m 0600 "$key" "$d/$sel.key"
	cat >"$d/opendkim.conf" <<-EOF
		Syslog no
		Socket local:$d/milter.sock
		PidFile $d/opendkim.pid
		UMask 000
		Mode s
		Domain example.test
		Selector $sel
		KeyFile $d/$sel.key
		Canonicalization relaxed/relaxed
		SignatureAlgorithm $alg
		InternalHosts 127.0.0.1
	EOF
	opendkim -f -x "$d/opendkim.conf" >"$d/out.log" 2>&1 &
	bench__started "$1" $! "$d/milter.sock" "$d/out.log" 15
}

# OpenDKIM verifying: keys from RECORDS ("NAME TXT-value" lines) through its own
# TestPublicKeys option, not DNS: with ResolverConfiguration (its libunbound pointed at the
# harness resolver) it re-read that file for every message, logged syntax errors from
# concurrent reads and died under load (observed with 2.11.0~beta2, 16 connections).
# 127.0.0.1 is not an internal host, so local mail is verified, never signed.
bench_opendkim_verify_up() {
	local d=$2
	mkdir -p "$d"
	cat >"$d/opendkim.conf" <<-EOF
		Syslog no
		Socket local:$d/milter.sock
		PidFile $d/opendkim.pid
		UMask 000
		Mode v
		AuthservID bench.example
		InternalHosts 192.0.2.1
		TestPublicKeys $3
	EOF
	opendkim -f -x "$d/opendkim.conf" >"$d/out.log" 2>&1 &
	bench__started "$1" $! "$d/milter.sock" "$d/out.log" 15
}

# rspamd: private LOCAL_CONFDIR; one proxy worker pair with milter = yes and self_scan,
# no normal/controller worker, a settings rule enabling only DKIM_SIGNED for
# authenticated mail (otherwise every module runs and its DNS lookups time out), DNS at
# 127.0.0.1:53 (loopback only; no lookup is made for signing), no redis configured.
bench_rspamd_up() {
	local d=$2 sel=$3 key=$4
	mkdir -p "$d/local/local.d" "$d/local/override.d" "$d/run" "$d/db" "$d/log" "$d/dkim"
	if openssl pkey -in "$key" -noout -text 2>/dev/null | grep -q ED25519; then
		# rspamd reads Ed25519 keys only raw: base64 of the 32-byte seed (same key)
		openssl pkey -in "$key" -outform DER | tail -c 32 | base64 -w0 \
			>"$d/dkim/example.test.$sel.key"
	else
		install -m 0600 "$key" "$d/dkim/example.test.$sel.key"
	fi
	cat >"$d/local/local.d/dkim_signing.conf" <<-EOF
		allow_username_mismatch = true;
		sign_authenticated = true;
		sign_local = true;
		use_esld = false;
		try_fallback = false;
		allow_hdrfrom_mismatch = true;
		domain { example.test { selectors [ { path = "$d/dkim/example.test.$sel.key"; selector = "$sel"; } ] } }
	EOF
	echo 'signonly { priority = high; authenticated = true; apply { symbols_enabled = ["DKIM_SIGNED"]; } }' \
		>"$d/local/local.d/settings.conf"
	cat >"$d/local/override.d/worker-proxy.inc" <<-EOF
		bind_socket = "$d/milter.sock mode=0666";
		milter = yes;
		timeout = 120s;
		upstream "local" { default = yes; self_scan = yes; }
		count = 2;
	EOF
	echo 'enabled = false;' >"$d/local/override.d/worker-normal.inc"
	echo 'enabled = false;' >"$d/local/override.d/worker-controller.inc"
	echo "type = \"file\"; filename = \"$d/log/rspamd.log\"; level = \"error\";" \
		>"$d/local/override.d/logging.inc"
	echo 'dns { nameserver = ["127.0.0.1:53"]; timeout = 1s; retransmits = 1; }' \
		>"$d/local/local.d/options.inc"
	chown -R _rspamd:_rspamd "$d"
	chmod 755 "$d"
	rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf --var LOCAL_CONFDIR="$d/local" \
		--var RUNDIR="$d/run" --var DBDIR="$d/db" --var LOGDIR="$d/log" \
		>"$d/out.log" 2>&1 &
	bench__started "$1" $! "$d/milter.sock" "$d/out.log" 40
}

bench_clamav_milter_up() {
	local d=$2 clamd=$3
	mkdir -p "$d/tmp"
	cat >"$d/clamav-milter.conf" <<-EOF
		MilterSocket $d/milter.sock
		MilterSocketMode 666
		FixStaleSocket yes
		Foreground yes
		PidFile $d/clamav-milter.pid
		TemporaryDirectory $d/tmp
		ClamdSocket unix:$clamd
		OnClean Accept
		OnInfected Reject
		OnFail Defer
		AddHeader No
		LogFile $d/clamav-milter.log
		LogInfected Basic
	EOF
	clamav-milter -c "$d/clamav-milter.conf" >"$d/out.log" 2>&1 &
	bench__started "$1" $! "$d/milter.sock" "$d/out.log" 15
}

bench_ours_up() {
	local d=$2 bin=$3 conf=$4
	"$bin" -f -c "$conf" >"$d/out.log" 2>&1 &
	bench__started "$1" $! "$d/milter.sock" "$d/out.log" 30
}

bench_cpu_ticks() {
	local root=$1
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$root" '
		{
			pid = $1
			line = $0
			sub(/^.*\) /, "", line)    # drop "pid (comm) "; comm may hold spaces
			split(line, f, " ")
			ppid[pid] = f[2]
			ticks[pid] = f[12] + f[13] + f[14] + f[15]
		}
		END {
			n = 0; want[root] = 1
			do {
				added = 0
				for (p in ppid)
					if (!(p in want) && (ppid[p] in want)) { want[p] = 1; added = 1 }
			} while (added)
			for (p in want) n += ticks[p]
			print n
		}'
}
