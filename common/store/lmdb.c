/* lmdb: the embedded store backend ("lmdb:DIR[?mapsize=1G]").
 *
 * One MDB_env per process and directory (doc/protocols.md, "LMDB under libmilter's
 * threads"): a process-global registry, keyed by the directory's device/inode and our pid, shares a
 * refcounted env between store_open() calls; a forked child opens its own. MDB_NOTLS (libmilter's
 * threads would otherwise pin reader slots), 1024 readers, mdb_reader_check() at open
 * and at most once a minute after. Files are created 0660 under umask 0007; the umask
 * is process-wide, so store_open() must not race other file creation in the process.
 * Two databases: "kv" (plain keys) and "hash" ("<key>\x1f<field>" -> decimal). Every
 * value starts with an 8-byte little-endian expiry (wall-clock ms, 0 = never), honoured
 * on read and swept by store_sweep() and, once a minute, after a write.
 * Thread safe: LMDB serialises writers; callbacks run after the read txn is closed.
 */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "store_backend.h"
#include "xalloc.h"

#define HDR 8
#define HOUSEKEEP_MS 60000

struct lmdb_env {
	struct lmdb_env *next;
	dev_t dev;
	ino_t ino;
	pid_t pid;
	unsigned refs;
	MDB_env *env;
	MDB_dbi kv, hash;
	uint64_t last_check_ms, last_sweep_ms; /* __atomic */
};

struct lmdb_store {
	struct store base;
	struct lmdb_env *e;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lmdb_env *registry;
static const struct store_ops lmdb_ops;

static int lmdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_MAP_FULL:
	case MDB_MAP_RESIZED:
		return -ENOSPC;
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
		return -EAGAIN;
	case MDB_BAD_VALSIZE:
		return -EMSGSIZE;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

static struct lmdb_env *env_of(struct store *st)
{
	return ((struct lmdb_store *)st)->e;
}

static uint64_t hdr_get(const MDB_val *v)
{
	const unsigned char *p = v->mv_data;
	uint64_t x = 0;

	for (int i = HDR - 1; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

static void hdr_put(void *dst, uint64_t exp_ms)
{
	unsigned char *p = dst;

	for (int i = 0; i < HDR; i++, exp_ms >>= 8)
		p[i] = (unsigned char)exp_ms;
}

/* A value that is well formed and not expired at @now. */
static bool val_live(const MDB_val *v, uint64_t now)
{
	if (v->mv_size < HDR)
		return false;
	uint64_t exp = hdr_get(v);
	return exp == 0 || exp > now;
}

static void env_housekeep_readers(struct lmdb_env *e)
{
	uint64_t now = store_now_ms();
	uint64_t last = __atomic_load_n(&e->last_check_ms, __ATOMIC_RELAXED);
	int dead;

	if (now - last >= HOUSEKEEP_MS &&
	    __atomic_compare_exchange_n(&e->last_check_ms, &last, now, false, __ATOMIC_RELAXED,
	                                __ATOMIC_RELAXED))
		mdb_reader_check(e->env, &dead);
}

/* The write transaction of a store_batch() running on this thread, and its environment:
 * the operations called inside it use it, and neither commit nor abort it. */
static __thread MDB_txn *batch_txn;
static __thread struct lmdb_env *batch_env;

static int txn_begin(struct lmdb_env *e, bool rdonly, MDB_txn **txn)
{
	if (batch_txn && batch_env == e) {
		*txn = batch_txn;
		return 0;
	}
	env_housekeep_readers(e);
	return lmdb_err(mdb_txn_begin(e->env, NULL, rdonly ? MDB_RDONLY : 0, txn));
}

static int txn_commit(MDB_txn *txn)
{
	if (txn == batch_txn)
		return 0;
	return lmdb_err(mdb_txn_commit(txn));
}

/* End a transaction without its writes (a read, or a failed write); inside a batch, the
 * batch decides. */
static void txn_abort(MDB_txn *txn)
{
	if (txn != batch_txn)
		mdb_txn_abort(txn);
}

static MDB_val mkval(const char *s)
{
	MDB_val v = { .mv_size = strlen(s), .mv_data = (void *)s };
	return v;
}

/* Write @len bytes with expiry @exp_ms under @key in @dbi. */
static int put_val(MDB_txn *txn, MDB_dbi dbi, const char *key, const void *val, size_t len,
                   uint64_t exp_ms)
{
	MDB_val k = mkval(key);
	MDB_val v = { .mv_size = HDR + len, .mv_data = NULL };
	int rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE);

	if (rc)
		return lmdb_err(rc);
	hdr_put(v.mv_data, exp_ms);
	memcpy((char *)v.mv_data + HDR, val, len);
	return 0;
}

/* The live value at @key in @dbi: 0 (then @v is set), STORE_NOTFOUND or -errno. */
static int get_val(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *v)
{
	MDB_val k = mkval(key);
	int rc = mdb_get(txn, dbi, &k, v);

	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc)
		return lmdb_err(rc);
	return val_live(v, store_now_ms()) ? 0 : STORE_NOTFOUND;
}

static int env_open(struct lmdb_env *e, const char *path, size_t mapsize)
{
	MDB_txn *txn;
	int rc, dead;

	if ((rc = mdb_env_create(&e->env)))
		return lmdb_err(rc);
	rc = mdb_env_set_mapsize(e->env, mapsize);
	if (!rc)
		rc = mdb_env_set_maxreaders(e->env, 1024);
	if (!rc)
		rc = mdb_env_set_maxdbs(e->env, 4);
	if (!rc) {
		mode_t old = umask(0007);
		rc = mdb_env_open(e->env, path, MDB_NOTLS, 0660);
		umask(old);
	}
	if (!rc)
		rc = mdb_reader_check(e->env, &dead);
	if (!rc)
		rc = mdb_txn_begin(e->env, NULL, 0, &txn);
	if (rc)
		goto fail;
	rc = mdb_dbi_open(txn, "kv", MDB_CREATE, &e->kv);
	if (!rc)
		rc = mdb_dbi_open(txn, "hash", MDB_CREATE, &e->hash);
	if (rc) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)))
		goto fail;
	e->last_check_ms = e->last_sweep_ms = store_now_ms();
	return 0;
