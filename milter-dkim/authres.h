/* authres: Authentication-Results (RFC 8601) values: read the authserv-id of
 * existing ones, write ours. */
#ifndef POSTWARDEN_DKIM_AUTHRES_H
#define POSTWARDEN_DKIM_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "buf.h"

/**
 * authres_id() - the authserv-id an Authentication-Results value begins with.
 * @value: the field value
 * @id: receives the id (appended)
 * @rest: if not NULL, receives where the results begin (after the id, its
 *        optional version and the ';'), or NULL when the value has none ("none")
 *
 * Return: 0, or -EINVAL when there is no id.
 */
int authres_id(const char *value, struct buf *id, const char **rest);

/* authres_id_is() - does @value claim authserv-id @want (case-insensitive)? */
bool authres_id_is(const char *value, const char *want);

/**
 * authres_results() - our results for @a, one per method, joined with ";\n\t":
 * "dkim=pass header.d=... header.s=... header.a=... header.b=<8 chars>" per
 * signature (a reason="..." unless pass), "dkim=none" without any, and "arc=...".
 * Values that are not plain tokens are written as quoted strings, so a forged
 * signature cannot add results.
 * @out: receives the text (appended)
 * @a: the verifier after auth_run()
 */
void authres_results(struct buf *out, const struct auth *a);

#endif
