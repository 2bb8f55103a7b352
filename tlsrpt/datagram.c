/* datagram: parse one libtlsrpt datagram (see datagram.h) into a struct tlsrpt_event.
 *
 * Spec: the datagram format of libtlsrpt 0.5.1 as doc/protocols.md ("libtlsrpt datagrams")
 * records it: one JSON object (RFC 8259) of a fixed shape, string values JSON-escaped.
 * A small recursive-descent parser of exactly that shape: it decodes each string (escapes,
 * \uXXXX with surrogate pairs, UTF-8 checked) into the caller's scratch buffer, which is
 * sized to the datagram first (plus a little) (a decoded string and its NUL never take more bytes
 * than its quoted form), so the event's strings need no other allocation. Nesting is fixed by the
 * format; a member it does not know is skipped, at most DG_DEPTH_MAX levels deep. Input is hostile:
 * every read is bounds-checked against the end, and the first problem ends the parse with -EINVAL
 * and one line of text naming the byte offset. Pure; thread safe with one scratch buffer per
 * thread.
 */
#include "datagram.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define DG_DEPTH_MAX 16  /* nesting of a skipped unknown member */
#define DG_INT_DIGITS 15 /* an integer member's digits (the format's are small) */

struct dg {
	const char *start, *p, *end;
	char *out, *out_end; /* the scratch: next free byte, end */
	struct buf *err;
};

void tlsrpt_datagram_buf_init(struct tlsrpt_datagram_buf *b)
{
	b->data = NULL;
	b->cap = 0;
}

void tlsrpt_datagram_buf_fini(struct tlsrpt_datagram_buf *b)
{
	free(b->data);
	tlsrpt_datagram_buf_init(b);
}

/* dg_fail() - the one error line: @what at the current byte. Return -EINVAL. */
static int dg_fail(struct dg *s, const char *what)
{
	buf_add_line(s->err, "tlsrpt datagram: %s at byte %zu", what, (size_t)(s->p - s->start));
	return -EINVAL;
}

/* dg_fail_member() - an error about the member @key (a name from the format, never from
 * the datagram). */
static int dg_fail_member(struct dg *s, const char *key, const char *what)
{
	buf_add_line(s->err, "tlsrpt datagram: \"%s\": %s at byte %zu", key, what,
	             (size_t)(s->p - s->start));
	return -EINVAL;
}

