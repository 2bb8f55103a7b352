/* server: the stream runner (see server.h).
 *
 * Threads: the skeleton's signal thread requests the stop; serve() waits for it on
 * the daemon's condition, then wakes everyone through an eventfd that stays readable
 * from then on; one accept thread polls every listener and that eventfd; each client
 * gets a detached thread running ops->conn(), counted and linked in a list under
 * srv.lock, so that serve() can wait for the last one (srv.cond) and, once the stop
 * deadline has passed, shut the sockets still open down (their reads and writes then
 * fail at once). A conn's fd is closed by its own thread, under the lock, after
 * unlinking it: serve() never shuts down a reused fd.
 * Ownership: listeners and their socket files belong to the runner (closed and
 * removed at the end of serve() or by abandon()); a conn and its fd belong to the
 * runner, and conn() borrows them until it returns.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "listen.h"
#include "log.h"
#include "milter_probe.h"
#include "privs.h"
#include "xalloc.h"

/* After the stop deadline the remaining sockets are shut down; their threads then get
 * this long to return before serve() gives up on them. */
#define SERVER_SHUTDOWN_GRACE_MS 2000

struct server_conn {
	int fd;
	int idle_ms, io_ms;
	bool runner; /* made by the accept thread: a stop applies */
	char peer[64];
	struct server_conn *prev, *next;
};

static struct {
	const struct server_ops *ops;
	struct daemon *d;
	int lfd[SERVER_LISTEN_MAX];
	struct listen_spec ls[SERVER_LISTEN_MAX]; /* the `listen =` entries we bound */
	size_t nl;
	bool bound; /* ls[] holds what we bound (not systemd's sockets) */
	int wake;   /* eventfd: readable once stopping */
	atomic_bool stopping;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a conn ended, or stopping */
	struct server_conn *conns;
	atomic_int live;
	long limit_stamp; /* log_ratelimit() of the connection limit line */
	long accept_stamp;
	char record[512]; /* the first `listen =` entry, for the `status` record */
} srv = { .wake = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static int server_max_conns(void)
{
	return srv.ops->max_conns > 0 ? srv.ops->max_conns : SERVER_MAX_CONNS_DEFAULT;
}

int server_conns(void)
{
	return atomic_load(&srv.live);
}

const char *server_conn_peer(const struct server_conn *c)
{
	return c->peer;
}

int server_conn_fd(const struct server_conn *c)
{
	return c->fd;
}

/* server_peer_text() - the client address of @fd into @out. */
static void server_peer_text(int fd, char *out, size_t outsz)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	snprintf(out, outsz, "unix");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, outsz, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, outsz, "[%s]:%u", host, (unsigned)ntohs(sin6->sin6_port));
	}
}

struct server_conn *server_conn_new(int fd, int idle_timeout_ms, int io_timeout_ms)
{
	struct server_conn *c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->idle_ms = idle_timeout_ms > 0 ? idle_timeout_ms : SERVER_IDLE_TIMEOUT_DEFAULT_MS;
	c->io_ms = io_timeout_ms > 0 ? io_timeout_ms : SERVER_IO_TIMEOUT_DEFAULT_MS;
	server_peer_text(fd, c->peer, sizeof(c->peer));
	return c;
}

