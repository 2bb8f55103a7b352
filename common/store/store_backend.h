/* store_backend: what store.c needs from each backend, and the helpers they share.
 *
 * Private to common/store. Each backend embeds `struct store` as its first member and
 * fills in a `struct store_ops`; store.c validates arguments (key and value sizes,
 * control bytes) before it dispatches, so backends see only well-formed input.
 */
#ifndef POSTWARDEN_STORE_BACKEND_H
#define POSTWARDEN_STORE_BACKEND_H

#include <stdint.h>

#include "config.h"
#include "store.h"

struct store_ops {
	const char *name;
	void (*close)(struct store *st);
	int (*get)(struct store *st, const char *key, char **val, size_t *len);
	int (*set)(struct store *st, const char *key, const void *val, size_t len, unsigned ttl_s);
	int (*del)(struct store *st, const char *key);
	int (*incrby)(struct store *st, const char *key, long long by, long long *result);
	int (*hincrby)(struct store *st, const char *key, const char *field, long long by,
	               long long *result);
	int (*hgetall)(struct store *st, const char *key, store_hash_cb cb, void *arg);
	int (*scan)(struct store *st, const char *prefix, store_scan_cb cb, void *arg);
	int (*lock)(struct store *st, const char *key, const char *owner, unsigned ttl_s);
	int (*unlock)(struct store *st, const char *key, const char *owner);
	int (*sweep)(struct store *st);
	/* batch - optional: run @fn as one all-or-nothing write (see store_batch()). */
	int (*batch)(struct store *st, store_batch_fn fn, void *arg);
};

struct store {
	const struct store_ops *ops;
};

/* A parsed store URI; strings are owned by the parser and live during *_open() only. */
struct store_uri {
	char *path;          /* lmdb directory, redis unix socket */
	char *host;          /* redis TCP host */
	unsigned port;       /* redis TCP port */
	unsigned db;         /* redis database number */
	unsigned timeout_ms; /* redis connect/command timeout */
	size_t mapsize;      /* lmdb map size in bytes */
};

#define STORE_TIMEOUT_MS_DEFAULT 1000
#define STORE_MAPSIZE_DEFAULT ((size_t)1 << 30)
/* The separator between a hash key and its field in the embedded backends. */
#define STORE_HASH_SEP '\x1f'

struct store *store_memory_open(const struct store_uri *u);
#ifdef HAVE_LMDB
struct store *store_lmdb_open(const struct store_uri *u);
#endif
#ifdef HAVE_HIREDIS
struct store *store_redis_open(const struct store_uri *u);
#endif

/* store_now_ms() - wall-clock milliseconds since the epoch (shared by processes). */
uint64_t store_now_ms(void);
/* store_expiry_ms() - absolute expiry for @ttl_s from now, 0 for 0 (forever). */
uint64_t store_expiry_ms(unsigned ttl_s);
/* store_int_parse() - a canonical decimal integer of @len bytes. Return 0 or -EINVAL. */
int store_int_parse(const char *s, size_t len, long long *out);
/* store_int_add() - *@v += @by. Return 0 or -ERANGE (then *@v is unchanged). */
int store_int_add(long long *v, long long by);

/* A list of (key, value) pairs collected under a lock, handed to callbacks after it. */
struct store_items {
	struct store_item {
		char *key;
		char *val; /* NUL-terminated beyond len */
		size_t len;
	} * v;
	size_t n, cap;
};

void store_items_add(struct store_items *it, const char *key, size_t klen, const void *val,
                     size_t len);
/* store_items_scan() - run @cb over every item; the first nonzero return is returned. */
int store_items_scan(const struct store_items *it, store_scan_cb cb, void *arg);
/* store_items_hash() - run @cb over items whose values are integers. */
int store_items_hash(const struct store_items *it, store_hash_cb cb, void *arg);
void store_items_fini(struct store_items *it);

#endif
