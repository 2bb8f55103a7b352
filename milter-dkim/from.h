/* from: the RFC5322.From domain a DKIM signature is made for. */
#ifndef POSTWARDEN_DKIM_FROM_H
#define POSTWARDEN_DKIM_FROM_H

#include "buf.h"

/* from_domain() outcome: the value names no usable domain (why added to @err). */
#define FROM_UNUSABLE 1

/**
 * from_domain() - the domain of the author address(es) in a From field value.
 * @value: the field value as Postfix gives it (folds as "\n"), NUL-terminated
 * @domain: on success, the domain, lower-cased, without a trailing dot (caller frees)
 * @err: on FROM_UNUSABLE, gets one line saying why ("From header has no address", ...);
 *       may be NULL (buf.h's error convention)
 *
 * Accepts addr-spec and name-addr forms, quoted display names and local parts,
 * comments, obsolete routes and group syntax (RFC 5322 3.4, RFC 6854). Several
 * mailboxes are accepted only when they all share one domain.
 *
 * Return: 0, or FROM_UNUSABLE.
 */
int from_domain(const char *value, char **domain, struct buf *err);

#endif
