/* store: the state shared by the postwarden daemons, behind one opaque handle.
 *
 * Backends by URI: "lmdb:/dir[?mapsize=1G]" (embedded default), "redis://host:port[/db]
 * [?timeout=1s]", "redis+unix:///path.sock[?db=0&timeout=1s]", "memory:" (tests).
 * Every call is thread safe and returns 0, a documented positive outcome
 * (STORE_NOTFOUND, STORE_EXISTS) or a negative errno. A backend that is
 * unreachable answers -ECONNREFUSED/-ENOENT/-ECONNRESET/-EPIPE/-ETIMEDOUT/-EAGAIN
 * within its timeout and reconnects by itself (with backoff) on later calls.
 * Keys are namespaced "pw:<daemon>:..." (doc/store-schema.md). Values are bytes.
 */
#ifndef POSTWARDEN_STORE_H
#define POSTWARDEN_STORE_H

#include <stdbool.h>
#include <stddef.h>

#define STORE_NOTFOUND 1 /* no such key (or it expired) */
#define STORE_EXISTS 2   /* store_lock(): held by another owner */

#define STORE_KEY_MAX 511         /* bytes (LMDB's key limit); longer keys are -ENAMETOOLONG */
#define STORE_VALUE_MAX (1 << 20) /* bytes; larger values are -EMSGSIZE */

struct store;

/**
 * store_open() - open the store named by @uri.
 * Return: a handle (free with store_close()), or NULL with errno set (EINVAL for a
 * bad URI, EPROTONOSUPPORT for a backend not built in, or the open error). A
 * redis store opens even when the server is down (it connects lazily).
 */
struct store *store_open(const char *uri);
/* store_close() - close and free; NULL is fine. No call may be in flight. */
void store_close(struct store *st);
/* store_backend() - "lmdb", "redis" or "memory". */
const char *store_backend(const struct store *st);
/* store_host_name() - this host's name as per-host keys ("pw:...:<host>:...") name it:
 * gethostname(), or "localhost" when it fails; always NUL-terminated in @out. */
void store_host_name(char *out, size_t outsz);

/* store_uri_is_remote() - @uri names a server (redis): store_open() succeeds while it is
 * down and the handle reconnects by itself. A local store (lmdb, memory) is not remote. */
bool store_uri_is_remote(const char *uri);

/**
 * store_get() - read a value.
 * @val: set to a malloc'd copy (NUL-terminated beyond @len, caller frees)
 * Return: 0, STORE_NOTFOUND, -errno.
 */
int store_get(struct store *st, const char *key, char **val, size_t *len);
/* store_set() - write @val; @ttl_s seconds to live, 0 = forever. Return 0 or -errno. */
int store_set(struct store *st, const char *key, const void *val, size_t len, unsigned ttl_s);
/* store_del() - Return 0, STORE_NOTFOUND, -errno. */
int store_del(struct store *st, const char *key);
/* store_incrby() - add @by to the integer at @key (missing = 0). @result may be NULL. */
int store_incrby(struct store *st, const char *key, long long by, long long *result);
/* store_hincrby() - add @by to @field of the hash at @key. @result may be NULL. */
int store_hincrby(struct store *st, const char *key, const char *field, long long by,
                  long long *result);

typedef int (*store_hash_cb)(const char *field, long long value, void *arg);
/* store_hgetall() - call @cb for every field of the counter hash at @key; a nonzero
 * return from @cb stops the walk and is returned. Return 0, STORE_NOTFOUND, -errno. */
int store_hgetall(struct store *st, const char *key, store_hash_cb cb, void *arg);

typedef int (*store_scan_cb)(const char *key, const char *val, size_t len, void *arg);
/* store_scan() - call @cb for each plain (non-hash) key starting with @prefix, with its
 * value; order unspecified; a nonzero return from @cb stops and is returned. */
int store_scan(struct store *st, const char *prefix, store_scan_cb cb, void *arg);

/* store_lock() - take @key for @owner for @ttl_s seconds if free or already ours
 * (then the TTL is renewed). Return 0 (ours), STORE_EXISTS (someone else's), -errno. */
int store_lock(struct store *st, const char *key, const char *owner, unsigned ttl_s);
/* store_unlock() - release @key if @owner holds it. Return 0, STORE_NOTFOUND, -errno. */
int store_unlock(struct store *st, const char *key, const char *owner);

/* A group of store calls for store_batch(); return 0 or -errno (then nothing is kept when
 * the backend is atomic). */
typedef int (*store_batch_fn)(struct store *st, void *arg);
/**
 * store_batch() - run @fn, whose store calls on @st (made from this thread) form one
 * write: on lmdb one transaction, committed once when @fn returns >= 0 and dropped when it
 * returns an error (other threads' writes wait for it); on the other backends the calls
 * take effect one by one. Not nestable (-EBUSY).
 * Return: @fn's return, or -errno when the commit fails (nothing kept).
 */
int store_batch(struct store *st, store_batch_fn fn, void *arg);
/* store_batch_atomic() - true when store_batch() keeps all of a failed batch's writes out. */
bool store_batch_atomic(const struct store *st);

/* store_sweep() - drop expired keys now (lmdb/memory; a no-op on redis). Return count or -errno. */
int store_sweep(struct store *st);

#endif
