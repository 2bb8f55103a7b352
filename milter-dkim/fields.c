/* fields: the ordered header fields of one message, for verifiers.
 *
 * RFC 6376 5.4.2 (several instances of a name are taken from the bottom up, a name
 * listed more often than present hashes nothing) and 3.7 (the header hash input).
 * Unlike headers.c, which keeps only the fields a signer covers, this keeps every
 * field: a signature may list any name. Bounded by FIELDS_MAX (Postfix's own
 * header_size_limit bounds the bytes). Pure; one object per message.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fields.h"
#include "tags.h"
#include "xalloc.h"

struct field {
	char *name;
	char *value;
};

struct fields {
	struct field *v;
	size_t n, cap;
};

struct fields *fields_new(void)
{
	return xcalloc(1, sizeof(struct fields));
}

void fields_free(struct fields *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].value);
	}
	free(f->v);
	free(f);
}

int fields_add(struct fields *f, const char *name, const char *value)
{
	if (f->n == FIELDS_MAX)
		return -E2BIG;
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 32;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	f->v[f->n++] = (struct field){ xstrdup(name), xstrdup(value) };
	return 0;
}

size_t fields_count(const struct fields *f)
{
	return f->n;
}

const char *fields_name(const struct fields *f, size_t i)
{
	return f->v[i].name;
}

const char *fields_value(const struct fields *f, size_t i)
{
	return f->v[i].value;
}

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool name_is(const char *field, const char *a, size_t len)
{
	size_t flen = strlen(field);
	while (flen && is_fws(field[flen - 1]))
		flen--;
	return flen == len && strncasecmp(field, a, len) == 0;
}

/* The instance of name [a, a+len) below index @below, from the bottom; f->n if none. */
static size_t find_up(const struct fields *f, const char *a, size_t len, size_t below)
{
	for (size_t i = below; i-- > 0;)
		if (name_is(f->v[i].name, a, len))
			return i;
	return f->n;
}

struct pick {
	const char *a; /* the name in hlist */
	size_t len;
	size_t cursor; /* its last pick (f->n: none yet, 0: none left) */
};

void fields_block(const struct fields *f, const char *hlist, enum canon_mode mode,
                  struct buf *block)
{
	/* For every name already seen in hlist: where its last pick was (bottom-up). */
	size_t nnames = 1;
	for (const char *p = hlist; *p; p++)
		nnames += *p == ':';
	struct pick *seen = xcalloc(nnames, sizeof(*seen));
	size_t nseen = 0;
	const char *pos = hlist;
	size_t len;
	for (const char *a; (a = tags_list_next(&pos, ':', &len));) {
		size_t k;
		for (k = 0; k < nseen; k++)
			if (seen[k].len == len && strncasecmp(seen[k].a, a, len) == 0)
				break;
		if (k == nseen)
			seen[nseen++] = (struct pick){ a, len, f->n };
		if (!len || seen[k].cursor == 0)
			continue;
		size_t i = find_up(f, a, len, seen[k].cursor);
		seen[k].cursor = i == f->n ? 0 : i;
		if (i != f->n) {
			canon_header(block, mode, f->v[i].name, f->v[i].value);
			buf_append(block, "\r\n", 2);
		}
	}
	free(seen);
}
