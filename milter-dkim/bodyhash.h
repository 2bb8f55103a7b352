/* bodyhash: the body hashes one message needs, each computed once while streaming. */
#ifndef POSTWARDEN_DKIM_BODYHASH_H
#define POSTWARDEN_DKIM_BODYHASH_H

#include <stddef.h>

#include "canon.h"

/* At most this many different (canonicalization, l=) pairs per message. */
#define BODYHASH_MAX 8

struct bodyhash;

/* bodyhash_new() - an empty set (never NULL). */
struct bodyhash *bodyhash_new(void);
/* bodyhash_free() - free @bh (NULL is fine). */
void bodyhash_free(struct bodyhash *bh);

/**
 * bodyhash_want() - ask for the hash of @mode cut at @limit; the same pair asked
 * twice shares one hash.
 * @bh: set, before the first bodyhash_update()
 * @mode: body canonicalization
 * @limit: l= value, or -1 for the whole body
 *
 * Return: a slot >= 0, -ENOSPC past BODYHASH_MAX pairs, -EINVAL after the body
 * began, -EIO when the digest cannot be made.
 */
int bodyhash_want(struct bodyhash *bh, enum canon_mode mode, long long limit);

/* bodyhash_update() - feed the next body chunk to every hash. Return: 0 or -EIO. */
int bodyhash_update(struct bodyhash *bh, const void *data, size_t len);

/**
 * bodyhash_get() - the digest of @slot (the first call ends every hash).
 * @bh: set
 * @slot: from bodyhash_want()
 * @digest: receives CANON_DIGEST_LEN bytes
 * @len: receives the canonical length of the whole body (may be NULL)
 *
 * Return: 0, -EINVAL for a bad slot, -EIO when a digest failed.
 */
int bodyhash_get(struct bodyhash *bh, int slot, unsigned char digest[CANON_DIGEST_LEN],
                 unsigned long long *len);

#endif