fail:
	mdb_env_close(e->env);
	e->env = NULL;
	return lmdb_err(rc);
}

/* The registry entry for @path (created, or shared with a +1 ref). */
static int env_get(const char *path, size_t mapsize, struct lmdb_env **out)
{
	struct stat sb;
	struct lmdb_env *e;
	int rc = 0;

	if (stat(path, &sb) < 0 && errno == ENOENT) {
		mode_t old = umask(0007);
		rc = mkdir(path, 02770) < 0 && errno != EEXIST ? -errno : 0;
		umask(old);
		if (rc < 0)
			return rc;
	}
	if (stat(path, &sb) < 0)
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	pthread_mutex_lock(&registry_mu);
	for (e = registry; e; e = e->next)
		if (e->dev == sb.st_dev && e->ino == sb.st_ino && e->pid == getpid())
			break;
	if (e) {
		e->refs++;
	} else {
		e = xcalloc(1, sizeof(*e));
		e->dev = sb.st_dev;
		e->ino = sb.st_ino;
		e->pid = getpid();
		e->refs = 1;
		if ((rc = env_open(e, path, mapsize)) < 0) {
			free(e);
			e = NULL;
		} else {
			e->next = registry;
			registry = e;
		}
	}
	pthread_mutex_unlock(&registry_mu);
	*out = e;
	return rc;
}

static void env_put(struct lmdb_env *e)
{
	pthread_mutex_lock(&registry_mu);
	if (--e->refs == 0) {
		for (struct lmdb_env **pp = &registry; *pp; pp = &(*pp)->next) {
			if (*pp == e) {
				*pp = e->next;
				break;
			}
		}
		mdb_env_close(e->env);
		free(e);
	}
	pthread_mutex_unlock(&registry_mu);
}

struct store *store_lmdb_open(const struct store_uri *u)
{
	struct lmdb_env *e = NULL;
	int rc = env_get(u->path, u->mapsize, &e);

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	struct lmdb_store *l = xcalloc(1, sizeof(*l));
	l->base.ops = &lmdb_ops;
	l->e = e;
	return &l->base;
}

static void lmdb_close(struct store *st)
{
	env_put(env_of(st));
	free(st);
}

static int lmdb_get(struct store *st, const char *key, char **val, size_t *len)
{
	struct lmdb_env *e = env_of(st);
	MDB_txn *txn;
	MDB_val v;
	int rc = txn_begin(e, true, &txn);

	if (rc < 0)
		return rc;
	rc = get_val(txn, e->kv, key, &v);
	if (rc == 0) {
		*len = v.mv_size - HDR;
		*val = xmalloc(*len + 1);
		memcpy(*val, (char *)v.mv_data + HDR, *len);
		(*val)[*len] = '\0';
	}
	txn_abort(txn);
	return rc;
}

static int lmdb_sweep(struct store *st);

