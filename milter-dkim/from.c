/* from: extract the author domain from a From header field value.
 *
 * RFC 5322 3.4 (mailbox-list, name-addr, addr-spec, obs-route), RFC 6854 (group
 * syntax allowed in From). A small lexer drops comments and folding whitespace
 * and yields atoms, quoted strings, domain literals and specials; the parser
 * walks mailboxes separated by ',' (and groups closed by ';') and takes the
 * domain after the last '@' of each address. The outcome is the one domain all
 * mailboxes share, lower-cased and checked to be a plain LDH host name, or a
 * reason why the message cannot be signed for a domain. No allocation survives
 * except the returned domain. Pure: no locale, no global state, thread safe.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "from.h"
#include "xalloc.h"

enum tok_kind {
	TOK_ATOM,
	TOK_QUOTED,
	TOK_LITERAL,
	TOK_SPECIAL,
};

struct tok {
	enum tok_kind kind;
	const char *p; /* ATOM: the text; SPECIAL: the char */
	size_t len;
};

struct toks {
	struct tok *v;
	size_t n, cap;
};

static void toks_push(struct toks *t, enum tok_kind kind, const char *p, size_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	t->v[t->n++] = (struct tok){ kind, p, len };
}

static bool is_special(char c)
{
	return strchr("()<>[]:;@\\,\"", c) != NULL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip a comment starting at *pp == '('; false when unterminated. */
static bool skip_comment(const char **pp)
{
	const char *p = *pp;
	unsigned depth = 0;
	for (; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				return false;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && --depth == 0) {
			*pp = p + 1;
			return true;
		}
	}
	return false;
}

/* Skip a quoted string or literal from its opening char to after @close. */
static bool skip_until(const char **pp, char close)
{
	for (const char *p = *pp + 1; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				return false;
		} else if (*p == close) {
			*pp = p + 1;
			return true;
		}
	}
	return false;
}

static bool lex(const char *s, struct toks *t)
{
	const char *p = s;
	while (*p) {
		const char *start = p;
		if (is_space(*p)) {
			p++;
		} else if (*p == '(') {
			if (!skip_comment(&p))
				return false;
		} else if (*p == '"') {
			if (!skip_until(&p, '"'))
				return false;
			toks_push(t, TOK_QUOTED, start, (size_t)(p - start));
		} else if (*p == '[') {
			if (!skip_until(&p, ']'))
				return false;
			toks_push(t, TOK_LITERAL, start, (size_t)(p - start));
		} else if (*p == ')' || *p == ']' || *p == '\\') {
			return false;
		} else if (is_special(*p)) {
			toks_push(t, TOK_SPECIAL, p++, 1);
		} else {
			while (*p && !is_space(*p) && !is_special(*p))
				p++;
			toks_push(t, TOK_ATOM, start, (size_t)(p - start));
		}
	}
	return true;
}

static bool tok_is(const struct tok *t, char c)
{
	return t->kind == TOK_SPECIAL && t->p[0] == c;
}

