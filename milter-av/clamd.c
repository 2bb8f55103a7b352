/* clamd: backend pool with health, and bounded protocol steps (see clamd.h).
 *
 * Spec: clamd(8) and doc/protocols.md, "clamd commands and streams" (ClamAV 1.4: `z`-prefixed
 * commands and NUL-terminated replies; INSTREAM chunks `<uint32 BE length><data>` ended by a zero
 * length; FILDES passes an fd with SCM_RIGHTS on a unix socket; clamd may close the connection on a
 * size-limit error, so writes use MSG_NOSIGNAL and callers still read the reply).
 * Every connect, write and reply wait is bounded by the pool's timeout: unix connects use
 * SO_SNDTIMEO (a full listen backlog blocks rather than EINPROGRESS), TCP connects and
 * all I/O use non-blocking sockets and poll(2).
 *
 * Threads: the pool is shared by every SMTP session; one mutex guards the backend
 * state (down-until, counters, cached version). Sockets belong to the caller. inet
 * names are resolved with getaddrinfo(3) on each connect (numeric hosts need no DNS).
 * Errors are returned as -errno; nothing here logs.
 */
#include "clamd.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "xalloc.h"

struct clamd_backend {
	char *endpoint;
	bool is_unix;
	struct sockaddr_un sun;
	char *host;
	char *port;
	/* guarded by pool->lock */
	int64_t down_until_ms;
	unsigned long scans, infected, failures;
	char version[CLAMD_VERSION_MAX];
	char last_error[128];
};

struct clamd_pool {
	pthread_mutex_t lock;
	size_t n;
	struct clamd_backend *b;
	int timeout_ms;
	int retry_ms;
};

static int parse_endpoint(struct clamd_backend *b, const char *spec)
{
	b->endpoint = xstrdup(spec);
	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;
		if (!*path || strlen(path) >= sizeof(b->sun.sun_path))
			return -EINVAL;
		b->is_unix = true;
		b->sun.sun_family = AF_UNIX;
		memcpy(b->sun.sun_path, path, strlen(path) + 1);
		return 0;
	}
	const char *rest;
	if (strncmp(spec, "inet:", 5) == 0)
		rest = spec + 5;
	else if (strncmp(spec, "inet6:", 6) == 0)
		rest = spec + 6;
	else
		return -EINVAL;
	const char *colon = strrchr(rest, ':');
	if (!colon || colon == rest || !colon[1])
		return -EINVAL;
	const char *h = rest;
	size_t hlen = (size_t)(colon - rest);
	if (h[0] == '[') {
		if (hlen < 3 || h[hlen - 1] != ']')
			return -EINVAL;
		h++;
		hlen -= 2;
	}
	b->host = xstrndup(h, hlen);
	b->port = xstrdup(colon + 1);
	return 0;
}

int clamd_endpoint_check(const char *spec)
{
	struct clamd_backend b = { 0 };
	int r = parse_endpoint(&b, spec);
	free(b.endpoint);
	free(b.host);
	free(b.port);
	return r;
}