static void dg_ws(struct dg *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* dg_peek() - the next byte after white space, or -1 at the end. */
static int dg_peek(struct dg *s)
{
	dg_ws(s);
	return s->p < s->end ? (unsigned char)*s->p : -1;
}

static int dg_lit(struct dg *s, char c, const char *what)
{
	if (dg_peek(s) != (unsigned char)c)
		return dg_fail(s, what);
	s->p++;
	return 0;
}

/* dg_utf8_len() - the length of the valid UTF-8 sequence (2-4 bytes) at @p, or 0: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t dg_utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t left = (size_t)(end - p);
	unsigned char c = p[0];
	if (c >= 0xc2 && c <= 0xdf)
		return left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (left < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (left < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* dg_hex4() - four hex digits after "\u" into @v. */
static int dg_hex4(struct dg *s, unsigned *v)
{
	*v = 0;
	if (s->end - s->p < 4)
		return dg_fail(s, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = *s->p++;
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return dg_fail(s, "bad \\u escape");
		*v = *v << 4 | d;
	}
	return 0;
}

/* dg_unicode() - the code point of a \u escape (the "\u" read), a surrogate pair joined. */
static int dg_unicode(struct dg *s, unsigned *cp)
{
	unsigned lo;
	int r;

	if ((r = dg_hex4(s, cp)) < 0)
		return r;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return dg_fail(s, "lone low surrogate in a \\u escape");
	if (*cp < 0xd800 || *cp > 0xdbff)
		return *cp == 0 ? dg_fail(s, "NUL in a string") : 0;
	if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
		return dg_fail(s, "high surrogate without its low half");
	s->p += 2;
	if ((r = dg_hex4(s, &lo)) < 0)
		return r;
	if (lo < 0xdc00 || lo > 0xdfff)
		return dg_fail(s, "high surrogate without its low half");
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* dg_put_utf8() - append code point @cp (not a surrogate, <= U+10FFFF) as UTF-8. */
static void dg_put_utf8(struct dg *s, unsigned cp)
{
	if (cp < 0x80) {
		*s->out++ = (char)cp;
	} else if (cp < 0x800) {
		*s->out++ = (char)(0xc0 | cp >> 6);
		*s->out++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*s->out++ = (char)(0xe0 | cp >> 12);
		*s->out++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*s->out++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*s->out++ = (char)(0xf0 | cp >> 18);
		*s->out++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*s->out++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*s->out++ = (char)(0x80 | (cp & 0x3f));
	}
}

/* dg_escape() - decode the escape after a backslash (read) into the scratch. */
static int dg_escape(struct dg *s)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	unsigned cp;
	int r;

	if (s->p >= s->end)
		return dg_fail(s, "unterminated string");
	char c = *s->p++;
	if (c == 'u') {
		if ((r = dg_unicode(s, &cp)) < 0)
			return r;
		dg_put_utf8(s, cp);
		return 0;
	}
	const char *f = c ? strchr(from, c) : NULL;
	if (!f) {
		s->p--;
		return dg_fail(s, "bad escape in a string");
	}
	*s->out++ = to[f - from];
	return 0;
}

/* dg_string() - a JSON string, decoded and NUL-terminated into the scratch: @out. */
static int dg_string(struct dg *s, char **out)
{
	int r;

	if ((r = dg_lit(s, '"', "expected a string")) < 0)
		return r;
	*out = s->out;
	for (;;) {
		if (s->p >= s->end)
			return dg_fail(s, "unterminated string");
		/* the decoded bytes never outrun the quoted ones: a broken invariant is a bug,
		 * refused rather than written past the scratch */
		if (s->out_end - s->out < 5)
			return dg_fail(s, "string scratch exhausted");
		unsigned char c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			*s->out++ = '\0';
			return 0;
		}
		if (c == '\\') {
			s->p++;
			if ((r = dg_escape(s)) < 0)
				return r;
		} else if (c < 0x20) {
			return dg_fail(s, "control character in a string");
		} else if (c < 0x80) {
			*s->out++ = (char)c;
			s->p++;
		} else {
			size_t k = dg_utf8_len((const unsigned char *)s->p,
			                       (const unsigned char *)s->end);
			if (k == 0)
				return dg_fail(s, "invalid UTF-8 in a string");
			memcpy(s->out, s->p, k);
			s->out += k;
			s->p += k;
		}
	}
}

/* dg_int() - a JSON number that is an integer of at most DG_INT_DIGITS digits. */
static int dg_int(struct dg *s, long long *v)
{
	bool neg = false;
	int digits = 0;

	dg_ws(s);
	if (s->p < s->end && *s->p == '-') {
		neg = true;
		s->p++;
	}
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return dg_fail(s, "expected an integer");
	if (*s->p == '0' && s->end - s->p > 1 && s->p[1] >= '0' && s->p[1] <= '9')
		return dg_fail(s, "leading zero in a number");
	*v = 0;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		if (++digits > DG_INT_DIGITS)
			return dg_fail(s, "integer too large");
		*v = *v * 10 + (*s->p++ - '0');
	}
	if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
		return dg_fail(s, "expected an integer");
	if (neg)
		*v = -*v;
	return 0;
}

static int dg_skip(struct dg *s, int depth);

/* dg_skip_number() - any JSON number (a member the format does not have). */
static int dg_skip_number(struct dg *s)
{
	const char *p0 = s->p;
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return dg_fail(s, "expected a value");
	if (*s->p == '0')
		s->p++;
	else
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return dg_fail(s, "bad number");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return dg_fail(s, "bad number");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	return s->p > p0 ? 0 : dg_fail(s, "expected a value");
}

/* dg_word() - one of the literals true, false, null. */
static int dg_word(struct dg *s)
{
	static const char *const words[] = { "true", "false", "null" };
	for (size_t i = 0; i < 3; i++) {
		size_t k = strlen(words[i]);
		if ((size_t)(s->end - s->p) >= k && memcmp(s->p, words[i], k) == 0) {
			s->p += k;
			return 0;
		}
	}
	return dg_fail(s, "expected a value");
}

