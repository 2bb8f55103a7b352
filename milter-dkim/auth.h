/* auth: verify one inbound message: its DKIM-Signatures and its ARC chain. */
#ifndef POSTWARDEN_DKIM_AUTH_H
#define POSTWARDEN_DKIM_AUTH_H

#include <stddef.h>
#include <time.h>

#include "arc.h"
#include "bodyhash.h"
#include "fields.h"
#include "verify.h"

/* At most this many DKIM-Signatures (the topmost) are verified per message. */
#define AUTH_DKIM_MAX 10

struct auth_dkim {
	enum verify_result result;
	char *d, *s;     /* d= and s= ("" when the signature had none) */
	char *b;         /* b= without FWS, for header.b ("" when none) */
	const char *alg; /* "rsa-sha256" or "ed25519-sha256" (NULL when unknown) */
	struct buf why;  /* reason unless pass */
};

struct auth;

/* auth_new() - start verifying one message (never NULL). */
struct auth *auth_new(void);
/* auth_free() - free @a (NULL is fine). */
void auth_free(struct auth *a);

/**
 * auth_header() - the next header field, top to bottom.
 * @a: verifier
 * @name: field name
 * @value: value as received (with HDR_LEADSPC: the leading space included)
 *
 * Return: 0, or -E2BIG past FIELDS_MAX fields (auth_run() then reports every
 * signature as permerror).
 */
int auth_header(struct auth *a, const char *name, const char *value);

/**
 * auth_headers_done() - parse the signature fields and ask for the body hashes
 * they need; after the last header, before the body.
 * @a: verifier
 * @sealing: also hash the whole body relaxed (for an ARC-Message-Signature or a
 *           DKIM-Signature to come: auth_relaxed_body())
 */
void auth_headers_done(struct auth *a, bool sealing);

/* auth_body() - the next body chunk. Return: 0 or -EIO. */
int auth_body(struct auth *a, const void *data, size_t len);

/**
 * auth_run() - verify every signature (the lookups happen here).
 * @a: verifier, after the whole body
 * @keys: key source
 * @now: the time x= and t= are checked against
 */
void auth_run(struct auth *a, const struct verify_keys *keys, time_t now);

/* auth_dkim_count()/auth_dkim_get() - the DKIM results, top to bottom. */
size_t auth_dkim_count(const struct auth *a);
const struct auth_dkim *auth_dkim_get(const struct auth *a, size_t i);

/* auth_arc() - the message's ARC chain; its cv is set by auth_run(). */
const struct arc_chain *auth_arc(const struct auth *a);

/**
 * auth_seal() - make the next ARC set for the message (arc_seal()).
 * @a: verifier, after auth_run(), made with auth_headers_done(@sealing = true)
 * @p: the sealer's parameters
 * @out: receives the set
 * @why: on ARC_NOT_SEALED, why; may be NULL
 *
 * Return: 0, ARC_NOT_SEALED, -errno.
 */
int auth_seal(struct auth *a, const struct arc_seal_params *p, struct arc_new_set *out,
              struct buf *why);

/* auth_fields() - the message's header fields. */
const struct fields *auth_fields(const struct auth *a);

/**
 * auth_relaxed_body() - the relaxed body hash of the whole body (auth_headers_done()
 * with @sealing). Return: 0, or -EIO / -ENOSPC.
 */
int auth_relaxed_body(struct auth *a, unsigned char digest[CANON_DIGEST_LEN]);

#endif
