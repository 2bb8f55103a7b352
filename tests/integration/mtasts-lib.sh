# shellcheck shell=bash
# mtasts-lib.sh: policyd-mtasts and its policy hosts on loopback, for mtasts.sh and
# bad-input.sh. Sourced after tests/harness/lib.sh, pki.sh and notify.sh; uses the
# caller's $D (temp dir), $MT (the binary), $MT_SOCK (the socketmap socket) and
# $HTTPS_PORT (a free port, set before mt_srv / mt_nginx_up / mt_conf).
#
#   mt_pol HOST MODE [MX...]   a policy file for HOST in D/www/HOST/.well-known/mta-sts.txt
#                              (CRLF lines, max_age 86400)
#   mt_srv NAMES CERT [EXTRA]  one nginx server block on 127.0.0.1:$HTTPS_PORT for the
#                              server_name(s) NAMES, root D/www/$host, certificate
#                              D/pki/CERT.crt/.key, EXTRA lines inside it (stdout)
#   mt_nginx_conf              D/nginx/nginx.conf from the server blocks on stdin
#   mt_nginx_up HOST           start nginx (pid in D/nginx/pid.shell, stopped at exit) and
#                              wait up to 10 s until HOST's policy file answers
#   mt_conf FILE [LINE...]     a daemon config: listen unix:$MT_SOCK, nobody, LMDB store in
#                              D/state, $DNS_TA, CA D/pki/ca.crt, every fetch to
#                              127.0.0.1:${CONNECT_PORT:-$HTTPS_PORT}, fetch_timeout
#                              ${FETCH_TIMEOUT:-5s}, then LINE...
#   mt_start CONF              start $MT -f -d -c CONF (log appended to ${MT_LOG:-D/mt.log}) under the
#                              notify harness, wait 30 s for READY=1; MT_PID is its pid
#                              (stopped at exit)

mt_pol() {
	local h=$1 m=$2
	shift 2
	mkdir -p "$D/www/$h/.well-known"
	{
		printf 'version: STSv1\r\nmode: %s\r\n' "$m"
		for x in "$@"; do printf 'mx: %s\r\n' "$x"; done
		printf 'max_age: 86400\r\n'
	} >"$D/www/$h/.well-known/mta-sts.txt"
}

mt_srv() {
	printf '  server {\n    listen 127.0.0.1:%s ssl;\n    server_name %s;\n' "$HTTPS_PORT" "$1"
	printf '    ssl_certificate %s/pki/%s.crt;\n    ssl_certificate_key %s/pki/%s.key;\n' \
		"$D" "$2" "$D" "$2"
	printf '    root %s/www/$host;\n    %s\n  }\n' "$D" "${3:-}"
}

mt_nginx_conf() {
	mkdir -p "$D/nginx/tmp"
	{
		printf 'daemon off;\nworker_processes 1;\npid %s/nginx/nginx.pid;\n' "$D"
		printf 'error_log %s/nginx/error.log warn;\nevents { worker_connections 64; }\nhttp {\n' "$D"
		printf '  access_log %s/nginx/access.log;\n  client_body_temp_path %s/nginx/tmp;\n' "$D" "$D"
		printf '  proxy_temp_path %s/nginx/tmp; fastcgi_temp_path %s/nginx/tmp;\n' "$D" "$D"
		printf '  uwsgi_temp_path %s/nginx/tmp; scgi_temp_path %s/nginx/tmp;\n' "$D" "$D"
		printf '  types { text/plain txt; }\n  default_type application/octet-stream;\n'
		cat
		printf '}\n'
	} >"$D/nginx/nginx.conf"
}

mt__ready() {
	curl -s -o /dev/null --max-time 2 --cacert "$D/pki/ca.crt" \
		--connect-to "::127.0.0.1:$HTTPS_PORT" "https://$1/.well-known/mta-sts.txt"
}

mt_nginx_up() {
	nginx -e "$D/nginx/error.log" -p "$D/nginx" -c "$D/nginx/nginx.conf" >"$D/nginx/stdout" 2>&1 &
	echo $! >"$D/nginx/pid.shell"
	hn_on_exit hn_stop_pidfile "$D/nginx/pid.shell"
	hn_wait 10 mt__ready "$1" || {
		cat "$D/nginx/stdout" "$D/nginx/error.log" >&2
		hn_die "nginx not ready"
	}
}

mt_conf() {
	local f=$1
	shift
	{
		echo "listen = unix:$MT_SOCK:0666"
		echo "user = nobody"
		echo "group = nogroup"
		echo "store = lmdb:$D/state"
		echo "trust_anchor = $DNS_TA"
		echo "ca_file = $D/pki/ca.crt"
		echo "connect_to = 127.0.0.1:${CONNECT_PORT:-$HTTPS_PORT}"
		echo "fetch_timeout = ${FETCH_TIMEOUT:-5s}"
		for l in "$@"; do echo "$l"; done
	} >"$f"
}

mt_start() {
	: >>"${MT_LOG:=$D/mt.log}"
	notify_up "$D" || return 1
	local mark
	mark=$(notify_mark "$D")
	NOTIFY_SOCKET=$D/notify.sock "$MT" -f -d -c "$1" >>"$MT_LOG" 2>&1 &
	MT_PID=$!
	hn_on_exit hn_stop "$MT_PID"
	notify_wait "$D" "$mark" READY=1 "$MT_PID" 30
}