/* After a write: sweep expired keys if nobody in this process did for a minute. */
static void housekeep_sweep(struct store *st)
{
	struct lmdb_env *e = env_of(st);
	uint64_t now = store_now_ms();
	uint64_t last = __atomic_load_n(&e->last_sweep_ms, __ATOMIC_RELAXED);

	if (now - last >= HOUSEKEEP_MS &&
	    __atomic_compare_exchange_n(&e->last_sweep_ms, &last, now, false, __ATOMIC_RELAXED,
	                                __ATOMIC_RELAXED))
		lmdb_sweep(st);
}

static int lmdb_set(struct store *st, const char *key, const void *val, size_t len, unsigned ttl_s)
{
	struct lmdb_env *e = env_of(st);
	MDB_txn *txn;
	int rc = txn_begin(e, false, &txn);

	if (rc < 0)
		return rc;
	rc = put_val(txn, e->kv, key, val, len, store_expiry_ms(ttl_s));
	if (rc < 0) {
		txn_abort(txn);
		return rc;
	}
	if ((rc = txn_commit(txn)) == 0)
		housekeep_sweep(st);
	return rc;
}

/* Delete every "<key>\x1f..." entry of the hash database. Return the count or -errno. */
static int hash_del(MDB_txn *txn, MDB_dbi dbi, const char *key)
{
	char *pfx = xasprintf("%s%c", key, STORE_HASH_SEP);
	size_t plen = strlen(pfx);
	MDB_cursor *cur;
	MDB_val k = mkval(pfx), v;
	int n = 0;
	int rc = mdb_cursor_open(txn, dbi, &cur);

	if (rc)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, pfx, plen) != 0)
			break;
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
		n++;
	}
	mdb_cursor_close(cur);
out:
	free(pfx);
	return rc == 0 || rc == MDB_NOTFOUND ? n : lmdb_err(rc);
}

static int lmdb_del(struct store *st, const char *key)
{
	struct lmdb_env *e = env_of(st);
	MDB_txn *txn;
	MDB_val v;
	MDB_val k = mkval(key);
	int rc = txn_begin(e, false, &txn);

	if (rc < 0)
		return rc;
	int found = get_val(txn, e->kv, key, &v);
	if (found < 0) {
		rc = found;
		goto fail;
	}
	rc = mdb_del(txn, e->kv, &k, NULL);
	if (rc && rc != MDB_NOTFOUND) {
		rc = lmdb_err(rc);
		goto fail;
	}
	if ((rc = hash_del(txn, e->hash, key)) < 0)
		goto fail;
	if (rc > 0)
		found = 0;
	rc = txn_commit(txn);
	return rc < 0 ? rc : found;
fail:
	txn_abort(txn);
	return rc;
}

/* Add @by to the integer at @key in @dbi (missing = 0; its expiry is kept). */
static int incr(struct lmdb_env *e, MDB_dbi dbi, const char *key, long long by, long long *result)
{
	MDB_txn *txn;
	MDB_val v;
	long long n = 0;
	uint64_t exp = 0;
	char num[24];
	int rc = txn_begin(e, false, &txn);

	if (rc < 0)
		return rc;
	rc = get_val(txn, dbi, key, &v);
	if (rc == 0) {
		exp = hdr_get(&v);
		rc = store_int_parse((char *)v.mv_data + HDR, v.mv_size - HDR, &n);
	}
	if (rc < 0 || (rc = store_int_add(&n, by)) < 0)
		goto fail;
	int len = snprintf(num, sizeof(num), "%lld", n);
	if ((rc = put_val(txn, dbi, key, num, (size_t)len, exp)) < 0)
		goto fail;
	if ((rc = txn_commit(txn)) == 0)
		*result = n;
	return rc;
fail:
	txn_abort(txn);
	return rc;
}

static int lmdb_incrby(struct store *st, const char *key, long long by, long long *result)
{
	struct lmdb_env *e = env_of(st);

	return incr(e, e->kv, key, by, result);
}

static int lmdb_hincrby(struct store *st, const char *key, const char *field, long long by,
                        long long *result)
{
	struct lmdb_env *e = env_of(st);
	char *hk = xasprintf("%s%c%s", key, STORE_HASH_SEP, field);
	int rc = incr(e, e->hash, hk, by, result);

	free(hk);
	return rc;
}

/* Collect live entries of @dbi whose keys start with @pfx; @strip bytes cut from keys. */
static int collect(struct lmdb_env *e, MDB_dbi dbi, const char *pfx, size_t strip,
                   struct store_items *out)
{
	size_t plen = strlen(pfx);
	uint64_t now = store_now_ms();
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = mkval(pfx), v;
	int rc = txn_begin(e, true, &txn);

