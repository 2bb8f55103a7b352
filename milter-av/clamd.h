/* clamd: a pool of clamd backends (unix: or inet:) with health state, and the
 * connection-level protocol steps (connect, INSTREAM framing, FILDES, reply, VERSION),
 * every one bounded by a timeout. The per-message object that uses them is in clamd_scan.h. */
#ifndef POSTWARDEN_AV_CLAMD_H
#define POSTWARDEN_AV_CLAMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict.h"

struct clamd_pool;

#define CLAMD_VERSION_MAX 64

/* One backend's state, as copied out by clamd_pool_health(). */
struct clamd_health {
	const char *endpoint; /* as configured; owned by the pool, valid while it lives */
	bool is_unix;
	bool up;
	long down_ms_left;      /* > 0 while marked down */
	unsigned long scans;    /* replies received (any status) */
	unsigned long infected; /* INFECTED replies */
	unsigned long failures; /* connect/IO failures and timeouts (each marked it down) */
	char version[CLAMD_VERSION_MAX]; /* "" until known */
	char last_error[128];            /* "" if none yet */
};

/**
 * clamd_pool_new() - parse endpoints and build a pool. Nothing is connected yet.
 * @endpoints: `unix:/path` or `inet:host:port` (`inet:[v6addr]:port`), in preference order
 * @n: number of endpoints (>= 1)
 * @timeout_ms: limit for each connect, each write and the wait for each reply
 * @retry_ms: how long a failed backend is skipped
 *
 * Return: the pool (free with clamd_pool_free()), or NULL with errno EINVAL for a bad
 * endpoint. The pool is thread safe; scans share it.
 */
struct clamd_pool *clamd_pool_new(const char *const *endpoints, size_t n, int timeout_ms,
                                  int retry_ms);
/* clamd_endpoint_check() - parse @spec as clamd_pool_new() does. Return 0 or -EINVAL. */
int clamd_endpoint_check(const char *spec);
/* clamd_pool_free() - free the pool (NULL is fine). No scan may be using it. */
void clamd_pool_free(struct clamd_pool *pool);

/* clamd_pool_size() - number of backends. */
size_t clamd_pool_size(const struct clamd_pool *pool);
/* clamd_pool_timeout() - the per-step timeout in ms. */
int clamd_pool_timeout(const struct clamd_pool *pool);
/* clamd_pool_endpoint() - backend @idx as configured (owned by the pool). */
const char *clamd_pool_endpoint(const struct clamd_pool *pool, size_t idx);
/* clamd_pool_is_unix() - true for a unix: backend (FILDES possible). */
bool clamd_pool_is_unix(const struct clamd_pool *pool, size_t idx);

/**
 * clamd_pool_health() - copy out every backend's state.
 * @out: array of at least @max entries
 * Return: the number of backends (may exceed @max: only @max are written).
 */
size_t clamd_pool_health(struct clamd_pool *pool, struct clamd_health *out, size_t max);

/**
 * clamd_pool_is_up() - true unless @idx was marked down less than retry_ms ago.
 */
bool clamd_pool_is_up(struct clamd_pool *pool, size_t idx);
/**
 * clamd_pool_mark_down() - skip backend @idx for retry_ms; counts a failure.
 * @reason: short text kept for status (copied)
 */
void clamd_pool_mark_down(struct clamd_pool *pool, size_t idx, const char *reason);
/* clamd_pool_mark_up() - backend @idx answered: it is up again (thread safe). */
void clamd_pool_mark_up(struct clamd_pool *pool, size_t idx);
/* clamd_pool_count() - count a reply of @status from backend @idx. */
void clamd_pool_count(struct clamd_pool *pool, size_t idx, enum verdict_status status);

/**
 * clamd_pool_version() - the backend's version string (zVERSION), cached.
 * @out: receives it ("" when the backend cannot be asked)
 * @cap: size of @out
 * Asks the backend on a new connection the first time and after it was marked down.
 * Return: 0, or -errno from the query.
 */
int clamd_pool_version(struct clamd_pool *pool, size_t idx, char *out, size_t cap);

/* clamd_strerror() - a short reason for a -errno from clamd_connect() or
 * clamd_pool_version(): "connection refused", "name not found", ... (static). */
const char *clamd_strerror(int err);

/**
 * clamd_connect() - connect to backend @idx within the pool's timeout.
 * Return: a non-blocking, close-on-exec socket fd (caller closes), or -errno
 * (-ETIMEDOUT on timeout, -ENXIO when an inet: host name does not resolve).
 */
int clamd_connect(struct clamd_pool *pool, size_t idx);

/**
 * clamd_send() - write all of @len bytes at @data, waiting at most @timeout_ms for
 * each bit of progress. MSG_NOSIGNAL: a closed peer gives -EPIPE, never SIGPIPE.
 * Return: 0 or -errno.
 */
int clamd_send(int fd, const void *data, size_t len, int timeout_ms);

struct iovec;
/**
 * clamd_sendv() - like clamd_send() for @n buffers; @iov is modified (advanced).
 * Return: 0 or -errno.
 */
int clamd_sendv(int fd, struct iovec *iov, int n, int timeout_ms);

/**
 * clamd_send_fildes() - send `zFILDES` and pass @passfd (SCM_RIGHTS) on a unix socket.
 * Return: 0 or -errno.
 */
int clamd_send_fildes(int fd, int passfd, int timeout_ms);

/**
 * clamd_read_reply() - read clamd's whole answer to one command: one line ended by NUL
 * (z commands) or a newline, then the end of the connection (clamd closes it after every
 * command outside a session).
 * @buf: receives the line, NUL-terminated
 * @cap: size of @buf (VERDICT_REPLY_MAX + 1)
 * Return: the line length (> 0); -ECONNRESET when the peer closed without sending anything;
 * -EPROTO when the reply is not exactly one line (empty, unterminated, longer than
 * @cap - 1, or followed by more bytes); -ETIMEDOUT; or another -errno.
 */
int clamd_read_reply(int fd, char *buf, size_t cap, int timeout_ms);

#endif
