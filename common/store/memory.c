/* memory: the in-process store backend, for unit tests ("memory:").
 *
 * Two sorted arrays of entries, searched by binary search: plain keys, and hash fields
 * kept as "<key>\x1f<field>" (the same layout as the LMDB backend, so a prefix walk
 * finds a hash's fields and a scan of plain keys never sees them). Each entry keeps an
 * absolute expiry in wall-clock ms (0 = never); expired entries read as missing and are
 * dropped by store_sweep() or when overwritten. One mutex guards everything; callbacks
 * run after it is released, so they may call the store. Not shared across processes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "xalloc.h"

struct mem_ent {
	char *key;
	char *val; /* NUL-terminated beyond vlen */
	size_t vlen;
	uint64_t exp_ms;
};

struct mem_table {
	struct mem_ent *v;
	size_t n, cap;
};

struct mem_store {
	struct store base;
	pthread_mutex_t mu;
	struct mem_table kv, hash;
};

static const struct store_ops memory_ops;

/* Index of the first entry >= @key. */
static size_t table_lower(const struct mem_table *t, const char *key)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool ent_live(const struct mem_ent *e, uint64_t now)
{
	return e->exp_ms == 0 || e->exp_ms > now;
}

static bool ent_is(const struct mem_ent *e, const char *s)
{
	return e->vlen == strlen(s) && memcmp(e->val, s, e->vlen) == 0;
}

/* The live entry for @key, or NULL. */
static struct mem_ent *table_find(struct mem_table *t, const char *key)
{
	size_t i = table_lower(t, key);

	if (i < t->n && strcmp(t->v[i].key, key) == 0 && ent_live(&t->v[i], store_now_ms()))
		return &t->v[i];
	return NULL;
}

static void table_remove(struct mem_table *t, size_t i)
{
	free(t->v[i].key);
	free(t->v[i].val);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
}

static void table_put(struct mem_table *t, const char *key, const void *val, size_t len,
                      uint64_t exp_ms)
{
	size_t i = table_lower(t, key);
	struct mem_ent *e;

	if (i < t->n && strcmp(t->v[i].key, key) == 0) {
		e = &t->v[i];
		free(e->val);
	} else {
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 64;
			t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
		}
		memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
		t->n++;
		e = &t->v[i];
		e->key = xstrdup(key);
	}
	e->val = xmalloc(len + 1);
	memcpy(e->val, val, len);
	e->val[len] = '\0';
	e->vlen = len;
	e->exp_ms = exp_ms;
}

static void table_fini(struct mem_table *t)
{
	while (t->n)
		table_remove(t, t->n - 1);
	free(t->v);
}

/* Add @by to the integer entry @key (created as 0, expiry kept). */
static int table_incr(struct mem_table *t, const char *key, long long by, long long *result)
{
	struct mem_ent *e = table_find(t, key);
	long long v = 0;
	uint64_t exp = 0;
	int rc;

	if (e) {
		if ((rc = store_int_parse(e->val, e->vlen, &v)) < 0)
			return rc;
		exp = e->exp_ms;
	}
	if ((rc = store_int_add(&v, by)) < 0)
		return rc;
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", v);
	table_put(t, key, num, (size_t)n, exp);
	*result = v;
	return 0;
}

static struct mem_store *mem(struct store *st)
{
	return (struct mem_store *)st;
}

struct store *store_memory_open(const struct store_uri *u)
{
	struct mem_store *m = xcalloc(1, sizeof(*m));

	(void)u;
	m->base.ops = &memory_ops;
	pthread_mutex_init(&m->mu, NULL);
	return &m->base;
}