	if (rc < 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)))
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, pfx, plen) != 0)
			break;
		if (val_live(&v, now))
			store_items_add(out, (char *)k.mv_data + strip, k.mv_size - strip,
			                (char *)v.mv_data + HDR, v.mv_size - HDR);
	}
	mdb_cursor_close(cur);
out:
	txn_abort(txn);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
}

static int lmdb_hgetall(struct store *st, const char *key, store_hash_cb cb, void *arg)
{
	struct store_items it = { 0 };
	char *pfx = xasprintf("%s%c", key, STORE_HASH_SEP);
	int rc = collect(env_of(st), env_of(st)->hash, pfx, strlen(pfx), &it);

	if (rc == 0)
		rc = it.n ? store_items_hash(&it, cb, arg) : STORE_NOTFOUND;
	store_items_fini(&it);
	free(pfx);
	return rc;
}

static int lmdb_scan(struct store *st, const char *prefix, store_scan_cb cb, void *arg)
{
	struct store_items it = { 0 };
	int rc = collect(env_of(st), env_of(st)->kv, prefix, 0, &it);

	if (rc == 0)
		rc = store_items_scan(&it, cb, arg);
	store_items_fini(&it);
	return rc;
}

static bool val_is(const MDB_val *v, const char *s)
{
	size_t n = strlen(s);

	return v->mv_size == HDR + n && memcmp((char *)v->mv_data + HDR, s, n) == 0;
}

static int lmdb_lock(struct store *st, const char *key, const char *owner, unsigned ttl_s)
{
	struct lmdb_env *e = env_of(st);
	MDB_txn *txn;
	MDB_val v;
	int rc = txn_begin(e, false, &txn);

	if (rc < 0)
		return rc;
	rc = get_val(txn, e->kv, key, &v);
	if (rc < 0)
		goto fail;
	if (rc == 0 && !val_is(&v, owner)) {
		rc = STORE_EXISTS;
		goto fail;
	}
	if ((rc = put_val(txn, e->kv, key, owner, strlen(owner), store_expiry_ms(ttl_s))) < 0)
		goto fail;
	return txn_commit(txn);
fail:
	txn_abort(txn);
	return rc;
}

static int lmdb_unlock(struct store *st, const char *key, const char *owner)
{
	struct lmdb_env *e = env_of(st);
	MDB_txn *txn;
	MDB_val v;
	MDB_val k = mkval(key);
	int rc = txn_begin(e, false, &txn);

	if (rc < 0)
		return rc;
	rc = get_val(txn, e->kv, key, &v);
	if (rc == 0 && !val_is(&v, owner))
		rc = STORE_NOTFOUND;
	if (rc)
		goto fail;
	if ((rc = mdb_del(txn, e->kv, &k, NULL))) {
		rc = lmdb_err(rc);
		goto fail;
	}
	return txn_commit(txn);
fail:
	txn_abort(txn);
	return rc;
}

static int lmdb_sweep(struct store *st)
{
	struct lmdb_env *e = env_of(st);
	uint64_t now = store_now_ms();
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int n = 0;
	int rc = txn_begin(e, false, &txn);

	if (rc < 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, e->kv, &cur)))
		goto fail;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (val_live(&v, now))
			continue;
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		goto fail;
	rc = txn_commit(txn);
	return rc < 0 ? rc : n;
fail:
	txn_abort(txn);
	return lmdb_err(rc);
}

static int lmdb_batch(struct store *st, store_batch_fn fn, void *arg)
{
	struct lmdb_env *e = env_of(st);
	MDB_txn *txn;

	if (batch_txn)
		return -EBUSY;
	int rc = txn_begin(e, false, &txn);
	if (rc < 0)
		return rc;
	batch_txn = txn;
	batch_env = e;
	rc = fn(st, arg);
	batch_txn = NULL;
	batch_env = NULL;
	if (rc < 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	int c = lmdb_err(mdb_txn_commit(txn));
	return c < 0 ? c : rc;
}

static const struct store_ops lmdb_ops = {
	.name = "lmdb",
	.close = lmdb_close,
	.get = lmdb_get,
	.set = lmdb_set,
	.del = lmdb_del,
	.incrby = lmdb_incrby,
	.hincrby = lmdb_hincrby,
	.hgetall = lmdb_hgetall,
	.scan = lmdb_scan,
	.lock = lmdb_lock,
	.unlock = lmdb_unlock,
	.sweep = lmdb_sweep,
	.batch = lmdb_batch,
};
