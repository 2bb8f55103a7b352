/* server_dgram: the datagram runner (struct daemon_runner) for a collector on one AF_UNIX
 * SOCK_DGRAM socket (tlsrpt: the datagrams libtlsrpt sends from Postfix >= 3.10).
 *
 * The senders do not wait (libtlsrpt sends with MSG_DONTWAIT) and the kernel queues only
 * net.unix.max_dgram_qlen datagrams per socket (10 by default), so one receive thread does
 * nothing but recv() into a bounded in-memory queue; one worker thread takes the queued
 * datagrams in batches and hands them to the daemon's batch() callback. A datagram that
 * finds the queue full (queue_max datagrams or queue_bytes_max bytes) is counted and
 * dropped: the receiver never waits for the worker. A datagram longer than dgram_max is
 * counted as truncated and dropped.
 *
 * A stop (SIGTERM/SIGINT through the skeleton's signal thread) ends the receiving: a socket
 * the runner bound is shut for reading (new senders get an error at once, not a silent
 * loss), what the kernel already accepted is read and queued, the socket is closed and its
 * file removed (only if still ours); then the worker hands every queued datagram to
 * batch() before serve() returns, so the skeleton's final tick() sees all of them. A
 * socket systemd passed is never shut: what it holds after our fd is closed waits for the
 * next instance. One runner per process.
 */
#ifndef POSTWARDEN_SERVER_DGRAM_H
#define POSTWARDEN_SERVER_DGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "daemon.h"

#define SERVER_DGRAM_QUEUE_MAX_DEFAULT 65536                   /* datagrams */
#define SERVER_DGRAM_QUEUE_BYTES_DEFAULT (256UL * 1024 * 1024) /* bytes held in the queue */
#define SERVER_DGRAM_MAX_DEFAULT 65536                         /* bytes in one datagram */
#define SERVER_DGRAM_BATCH_MAX 1024           /* datagrams handed to one batch() call */
#define SERVER_DGRAM_RCVBUF (4 * 1024 * 1024) /* SO_RCVBUF asked for */

struct server_dgram_ops {
	/* batch() - handle @n (1..SERVER_DGRAM_BATCH_MAX) datagrams on the worker thread, in
	 * the order they arrived. Each is a pointer and a length (not NUL-terminated), owned
	 * by the runner and valid until batch() returns. */
	void (*batch)(struct daemon *d, const struct iovec *msgs, size_t n);
	size_t queue_max;       /* datagrams buffered between receiver and worker; 0: default */
	size_t dgram_max;       /* largest datagram; 0: default (SERVER_DGRAM_MAX_DEFAULT) */
	size_t queue_bytes_max; /* bytes buffered; 0: default (SERVER_DGRAM_QUEUE_BYTES_DEFAULT) */
};

/**
 * server_dgram_runner() - the runner serving @ops (kept by reference: static storage).
 * Return: the runner for daemon_spec.runner (own_signals false, one `listen` endpoint,
 * which must be `unix:/path[:mode]`).
 */
const struct daemon_runner *server_dgram_runner(const struct server_dgram_ops *ops);

/* Counters since start: received (taken from the socket and queued), dropped_full (queue
 * full), truncated (over dgram_max), handled (passed to batch()). Thread safe. */
struct server_dgram_stats {
	unsigned long long received, dropped_full, truncated, handled;
};

/* server_dgram_stats() - a snapshot of the counters into @s. */
void server_dgram_stats(struct server_dgram_stats *s);

/* server_dgram_queued() - datagrams waiting for the worker now. Thread safe. */
size_t server_dgram_queued(void);

/* server_dgram_bound() - true when the runner bound `listen =` itself, false when it took
 * systemd's socket (whose owner and mode the socket unit set) or before it started. */
bool server_dgram_bound(void);

#endif
