# shellcheck shell=bash
# tests/harness/https.sh: a private HTTPS server on loopback.
#
#   . "$POSTWARDEN_HARNESS/https.sh"
#   https_up DIR [nginx|sserver]   serve DIR/www over TLS on a free 127.0.0.1 port with a
#                                  certificate from the harness CA (DIR/pki, made if missing)
#                                  for mta-sts.example.test, mta-sts.plain.test, localhost and
#                                  127.0.0.1. Registers https_down with hn_on_exit.
#   https_down DIR
#
# nginx (default): *.txt is text/plain, *.json application/json, other files
# application/octet-stream; files under /chunked/ go out chunked, without Content-Length;
# /redirect answers 301; /echo (POST) answers 200 with the request body (text/plain), when
# the echo module is installed. sserver is `openssl s_server -WWW`: HTTP/1.0, one connection
# at a time, no Content-Length, "Content-type: text/plain" for .txt files.
#   https_policy_hosts NETNS DIR CERT NAME...
#                                  nginx inside network namespace NETNS on 127.0.0.1:443
#                                  serving DIR/www/<host>/ for each server NAME (MTA-STS policy
#                                  hosts: .txt as text/plain) with DIR/pki/CERT.crt/.key; waits
#                                  until the first NAME answers (its CA: DIR/pki/ca.crt) and
#                                  registers the stop. Temp files under DIR/nginx. NETNS empty:
#                                  in this namespace, on port $HTTPS_POLICY_PORT (a free one:
#                                  443 only in a namespace of the test's own).
# After https_up, DIR/env holds (and the shell has exported) HTTPS_ADDR=127.0.0.1:PORT,
# HTTPS_PORT and HTTPS_CA (the CA file). Missing nginx/openssl/curl: exit 77.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=pki.sh
. "$(dirname "${BASH_SOURCE[0]}")/pki.sh"

HTTPS_ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so

https__nginx_conf() {
	local D=$1 port=$2 echo_load="" echo_loc=""
	if [ -f "$HTTPS_ECHO_MODULE" ]; then
		echo_load="load_module $HTTPS_ECHO_MODULE;"
		echo_loc="location = /echo { default_type text/plain; echo_read_request_body; echo_request_body; }"
	fi
	cat <<EOC
$echo_load
daemon off;
worker_processes 1;
pid $D/nginx.pid;
error_log $D/error.log warn;
events { worker_connections 64; }
http {
  access_log $D/access.log;
  client_body_temp_path $D/tmp/body; proxy_temp_path $D/tmp/proxy;
  fastcgi_temp_path $D/tmp/fcgi; uwsgi_temp_path $D/tmp/uwsgi; scgi_temp_path $D/tmp/scgi;
  types { text/plain txt; application/json json; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port ssl;
    server_name _;
    ssl_certificate     $D/pki/server.crt;
    ssl_certificate_key $D/pki/server.key;
    root $D/www;
    location = /redirect { return 301 https://mta-sts.example.test/.well-known/mta-sts.txt; }
    location /chunked/ { sub_filter_types *; sub_filter 'no-such-text' 'x'; }
    $echo_loc
  }
}
EOC
}

https__ready() {
	curl -s -o /dev/null --max-time 2 --cacert "$1" "https://127.0.0.1:$2/"
}

# https_up DIR [nginx|sserver]
https_up() {
	local D kind=${2:-nginx} port
	hn_require openssl curl
	[ "$kind" = sserver ] || hn_require nginx
	D=$(realpath -m "$1")
	mkdir -p "$D/www" "$D/tmp"
	chmod 755 "$D" "$D/www" # nginx workers run as nobody
	[ -f "$D/pki/server.crt" ] ||
		pki_leaf "$D/pki" server mta-sts.example.test mta-sts.plain.test localhost 127.0.0.1
	chmod 644 "$D/pki/server.key"
	port=$(hn_free_port) || hn_die "https: no free port"
	hn_on_exit https_down "$D"
	case "$kind" in
	nginx)
		https__nginx_conf "$D" "$port" >"$D/nginx.conf"
		nginx -e "$D/error.log" -p "$D" -c "$D/nginx.conf" >"$D/stdout" 2>&1 &
		;;
	sserver)
		env -C "$D/www" openssl s_server -quiet -accept "127.0.0.1:$port" \
			-cert "$D/pki/server.crt" -key "$D/pki/server.key" -WWW >"$D/stdout" 2>&1 &
		;;
	*) hn_die "https: unknown server kind $kind" ;;
	esac
	echo $! >"$D/https.pid.shell"
	if ! hn_wait 10 https__ready "$D/pki/ca.crt" "$port"; then
		tail -n 5 "$D/stdout" "$D/error.log" >&2 2>/dev/null
		hn_die "https: $kind on 127.0.0.1:$port not ready"
	fi
	printf 'HTTPS_ADDR=127.0.0.1:%s\nHTTPS_PORT=%s\nHTTPS_CA=%s\n' "$port" "$port" \
		"$D/pki/ca.crt" >"$D/env"
	export HTTPS_ADDR=127.0.0.1:$port HTTPS_PORT=$port HTTPS_CA=$D/pki/ca.crt
}

https_down() { hn_stop_pidfile "$1/https.pid.shell"; }

https_policy_hosts() {
	local ns=$1 D=$2 cert=$3 first=$4 port=${HTTPS_POLICY_PORT:-443} x=()
	shift 3
	hn_require nginx curl
	[ -z "$ns" ] || x=(ip netns exec "$ns")
	mkdir -p "$D/nginx/tmp"
	chmod -R a+rX "$D/www" 2>/dev/null
	cat >"$D/nginx/nginx.conf" <<EOC
daemon off;
worker_processes 1;
pid $D/nginx/nginx.pid;
error_log $D/nginx/error.log warn;
events { worker_connections 64; }
http {
  access_log $D/nginx/access.log;
  client_body_temp_path $D/nginx/tmp; proxy_temp_path $D/nginx/tmp;
  fastcgi_temp_path $D/nginx/tmp; uwsgi_temp_path $D/nginx/tmp; scgi_temp_path $D/nginx/tmp;
  types { text/plain txt; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port ssl;
    server_name $*;
    ssl_certificate $D/pki/$cert.crt;
    ssl_certificate_key $D/pki/$cert.key;
    root $D/www/\$host;
  }
}
EOC
	"${x[@]}" nginx -e "$D/nginx/error.log" -p "$D/nginx" -c "$D/nginx/nginx.conf" \
		>"$D/nginx/stdout" 2>&1 &
	echo $! >"$D/nginx/pid.shell"
	hn_on_exit hn_stop_pidfile "$D/nginx/pid.shell"
	if ! hn_wait 10 "${x[@]}" curl -s -o /dev/null --max-time 2 \
		--cacert "$D/pki/ca.crt" --connect-to "::127.0.0.1:$port" \
		"https://$first/.well-known/mta-sts.txt"; then
		cat "$D/nginx/stdout" "$D/nginx/error.log" >&2
		hn_die "https: nginx in ${ns:-this namespace} on 127.0.0.1:$port not ready"
	fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	case "${1:-}" in
	up)
		https_up "$2" "${3:-nginx}"
		HN_CLEANUP=()
		cat "$2/env"
		;;
	down) https_down "$2" ;;
	*) echo "usage: $0 up DIR [nginx|sserver] | down DIR" >&2; exit 2 ;;
	esac
fi
