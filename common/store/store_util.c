/* store_util: small helpers shared by the store backends.
 *
 * Clock (wall-clock milliseconds, because expiry times in an LMDB file are shared by
 * several processes), the integer rules INCRBY follows (canonical decimal, 64-bit,
 * overflow is -ERANGE, like Redis), and an item list that lets a backend collect
 * results under its lock and run the caller's callbacks after releasing it.
 * No shared state: thread safe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg_value.h"
#include "store_backend.h"
#include "xalloc.h"

void store_host_name(char *out, size_t outsz)
{
	if (gethostname(out, outsz) != 0)
		snprintf(out, outsz, "localhost");
	out[outsz - 1] = '\0';
}

uint64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t store_expiry_ms(unsigned ttl_s)
{
	return ttl_s ? store_now_ms() + (uint64_t)ttl_s * 1000 : 0;
}

int store_int_parse(const char *s, size_t len, long long *out)
{
	char tmp[24];

	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (!(tmp[0] == '-' || (tmp[0] >= '0' && tmp[0] <= '9')))
		return -EINVAL;
	return cfg_parse_int(tmp, out) < 0 ? -EINVAL : 0;
}

int store_int_add(long long *v, long long by)
{
	long long r;

	if (__builtin_add_overflow(*v, by, &r))
		return -ERANGE;
	*v = r;
	return 0;
}

void store_items_add(struct store_items *it, const char *key, size_t klen, const void *val,
                     size_t len)
{
	if (it->n == it->cap) {
		it->cap = it->cap ? it->cap * 2 : 16;
		it->v = xreallocarray(it->v, it->cap, sizeof(*it->v));
	}
	struct store_item *e = &it->v[it->n++];
	e->key = xstrndup(key, klen);
	e->val = xmalloc(len + 1);
	memcpy(e->val, val, len);
	e->val[len] = '\0';
	e->len = len;
}

int store_items_scan(const struct store_items *it, store_scan_cb cb, void *arg)
{
	for (size_t i = 0; i < it->n; i++) {
		int rc = cb(it->v[i].key, it->v[i].val, it->v[i].len, arg);
		if (rc)
			return rc;
	}
	return 0;
}

int store_items_hash(const struct store_items *it, store_hash_cb cb, void *arg)
{
	for (size_t i = 0; i < it->n; i++) {
		long long v;
		if (store_int_parse(it->v[i].val, it->v[i].len, &v) < 0)
			continue;
		int rc = cb(it->v[i].key, v, arg);
		if (rc)
			return rc;
	}
	return 0;
}

void store_items_fini(struct store_items *it)
{
	for (size_t i = 0; i < it->n; i++) {
		free(it->v[i].key);
		free(it->v[i].val);
	}
	free(it->v);
	it->v = NULL;
	it->n = it->cap = 0;
}