static void memory_close(struct store *st)
{
	struct mem_store *m = mem(st);

	table_fini(&m->kv);
	table_fini(&m->hash);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static int memory_get(struct store *st, const char *key, char **val, size_t *len)
{
	struct mem_store *m = mem(st);
	int rc = STORE_NOTFOUND;

	pthread_mutex_lock(&m->mu);
	struct mem_ent *e = table_find(&m->kv, key);
	if (e) {
		*val = xmemdup(e->val, e->vlen + 1);
		*len = e->vlen;
		rc = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int memory_set(struct store *st, const char *key, const void *val, size_t len,
                      unsigned ttl_s)
{
	struct mem_store *m = mem(st);

	pthread_mutex_lock(&m->mu);
	table_put(&m->kv, key, val, len, store_expiry_ms(ttl_s));
	pthread_mutex_unlock(&m->mu);
	return 0;
}

/* Deletes the plain key and every field of the hash @key. */
static int memory_del(struct store *st, const char *key)
{
	struct mem_store *m = mem(st);
	size_t klen = strlen(key);
	int rc = STORE_NOTFOUND;
	uint64_t now = store_now_ms();

	pthread_mutex_lock(&m->mu);
	size_t i = table_lower(&m->kv, key);
	if (i < m->kv.n && strcmp(m->kv.v[i].key, key) == 0) {
		if (ent_live(&m->kv.v[i], now))
			rc = 0;
		table_remove(&m->kv, i);
	}
	i = table_lower(&m->hash, key);
	while (i < m->hash.n && strncmp(m->hash.v[i].key, key, klen) == 0 &&
	       m->hash.v[i].key[klen] == STORE_HASH_SEP) {
		table_remove(&m->hash, i);
		rc = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int memory_incrby(struct store *st, const char *key, long long by, long long *result)
{
	struct mem_store *m = mem(st);

	pthread_mutex_lock(&m->mu);
	int rc = table_incr(&m->kv, key, by, result);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int memory_hincrby(struct store *st, const char *key, const char *field, long long by,
                          long long *result)
{
	struct mem_store *m = mem(st);
	char *hk = xasprintf("%s%c%s", key, STORE_HASH_SEP, field);

	pthread_mutex_lock(&m->mu);
	int rc = table_incr(&m->hash, hk, by, result);
	pthread_mutex_unlock(&m->mu);
	free(hk);
	return rc;
}

/* Collect the live entries of @t whose keys start with @prefix, minus @strip bytes. */
static void table_collect(struct mem_table *t, const char *prefix, size_t strip,
                          struct store_items *out)
{
	size_t plen = strlen(prefix);
	uint64_t now = store_now_ms();

	for (size_t i = table_lower(t, prefix); i < t->n; i++) {
		struct mem_ent *e = &t->v[i];
		if (strncmp(e->key, prefix, plen) != 0)
			break;
		if (ent_live(e, now))
			store_items_add(out, e->key + strip, strlen(e->key + strip), e->val,
			                e->vlen);
	}
}

static int memory_hgetall(struct store *st, const char *key, store_hash_cb cb, void *arg)
{
	struct mem_store *m = mem(st);
	struct store_items it = { 0 };
	char *pfx = xasprintf("%s%c", key, STORE_HASH_SEP);

	pthread_mutex_lock(&m->mu);
	table_collect(&m->hash, pfx, strlen(pfx), &it);
	pthread_mutex_unlock(&m->mu);
	int rc = it.n ? store_items_hash(&it, cb, arg) : STORE_NOTFOUND;
	store_items_fini(&it);
	free(pfx);
	return rc;
}

static int memory_scan(struct store *st, const char *prefix, store_scan_cb cb, void *arg)
{
	struct mem_store *m = mem(st);
	struct store_items it = { 0 };

	pthread_mutex_lock(&m->mu);
	table_collect(&m->kv, prefix, 0, &it);
	pthread_mutex_unlock(&m->mu);
	int rc = store_items_scan(&it, cb, arg);
	store_items_fini(&it);
	return rc;
}

static int memory_lock(struct store *st, const char *key, const char *owner, unsigned ttl_s)
{
	struct mem_store *m = mem(st);
	int rc = 0;

	pthread_mutex_lock(&m->mu);
	struct mem_ent *e = table_find(&m->kv, key);
	if (e && !ent_is(e, owner))
		rc = STORE_EXISTS;
	else
		table_put(&m->kv, key, owner, strlen(owner), store_expiry_ms(ttl_s));
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int memory_unlock(struct store *st, const char *key, const char *owner)
{
	struct mem_store *m = mem(st);
	int rc = STORE_NOTFOUND;

	pthread_mutex_lock(&m->mu);
	struct mem_ent *e = table_find(&m->kv, key);
	if (e && ent_is(e, owner)) {
		table_remove(&m->kv, (size_t)(e - m->kv.v));
		rc = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int memory_sweep(struct store *st)
{
	struct mem_store *m = mem(st);
	uint64_t now = store_now_ms();
	int count = 0;

	pthread_mutex_lock(&m->mu);
	for (size_t i = m->kv.n; i-- > 0;) {
		if (!ent_live(&m->kv.v[i], now)) {
			table_remove(&m->kv, i);
			count++;
		}
	}
	pthread_mutex_unlock(&m->mu);
	return count;
}

static const struct store_ops memory_ops = {
	.name = "memory",
	.close = memory_close,
	.get = memory_get,
	.set = memory_set,
	.del = memory_del,
	.incrby = memory_incrby,
	.hincrby = memory_hincrby,
	.hgetall = memory_hgetall,
	.scan = memory_scan,
	.lock = memory_lock,
	.unlock = memory_unlock,
	.sweep = memory_sweep,
};