struct clamd_pool *clamd_pool_new(const char *const *endpoints, size_t n, int timeout_ms,
                                  int retry_ms)
{
	if (n == 0 || timeout_ms <= 0 || retry_ms < 0) {
		errno = EINVAL;
		return NULL;
	}
	struct clamd_pool *pool = xcalloc(1, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pool->n = n;
	pool->b = xcalloc(n, sizeof(*pool->b));
	pool->timeout_ms = timeout_ms;
	pool->retry_ms = retry_ms;
	for (size_t i = 0; i < n; i++) {
		if (!endpoints[i] || parse_endpoint(&pool->b[i], endpoints[i]) < 0) {
			clamd_pool_free(pool);
			errno = EINVAL;
			return NULL;
		}
	}
	return pool;
}

void clamd_pool_free(struct clamd_pool *pool)
{
	if (!pool)
		return;
	for (size_t i = 0; i < pool->n; i++) {
		free(pool->b[i].endpoint);
		free(pool->b[i].host);
		free(pool->b[i].port);
	}
	free(pool->b);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

size_t clamd_pool_size(const struct clamd_pool *pool)
{
	return pool->n;
}

int clamd_pool_timeout(const struct clamd_pool *pool)
{
	return pool->timeout_ms;
}

const char *clamd_pool_endpoint(const struct clamd_pool *pool, size_t idx)
{
	return pool->b[idx].endpoint;
}

bool clamd_pool_is_unix(const struct clamd_pool *pool, size_t idx)
{
	return pool->b[idx].is_unix;
}

size_t clamd_pool_health(struct clamd_pool *pool, struct clamd_health *out, size_t max)
{
	int64_t now = clock_mono_ms();
	pthread_mutex_lock(&pool->lock);
	for (size_t i = 0; i < pool->n && i < max; i++) {
		const struct clamd_backend *b = &pool->b[i];
		struct clamd_health *h = &out[i];
		h->endpoint = b->endpoint;
		h->is_unix = b->is_unix;
		h->up = b->down_until_ms <= now;
		h->down_ms_left = h->up ? 0 : (long)(b->down_until_ms - now);
		h->scans = b->scans;
		h->infected = b->infected;
		h->failures = b->failures;
		memcpy(h->version, b->version, sizeof(h->version));
		memcpy(h->last_error, b->last_error, sizeof(h->last_error));
	}
	pthread_mutex_unlock(&pool->lock);
	return pool->n;
}

bool clamd_pool_is_up(struct clamd_pool *pool, size_t idx)
{
	pthread_mutex_lock(&pool->lock);
	bool up = pool->b[idx].down_until_ms <= clock_mono_ms();
	pthread_mutex_unlock(&pool->lock);
	return up;
}

void clamd_pool_mark_down(struct clamd_pool *pool, size_t idx, const char *reason)
{
	pthread_mutex_lock(&pool->lock);
	struct clamd_backend *b = &pool->b[idx];
	b->down_until_ms = clock_mono_ms() + pool->retry_ms;
	b->failures++;
	b->version[0] = '\0';
	snprintf(b->last_error, sizeof(b->last_error), "%s", reason ? reason : "");
	pthread_mutex_unlock(&pool->lock);
}

void clamd_pool_mark_up(struct clamd_pool *pool, size_t idx)
{
	pthread_mutex_lock(&pool->lock);
	pool->b[idx].down_until_ms = 0;
	pthread_mutex_unlock(&pool->lock);
}

void clamd_pool_count(struct clamd_pool *pool, size_t idx, enum verdict_status status)
{
	pthread_mutex_lock(&pool->lock);
	pool->b[idx].scans++;
	if (status == VERDICT_INFECTED)
		pool->b[idx].infected++;
	pthread_mutex_unlock(&pool->lock);
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_unix(const struct clamd_backend *b, int timeout_ms)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int r = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (r == 0)
		r = connect(fd, (const struct sockaddr *)&b->sun, sizeof(b->sun));
	if (r < 0) {
		r = (errno == EAGAIN || errno == EINPROGRESS) ? -ETIMEDOUT : -errno;
		close(fd);
		return r;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int connect_addr(const struct addrinfo *ai, int64_t deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			r = -errno;
			goto fail;
		}
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			goto fail;
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			r = -err;
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return r;
}

static int connect_inet(const struct clamd_backend *b, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int g = getaddrinfo(b->host, b->port, &hints, &res);
	if (g == EAI_SYSTEM)
		return -errno;
	if (g == EAI_AGAIN)
		return -EAGAIN;
	if (g != 0)
		return -ENXIO; /* the name does not resolve */
	int r = -EHOSTUNREACH;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		r = connect_addr(ai, deadline);
		if (r >= 0 || r == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	return r;
}

const char *clamd_strerror(int err)
{
	switch (err) {
	case -ECONNREFUSED:
		return "connection refused";
	case -ENXIO:
		return "name not found";
	case -EAGAIN:
		return "name lookup failed temporarily";
	case -ENOENT:
		return "no such socket";
	case -EACCES:
	case -EPERM:
		return "permission denied";
	case -ETIMEDOUT:
		return "timed out";
	case -EHOSTUNREACH:
	case -ENETUNREACH:
		return "unreachable";
	case -ECONNRESET:
	case -EPIPE:
		return "connection closed";
	case -EPROTO:
		return "not a clamd answer";
	default:
		return strerror(-err);
	}
}

int clamd_connect(struct clamd_pool *pool, size_t idx)
{
	const struct clamd_backend *b = &pool->b[idx];
	return b->is_unix ? connect_unix(b, pool->timeout_ms) : connect_inet(b, pool->timeout_ms);
}

static int send_msg(int fd, struct msghdr *msg, size_t total, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	while (total > 0) {
		ssize_t w = sendmsg(fd, msg, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			int r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		deadline = clock_mono_ms() + timeout_ms;
		total -= (size_t)w;
		msg->msg_control = NULL;
		msg->msg_controllen = 0;
		while (w > 0 && msg->msg_iovlen > 0) {
			struct iovec *v = msg->msg_iov;
			size_t step = (size_t)w < v->iov_len ? (size_t)w : v->iov_len;
			v->iov_base = (char *)v->iov_base + step;
			v->iov_len -= step;
			w -= (ssize_t)step;
			if (v->iov_len == 0) {
				msg->msg_iov++;
				msg->msg_iovlen--;
			}
		}
	}
	return 0;
}

int clamd_send(int fd, const void *data, size_t len, int timeout_ms)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	return send_msg(fd, &msg, len, timeout_ms);
}

int clamd_sendv(int fd, struct iovec *iov, int n, int timeout_ms)
{
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
	return send_msg(fd, &msg, total, timeout_ms);
}

int clamd_send_fildes(int fd, int passfd, int timeout_ms)
{
	static const char cmd[] = "zFILDES";
	int r = clamd_send(fd, cmd, sizeof(cmd), timeout_ms);
	if (r < 0)
		return r;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	char dummy = 0;
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
		              .msg_iovlen = 1,
		              .msg_control = ctl.buf,
		              .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	return send_msg(fd, &msg, 1, timeout_ms);
}

/* Wait for the end of the connection after a complete reply line: any further byte means
 * a reply of more than one line. */
static int read_eof(int fd, int64_t deadline)
{
	char extra[64];
	for (;;) {
		ssize_t r = recv(fd, extra, sizeof(extra), 0);
		if (r == 0)
			return 0;
		if (r > 0)
			return -EPROTO;
		if (errno == ECONNRESET)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int w = wait_fd(fd, POLLIN, deadline);
		if (w < 0)
			return w;
	}
}

int clamd_read_reply(int fd, char *buf, size_t cap, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	size_t len = 0;
	if (cap < 2)
		return -EINVAL;
	for (;;) {
		ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return len ? -EPROTO : -errno;
			int w = wait_fd(fd, POLLIN, deadline);
			if (w < 0)
				return w;
			continue;
		}
		if (r == 0) /* closed before the line was complete */
			return len ? -EPROTO : -ECONNRESET;
		char *end = memchr(buf + len, '\0', (size_t)r);
		char *nl = memchr(buf + len, '\n', (size_t)r);
		if (!end || (nl && nl < end))
			end = nl;
		len += (size_t)r;
		if (end) {
			size_t line = (size_t)(end - buf);
			if (line + 1 < len || line == 0)
				return -EPROTO;
			buf[line] = '\0';
			int e = read_eof(fd, deadline);
			return e < 0 ? e : (int)line;
		}
		if (len == cap - 1)
			return -EPROTO;
	}
}

static int query_version(struct clamd_pool *pool, size_t idx, char *out, size_t cap)
{
	int fd = clamd_connect(pool, idx);
	if (fd < 0)
		return fd;
	static const char cmd[] = "zVERSION";
	char reply[VERDICT_REPLY_MAX + 1];
	int r = clamd_send(fd, cmd, sizeof(cmd), pool->timeout_ms);
	if (r == 0)
		r = clamd_read_reply(fd, reply, sizeof(reply), pool->timeout_ms);
	close(fd);
	if (r < 0)
		return r;
	/* "ClamAV 1.4.6" or "ClamAV 1.4.6/27000/date": keep the engine part */
	char *slash = strchr(reply, '/');
	if (slash)
		*slash = '\0';
	size_t i = 0;
	for (; reply[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)reply[i];
		out[i] = (c >= 0x20 && c < 0x7f && c != '%') ? (char)c : '_';
	}
	out[i] = '\0';
	return 0;
}

int clamd_pool_version(struct clamd_pool *pool, size_t idx, char *out, size_t cap)
{
	if (cap == 0)
		return -EINVAL;
	pthread_mutex_lock(&pool->lock);
	snprintf(out, cap, "%s", pool->b[idx].version);
	pthread_mutex_unlock(&pool->lock);
	if (out[0])
		return 0;
	char v[CLAMD_VERSION_MAX];
	int r = query_version(pool, idx, v, sizeof(v));
	if (r < 0)
		return r;
	pthread_mutex_lock(&pool->lock);
	memcpy(pool->b[idx].version, v, sizeof(v));
	pthread_mutex_unlock(&pool->lock);
	snprintf(out, cap, "%s", v);
	return 0;
}
