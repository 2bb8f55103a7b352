/* policy: MTA-STS TXT records (RFC 8461 3.1), policy bodies (RFC 8461 3.2), the policy
 * Content-Type and MX pattern matching (RFC 8461 4.1).
 *
 * Grammar as the RFC's ABNF says, with three documented leniencies: empty lines in a
 * policy are skipped, extension values may be empty or hold tabs, and a TXT record may
 * end in whitespace. Field names and the keyword values (STSv1, enforce, ...) are
 * case-sensitive, as the ABNF's %s strings are. Characters are tested with plain ASCII
 * ranges, never the locale's ctype.
 *
 * Pure: no I/O, no globals; thread safe. Policies own their strings (xalloc: out of
 * memory is fatal).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escape.h"
#include "policy.h"
#include "xalloc.h"

#define STS_ERR_SHOW 64 /* bytes of an offending value quoted in an error line */
#define STS_ERR_LINES 8 /* policy lines described in the error text; the rest are counted */

static bool c_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool c_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool c_alnum(unsigned char c)
{
	return c_alpha(c) || c_digit(c);
}

static bool c_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static char c_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Append @n bytes of untrusted text to @err, escaped, at most STS_ERR_SHOW of them. */
static void err_quote(struct buf *err, const char *s, size_t n)
{
	char tmp[STS_ERR_SHOW * 4 + 1];

	escape_text(tmp, sizeof(tmp), s, n > STS_ERR_SHOW ? STS_ERR_SHOW : n);
	buf_printf(err, "\"%s%s\"", tmp, n > STS_ERR_SHOW ? "..." : "");
}

/* An extension name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") (both ABNFs). */
static bool ext_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 32 || !c_alnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!c_alnum(c) && c != '_' && c != '-' && c != '.')
			return false;
	}
	return true;
}

