/* store: open a backend by URI and dispatch every call to it (see store.h).
 *
 * URIs (doc/store-schema.md): "memory:", "lmdb:DIR[?mapsize=N[K|M|G]]",
 * "redis://HOST[:PORT][/DB][?timeout=T&db=N]", "redis+unix:///PATH[?db=N&timeout=T]"
 * with T as "1s", "250ms" or plain seconds. Unknown options are EINVAL.
 * Arguments are checked here, once for all backends: keys are 1..STORE_KEY_MAX bytes
 * (else -ENAMETOOLONG / -EINVAL) with no control bytes (-EINVAL: the embedded backends
 * use 0x1f to join a hash key and its field), values at most STORE_VALUE_MAX
 * (-EMSGSIZE). Thread safety is the backend's job; this file holds no state.
 */
#include "store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "config.h"
#include "store_backend.h"
#include "xalloc.h"

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	long long v;

	if (*s < '0' || *s > '9' || cfg_parse_int(s, &v) < 0 || (unsigned long long)v > max)
		return -EINVAL;
	*out = (unsigned long long)v;
	return 0;
}

/* "1s", "250ms", "2" (seconds) -> milliseconds, 1 ms .. 1 h; a store URI takes
 * only these units of a cfg duration. */
static int parse_timeout(const char *s, unsigned *ms)
{
	const char *unit = s + strspn(s, "0123456789");
	uint64_t v;

	if (*unit && strcmp(unit, "ms") != 0 && strcmp(unit, "s") != 0)
		return -EINVAL;
	if (cfg_parse_duration_ms(s, &v) < 0 || v == 0 || v > 3600 * 1000)
		return -EINVAL;
	*ms = (unsigned)v;
	return 0;
}

