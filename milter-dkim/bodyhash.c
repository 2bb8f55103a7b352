/* bodyhash: a set of streaming body canonicalizers (canon.c), one per distinct
 * (canonicalization, l=) pair, so one body hash serves every DKIM-Signature and
 * ARC-Message-Signature that asks for the same one (RFC 6376 3.7, 5.3; RFC 8617
 * 4.1.2). Bounded at BODYHASH_MAX pairs: a message cannot make us hash its body
 * more times than that. One object per message; no shared state.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bodyhash.h"
#include "xalloc.h"

struct slot {
	enum canon_mode mode;
	long long limit;
	struct canon_body *cb;
	unsigned char digest[CANON_DIGEST_LEN];
	unsigned long long len;
};

struct bodyhash {
	struct slot v[BODYHASH_MAX];
	int n;
	bool started, done, failed;
};

struct bodyhash *bodyhash_new(void)
{
	return xcalloc(1, sizeof(struct bodyhash));
}

void bodyhash_free(struct bodyhash *bh)
{
	if (!bh)
		return;
	for (int i = 0; i < bh->n; i++)
		canon_body_free(bh->v[i].cb);
	free(bh);
}

int bodyhash_want(struct bodyhash *bh, enum canon_mode mode, long long limit)
{
	if (limit < 0)
		limit = -1;
	for (int i = 0; i < bh->n; i++)
		if (bh->v[i].mode == mode && bh->v[i].limit == limit)
			return i;
	if (bh->started)
		return -EINVAL;
	if (bh->n == BODYHASH_MAX)
		return -ENOSPC;
	struct canon_body *cb = canon_body_new(mode);
	if (!cb)
		return -EIO;
	if (limit >= 0)
		canon_body_limit(cb, (unsigned long long)limit);
	bh->v[bh->n] = (struct slot){ .mode = mode, .limit = limit, .cb = cb };
	return bh->n++;
}

int bodyhash_update(struct bodyhash *bh, const void *data, size_t len)
{
	bh->started = true;
	for (int i = 0; i < bh->n; i++)
		if (canon_body_update(bh->v[i].cb, data, len) < 0)
			bh->failed = true;
	return bh->failed ? -EIO : 0;
}

int bodyhash_get(struct bodyhash *bh, int slot, unsigned char digest[CANON_DIGEST_LEN],
                 unsigned long long *len)
{
	if (slot < 0 || slot >= bh->n)
		return -EINVAL;
	if (!bh->done) {
		bh->started = bh->done = true;
		for (int i = 0; i < bh->n; i++) {
			if (canon_body_final(bh->v[i].cb, bh->v[i].digest) < 0)
				bh->failed = true;
			bh->v[i].len = canon_body_length(bh->v[i].cb);
		}
	}
	if (bh->failed)
		return -EIO;
	memcpy(digest, bh->v[slot].digest, CANON_DIGEST_LEN);
	if (len)
		*len = bh->v[slot].len;
	return 0;
}
