/* redis: the shared store backend over hiredis 0.14 ("redis://", "redis+unix://").
 *
 * A pool of POOL_SIZE contexts behind one mutex (a hiredis context is not thread safe;
 * libmilter runs a thread per connection). Contexts connect lazily, so store_open()
 * succeeds with the server down. Every command gets one deadline of `timeout` for
 * waiting on the pool, connecting, SELECT and the round trip (the socket timeout is
 * reset to what is left before each send), so no call blocks longer than the timeout.
 * A connection failure drops the idle contexts and opens a backoff window (100 ms,
 * doubling to 2 s, reset by the next success) in which calls fail at once with the last
 * error: -ECONNREFUSED, -ENOENT, -ECONNRESET, -EPIPE, -ETIMEDOUT or -EAGAIN. SIGPIPE is
 * blocked around each command and a pending one consumed, so a dead peer cannot kill us.
 * Locks use SET NX semantics in small Lua scripts (compare-and-renew / -delete).
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "store_backend.h"
#include "xalloc.h"

#define POOL_SIZE 4
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define SCAN_COUNT "200"

struct redis_conn {
	redisContext *c;
	bool busy;
};

struct redis_store {
	struct store base;
	char *host; /* NULL for a unix socket */
	char *path;
	unsigned port, db, timeout_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct redis_conn pool[POOL_SIZE];
	uint64_t down_until; /* monotonic ms; guarded by mu, as are the two below */
	unsigned backoff_ms;
	int last_err;
};

static const struct store_ops redis_ops;

static const char lock_lua[] =
        "local v = redis.call('GET', KEYS[1]) "
        "if v == false or v == ARGV[1] then "
        "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1 end return 0";
static const char unlock_lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                                 "return redis.call('DEL', KEYS[1]) end return 0";

static struct timeval tv_ms(uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000), .tv_usec = (long)(ms % 1000) * 1000 };
	return tv;
}

static struct redis_store *rstore(struct store *st)
{
	return (struct redis_store *)st;
}

/* A context error as one of the documented -errno values. */
static int ctx_err(const redisContext *c, int saved_errno)
{
	switch (c->err) {
	case REDIS_ERR_IO:
		switch (saved_errno) {
		case ECONNREFUSED:
		case ENOENT:
		case ECONNRESET:
		case EPIPE:
		case ETIMEDOUT:
			return -saved_errno;
		case EAGAIN:
		case EINPROGRESS:
			return -ETIMEDOUT;
		default:
			return -ECONNRESET;
		}
	case REDIS_ERR_EOF:
		return -ECONNRESET;
	case REDIS_ERR_PROTOCOL:
		return -EPROTO;
	case REDIS_ERR_OOM:
		return -ENOMEM;
	default:
		return -ECONNREFUSED;
	}
}

/* A Redis error reply as -errno. */
static int reply_err(const redisReply *r)
{
	static const struct {
		const char *prefix;
		int err;
	} map[] = {
		{ "LOADING", EAGAIN },    { "BUSY", EAGAIN },      { "TRYAGAIN", EAGAIN },
		{ "MASTERDOWN", EAGAIN }, { "READONLY", EROFS },   { "NOAUTH", EACCES },
		{ "NOPERM", EACCES },     { "WRONGPASS", EACCES }, { "OOM", ENOSPC },
	};
	const char *s = r->str ? r->str : "";

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(s, map[i].prefix, strlen(map[i].prefix)) == 0)
			return -map[i].err;
	if (strstr(s, "overflow"))
		return -ERANGE;
	return -EINVAL;
}

static bool is_wrongtype(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR && r->str && strncmp(r->str, "WRONGTYPE", 9) == 0;
}

/* Under mu: note a failure, open the backoff window, drop the idle contexts. */
static void note_failure(struct redis_store *rs, int err)
{
	rs->backoff_ms = rs->backoff_ms ? rs->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (rs->backoff_ms > BACKOFF_MAX_MS)
		rs->backoff_ms = BACKOFF_MAX_MS;
	rs->down_until = (uint64_t)clock_mono_ms() + rs->backoff_ms;
	rs->last_err = err;
	for (int i = 0; i < POOL_SIZE; i++) {
		if (!rs->pool[i].busy && rs->pool[i].c) {
			redisFree(rs->pool[i].c);
			rs->pool[i].c = NULL;
		}
	}
}

