/* headers: choose the header fields a DKIM signature covers.
 *
 * RFC 6376 5.4 (which fields to sign), 5.4.1 (the recommended set), 5.4.2
 * (several instances are taken from the bottom up; a name listed more often
 * than present hashes nothing, which is how oversigning stops a later
 * addition), 3.4.2 (relaxed form). Only fields of the recommended set are kept
 * (1000 unrelated headers cost one name compare each) and From fields are
 * counted: a message with no From or several From fields is not signed, and
 * headers_from_domain() says why. Pure; one object per message, not shared.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "canon.h"
#include "from.h"
#include "headers.h"
#include "xalloc.h"

struct signed_name {
	const char *name;
	bool oversign;
};

static const struct signed_name signed_names[] = {
	{ "from", true },
	{ "reply-to", true },
	{ "subject", true },
	{ "date", true },
	{ "to", true },
	{ "cc", true },
	{ "resent-date", false },
	{ "resent-from", false },
	{ "resent-to", false },
	{ "resent-cc", false },
	{ "in-reply-to", false },
	{ "references", false },
	{ "list-id", false },
	{ "list-help", false },
	{ "list-unsubscribe", false },
	{ "list-subscribe", false },
	{ "list-post", false },
	{ "list-owner", false },
	{ "list-archive", false },
	{ "message-id", true },
	{ "mime-version", true },
	{ "content-type", true },
	{ "content-transfer-encoding", true },
	{ "content-id", false },
	{ "content-description", false },
};

#define N_SIGNED (sizeof(signed_names) / sizeof(signed_names[0]))

struct field {
	size_t which; /* index in signed_names */
	char *name;
	char *value;
};

struct headers {
	struct field *v;
	size_t n, cap;
	size_t from_count;
	size_t from_index; /* in v, of the last From */
	size_t dropped;    /* signed-set fields over HEADERS_SIGNED_MAX */
};

struct headers *headers_new(void)
{
	return xcalloc(1, sizeof(struct headers));
}

void headers_free(struct headers *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	free(h);
}

static size_t signed_index(const char *name)
{
	size_t len = strlen(name);
	while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	for (size_t i = 0; i < N_SIGNED; i++)
		if (strlen(signed_names[i].name) == len &&
		    strncasecmp(signed_names[i].name, name, len) == 0)
			return i;
	return N_SIGNED;
}

void headers_add(struct headers *h, const char *name, const char *value)
{
	size_t which = signed_index(name);
	if (which == N_SIGNED)
		return;
	if (h->n == HEADERS_SIGNED_MAX) {
		h->dropped++;
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 16;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	if (which == 0) {
		h->from_count++;
		h->from_index = h->n;
	}
	h->v[h->n++] = (struct field){ which, xstrdup(name), xstrdup(value) };
}

int headers_from_domain(const struct headers *h, char **domain, struct buf *err)
{
	*domain = NULL;
	if (h->dropped) {
		buf_add_line(err, "%zu header fields of the signed set (at most %d are signed)",
		             h->n + h->dropped, HEADERS_SIGNED_MAX);
		return HEADERS_UNSIGNABLE;
	}
	if (h->from_count != 1) {
		if (h->from_count == 0)
			buf_add_line(err, "no From header");
		else
			buf_add_line(err, "%zu From headers", h->from_count);
		return HEADERS_UNSIGNABLE;
	}
	if (from_domain(h->v[h->from_index].value, domain, err) != 0)
		return HEADERS_UNSIGNABLE;
	return 0;
}

void headers_select(const struct headers *h, struct buf *hlist, struct buf *block)
{
	for (size_t w = 0; w < N_SIGNED; w++) {
		for (size_t i = h->n; i-- > 0;) {
			if (h->v[i].which != w)
				continue;
			if (hlist->len)
				buf_putc(hlist, ':');
			buf_puts(hlist, signed_names[w].name);
			canon_header_relaxed(block, h->v[i].name, h->v[i].value);
			buf_append(block, "\r\n", 2);
		}
		if (signed_names[w].oversign) {
			if (hlist->len)
				buf_putc(hlist, ':');
			buf_puts(hlist, signed_names[w].name);
		}
	}
}