/* Lower-case, drop one trailing dot, check LDH labels; false when unusable. */
static bool domain_normalize(struct buf *d)
{
	if (d->len && d->data[d->len - 1] == '.')
		d->data[--d->len] = '\0';
	if (d->len == 0 || d->len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < d->len; i++) {
		char c = d->data[i];
		if (c >= 'A' && c <= 'Z')
			d->data[i] = c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0 || d->data[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if ((c == '-' && label == 0) || ++label > 63)
			return false;
	}
	return d->data[d->len - 1] != '-';
}

struct parse {
	const struct toks *t;
	char *domain; /* the first mailbox's domain */
	size_t mailboxes;
	const char *reason;
};

/* One addr-spec in tokens [a, b): append its domain. */
static bool parse_addr_spec(struct parse *ps, size_t a, size_t b)
{
	const struct tok *v = ps->t->v;
	size_t at = b;
	for (size_t i = a; i < b; i++)
		if (tok_is(&v[i], '@'))
			at = i;
	if (at == b || at == a) {
		ps->reason = "From header has no address";
		return false;
	}
	for (size_t i = a; i < at; i++) {
		if (v[i].kind != TOK_ATOM && v[i].kind != TOK_QUOTED) {
			ps->reason = "unparsable From header";
			return false;
		}
	}
	struct buf d;
	buf_init(&d);
	bool ok = at + 1 < b;
	for (size_t i = at + 1; ok && i < b; i++) {
		if (v[i].kind == TOK_LITERAL)
			ps->reason = "From domain is an address literal";
		ok = v[i].kind == TOK_ATOM;
		if (ok && d.len && d.data[d.len - 1] != '.' && v[i].p[0] != '.')
			ok = false;
		buf_append(&d, v[i].p, v[i].len);
	}
	if (ok && !domain_normalize(&d)) {
		ok = false;
		ps->reason = "From domain is not a host name";
	}
	if (!ok) {
		if (!ps->reason)
			ps->reason = "unparsable From header";
		buf_fini(&d);
		return false;
	}
	ps->mailboxes++;
	if (!ps->domain) {
		ps->domain = buf_steal(&d, NULL);
	} else {
		if (strcmp(ps->domain, buf_cstr(&d)) != 0) {
			ps->reason = "From header has addresses in several domains";
			ok = false;
		}
		buf_fini(&d);
	}
	return ok;
}

/* One mailbox in tokens [a, b): name-addr or addr-spec; empty is skipped. */
static bool parse_mailbox(struct parse *ps, size_t a, size_t b)
{
	const struct tok *v = ps->t->v;
	if (a == b)
		return true;
	size_t lt = b, gt = b;
	for (size_t i = a; i < b; i++) {
		if (tok_is(&v[i], '<') && lt == b)
			lt = i;
		else if (tok_is(&v[i], '>') && gt == b)
			gt = i;
	}
	if (lt == b && gt == b)
		return parse_addr_spec(ps, a, b);
	if (lt == b || gt < lt || gt + 1 != b) {
		ps->reason = "unparsable From header";
		return false;
	}
	size_t start = lt + 1;
	for (size_t i = lt + 1; i < gt; i++)
		if (tok_is(&v[i], ':'))
			start = i + 1;
	for (size_t i = a; i < lt; i++) {
		if (v[i].kind != TOK_ATOM && v[i].kind != TOK_QUOTED) {
			ps->reason = "unparsable From header";
			return false;
		}
	}
	return parse_addr_spec(ps, start, gt);
}

static bool parse_list(struct parse *ps)
{
	const struct toks *t = ps->t;
	bool in_group = false, in_angle = false;
	size_t start = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct tok *k = &t->v[i];
		if (k->kind != TOK_SPECIAL)
			continue;
		switch (k->p[0]) {
		case '<':
			if (in_angle)
				goto bad;
			in_angle = true;
			break;
		case '>':
			if (!in_angle)
				goto bad;
			in_angle = false;
			break;
		case ':':
			if (in_angle)
				break;
			if (in_group)
				goto bad;
			in_group = true;
			start = i + 1;
			break;
		case ';':
		case ',':
			if (in_angle && k->p[0] == ',')
				break;
			if (in_angle || (k->p[0] == ';' && !in_group))
				goto bad;
			if (!parse_mailbox(ps, start, i))
				return false;
			if (k->p[0] == ';')
				in_group = false;
			start = i + 1;
			break;
		default:
			break;
		}
	}
	if (in_angle || in_group)
		goto bad;
	return parse_mailbox(ps, start, t->n);
bad:
	ps->reason = "unparsable From header";
	return false;
}

int from_domain(const char *value, char **domain, struct buf *err)
{
	struct toks t = { 0 };
	struct parse ps = { .t = &t };
	bool ok = lex(value, &t);
	if (!ok)
		ps.reason = "unparsable From header";
	else
		ok = parse_list(&ps);
	if (ok && ps.mailboxes == 0) {
		ok = false;
		ps.reason = "From header has no address";
	}
	free(t.v);
	if (!ok) {
		free(ps.domain);
		*domain = NULL;
		buf_add_line(err, "%s", ps.reason);
		return FROM_UNUSABLE;
	}
	*domain = ps.domain;
	return 0;
}