/* Take a pool slot by @deadline. Return 0 with *@out set, or -errno. */
static int pool_take(struct redis_store *rs, uint64_t deadline, struct redis_conn **out)
{
	int rc = 0;

	pthread_mutex_lock(&rs->mu);
	for (;;) {
		uint64_t now = (uint64_t)clock_mono_ms();
		if (now < rs->down_until) {
			rc = rs->last_err;
			break;
		}
		*out = NULL;
		for (int i = 0; i < POOL_SIZE && !*out; i++)
			if (!rs->pool[i].busy)
				*out = &rs->pool[i];
		if (*out) {
			(*out)->busy = true;
			break;
		}
		if (now >= deadline) {
			rc = -EAGAIN;
			break;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t wait = deadline - now;
		ts.tv_sec += (time_t)(wait / 1000);
		ts.tv_nsec += (long)(wait % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&rs->cv, &rs->mu, &ts);
	}
	pthread_mutex_unlock(&rs->mu);
	return rc;
}

/* Give the slot back; @err < 0 from the connection (not a reply) drops it. */
static void pool_give(struct redis_store *rs, struct redis_conn *cn, int err)
{
	pthread_mutex_lock(&rs->mu);
	if (err < 0) {
		if (cn->c) {
			redisFree(cn->c);
			cn->c = NULL;
		}
		note_failure(rs, err);
	} else {
		rs->backoff_ms = 0;
		rs->down_until = 0;
	}
	cn->busy = false;
	pthread_cond_signal(&rs->cv);
	pthread_mutex_unlock(&rs->mu);
}

/* One command with SIGPIPE blocked; *@reply NULL on a connection error (-errno). */
static int send_argv(redisContext *c, uint64_t deadline, int argc, const char **argv,
                     const size_t *lens, redisReply **reply)
{
	uint64_t now = (uint64_t)clock_mono_ms();
	sigset_t pipe_set, old, pending;
	int rc = 0;

	*reply = NULL;
	if (now >= deadline)
		return -ETIMEDOUT;
	if (redisSetTimeout(c, tv_ms(deadline - now)) != REDIS_OK)
		return ctx_err(c, errno);
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	errno = 0;
	*reply = redisCommandArgv(c, argc, argv, lens);
	int saved = errno;
	if (!*reply) {
		rc = ctx_err(c, saved);
		if (!was_pending) {
			struct timespec zero = { 0, 0 };
			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
				;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int conn_open(struct redis_store *rs, struct redis_conn *cn, uint64_t deadline)
{
	uint64_t now = (uint64_t)clock_mono_ms();
	redisReply *r;
	int rc;

	if (now >= deadline)
		return -ETIMEDOUT;
	errno = 0;
	if (rs->host)
		cn->c = redisConnectWithTimeout(rs->host, (int)rs->port, tv_ms(deadline - now));
	else
		cn->c = redisConnectUnixWithTimeout(rs->path, tv_ms(deadline - now));
	if (!cn->c)
		return -ENOMEM;
	if (cn->c->err)
		return ctx_err(cn->c, errno);
	if (rs->db == 0)
		return 0;
	char db[16];
	snprintf(db, sizeof(db), "%u", rs->db);
	const char *argv[] = { "SELECT", db };
	const size_t lens[] = { 6, strlen(db) };
	if ((rc = send_argv(cn->c, deadline, 2, argv, lens, &r)) < 0)
		return rc;
	rc = r->type == REDIS_REPLY_ERROR ? -EINVAL : 0;
	freeReplyObject(r);
	return rc < 0 ? -ECONNREFUSED : 0;
}

/**
 * call() - run one command within the store's timeout.
 * @reply: set to the reply (caller frees with freeReplyObject) when 0 is returned
 * Return: 0 or a connection -errno (the reply may still be a Redis error reply).
 */
static int call(struct redis_store *rs, redisReply **reply, int argc, const char **argv,
                const size_t *lens)
{
	uint64_t deadline = (uint64_t)clock_mono_ms() + rs->timeout_ms;
	struct redis_conn *cn;
	int rc = pool_take(rs, deadline, &cn);

	*reply = NULL;
	if (rc < 0)
		return rc;
	if (!cn->c)
		rc = conn_open(rs, cn, deadline);
	if (rc == 0)
		rc = send_argv(cn->c, deadline, argc, argv, lens, reply);
	pool_give(rs, cn, rc);
	return rc;
}

/* call() with NUL-terminated arguments, except @val/@vlen which replaces argument @vi. */
static int callv(struct redis_store *rs, redisReply **reply, int argc, const char **argv, int vi,
                 const void *val, size_t vlen)
{
	size_t lens[8];

	for (int i = 0; i < argc; i++)
		lens[i] = i == vi ? vlen : strlen(argv[i]);
	if (vi >= 0)
		argv[vi] = val;
	return call(rs, reply, argc, argv, lens);
}

struct store *store_redis_open(const struct store_uri *u)
{
	struct redis_store *rs = xcalloc(1, sizeof(*rs));
	pthread_condattr_t ca;

	rs->base.ops = &redis_ops;
	rs->host = u->host ? xstrdup(u->host) : NULL;
	rs->path = u->path ? xstrdup(u->path) : NULL;
	rs->port = u->port;
	rs->db = u->db;
	rs->timeout_ms = u->timeout_ms;
	pthread_mutex_init(&rs->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rs->cv, &ca);
	pthread_condattr_destroy(&ca);
	return &rs->base;
}

static void redis_close(struct store *st)
{
	struct redis_store *rs = rstore(st);

	for (int i = 0; i < POOL_SIZE; i++)
		if (rs->pool[i].c)
			redisFree(rs->pool[i].c);
	pthread_cond_destroy(&rs->cv);
	pthread_mutex_destroy(&rs->mu);
	free(rs->host);
	free(rs->path);
	free(rs);
}

static int redis_get(struct store *st, const char *key, char **val, size_t *len)
{
	const char *argv[] = { "GET", key };
	redisReply *r;
	int rc = callv(rstore(st), &r, 2, argv, -1, NULL, 0);

	if (rc < 0)
		return rc;
	if (r->type == REDIS_REPLY_STRING) {
		*val = xmalloc(r->len + 1);
		memcpy(*val, r->str, r->len);
		(*val)[r->len] = '\0';
		*len = r->len;
	} else if (r->type == REDIS_REPLY_NIL || is_wrongtype(r)) {
		rc = STORE_NOTFOUND;
	} else {
		rc = r->type == REDIS_REPLY_ERROR ? reply_err(r) : -EPROTO;
	}
	freeReplyObject(r);
	return rc;
}

static int redis_set(struct store *st, const char *key, const void *val, size_t len, unsigned ttl_s)
{
	char ttl[16];
	const char *argv[] = { "SET", key, NULL, "EX", ttl };
	redisReply *r;

	snprintf(ttl, sizeof(ttl), "%u", ttl_s);
	int rc = callv(rstore(st), &r, ttl_s ? 5 : 3, argv, 2, val, len);
	if (rc < 0)
		return rc;
	rc = r->type == REDIS_REPLY_ERROR ? reply_err(r) : 0;
	freeReplyObject(r);
	return rc;
}

/* An integer reply -> *@out; errors mapped. */
static int int_reply(redisReply *r, long long *out)
{
	int rc = 0;

	if (r->type == REDIS_REPLY_INTEGER)
		*out = r->integer;
	else
		rc = r->type == REDIS_REPLY_ERROR ? reply_err(r) : -EPROTO;
	freeReplyObject(r);
	return rc;
}

static int redis_del(struct store *st, const char *key)
{
	const char *argv[] = { "DEL", key };
	redisReply *r;
	long long n = 0;
	int rc = callv(rstore(st), &r, 2, argv, -1, NULL, 0);

	if (rc == 0)
		rc = int_reply(r, &n);
	return rc < 0 ? rc : n ? 0 : STORE_NOTFOUND;
}

static int redis_incrby(struct store *st, const char *key, long long by, long long *result)
{
	char num[24];
	const char *argv[] = { "INCRBY", key, num };
	redisReply *r;

	snprintf(num, sizeof(num), "%lld", by);
	int rc = callv(rstore(st), &r, 3, argv, -1, NULL, 0);
	return rc < 0 ? rc : int_reply(r, result);
}

static int redis_hincrby(struct store *st, const char *key, const char *field, long long by,
                         long long *result)
{
	char num[24];
	const char *argv[] = { "HINCRBY", key, field, num };
	redisReply *r;

	snprintf(num, sizeof(num), "%lld", by);
	int rc = callv(rstore(st), &r, 4, argv, -1, NULL, 0);
	return rc < 0 ? rc : int_reply(r, result);
}

static int redis_hgetall(struct store *st, const char *key, store_hash_cb cb, void *arg)
{
	const char *argv[] = { "HGETALL", key };
	struct store_items it = { 0 };
	redisReply *r;
	int rc = callv(rstore(st), &r, 2, argv, -1, NULL, 0);

	if (rc < 0)
		return rc;
	if (is_wrongtype(r)) {
		rc = STORE_NOTFOUND;
	} else if (r->type == REDIS_REPLY_ERROR) {
		rc = reply_err(r);
	} else if (r->type != REDIS_REPLY_ARRAY) {
		rc = -EPROTO;
	} else {
		for (size_t i = 0; i + 1 < r->elements; i += 2) {
			redisReply *f = r->element[i], *v = r->element[i + 1];
			if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING)
				store_items_add(&it, f->str, f->len, v->str, v->len);
		}
	}
	freeReplyObject(r);
	if (rc == 0)
		rc = it.n ? store_items_hash(&it, cb, arg) : STORE_NOTFOUND;
	store_items_fini(&it);
	return rc;
}

/* "@prefix*" with the glob characters of @prefix escaped; caller frees. */
static char *scan_pattern(const char *prefix)
{
	char *p = xmalloc(2 * strlen(prefix) + 2);
	char *q = p;

	for (const char *s = prefix; *s; s++) {
		if (strchr("*?[]\\", *s))
			*q++ = '\\';
		*q++ = *s;
	}
	*q++ = '*';
	*q = '\0';
	return p;
}

/* MGET the string keys of one SCAN batch into @it. */
static int scan_fetch(struct redis_store *rs, const redisReply *keys, struct store_items *it)
{
	size_t n = keys->elements;
	const char **argv = xcalloc(n + 1, sizeof(*argv));
	size_t *lens = xcalloc(n + 1, sizeof(*lens));
	redisReply *r;
	int rc;

	argv[0] = "MGET";
	lens[0] = 4;
	for (size_t i = 0; i < n; i++) {
		argv[i + 1] = keys->element[i]->str;
		lens[i + 1] = keys->element[i]->len;
	}
	rc = call(rs, &r, (int)n + 1, argv, lens);
	if (rc == 0) {
		if (r->type == REDIS_REPLY_ARRAY && r->elements == n) {
			for (size_t i = 0; i < n; i++)
				if (r->element[i]->type == REDIS_REPLY_STRING)
					store_items_add(it, argv[i + 1], lens[i + 1],
					                r->element[i]->str, r->element[i]->len);
		} else {
			rc = r->type == REDIS_REPLY_ERROR ? reply_err(r) : -EPROTO;
		}
		freeReplyObject(r);
	}
	free(argv);
	free(lens);
	return rc;
}

static int redis_scan(struct store *st, const char *prefix, store_scan_cb cb, void *arg)
{
	struct redis_store *rs = rstore(st);
	char *pattern = scan_pattern(prefix);
	char cursor[32] = "0";
	int rc;

	do {
		const char *argv[] = { "SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT };
		struct store_items it = { 0 };
		redisReply *r;
		if ((rc = callv(rs, &r, 6, argv, -1, NULL, 0)) < 0)
			break;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = r->type == REDIS_REPLY_ERROR ? reply_err(r) : -EPROTO;
			freeReplyObject(r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		if (r->element[1]->elements)
			rc = scan_fetch(rs, r->element[1], &it);
		freeReplyObject(r);
		if (rc == 0)
			rc = store_items_scan(&it, cb, arg);
		store_items_fini(&it);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	free(pattern);
	return rc;
}

static int redis_lock(struct store *st, const char *key, const char *owner, unsigned ttl_s)
{
	char ttl[16];
	const char *argv[] = { "EVAL", lock_lua, "1", key, owner, ttl };
	redisReply *r;
	long long n = 0;

	snprintf(ttl, sizeof(ttl), "%u", ttl_s);
	int rc = callv(rstore(st), &r, 6, argv, -1, NULL, 0);
	if (rc == 0)
		rc = int_reply(r, &n);
	return rc < 0 ? rc : n ? 0 : STORE_EXISTS;
}

static int redis_unlock(struct store *st, const char *key, const char *owner)
{
	const char *argv[] = { "EVAL", unlock_lua, "1", key, owner };
	redisReply *r;
	long long n = 0;
	int rc = callv(rstore(st), &r, 5, argv, -1, NULL, 0);

	if (rc == 0)
		rc = int_reply(r, &n);
	return rc < 0 ? rc : n ? 0 : STORE_NOTFOUND;
}

static int redis_sweep(struct store *st)
{
	(void)st;
	return 0;
}

static const struct store_ops redis_ops = {
	.name = "redis",
	.close = redis_close,
	.get = redis_get,
	.set = redis_set,
	.del = redis_del,
	.incrby = redis_incrby,
	.hincrby = redis_hincrby,
	.hgetall = redis_hgetall,
	.scan = redis_scan,
	.lock = redis_lock,
	.unlock = redis_unlock,
	.sweep = redis_sweep,
};
