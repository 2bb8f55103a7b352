/* rua: the _smtp._tls TXT record (RFC 8460 section 3) into report endpoints.
 *
 * Selection (section 3): records that do not begin with "v=TLSRPTv1" and ";" (blanks
 * allowed before the ";", as the ABNF's field-delim does) are discarded; exactly one must
 * remain, else the domain takes no reports. Fields are separated by ";" with blanks around;
 * empty fields are skipped; a field is name=value with the ABNF's tlsrpt-ext-name; "rua" is
 * case-sensitive (%s) and must appear once; other fields are ignored. rua= is URIs separated
 * by "," with blanks around: commas, "!" and ";" inside a URI are percent-encoded.
 * mailto: keeps its addresses (RFC 6068 "to", percent-decoded, split at decoded commas, the
 * ?query dropped) when each is a plain dot-atom@domain (nothing a command line or a header
 * could misread); https:// is kept as published when it is printable ASCII with a host.
 * Anything else is skipped and counted. Duplicates are dropped. Pure and thread safe.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rua.h"
#include "xalloc.h"

#define RUA_PREFIX "v=TLSRPTv1"

static bool rua_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool rua_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Does @s (@n bytes) begin with "v=TLSRPTv1" *WSP ";"? Set *@rest past the ";". */
static bool rua_is_tlsrpt(const char *s, size_t n, size_t *rest)
{
	size_t p = strlen(RUA_PREFIX);
	if (n < p || memcmp(s, RUA_PREFIX, p) != 0)
		return false;
	while (p < n && rua_wsp(s[p]))
		p++;
	if (p >= n || s[p] != ';')
		return false;
	*rest = p + 1;
	return true;
}

/* RFC 8460 tlsrpt-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."). */
static bool rua_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 32 || !rua_alnum(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!rua_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static int rua_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* An address sendmail and a To: header take as it is: dot-atom "@" a host name. */
static bool rua_addr_ok(const char *a, size_t n)
{
	const char *at = memchr(a, '@', n);
	if (!at || at == a || (size_t)(at - a) + 1 >= n)
		return false;
	size_t local = (size_t)(at - a);
	if (a[0] == '.' || a[local - 1] == '.' || a[0] == '-')
		return false;
	for (size_t i = 0; i < local; i++)
		if (!rua_alnum(a[i]) && !strchr("!#$%&'*+-/=?^_`{|}~.", a[i]))
			return false;
	const char *d = at + 1;
	size_t dn = n - local - 1;
	if (d[0] == '.' || d[0] == '-' || d[dn - 1] == '.' || !memchr(d, '.', dn))
		return false;
	for (size_t i = 0; i < dn; i++)
		if (!rua_alnum(d[i]) && d[i] != '.' && d[i] != '-')
			return false;
	return true;
}

static void rua_add(struct tlsrpt_rua_list *l, enum tlsrpt_rua_kind kind, const char *s, size_t n)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == kind && strlen(l->v[i].target) == n &&
		    memcmp(l->v[i].target, s, n) == 0)
			return;
	if (l->n == TLSRPT_RUA_MAX) {
		l->skipped++;
		return;
	}
	if (!l->v)
		l->v = xcalloc(TLSRPT_RUA_MAX, sizeof(*l->v));
	l->v[l->n].kind = kind;
	l->v[l->n].target = xstrndup(s, n);
	l->n++;
}

/* mailto:@s (@n bytes after the scheme): its addresses. */
static void rua_mailto(struct tlsrpt_rua_list *l, const char *s, size_t n)
{
	char dec[TLSRPT_RUA_LEN_MAX];
	size_t k = 0;
	const char *q = memchr(s, '?', n);
	if (q)
		n = (size_t)(q - s);
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				goto bad;
			if ((hi = rua_hex(s[i + 1])) < 0 || (lo = rua_hex(s[i + 2])) < 0)
				goto bad;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7f)
			goto bad;
		dec[k++] = c;
	}
	size_t start = 0;
	for (size_t i = 0; i <= k; i++) {
		if (i < k && dec[i] != ',')
			continue;
		if (rua_addr_ok(dec + start, i - start)) {
			rua_add(l, TLSRPT_RUA_MAILTO, dec + start, i - start);
		} else {
			l->skipped++;
		}
		start = i + 1;
	}
	return;