/* One LDH label (RFC 5321 sub-domain): Let-dig [Ldh-str], at most 63 bytes. */
static bool label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !c_alnum((unsigned char)s[0]) || !c_alnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!c_alnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* RFC 5321 Domain: sub-domain *("." sub-domain), at most STS_NAME_MAX bytes. */
static bool domain_ok(const char *s, size_t n)
{
	size_t start = 0;

	if (n == 0 || n > STS_NAME_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!label_ok(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* ---- TXT record (RFC 8461 3.1) */

static const char sts_txt_prefix[] = "v=STSv1;";

/* sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
static bool txt_ext_value_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			return false;
	}
	return true;
}

static int txt_parse(const char *s, size_t n, char id[STS_ID_MAX + 1], struct buf *err)
{
	size_t i = sizeof(sts_txt_prefix) - 1;
	bool have_id = false;

	for (;;) {
		while (i < n && c_wsp((unsigned char)s[i]))
			i++;
		if (i == n)
			break;
		size_t name = i;
		while (i < n && s[i] != '=' && s[i] != ';' && !c_wsp((unsigned char)s[i]))
			i++;
		size_t name_len = i - name;
		if (i == n || s[i] != '=' || !ext_name_ok(s + name, name_len)) {
			buf_puts(err, "STS record: field ");
			err_quote(err, s + name, name_len);
			buf_puts(err, " is not name=value\n");
			return -EINVAL;
		}
		size_t val = ++i;
		while (i < n && s[i] != ';' && !c_wsp((unsigned char)s[i]))
			i++;
		size_t val_len = i - val;
		if (name_len == 2 && memcmp(s + name, "id", 2) == 0) {
			bool ok = val_len >= 1 && val_len <= STS_ID_MAX;
			for (size_t k = 0; ok && k < val_len; k++)
				ok = c_alnum((unsigned char)s[val + k]);
			if (!ok) {
				buf_puts(err, "STS record: id ");
				err_quote(err, s + val, val_len);
				buf_puts(err, " is not 1 to 32 letters and digits\n");
				return -EINVAL;
			}
			if (have_id) {
				buf_puts(err, "STS record: id= appears twice\n");
				return -EINVAL;
			}
			memcpy(id, s + val, val_len);
			id[val_len] = '\0';
			have_id = true;
		} else if (!txt_ext_value_ok(s + val, val_len)) {
			buf_puts(err, "STS record: field ");
			err_quote(err, s + name, name_len);
			buf_puts(err, " has a bad value\n");
			return -EINVAL;
		}
		while (i < n && c_wsp((unsigned char)s[i]))
			i++;
		if (i == n)
			break;
		if (s[i] != ';') {
			buf_puts(err, "STS record: fields must be separated by \";\"\n");
			return -EINVAL;
		}
		i++;
	}
	if (!have_id) {
		buf_puts(err, "STS record: no id=\n");
		return -EINVAL;
	}
	return 0;
}

int sts_txt_pick(const char *const *txt, const size_t *len, size_t n, char id[STS_ID_MAX + 1],
                 struct buf *err)
{
	const size_t plen = sizeof(sts_txt_prefix) - 1;
	size_t found = 0, pick = 0;

	for (size_t i = 0; i < n; i++) {
		if (len[i] >= plen && memcmp(txt[i], sts_txt_prefix, plen) == 0) {
			if (found++ == 0)
				pick = i;
		}
	}
	if (found == 0)
		return 1;
	if (found > 1) {
		buf_printf(err, "%zu TXT records start with \"v=STSv1;\": want exactly one\n",
		           found);
		return -EINVAL;
	}
	if (memchr(txt[pick], '\0', len[pick])) {
		buf_puts(err, "STS record: contains a NUL byte\n");
		return -EINVAL;
	}
	return txt_parse(txt[pick], len[pick], id, err);
}

/* ---- policy body (RFC 8461 3.2) */

struct parse {
	struct sts_policy *p;
	struct buf *err;
	struct buf text;
	size_t line;
	bool version, mode, max_age, too_many_mx;
	bool bad;
	size_t errs; /* lines with an error; the first STS_ERR_LINES are described */
};

/* perr_room() - count an error line; true while it is still to be described. */
static bool perr_room(struct parse *ps)
{
	ps->bad = true;
	return ++ps->errs <= STS_ERR_LINES;
}

static void perr(struct parse *ps, const char *what)
{
	if (perr_room(ps))
		buf_printf(ps->err, "policy line %zu: %s\n", ps->line, what);
}

static void perr_val(struct parse *ps, const char *key, const char *v, size_t n, const char *what)
{
	if (!perr_room(ps))
		return;
	buf_printf(ps->err, "policy line %zu: %s ", ps->line, key);
	err_quote(ps->err, v, n);
	buf_printf(ps->err, " %s\n", what);
}

static bool key_is(const char *k, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(k, name, n) == 0;
}

static bool val_is(const char *v, size_t n, const char *word)
{
	return key_is(v, n, word);
}

/* Bytes of a value: printable ASCII and WSP; with @utf8, well-formed non-control UTF-8. */
static bool value_chars_ok(const char *v, size_t n, bool utf8)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != '\t')
			continue;
		/* a tab-free run: escape_needed() is false for printable UTF-8 */
		for (size_t k = start; k < i; k++)
			if ((unsigned char)v[k] >= 0x80 && !utf8)
				return false;
		if (escape_needed(v + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

static void parse_mx(struct parse *ps, const char *v, size_t n)
{
	struct sts_policy *p = ps->p;
	const char *d = v;
	size_t dn = n;

	if (n >= 2 && v[0] == '*' && v[1] == '.') {
		d += 2;
		dn -= 2;
	}
	if (!domain_ok(d, dn)) {
		perr_val(ps, "mx", v, n, "is not a host name or \"*.\" and a domain name");
		return;
	}
	if (p->n_mx == STS_MX_MAX) {
		if (!ps->too_many_mx && perr_room(ps))
			buf_printf(ps->err, "policy line %zu: more than %d mx lines\n", ps->line,
			           STS_MX_MAX);
		ps->too_many_mx = true;
		ps->bad = true;
		return;
	}
	char *m = xstrndup(v, n);
	for (size_t i = 0; i < n; i++)
		m[i] = c_lower(m[i]);
	p->mx[p->n_mx++] = m;
}

static void parse_max_age(struct parse *ps, const char *v, size_t n)
{
	uint64_t age = 0;

	ps->max_age = true;
	if (n == 0 || n > 10) {
		perr_val(ps, "max_age", v, n, "is not 1 to 10 digits");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!c_digit((unsigned char)v[i])) {
			perr_val(ps, "max_age", v, n, "is not 1 to 10 digits");
			return;
		}
		age = age * 10 + (uint64_t)(v[i] - '0');
	}
	ps->p->max_age = age > STS_MAX_AGE_MAX ? STS_MAX_AGE_MAX : (uint32_t)age;
}

static void parse_line(struct parse *ps, const char *s, size_t n)
{
	size_t k = 0;

	while (k < n && s[k] != ':')
		k++;
	if (k == n || !ext_name_ok(s, k)) {
		perr(ps, "not \"key: value\"");
		return;
	}
	size_t v = k + 1;
	while (v < n && c_wsp((unsigned char)s[v]))
		v++;
	const char *val = s + v;
	size_t vn = n - v;
	bool known = key_is(s, k, "version") || key_is(s, k, "mode") || key_is(s, k, "max_age") ||
	             key_is(s, k, "mx");

	if (!value_chars_ok(val, vn, !known)) {
		perr(ps, known ? "control or non-ASCII bytes in the value"
		               : "control bytes or malformed UTF-8 in the value");
		return;
	}
	if (key_is(s, k, "version")) {
		if (ps->version)
			return;
		if (!val_is(val, vn, "STSv1"))
			perr_val(ps, "version", val, vn, "is not STSv1");
		ps->version = true;
	} else if (key_is(s, k, "mode")) {
		if (ps->mode)
			return;
		ps->mode = true;
		if (val_is(val, vn, "enforce"))
			ps->p->mode = STS_MODE_ENFORCE;
		else if (val_is(val, vn, "testing"))
			ps->p->mode = STS_MODE_TESTING;
		else if (val_is(val, vn, "none"))
			ps->p->mode = STS_MODE_NONE;
		else
			perr_val(ps, "mode", val, vn, "is not enforce, testing or none");
	} else if (key_is(s, k, "max_age")) {
		if (!ps->max_age)
			parse_max_age(ps, val, vn);
	} else if (key_is(s, k, "mx")) {
		parse_mx(ps, val, vn);
	}
}

int sts_policy_parse(const char *body, size_t len, struct sts_policy *p, struct buf *err)
{
	struct parse ps = { .p = p, .err = err };
	size_t pos = 0;

	memset(p, 0, sizeof(*p));
	if (len > STS_POLICY_MAX) {
		buf_printf(err, "policy: %zu bytes, more than %d\n", len, STS_POLICY_MAX);
		return -EINVAL;
	}
	if (len > 0 && memchr(body, '\0', len)) {
		buf_puts(err, "policy: contains a NUL byte\n");
		return -EINVAL;
	}
	buf_init(&ps.text);
	while (pos < len) {
		const char *nl = memchr(body + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - body) : len;
		size_t n = end - pos;
		const char *s = body + pos;

		ps.line++;
		pos = nl ? end + 1 : len;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		while (n > 0 && c_wsp((unsigned char)s[n - 1]))
			n--;
		if (n == 0)
			continue;
		if (memchr(s, '\r', n)) {
			perr(&ps, "CR not followed by LF");
			continue;
		}
		parse_line(&ps, s, n);
		buf_append(&ps.text, s, n);
		buf_putc(&ps.text, '\n');
	}
	if (ps.errs > STS_ERR_LINES)
		buf_printf(err, "policy: %zu more lines with errors\n", ps.errs - STS_ERR_LINES);
	if (!ps.version) {
		buf_puts(err, "policy: no version line\n");
		ps.bad = true;
	}
	if (!ps.mode) {
		buf_puts(err, "policy: no mode line\n");
		ps.bad = true;
	}
	if (!ps.max_age) {
		buf_puts(err, "policy: no max_age line\n");
		ps.bad = true;
	}
	if (!ps.bad && p->mode != STS_MODE_NONE && p->n_mx == 0) {
		buf_printf(err, "policy: mode %s without mx lines\n", sts_mode_name(p->mode));
		ps.bad = true;
	}
	if (ps.bad) {
		buf_fini(&ps.text);
		sts_policy_fini(p);
		return -EINVAL;
	}
	p->text = buf_steal(&ps.text, &p->text_len);
	return 0;
}

void sts_policy_fini(struct sts_policy *p)
{
	for (size_t i = 0; i < p->n_mx && i < STS_MX_MAX; i++)
		free(p->mx[i]);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

int sts_policy_copy(struct sts_policy *dst, const struct sts_policy *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->mode = src->mode;
	dst->max_age = src->max_age;
	dst->n_mx = src->n_mx;
	for (size_t i = 0; i < src->n_mx; i++)
		dst->mx[i] = xstrdup(src->mx[i]);
	if (src->text) {
		dst->text = xmemdup(src->text, src->text_len + 1);
		dst->text_len = src->text_len;
	}
	return 0;
}

/* ---- Content-Type, MX matching, names */

bool sts_content_type_ok(const char *ct)
{
	static const char want[] = "text/plain";
	const size_t wn = sizeof(want) - 1;

	if (!ct)
		return false;
	while (c_wsp((unsigned char)*ct))
		ct++;
	if (strncasecmp(ct, want, wn) != 0)
		return false;
	ct += wn;
	while (c_wsp((unsigned char)*ct))
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* Case-insensitive equality of @n bytes of @a with all of @b (@b's length is @bn). */
static bool name_eq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (c_lower(a[i]) != c_lower(b[i]))
			return false;
	return true;
}

bool sts_mx_match(const char *pattern, const char *host)
{
	size_t pn, hn;

	if (!pattern || !host)
		return false;
	pn = strlen(pattern);
	hn = strlen(host);
	if (hn > 0 && host[hn - 1] == '.')
		hn--;
	if (pn == 0 || hn == 0)
		return false;
	if (pn >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = memchr(host, '.', hn);
		if (!dot || dot == host)
			return false;
		size_t rest = hn - (size_t)(dot + 1 - host);
		return name_eq(dot + 1, rest, pattern + 2, pn - 2);
	}
	return name_eq(host, hn, pattern, pn);
}

static const char *const sts_mode_names[] = {
	[STS_MODE_NONE] = "none",
	[STS_MODE_TESTING] = "testing",
	[STS_MODE_ENFORCE] = "enforce",
};

const char *sts_mode_name(enum sts_mode m)
{
	if ((size_t)m >= sizeof(sts_mode_names) / sizeof(sts_mode_names[0]))
		return "?";
	return sts_mode_names[m];
}

int sts_mode_from_name(const char *name, enum sts_mode *out)
{
	for (size_t i = 0; i < sizeof(sts_mode_names) / sizeof(sts_mode_names[0]); i++) {
		if (strcmp(name, sts_mode_names[i]) == 0) {
			*out = (enum sts_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}
