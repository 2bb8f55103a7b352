/* tags: RFC 6376 3.2 tag=value lists (DKIM-Signature, key records, ARC-Seal,
 * ARC-Message-Signature). */
#ifndef POSTWARDEN_DKIM_TAGS_H
#define POSTWARDEN_DKIM_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* At most this many tags in one list (a longer list is refused). */
#define TAGS_MAX 32

struct tag {
	const char *name;  /* ALPHA *(ALPHA / DIGIT / "_") */
	const char *value; /* leading and trailing FWS removed; inner FWS kept */
};

struct tags {
	char *text; /* owned copy the names and values point into */
	size_t n;
	struct tag v[TAGS_MAX];
};

/**
 * tags_parse() - split @text into its tags.
 * @t: receives the tags in order (tags_fini() afterwards, also on failure)
 * @text: the list: tag *( ";" tag ) [";"], FWS allowed around names, "=" and values
 * @err: gets one line on failure; may be NULL
 *
 * A tag without "=", an empty tag before a ';' (";;"), a bad name, a repeated name
 * (RFC 6376 3.2: invalid) or more than TAGS_MAX tags makes the whole list invalid.
 *
 * Return: 0 or -EINVAL.
 */
int tags_parse(struct tags *t, const char *text, struct buf *err);

/* tags_fini() - free what tags_parse() made (a zeroed struct is fine). */
void tags_fini(struct tags *t);

/* tags_get() - the value of tag @name (case-sensitive, as RFC 6376 3.2 says), or NULL. */
const char *tags_get(const struct tags *t, const char *name);

/**
 * tags_base64() - decode a base64 value, ignoring FWS (b=, bh=, p=).
 * @s: the value
 * @out: receives the bytes (appended)
 *
 * Return: true, or false on a byte that is neither base64, padding nor FWS.
 */
bool tags_base64(const char *s, struct buf *out);

/**
 * tags_strip_b() - copy a raw field value with the value of its "b" tag removed.
 * @value: the field value exactly as received (folds kept)
 * @out: receives @value where only the characters between "b=" and the next ";"
 *       (or the end) are left out (RFC 6376 3.7: the signature's own hash input)
 */
void tags_strip_b(const char *value, struct buf *out);

/**
 * tags_list_next() - the next item of a @sep-separated list, FWS trimmed.
 * @pos: where to go on (start: the list); NULL after the last item
 * @sep: the separator
 * @len: receives the item's length
 *
 * Return: the item's start (not NUL-terminated), or NULL when there is none left.
 */
const char *tags_list_next(const char **pos, char sep, size_t *len);

/**
 * tags_list_has() - is @want one of the @sep-separated items of @list (FWS trimmed,
 * case-insensitive)?
 */
bool tags_list_has(const char *list, char sep, const char *want);

#endif