/* "64M", "1G", "1048576" -> bytes, 1 .. 16T: a cfg size without the "B". */
static int parse_size(const char *s, size_t *out)
{
	size_t n = strlen(s);
	uint64_t v;

	if (n && (s[n - 1] == 'b' || s[n - 1] == 'B'))
		return -EINVAL;
	if (cfg_parse_size(s, &v) < 0 || v == 0 || v > (1ULL << 44) || v > SIZE_MAX)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

/* Parse "k=v&k=v" in place; @q is modified. */
static int parse_query(char *q, struct store_uri *u, bool redis)
{
	char *save = NULL;

	for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *v = strchr(kv, '=');
		unsigned long long n = 0;
		int rc;
		if (!v)
			return -EINVAL;
		*v++ = '\0';
		if (redis && strcmp(kv, "timeout") == 0) {
			rc = parse_timeout(v, &u->timeout_ms);
		} else if (redis && strcmp(kv, "db") == 0) {
			rc = parse_uint(v, 65535, &n);
			u->db = (unsigned)n;
		} else if (!redis && strcmp(kv, "mapsize") == 0) {
			rc = parse_size(v, &u->mapsize);
		} else {
			rc = -EINVAL;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Split "HOST[:PORT][/DB]" (in place) into @u. */
static int parse_hostport(char *s, struct store_uri *u)
{
	char *db = strchr(s, '/');
	char *port = NULL;
	unsigned long long n;

	if (db) {
		*db++ = '\0';
		if (*db && parse_uint(db, 65535, &n) < 0)
			return -EINVAL;
		if (*db)
			u->db = (unsigned)n;
	}
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		*close = '\0';
		u->host = s + 1;
		if (close[1] == ':')
			port = close + 2;
	} else {
		port = strchr(s, ':');
		if (port)
			*port++ = '\0';
		u->host = s;
	}
	if (!*u->host)
		return -EINVAL;
	if (port) {
		if (parse_uint(port, 65535, &n) < 0 || n == 0)
			return -EINVAL;
		u->port = (unsigned)n;
	}
	return 0;
}

static struct store *open_parsed(char *s)
{
	struct store_uri u = {
		.port = 6379,
		.timeout_ms = STORE_TIMEOUT_MS_DEFAULT,
		.mapsize = STORE_MAPSIZE_DEFAULT,
	};
	char *rest;
	char *q;

	if (strcmp(s, "memory:") == 0)
		return store_memory_open(&u);
	if (strncmp(s, "lmdb:", 5) == 0) {
		rest = s + 5;
		if (strncmp(rest, "//", 2) == 0)
			rest += 2;
		if ((q = strchr(rest, '?')))
			*q++ = '\0';
		if (!*rest || (q && parse_query(q, &u, false) < 0))
			goto inval;
		u.path = rest;
#ifdef HAVE_LMDB
		return store_lmdb_open(&u);
#else
		errno = EPROTONOSUPPORT;
		return NULL;
#endif
	}
	if (store_uri_is_remote(s)) {
		bool unix_sock = s[5] == '+';
		rest = s + (unix_sock ? 13 : 8);
		if ((q = strchr(rest, '?')))
			*q++ = '\0';
		if (unix_sock) {
			if (rest[0] != '/' || !rest[1])
				goto inval;
			u.path = rest;
		} else if (parse_hostport(rest, &u) < 0) {
			goto inval;
		}
		if (q && parse_query(q, &u, true) < 0)
			goto inval;
#ifdef HAVE_HIREDIS
		return store_redis_open(&u);
#else
		errno = EPROTONOSUPPORT;
		return NULL;
#endif
	}
inval:
	errno = EINVAL;
	return NULL;
}

struct store *store_open(const char *uri)
{
	if (!uri) {
		errno = EINVAL;
		return NULL;
	}
	char *s = xstrdup(uri);
	struct store *st = open_parsed(s);
	int saved = errno;
	free(s);
	errno = saved;
	return st;
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

const char *store_backend(const struct store *st)
{
	return st->ops->name;
}

bool store_uri_is_remote(const char *uri)
{
	return uri && (strncmp(uri, "redis://", 8) == 0 || strncmp(uri, "redis+unix://", 13) == 0);
}

/* 0, -EINVAL (empty, control bytes) or -ENAMETOOLONG. */
static int check_name(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; s[n]; n++) {
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return -EINVAL;
		if (n >= max)
			return -ENAMETOOLONG;
	}
	return 0;
}

static int check_key(const char *key)
{
	return check_name(key, STORE_KEY_MAX);
}

int store_get(struct store *st, const char *key, char **val, size_t *len)
{
	size_t dummy;
	int rc = check_key(key);

	*val = NULL;
	if (rc < 0)
		return rc;
	return st->ops->get(st, key, val, len ? len : &dummy);
}

int store_set(struct store *st, const char *key, const void *val, size_t len, unsigned ttl_s)
{
	int rc = check_key(key);

	if (rc < 0)
		return rc;
	if (len > STORE_VALUE_MAX)
		return -EMSGSIZE;
	if (!val && len)
		return -EINVAL;
	return st->ops->set(st, key, val ? val : "", len, ttl_s);
}

int store_del(struct store *st, const char *key)
{
	int rc = check_key(key);

	return rc < 0 ? rc : st->ops->del(st, key);
}

int store_incrby(struct store *st, const char *key, long long by, long long *result)
{
	long long dummy;
	int rc = check_key(key);

	return rc < 0 ? rc : st->ops->incrby(st, key, by, result ? result : &dummy);
}

int store_hincrby(struct store *st, const char *key, const char *field, long long by,
                  long long *result)
{
	long long dummy;
	int rc = check_key(key);

	if (rc == 0)
		rc = check_name(field, STORE_KEY_MAX);
	if (rc == 0 && strlen(key) + 1 + strlen(field) > STORE_KEY_MAX)
		rc = -ENAMETOOLONG;
	return rc < 0 ? rc : st->ops->hincrby(st, key, field, by, result ? result : &dummy);
}

int store_hgetall(struct store *st, const char *key, store_hash_cb cb, void *arg)
{
	int rc = check_key(key);

	if (rc == 0 && !cb)
		rc = -EINVAL;
	return rc < 0 ? rc : st->ops->hgetall(st, key, cb, arg);
}

int store_scan(struct store *st, const char *prefix, store_scan_cb cb, void *arg)
{
	if (!prefix || !cb)
		return -EINVAL;
	if (*prefix) {
		int rc = check_key(prefix);
		if (rc < 0)
			return rc;
	}
	return st->ops->scan(st, prefix, cb, arg);
}

int store_lock(struct store *st, const char *key, const char *owner, unsigned ttl_s)
{
	int rc = check_key(key);

	if (rc == 0)
		rc = check_name(owner, STORE_KEY_MAX);
	if (rc == 0 && ttl_s == 0)
		rc = -EINVAL;
	return rc < 0 ? rc : st->ops->lock(st, key, owner, ttl_s);
}

int store_unlock(struct store *st, const char *key, const char *owner)
{
	int rc = check_key(key);

	if (rc == 0)
		rc = check_name(owner, STORE_KEY_MAX);
	return rc < 0 ? rc : st->ops->unlock(st, key, owner);
}

int store_sweep(struct store *st)
{
	return st->ops->sweep(st);
}

int store_batch(struct store *st, store_batch_fn fn, void *arg)
{
	return st->ops->batch ? st->ops->batch(st, fn, arg) : fn(st, arg);
}

bool store_batch_atomic(const struct store *st)
{
	return st->ops->batch != NULL;
}
