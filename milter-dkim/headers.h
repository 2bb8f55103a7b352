/* headers: the header fields of one message that a DKIM signature covers. */
#ifndef POSTWARDEN_DKIM_HEADERS_H
#define POSTWARDEN_DKIM_HEADERS_H

#include "buf.h"

/* At most this many fields of the signed set are kept (an h= list, and memory, stay
 * bounded); a message with more goes out unsigned with a reason. */
#define HEADERS_SIGNED_MAX 256

/* headers_from_domain() outcome: no signing domain (why added to @err). */
#define HEADERS_UNSIGNABLE 1

struct headers;

/* headers_new() - an empty set (never NULL: out of memory is fatal). */
struct headers *headers_new(void);
/* headers_free() - free @h (NULL is fine). */
void headers_free(struct headers *h);

/**
 * headers_add() - record the next header field of the message, top to bottom.
 * @h: header set
 * @name: field name as Postfix gives it (copied)
 * @value: field value, folds as "\n" (copied only when the field may be signed)
 */
void headers_add(struct headers *h, const char *name, const char *value);

/**
 * headers_from_domain() - the RFC5322.From domain to sign for.
 * @h: header set
 * @domain: on success the lower-cased domain (caller frees), else NULL
 * @err: on HEADERS_UNSIGNABLE, gets one line saying why ("no From header", "2 From
 *       headers", ...); may be NULL
 *
 * Return: 0, or HEADERS_UNSIGNABLE.
 */
int headers_from_domain(const struct headers *h, char **domain, struct buf *err);

/**
 * headers_select() - the h= list and the canonical header block it stands for.
 * @h: header set
 * @hlist: receives the h= names joined with ':' (RFC 6376 5.4.1 set, lower case)
 * @block: receives each signed field in relaxed form followed by CRLF
 *
 * Every present instance of a listed field is signed, taken bottom-up (5.4.2);
 * From, To, Cc, Subject, Date, Reply-To, Message-ID, MIME-Version, Content-Type and
 * Content-Transfer-Encoding are listed once more than present (oversigning: the
 * extra name hashes as a null field). DKIM-Signature is never listed.
 */
void headers_select(const struct headers *h, struct buf *hlist, struct buf *block);

#endif
