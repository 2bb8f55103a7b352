# shellcheck shell=bash
# tests/harness/pki.sh: throwaway test PKI.
#
#   . "$POSTWARDEN_HARNESS/pki.sh"
#   pki_ca DIR                   EC P-256 CA: DIR/ca.crt, DIR/ca.key (kept if present)
#   pki_leaf DIR NAME [ALT...]   EC P-256 server+client leaf DIR/NAME.crt, DIR/NAME.key signed
#                                by DIR's CA (made first if missing), SAN = NAME and each ALT
#                                (DNS names; IPv4 literals become IP SANs); valid 30 days,
#                                or from..until when PKI_DATES="YYYYMMDDHHMMSSZ YYYYMMDDHHMMSSZ"
#                                is set (an expired certificate: dates in the past)
#
# Executable form: pki.sh DIR NAME... (a CA plus one leaf per NAME). Missing openssl: exit 77.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pki_ca() {
	local D=$1
	hn_require openssl
	mkdir -p "$D"
	[ -f "$D/ca.crt" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$D/ca.key" -out "$D/ca.crt" -days 30 -subj "/CN=postwarden test CA $RANDOM" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>"$D/openssl.err" || { cat "$D/openssl.err" >&2; hn_die "pki: CA creation failed"; }
}

pki_leaf() {
	local D=$1 n=$2 san="" a
	shift 2
	pki_ca "$D"
	for a in "$n" "$@"; do
		if [[ $a =~ ^[0-9.]+$ ]]; then san="$san,IP:$a"; else san="$san,DNS:$a"; fi
	done
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n%s\n' \
		"${san#,}" 'extendedKeyUsage=serverAuth,clientAuth' >"$D/$n.ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/$n.key" \
		-out "$D/$n.csr" -subj "/CN=$n" 2>"$D/openssl.err" &&
		pki__sign "$D" "$n" 2>"$D/openssl.err" ||
		{ cat "$D/openssl.err" >&2; hn_die "pki: leaf $n failed"; }
	rm -f "$D/$n.csr" "$D/$n.ext"
}

# pki__sign DIR NAME: DIR/NAME.csr -> DIR/NAME.crt, 30 days from now or $PKI_DATES.
pki__sign() {
	local D=$1 n=$2 from until
	if [ -z "${PKI_DATES:-}" ]; then
		openssl x509 -req -in "$D/$n.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" -CAcreateserial \
			-out "$D/$n.crt" -days 30 -extfile "$D/$n.ext"
		return
	fi
	read -r from until <<<"$PKI_DATES"
	mkdir -p "$D/ca.db"
	touch "$D/ca.db/index.txt"
	[ -f "$D/ca.db/serial" ] || openssl rand -hex 8 >"$D/ca.db/serial"
	printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s\nnew_certs_dir=%s\nserial=%s\n%s\n' \
		"$D/ca.db/index.txt" "$D/ca.db" "$D/ca.db/serial" \
		'default_md=sha256
policy=p
unique_subject=no
[p]
commonName=supplied' >"$D/ca.db/ca.cnf"
	openssl ca -batch -notext -config "$D/ca.db/ca.cnf" -cert "$D/ca.crt" -keyfile "$D/ca.key" \
		-startdate "$from" -enddate "$until" -extfile "$D/$n.ext" -in "$D/$n.csr" \
		-out "$D/$n.crt"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	[ $# -ge 2 ] || { echo "usage: $0 DIR NAME..." >&2; exit 2; }
	d=$1
	shift
	pki_ca "$d"
	for n in "$@"; do pki_leaf "$d" "$n"; done
fi