void server_conn_free(struct server_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

ssize_t server_conn_read(struct server_conn *c, void *buf, size_t n, bool idle)
{
	bool stoppable = idle && c->runner;
	int64_t end = clock_mono_ms() + (idle ? c->idle_ms : c->io_ms);

	for (;;) {
		if (stoppable && atomic_load(&srv.stopping))
			return -ECANCELED;
		struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { srv.wake, POLLIN, 0 } };
		int64_t left = end - clock_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		int r = poll(p, stoppable ? 2 : 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0 || !p[0].revents)
			continue;
		ssize_t k = recv(c->fd, buf, n, MSG_DONTWAIT);
		if (k >= 0)
			return k;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

int server_conn_write_all(struct server_conn *c, const void *buf, size_t n)
{
	const char *p = buf;
	int64_t end = clock_mono_ms() + c->io_ms;

	while (n > 0) {
		ssize_t k = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		int64_t left = end - clock_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pf = { c->fd, POLLOUT, 0 };
		if (poll(&pf, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

static void *server_conn_thread(void *arg)
{
	struct server_conn *c = arg;
	srv.ops->conn(srv.d, c);
	pthread_mutex_lock(&srv.lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd);
	c->fd = -1;
	atomic_fetch_sub(&srv.live, 1);
	pthread_cond_broadcast(&srv.cond);
	pthread_mutex_unlock(&srv.lock);
	free(c);
	return NULL;
}

/* server_spawn() - serve @fd on a thread of its own; on failure close it. */
static void server_spawn(int fd)
{
	struct server_conn *c =
	        server_conn_new(fd, srv.ops->idle_timeout_ms, srv.ops->io_timeout_ms);
	pthread_attr_t attr;
	pthread_t t;

	c->runner = true;
	pthread_mutex_lock(&srv.lock);
	c->next = srv.conns;
	if (srv.conns)
		srv.conns->prev = c;
	srv.conns = c;
	atomic_fetch_add(&srv.live, 1);
	pthread_mutex_unlock(&srv.lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&t, &attr, server_conn_thread, c);
	pthread_attr_destroy(&attr);
	if (r == 0)
		return;
	if (log_ratelimit(&srv.accept_stamp, 60))
		log_err_e(-r, "no thread for a client from %s: closing it", c->peer);
	pthread_mutex_lock(&srv.lock);
	srv.conns = c->next;
	if (c->next)
		c->next->prev = NULL;
	atomic_fetch_sub(&srv.live, 1);
	pthread_mutex_unlock(&srv.lock);
	server_conn_free(c);
}

/* server_wait_slot() - block while max_conns clients are served. Return false once
 * stopping. */
static bool server_wait_slot(void)
{
	int max = server_max_conns();
	pthread_mutex_lock(&srv.lock);
	while (atomic_load(&srv.live) >= max && !atomic_load(&srv.stopping)) {
		if (log_ratelimit(&srv.limit_stamp, 60))
			log_warnx("connection limit reached (%d): new clients wait until one ends",
			          max);
		pthread_cond_wait(&srv.cond, &srv.lock);
	}
	pthread_mutex_unlock(&srv.lock);
	return !atomic_load(&srv.stopping);
}

/* server_accept_one() - take one client from listener @fd, if one is there. */
static void server_accept_one(int fd)
{
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd >= 0) {
		server_spawn(cfd);
		return;
	}
	if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
		return;
	if (log_ratelimit(&srv.accept_stamp, 60))
		log_warn("accept");
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
		struct timespec ts = { 0, 100 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static void *server_accept_thread(void *arg)
{
	(void)arg;
	struct pollfd p[SERVER_LISTEN_MAX + 1];

	while (server_wait_slot()) {
		for (size_t i = 0; i < srv.nl; i++)
			p[i] = (struct pollfd){ srv.lfd[i], POLLIN, 0 };
		p[srv.nl] = (struct pollfd){ srv.wake, POLLIN, 0 };
		int r = poll(p, srv.nl + 1, -1);
		if (r < 0 && errno != EINTR) {
			log_err("poll on the listeners");
			struct timespec ts = { 0, 100 * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (r <= 0 || p[srv.nl].revents)
			continue;
		for (size_t i = 0; i < srv.nl; i++)
			if (p[i].revents && atomic_load(&srv.live) < server_max_conns())
				server_accept_one(srv.lfd[i]);
	}
	return NULL;
}

/* server_close_listeners() - stop listening; remove the socket files we made. */
static void server_close_listeners(void)
{
	for (size_t i = 0; i < srv.nl; i++) {
		if (srv.lfd[i] >= 0)
			close(srv.lfd[i]);
		srv.lfd[i] = -1;
		if (srv.bound && srv.ls[i].kind == LISTEN_UNIX)
			listen_unlink(&srv.ls[i]);
	}
}

/* server_bind() - bind every `listen =` endpoint of @c; on failure (logged) undo. */
static int server_bind(struct daemon_conf *c)
{
	size_t n;
	const char *const *l = cfg_list(c->cfg, NULL, "listen", &n);
	bool root = privs_is_root();
	int r = 0;

	if (n == 0 || n > SERVER_LISTEN_MAX) {
		log_errx("%s: listen: %s", cfg_path(c->cfg),
		         n ? "too many endpoints" : "no endpoint (and no systemd socket)");
		return -EINVAL;
	}
	srv.bound = true;
	for (size_t i = 0; i < n; i++) {
		struct listen_spec *ls = &srv.ls[i];
		if ((r = listen_parse(l[i], ls)) < 0) {
			log_errx("%s: listen: bad endpoint '%s'", cfg_path(c->cfg), l[i]);
			goto fail;
		}
		int fd = listen_bind(ls, SOCK_STREAM, SOMAXCONN);
		if (fd == -EADDRINUSE && ls->kind == LISTEN_UNIX) {
			log_errx("another process is listening on %s", ls->path);
			r = fd;
			goto fail;
		}
		if (fd < 0) {
			log_err_e(fd, "cannot listen on %s", l[i]);
			r = fd;
			goto fail;
		}
		srv.lfd[srv.nl++] = fd;
		if (ls->kind == LISTEN_UNIX) {
			const char *user = root ? cfg_str(c->cfg, NULL, "user") : NULL;
			const char *group = root ? cfg_str(c->cfg, NULL, "listen_group") : NULL;
			int e = listen_set_owner(ls, user, group);
			if (e < 0)
				log_warn_e(e, "%s: cannot set mode/group", ls->path);
		}
		log_info("listening on %s", l[i]);
	}
	return 0;
fail:
	server_close_listeners();
	srv.nl = 0;
	return r;
}

static int server_prepare(struct daemon *d)
{
	struct daemon_conf *c = daemon_conf_get(d);
	int fds[SERVER_LISTEN_MAX];
	int r;

	srv.d = d;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv.cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((srv.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		r = -errno;
		log_err("eventfd");
		goto out;
	}
	r = listen_adopt_systemd(SOCK_STREAM, fds, SERVER_LISTEN_MAX);
	if (r > 0) {
		for (int i = 0; i < r; i++) {
			srv.lfd[srv.nl++] = fds[i];
			log_info("listening on systemd socket fd %d", fds[i]);
		}
		r = 0;
	} else if (r == 0) {
		r = server_bind(c);
	} else {
		log_err_e(r, "cannot take the sockets systemd passed");
	}
	for (size_t i = 0; r == 0 && i < srv.nl; i++)
		fcntl(srv.lfd[i], F_SETFL, fcntl(srv.lfd[i], F_GETFL) | O_NONBLOCK);
out:
	daemon_conf_put(c);
	return r;
}

/* server_drain() - wait until no conn is live or @deadline (clock_mono_ms()) passes.
 * Return the conns still live. */
static int server_drain(int64_t deadline)
{
	pthread_mutex_lock(&srv.lock);
	while (atomic_load(&srv.live) > 0) {
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (long)(left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv.cond, &srv.lock, &ts);
	}
	int live = atomic_load(&srv.live);
	pthread_mutex_unlock(&srv.lock);
	return live;
}

/* server_shutdown_all() - end every open conn's I/O now (its thread closes the fd). */
static void server_shutdown_all(void)
{
	pthread_mutex_lock(&srv.lock);
	for (struct server_conn *c = srv.conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&srv.lock);
}

static int server_serve(struct daemon *d)
{
	pthread_t acceptor;
	int r;

	milter_probe_serving(d, srv.record, sizeof(srv.record));
	if ((r = pthread_create(&acceptor, NULL, server_accept_thread, NULL)) != 0) {
		log_err_e(-r, "no accept thread");
		daemon_request_stop(d);
		server_close_listeners();
		return -r;
	}
	daemon_wait_stop(d, -1);
	atomic_store(&srv.stopping, true);
	uint64_t one = 1;
	(void)!write(srv.wake, &one, sizeof(one));
	pthread_mutex_lock(&srv.lock);
	pthread_cond_broadcast(&srv.cond);
	pthread_mutex_unlock(&srv.lock);
	pthread_join(acceptor, NULL);
	server_close_listeners();

	int64_t deadline = clock_mono_ms() + daemon_stop_deadline_ms(d);
	int live = server_conns();
	if (live > 0)
		log_info("stopping: %d connection%s open", live, live == 1 ? "" : "s");
	if (server_drain(deadline) > 0) {
		live = server_conns();
		log_warnx("stop deadline passed with %d connection%s open: closing %s", live,
		          live == 1 ? "" : "s", live == 1 ? "it" : "them");
		server_shutdown_all();
		if ((live = server_drain(clock_mono_ms() + SERVER_SHUTDOWN_GRACE_MS)) > 0)
			log_warnx("%d connection thread%s still busy: exiting without %s", live,
			          live == 1 ? "" : "s", live == 1 ? "it" : "them");
	}
	milter_probe_stopped(d, srv.record);
	return 0;
}

/* A start that failed after binding: stop listening, then remove the socket files. */
static void server_abandon(struct daemon *d)
{
	(void)d;
	server_close_listeners();
}

static const struct daemon_runner server_daemon_runner = {
	.prepare = server_prepare,
	.serve = server_serve,
	.abandon = server_abandon,
	.own_signals = false,
	.one_listen = false,
};

const struct daemon_runner *server_stream_runner(const struct server_ops *ops)
{
	srv.ops = ops;
	return &server_daemon_runner;
}
