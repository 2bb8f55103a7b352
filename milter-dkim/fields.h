/* fields: every header field of one message, in order, for verifying (h= lists). */
#ifndef POSTWARDEN_DKIM_FIELDS_H
#define POSTWARDEN_DKIM_FIELDS_H

#include <stddef.h>

#include "buf.h"
#include "canon.h"

/* At most this many fields are kept; fields_add() refuses more. */
#define FIELDS_MAX 1000

struct fields;

/* fields_new() - an empty list (never NULL). */
struct fields *fields_new(void);
/* fields_free() - free @f (NULL is fine). */
void fields_free(struct fields *f);

/**
 * fields_add() - record the next header field, top to bottom.
 * @f: list
 * @name: field name (copied)
 * @value: field value as received (copied)
 *
 * Return: 0, or -E2BIG past FIELDS_MAX fields (the field is not kept).
 */
int fields_add(struct fields *f, const char *name, const char *value);

/* fields_count() - number of fields kept. */
size_t fields_count(const struct fields *f);
/* fields_name()/fields_value() - field @i (0 is the top), owned by @f. */
const char *fields_name(const struct fields *f, size_t i);
const char *fields_value(const struct fields *f, size_t i);

/**
 * fields_block() - the canonical header block an h= list stands for (RFC 6376 5.4.2).
 * @f: list
 * @hlist: the h= value: names separated by ':', FWS allowed
 * @mode: header canonicalization
 * @block: receives each chosen field in @mode's form followed by CRLF
 *
 * Each listed name takes the next instance of that name from the bottom up; a name
 * listed more often than present contributes nothing.
 */
void fields_block(const struct fields *f, const char *hlist, enum canon_mode mode,
                  struct buf *block);

#endif