/* dg_skip_container() - the rest of an object or array whose opening byte is read. */
static int dg_skip_container(struct dg *s, bool object, int depth)
{
	char close = object ? '}' : ']';
	char *key;
	int r;

	if (dg_peek(s) == close) {
		s->p++;
		return 0;
	}
	for (;;) {
		if (object && ((r = dg_string(s, &key)) < 0 ||
		               (r = dg_lit(s, ':', "expected ':' after a member name")) < 0))
			return r;
		if ((r = dg_skip(s, depth + 1)) < 0)
			return r;
		int c = dg_peek(s);
		if (c == ',') {
			s->p++;
			continue;
		}
		if (c == close) {
			s->p++;
			return 0;
		}
		return dg_fail(s, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

/* dg_skip() - any JSON value, nested at most DG_DEPTH_MAX levels. */
static int dg_skip(struct dg *s, int depth)
{
	char *str;

	if (depth > DG_DEPTH_MAX)
		return dg_fail(s, "nested too deep");
	int c = dg_peek(s);
	switch (c) {
	case '"':
		return dg_string(s, &str);
	case '{':
	case '[':
		s->p++;
		return dg_skip_container(s, c == '{', depth);
	case 't':
	case 'f':
	case 'n':
		return dg_word(s);
	default:
		return dg_skip_number(s);
	}
}

/* A member handler: parse the value of member @key (read, with its ':'). */
typedef int (*dg_member_fn)(struct dg *s, const char *key, void *ctx);
/* An element handler: parse element @i of an array. */
typedef int (*dg_elem_fn)(struct dg *s, size_t i, void *ctx);

/* dg_object() - an object: @member for each member, in order. */
static int dg_object(struct dg *s, dg_member_fn member, void *ctx)
{
	char *key;
	int r;

	if ((r = dg_lit(s, '{', "expected an object")) < 0)
		return r;
	if (dg_peek(s) == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		if ((r = dg_string(s, &key)) < 0 ||
		    (r = dg_lit(s, ':', "expected ':' after a member name")) < 0 ||
		    (r = member(s, key, ctx)) < 0)
			return r;
		int c = dg_peek(s);
		if (c == ',') {
			s->p++;
			continue;
		}
		if (c == '}') {
			s->p++;
			return 0;
		}
		return dg_fail(s, "expected ',' or '}'");
	}
}

/* dg_array() - an array: @elem for each element, in order. */
static int dg_array(struct dg *s, dg_elem_fn elem, void *ctx)
{
	int r;

	if ((r = dg_lit(s, '[', "expected an array")) < 0)
		return r;
	if (dg_peek(s) == ']') {
		s->p++;
		return 0;
	}
	for (size_t i = 0;; i++) {
		if ((r = elem(s, i, ctx)) < 0)
			return r;
		int c = dg_peek(s);
		if (c == ',') {
			s->p++;
			continue;
		}
		if (c == ']') {
			s->p++;
			return 0;
		}
		return dg_fail(s, "expected ',' or ']'");
	}
}

/* dg_once() - mark member @bit of @seen; a second time is an error. */
static int dg_once(struct dg *s, unsigned *seen, unsigned bit, const char *key)
{
	if (*seen & bit)
		return dg_fail_member(s, key, "given twice");
	*seen |= bit;
	return 0;
}

/* dg_domain() - check and lower-case a domain in place: 1..TLSRPT_DOMAIN_MAX bytes after
 * one final dot is dropped, no empty label; letters, digits, '-', '_', '.' and UTF-8
 * (U-labels) only. */
static bool dg_domain(char *d)
{
	size_t n = strlen(d);
	if (n > 1 && d[n - 1] == '.')
		d[--n] = '\0';
	if (n == 0 || n > TLSRPT_DOMAIN_MAX || d[0] == '.' || d[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.' && d[i + 1] == '.')
			return false;
		if (c >= 'A' && c <= 'Z')
			d[i] = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		           c == '_' || c == '.' || c >= 0x80))
			return false;
	}
	return true;
}

/* A string array member, into @v (at most @max entries; @n counts them). */
struct dg_strings {
	const char *key;
	const char **v;
	size_t *n, max;
};

static int dg_string_elem(struct dg *s, size_t i, void *ctx)
{
	struct dg_strings *a = ctx;
	char *str;
	int r;

	if (i >= a->max)
		return dg_fail_member(s, a->key, "more entries than the collector keeps");
	if ((r = dg_string(s, &str)) < 0)
		return r;
	a->v[i] = str;
	*a->n = i + 1;
	return 0;
}

struct dg_policy_ctx {
	struct tlsrpt_policy *pol;
	unsigned seen;
	bool unfinished;
};

struct dg_detail_ctx {
	struct tlsrpt_detail det;
	unsigned seen;
	long long code;
};

static int dg_detail_member(struct dg *s, const char *key, void *ctx)
{
	static const char *const names[] = { "s", "n", "h", "r", "a", "f" };
	struct dg_detail_ctx *dc = ctx;
	const char **fields[] = { &dc->det.sending_ip,   &dc->det.mx_host,    &dc->det.mx_helo,
		                  &dc->det.receiving_ip, &dc->det.additional, &dc->det.reason };
	char *str;
	int r;

	if (strcmp(key, "c") == 0) {
		if ((r = dg_once(s, &dc->seen, 1u, key)) < 0 || (r = dg_int(s, &dc->code)) < 0)
			return r;
		if (dc->code != TLSRPT_DATAGRAM_UNFINISHED &&
		    !(dc->code >= 0 && dc->code < 1000 && tlsrpt_result_name((int)dc->code)))
			return dg_fail_member(s, key, "unknown result code");
		return 0;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(key, names[i]) != 0)
			continue;
		if ((r = dg_once(s, &dc->seen, 2u << i, key)) < 0 || (r = dg_string(s, &str)) < 0)
			return r;
		*fields[i] = str;
		return 0;
	}
	return dg_skip(s, 3);
}

static int dg_detail_elem(struct dg *s, size_t i, void *ctx)
{
	struct dg_policy_ctx *pc = ctx;
	struct dg_detail_ctx dc = { .seen = 0 };
	int r;

	(void)i;
	if ((r = dg_object(s, dg_detail_member, &dc)) < 0)
		return r;
	if (!(dc.seen & 1u))
		return dg_fail_member(s, "c", "missing in a failure detail");
	if (dc.code == TLSRPT_DATAGRAM_UNFINISHED) {
		pc->unfinished = true;
		return 0;
	}
	if (pc->pol->n_details >= TLSRPT_DETAILS_MAX)
		return dg_fail_member(s, "failure-details",
		                      "more entries than the collector keeps");
	dc.det.result = (enum tlsrpt_result)dc.code;
	pc->pol->details[pc->pol->n_details++] = dc.det;
	return 0;
}

enum {
	DG_P_TYPE = 1u << 0,
	DG_P_DOMAIN = 1u << 1,
	DG_P_STRINGS = 1u << 2,
	DG_P_MX = 1u << 3,
	DG_P_DETAILS = 1u << 4,
	DG_P_T = 1u << 5,
	DG_P_F = 1u << 6,
};

static int dg_policy_member(struct dg *s, const char *key, void *ctx)
{
	struct dg_policy_ctx *pc = ctx;
	struct tlsrpt_policy *pol = pc->pol;
	long long v;
	char *str;
	int r;

	if (strcmp(key, "policy-type") == 0) {
		if ((r = dg_once(s, &pc->seen, DG_P_TYPE, key)) < 0 || (r = dg_int(s, &v)) < 0)
			return r;
		if (v != TLSRPT_POLICY_TLSA && v != TLSRPT_POLICY_STS && v != TLSRPT_POLICY_NONE)
			return dg_fail_member(s, key, "unknown policy type");
		pol->type = (enum tlsrpt_policy_type)v;
	} else if (strcmp(key, "policy-domain") == 0) {
		if ((r = dg_once(s, &pc->seen, DG_P_DOMAIN, key)) < 0 ||
		    (r = dg_string(s, &str)) < 0)
			return r;
		if (!dg_domain(str))
			return dg_fail_member(s, key, "not a domain name");
		pol->domain = str;
	} else if (strcmp(key, "policy-string") == 0) {
		struct dg_strings a = { key, pol->strings, &pol->n_strings,
			                TLSRPT_POLICY_STRINGS_MAX };
		if ((r = dg_once(s, &pc->seen, DG_P_STRINGS, key)) < 0)
			return r;
		return dg_array(s, dg_string_elem, &a);
	} else if (strcmp(key, "mx-host") == 0) {
		struct dg_strings a = { key, pol->mx, &pol->n_mx, TLSRPT_MX_HOSTS_MAX };
		if ((r = dg_once(s, &pc->seen, DG_P_MX, key)) < 0)
			return r;
		return dg_array(s, dg_string_elem, &a);
	} else if (strcmp(key, "failure-details") == 0) {
		if ((r = dg_once(s, &pc->seen, DG_P_DETAILS, key)) < 0)
			return r;
		return dg_array(s, dg_detail_elem, pc);
	} else if (strcmp(key, "t") == 0) {
		if ((r = dg_once(s, &pc->seen, DG_P_T, key)) < 0 || (r = dg_int(s, &v)) < 0)
			return r;
		if (v < 0)
			return dg_fail_member(s, key, "negative count");
	} else if (strcmp(key, "f") == 0) {
		if ((r = dg_once(s, &pc->seen, DG_P_F, key)) < 0 || (r = dg_int(s, &v)) < 0)
			return r;
		if (v != 0 && v != 1)
			return dg_fail_member(s, key, "final result not 0 or 1");
		pol->success = v == 0;
	} else {
		return dg_skip(s, 2);
	}
	return 0;
}

static int dg_policy_elem(struct dg *s, size_t i, void *ctx)
{
	struct tlsrpt_event *ev = ctx;
	int r;

	if (i >= TLSRPT_POLICIES_MAX)
		return dg_fail_member(s, "policies", "more entries than the collector keeps");
	struct tlsrpt_policy *pol = &ev->policies[i];
	memset(pol, 0, sizeof(*pol));
	struct dg_policy_ctx pc = { .pol = pol };
	if ((r = dg_object(s, dg_policy_member, &pc)) < 0)
		return r;
	if (!(pc.seen & DG_P_TYPE))
		return dg_fail_member(s, "policy-type", "missing in a policy");
	if (!(pc.seen & DG_P_F))
		return dg_fail_member(s, "f", "missing in a policy");
	if (pc.unfinished)
		pol->success = false;
	ev->n_policies = i + 1;
	return 0;
}

enum {
	DG_T_DPV = 1u << 0,
	DG_T_D = 1u << 1,
	DG_T_PR = 1u << 2,
	DG_T_POLICIES = 1u << 3,
};

struct dg_top_ctx {
	struct tlsrpt_event *ev;
	unsigned seen;
};

static int dg_top_member(struct dg *s, const char *key, void *ctx)
{
	struct dg_top_ctx *tc = ctx;
	char *str;
	int r;

	if (strcmp(key, "dpv") == 0) {
		if ((r = dg_once(s, &tc->seen, DG_T_DPV, key)) < 0 || (r = dg_string(s, &str)) < 0)
			return r;
		if (strcmp(str, "1") != 0)
			return dg_fail_member(s, key, "unsupported datagram protocol version");
	} else if (strcmp(key, "d") == 0) {
		if ((r = dg_once(s, &tc->seen, DG_T_D, key)) < 0 || (r = dg_string(s, &str)) < 0)
			return r;
		if (!dg_domain(str))
			return dg_fail_member(s, key, "not a domain name");
		tc->ev->domain = str;
	} else if (strcmp(key, "pr") == 0) {
		if ((r = dg_once(s, &tc->seen, DG_T_PR, key)) < 0 || (r = dg_string(s, &str)) < 0)
			return r;
		tc->ev->tlsrpt = str;
	} else if (strcmp(key, "policies") == 0) {
		if ((r = dg_once(s, &tc->seen, DG_T_POLICIES, key)) < 0)
			return r;
		return dg_array(s, dg_policy_elem, tc->ev);
	} else {
		return dg_skip(s, 1);
	}
	return 0;
}

int tlsrpt_datagram_parse(const char *p, size_t n, long long now,
                          struct tlsrpt_datagram_buf *scratch, struct tlsrpt_event *ev,
                          struct buf *err)
{
	struct dg s = { .start = p, .p = p, .end = p + n, .err = err };
	struct dg_top_ctx tc = { .ev = ev };
	int r;

	/* decoded strings with their NULs fit in @n bytes; the slack keeps dg_string()'s
	 * room check (5 bytes) from tripping on a string that ends the datagram */
	if (scratch->cap < n + 8) {
		scratch->data = xrealloc(scratch->data, n + 8);
		scratch->cap = n + 8;
	}
	s.out = scratch->data;
	s.out_end = scratch->data + scratch->cap;
	ev->time = now;
	ev->domain = NULL;
	ev->tlsrpt = NULL;
	ev->n_policies = 0;

	if (n == 0)
		return dg_fail(&s, "empty datagram");
	if (dg_peek(&s) != '{')
		return dg_fail(&s, "not a JSON object");
	if ((r = dg_object(&s, dg_top_member, &tc)) < 0)
		return r;
	if (dg_peek(&s) != -1)
		return dg_fail(&s, "data after the object");
	if (!(tc.seen & DG_T_D))
		return dg_fail_member(&s, "d", "missing");
	if (!(tc.seen & DG_T_POLICIES))
		return dg_fail_member(&s, "policies", "missing");
	if (ev->n_policies == 0)
		return dg_fail_member(&s, "policies", "empty");
	return 0;
}
