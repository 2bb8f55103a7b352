/* from: the RFC5322.From domain a DKIM signature is made for. */
#ifndef POSTWARDEN_DKIM_FROM_H
#define POSTWARDEN_DKIM_FROM_H

/* from_domain() outcome: the value names no usable domain (reason set). */
#define FROM_UNUSABLE 1

/**
 * from_domain() - the domain of the author address(es) in a From field value.
 * @value: the field value as Postfix gives it (folds as "\n"), NUL-terminated
 * @domain: on success, the domain, lower-cased, without a trailing dot (caller frees)
 * @reason: on FROM_UNUSABLE, a static string saying why ("From header has no address", ...)
 *
 * Accepts addr-spec and name-addr forms, quoted display names and local parts,
 * comments, obsolete routes and group syntax (RFC 5322 3.4, RFC 6854). Several
 * mailboxes are accepted only when they all share one domain.
 *
 * Return: 0, or FROM_UNUSABLE.
 */
int from_domain(const char *value, char **domain, const char **reason);

#endif