bad:
	l->skipped++;
}

/* One URI of rua= (@n bytes, blanks trimmed). */
static void rua_uri(struct tlsrpt_rua_list *l, const char *s, size_t n)
{
	if (n > TLSRPT_RUA_LEN_MAX - 1) {
		l->skipped++;
		return;
	}
	if (n > 7 && strncasecmp(s, "mailto:", 7) == 0) {
		rua_mailto(l, s + 7, n - 7);
		return;
	}
	if (n > 8 && strncasecmp(s, "https://", 8) == 0 && s[8] != '/' && s[8] != '?' &&
	    s[8] != '#') {
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
				l->skipped++;
				return;
			}
		rua_add(l, TLSRPT_RUA_HTTPS, s, n);
		return;
	}
	l->skipped++;
}

/* The value of rua= (@n bytes). Return 0 or -EINVAL (an empty URI). */
static int rua_list(struct tlsrpt_rua_list *l, const char *s, size_t n, struct buf *err)
{
	size_t p = 0;
	for (;;) {
		while (p < n && rua_wsp(s[p]))
			p++;
		size_t b = p;
		while (p < n && s[p] != ',')
			p++;
		size_t e = p;
		while (e > b && rua_wsp(s[e - 1]))
			e--;
		if (e == b) {
			buf_add_line(err, "rua= has an empty URI");
			return -EINVAL;
		}
		rua_uri(l, s + b, e - b);
		if (p == n)
			return 0;
		p++; /* the comma */
	}
}

/* The fields after "v=TLSRPTv1;" of the one record. */
static int rua_fields(struct tlsrpt_rua_list *l, const char *s, size_t n, struct buf *err)
{
	bool rua = false;
	size_t p = 0;
	while (p < n) {
		while (p < n && rua_wsp(s[p]))
			p++;
		size_t b = p;
		while (p < n && s[p] != ';')
			p++;
		size_t e = p;
		if (p < n)
			p++;
		while (e > b && rua_wsp(s[e - 1]))
			e--;
		if (e == b)
			continue;
		const char *eq = memchr(s + b, '=', e - b);
		if (!eq || !rua_name_ok(s + b, (size_t)(eq - (s + b)))) {
			buf_add_line(err, "TLSRPTv1 record: '%.*s' is not a name=value field",
			             (int)(e - b > 64 ? 64 : e - b), s + b);
			return -EINVAL;
		}
		if ((size_t)(eq - (s + b)) != 3 || memcmp(s + b, "rua", 3) != 0)
			continue;
		if (rua) {
			buf_add_line(err, "TLSRPTv1 record: rua= appears twice");
			return -EINVAL;
		}
		rua = true;
		int rc = rua_list(l, eq + 1, (size_t)(s + e - (eq + 1)), err);
		if (rc < 0)
			return rc;
	}
	if (!rua) {
		buf_add_line(err, "TLSRPTv1 record without rua=");
		return -EINVAL;
	}
	return 0;
}

int tlsrpt_rua_parse(const char *const *rec, const size_t *len, size_t n,
                     struct tlsrpt_rua_list *out, struct buf *err)
{
	size_t found = 0, which = 0, rest = 0, r;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (rec[i] && rua_is_tlsrpt(rec[i], len[i], &r)) {
			found++;
			which = i;
			rest = r;
		}
	if (found != 1) {
		if (found)
			buf_add_line(err, "%zu TLSRPTv1 records: the domain takes no reports",
			             found);
		else
			buf_add_line(err, "no TLSRPTv1 record: the domain takes no reports");
		return 1;
	}
	if (memchr(rec[which], '\0', len[which])) {
		buf_add_line(err, "TLSRPTv1 record with a NUL byte");
		return -EINVAL;
	}
	int rc = rua_fields(out, rec[which] + rest, len[which] - rest, err);
	if (rc == 0 && out->n == 0) {
		buf_add_line(err, "rua= names no usable mailto: or https: endpoint (%zu skipped)",
		             out->skipped);
		rc = -EINVAL;
	}
	if (rc < 0)
		tlsrpt_rua_list_free(out);
	return rc;
}

void tlsrpt_rua_list_free(struct tlsrpt_rua_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].target);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
