/* server_dgram: the datagram runner (see server_dgram.h).
 *
 * Threads: serve() starts a receive thread and a worker thread, then waits for the stop
 * on the daemon's condition and wakes the receiver through an eventfd. The receive thread
 * polls the socket and the eventfd and reads with recvmmsg(MSG_DONTWAIT) until EAGAIN; each
 * datagram is copied (malloc, its own length) and the copies of one recvmmsg() go into a
 * ring of iovecs under one hold of dg.lock, or are counted as dropped when the ring is
 * full: it never waits on the worker while serving. Only its
 * final drain at a stop waits for room, since the socket is then shut and nothing new can
 * arrive. The worker takes up to SERVER_DGRAM_BATCH_MAX iovecs under the lock, calls
 * batch() without it, then frees them; once the receiver is done and the ring is empty it
 * returns. serve() joins both, so every datagram queued was handed to batch() on return.
 * Ownership: the socket and its file belong to the runner (closed by the receive thread at
 * its end, or by abandon(); the file removed only while it is still the one we made); a
 * queued datagram belongs to the ring until the worker frees it after batch().
 */
#include "server_dgram.h"

#include <errno.h>
#include <fcntl.h>
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

static struct {
	const struct server_dgram_ops *ops;
	struct daemon *d;
	int fd;
	struct listen_spec ls;
	bool bound; /* ls is the socket we bound (not systemd's) */
	int wake;   /* eventfd: readable once stopping */
	size_t qmax, bytes_max, dgram_max;
	pthread_mutex_t lock;
	pthread_cond_t data;  /* the ring became non-empty, or the receiver is done */
	pthread_cond_t space; /* the worker took datagrams out */
	struct iovec *ring;
	size_t head, count, bytes;
	bool recv_done;
	atomic_ullong received, dropped_full, truncated, handled;
	long full_stamp, trunc_stamp, err_stamp; /* log_ratelimit() */
	char record[512];
} dg = { .fd = -1, .wake = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

void server_dgram_stats(struct server_dgram_stats *s)
{
	s->received = atomic_load(&dg.received);
	s->dropped_full = atomic_load(&dg.dropped_full);
	s->truncated = atomic_load(&dg.truncated);
	s->handled = atomic_load(&dg.handled);
}

bool server_dgram_bound(void)
{
	return dg.bound;
}

size_t server_dgram_queued(void)
{
	pthread_mutex_lock(&dg.lock);
	size_t n = dg.count;
	pthread_mutex_unlock(&dg.lock);
	return n;
}

/* The receive side's buffers: up to SERVER_DGRAM_RECV_VEC datagrams per recvmmsg(), each
 * in a buffer of dgram_max bytes (fewer when that would pass SERVER_DGRAM_RECV_BYTES). */
#define SERVER_DGRAM_RECV_VEC 64
#define SERVER_DGRAM_RECV_BYTES (4UL * 1024 * 1024)

struct server_dgram_rx {
	size_t vec;
	char *bufs;
	struct iovec iov[SERVER_DGRAM_RECV_VEC];
	struct mmsghdr mm[SERVER_DGRAM_RECV_VEC];
	void *copy[SERVER_DGRAM_RECV_VEC];
	size_t len[SERVER_DGRAM_RECV_VEC];
};

static void server_dgram_rx_init(struct server_dgram_rx *rx)
{
	size_t vec = SERVER_DGRAM_RECV_BYTES / dg.dgram_max;
	rx->vec = vec < 1 ? 1 : vec > SERVER_DGRAM_RECV_VEC ? SERVER_DGRAM_RECV_VEC : vec;
	rx->bufs = xmalloc(rx->vec * dg.dgram_max);
	for (size_t i = 0; i < rx->vec; i++)
		rx->iov[i] = (struct iovec){ rx->bufs + i * dg.dgram_max, dg.dgram_max };
}

/* server_dgram_enqueue() - queue the @n copies in @rx (taking them); those that find the
 * ring full are freed and counted as dropped. @wait: block for room instead (the final
 * drain only). */
static void server_dgram_enqueue(struct server_dgram_rx *rx, size_t n, bool wait)
{
	size_t queued = 0;

	pthread_mutex_lock(&dg.lock);
	for (size_t i = 0; i < n; i++) {
		size_t k = rx->len[i];
		while (wait && (dg.count == dg.qmax || dg.bytes + k > dg.bytes_max) && dg.count > 0)
			pthread_cond_wait(&dg.space, &dg.lock);
		if (dg.count == dg.qmax || (dg.bytes + k > dg.bytes_max && dg.count > 0))
			break;
		struct iovec *slot = &dg.ring[(dg.head + dg.count) % dg.qmax];
		*slot = (struct iovec){ rx->copy[i], k };
		rx->copy[i] = NULL;
		dg.bytes += k;
		if (dg.count++ == 0)
			pthread_cond_signal(&dg.data);
		queued++;
	}
	atomic_fetch_add(&dg.received, queued); /* before the worker can count them handled */
	pthread_mutex_unlock(&dg.lock);
	if (queued == n)
		return;
	for (size_t i = queued; i < n; i++)
		free(rx->copy[i]);
	atomic_fetch_add(&dg.dropped_full, n - queued);
	if (log_ratelimit(&dg.full_stamp, 60))
		log_warnx("queue full (%zu datagrams): dropping datagrams", dg.qmax);
}

/* server_dgram_recv() - take what the socket holds, up to rx->vec datagrams, into the
 * queue (or count them). Return how many were taken (0: none waiting), or -errno. */
static int server_dgram_recv(struct server_dgram_rx *rx, bool wait)
{
	size_t n = 0;
	int k;

	for (size_t i = 0; i < rx->vec; i++)
		rx->mm[i] =
		        (struct mmsghdr){ .msg_hdr = { .msg_iov = &rx->iov[i], .msg_iovlen = 1 } };
	do
		k = recvmmsg(dg.fd, rx->mm, (unsigned)rx->vec, MSG_DONTWAIT, NULL);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (int i = 0; i < k; i++) {
		if (rx->mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
			atomic_fetch_add(&dg.truncated, 1);
			if (log_ratelimit(&dg.trunc_stamp, 60))
				log_warnx("a datagram longer than %zu bytes was dropped",
				          dg.dgram_max);
			continue;
		}
		size_t len = rx->mm[i].msg_len;
		rx->copy[n] = xmalloc(len ? len : 1);
		memcpy(rx->copy[n], rx->iov[i].iov_base, len);
		rx->len[n++] = len;
	}
	if (n)
		server_dgram_enqueue(rx, n, wait);
	return k;
}

/* server_dgram_close() - close the socket; remove its file if we made it and it is ours. */
static void server_dgram_close(void)
{
	if (dg.fd >= 0)
		close(dg.fd);
	dg.fd = -1;
	if (dg.bound)
		listen_unlink(&dg.ls);
	dg.bound = false;
}

/* server_dgram_final_drain() - at a stop: what the kernel accepted is read and queued,
 * waiting for room if need be. A socket we bound is shut for reading first, so the drain
 * ends; systemd's is drained until empty or the stop deadline. */
static void server_dgram_final_drain(struct server_dgram_rx *rx)
{
	int64_t end = clock_mono_ms() + daemon_stop_deadline_ms(dg.d);
	unsigned long long before = atomic_load(&dg.received);
	int r;

	if (dg.bound && shutdown(dg.fd, SHUT_RD) < 0)
		log_warn("shutdown of the datagram socket");
	while ((r = server_dgram_recv(rx, true)) > 0)
		if (!dg.bound && clock_mono_ms() > end)
			break;
	if (r < 0)
		log_warn_e(r, "receiving datagrams at the stop");
	unsigned long long n = atomic_load(&dg.received) - before;
	if (n)
		log_info("stopping: %llu datagram%s taken from the socket", n, n == 1 ? "" : "s");
}

static void *server_dgram_recv_thread(void *arg)
{
	(void)arg;
	struct server_dgram_rx *rx = xcalloc(1, sizeof(*rx));
	server_dgram_rx_init(rx);

	for (;;) {
		struct pollfd p[2] = { { dg.fd, POLLIN, 0 }, { dg.wake, POLLIN, 0 } };
		int r = poll(p, 2, -1);
		if (r < 0 && errno != EINTR) {
			log_err("poll on the datagram socket");
			struct timespec ts = { 0, 100 * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (r <= 0)
			continue;
		if (p[1].revents)
			break;
		while ((r = server_dgram_recv(rx, false)) > 0)
			;
		if (r < 0) {
			if (log_ratelimit(&dg.err_stamp, 60))
				log_warn_e(r, "receiving a datagram");
			struct timespec ts = { 0, 10 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	server_dgram_final_drain(rx);
	server_dgram_close();
	free(rx->bufs);
	free(rx);
	pthread_mutex_lock(&dg.lock);
	dg.recv_done = true;
	pthread_cond_signal(&dg.data);
	pthread_mutex_unlock(&dg.lock);
	return NULL;
}

static void *server_dgram_worker_thread(void *arg)
{
	(void)arg;
	struct iovec *batch = xcalloc(SERVER_DGRAM_BATCH_MAX, sizeof(*batch));

	pthread_mutex_lock(&dg.lock);
	for (;;) {
		while (dg.count == 0 && !dg.recv_done)
			pthread_cond_wait(&dg.data, &dg.lock);
		if (dg.count == 0)
			break;
		size_t n = dg.count < SERVER_DGRAM_BATCH_MAX ? dg.count : SERVER_DGRAM_BATCH_MAX;
		for (size_t i = 0; i < n; i++) {
			batch[i] = dg.ring[dg.head];
			dg.bytes -= batch[i].iov_len;
			dg.head = (dg.head + 1) % dg.qmax;
		}
		dg.count -= n;
		pthread_cond_signal(&dg.space);
		pthread_mutex_unlock(&dg.lock);
		dg.ops->batch(dg.d, batch, n);
		atomic_fetch_add(&dg.handled, n);
		for (size_t i = 0; i < n; i++)
			free(batch[i].iov_base);
		pthread_mutex_lock(&dg.lock);
	}
	pthread_mutex_unlock(&dg.lock);
	free(batch);
	return NULL;
}

/* server_dgram_bind() - bind the one `listen =` endpoint of @c (unix only). */
static int server_dgram_bind(struct daemon_conf *c)
{
	size_t n;
	const char *const *l = cfg_list(c->cfg, NULL, "listen", &n);
	int r;

	if (n != 1) {
		log_errx("%s: listen: %s", cfg_path(c->cfg),
		         n ? "one endpoint only" : "no endpoint (and no systemd socket)");
		return -EINVAL;
	}
	if ((r = listen_parse(l[0], &dg.ls)) < 0 || dg.ls.kind != LISTEN_UNIX) {
		log_errx(
		        "%s: listen: '%s' is not unix:/path[:mode] (datagrams are read from a unix "
		        "socket)",
		        cfg_path(c->cfg), l[0]);
		return -EINVAL;
	}
	int fd = listen_bind(&dg.ls, SOCK_DGRAM, 0);
	if (fd == -EADDRINUSE) {
		log_errx("another process is listening on %s", dg.ls.path);
		return fd;
	}
	if (fd < 0) {
		log_err_e(fd, "cannot listen on %s", l[0]);
		return fd;
	}
	dg.fd = fd;
	dg.bound = true;
	bool root = privs_is_root();
	const char *user = root ? cfg_str(c->cfg, NULL, "user") : NULL;
	const char *group = root ? cfg_str(c->cfg, NULL, "listen_group") : NULL;
	int e = listen_set_owner(&dg.ls, user, group);
	if (e < 0)
		log_warn_e(e, "%s: cannot set mode/group", dg.ls.path);
	log_info("listening on %s (datagrams)", l[0]);
	return 0;
}

/* server_dgram_rcvbuf() - ask for a large receive buffer (forced as root); log what the
 * kernel granted. */
static void server_dgram_rcvbuf(void)
{
	int want = SERVER_DGRAM_RCVBUF, got = 0;
	socklen_t len = sizeof(got);

	if (!privs_is_root() ||
	    setsockopt(dg.fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0)
		setsockopt(dg.fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(dg.fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0)
		log_info("datagram receive buffer: %d bytes (asked for %d)", got, want);
}

static int server_dgram_prepare(struct daemon *d)
{
	struct daemon_conf *c = daemon_conf_get(d);
	int fds[2];
	int r;

	dg.d = d;
	dg.qmax = dg.ops->queue_max ? dg.ops->queue_max : SERVER_DGRAM_QUEUE_MAX_DEFAULT;
	dg.dgram_max = dg.ops->dgram_max ? dg.ops->dgram_max : SERVER_DGRAM_MAX_DEFAULT;
	dg.bytes_max = dg.ops->queue_bytes_max ? dg.ops->queue_bytes_max
	                                       : SERVER_DGRAM_QUEUE_BYTES_DEFAULT;
	pthread_cond_init(&dg.data, NULL);
	pthread_cond_init(&dg.space, NULL);
	if ((dg.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		r = -errno;
		log_err("eventfd");
		goto out;
	}
	r = listen_adopt_systemd(SOCK_DGRAM, fds, 1);
	if (r == 1) {
		dg.fd = fds[0];
		log_info("listening on systemd datagram socket fd %d", fds[0]);
		r = 0;
	} else if (r == 0) {
		r = server_dgram_bind(c);
	} else {
		log_err_e(r,
		          "cannot take the sockets systemd passed (one datagram socket expected)");
	}
	if (r == 0) {
		fcntl(dg.fd, F_SETFL, fcntl(dg.fd, F_GETFL) | O_NONBLOCK);
		server_dgram_rcvbuf();
		dg.ring = xcalloc(dg.qmax, sizeof(*dg.ring));
	}
out:
	daemon_conf_put(c);
	return r;
}

static int server_dgram_serve(struct daemon *d)
{
	pthread_t receiver, worker;
	int r;

	milter_probe_serving(d, dg.record, sizeof(dg.record));
	if ((r = pthread_create(&worker, NULL, server_dgram_worker_thread, NULL)) != 0) {
		log_err_e(-r, "no datagram worker thread");
		daemon_request_stop(d);
		server_dgram_close();
		return -r;
	}
	if ((r = pthread_create(&receiver, NULL, server_dgram_recv_thread, NULL)) != 0) {
		log_err_e(-r, "no datagram receive thread");
		daemon_request_stop(d);
		server_dgram_close();
		pthread_mutex_lock(&dg.lock);
		dg.recv_done = true;
		pthread_cond_signal(&dg.data);
		pthread_mutex_unlock(&dg.lock);
		pthread_join(worker, NULL);
		return -r;
	}
	daemon_wait_stop(d, -1);
	uint64_t one = 1;
	(void)!write(dg.wake, &one, sizeof(one));
	pthread_join(receiver, NULL);
	size_t left = server_dgram_queued();
	if (left)
		log_info("stopping: handling the %zu queued datagram%s", left,
		         left == 1 ? "" : "s");
	pthread_join(worker, NULL);

	struct server_dgram_stats s;
	server_dgram_stats(&s);
	log_info("datagrams: %llu received, %llu handled, %llu dropped (queue full), %llu "
	         "truncated",
	         s.received, s.handled, s.dropped_full, s.truncated);
	milter_probe_stopped(d, dg.record);
	free(dg.ring);
	dg.ring = NULL;
	return 0;
}

/* A start that failed after binding: close the socket, remove its file. */
static void server_dgram_abandon(struct daemon *d)
{
	(void)d;
	server_dgram_close();
	free(dg.ring);
	dg.ring = NULL;
}

static const struct daemon_runner server_dgram_daemon_runner = {
	.prepare = server_dgram_prepare,
	.serve = server_dgram_serve,
	.abandon = server_dgram_abandon,
	.own_signals = false,
	.one_listen = true,
};

const struct daemon_runner *server_dgram_runner(const struct server_dgram_ops *ops)
{
	dg.ops = ops;
	return &server_dgram_daemon_runner;
}
