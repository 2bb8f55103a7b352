/* server: the stream runner (struct daemon_runner) for daemons that serve a
 * request/reply protocol on stream sockets (policyd-mtasts: Postfix socketmap).
 *
 * It takes systemd's listening sockets or binds every `listen =` endpoint, accepts on
 * one thread and serves each client on a thread of its own, with an idle timeout
 * between requests and an I/O timeout within one. At most max_conns clients are
 * served at once: beyond that the runner stops accepting until one ends (the rest
 * wait in the kernel's backlog, under their own connect timeout), and says so in the
 * log at most once a minute. A stop (SIGTERM/SIGINT, through the skeleton's signal
 * thread) closes the listeners, ends every connection waiting for a request at once,
 * lets one in the middle of a request finish within daemon_stop_deadline_ms(), then
 * shuts the rest down. One runner per process.
 */
#ifndef POSTWARDEN_SERVER_H
#define POSTWARDEN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon.h"
#include "netstring.h"

#define SERVER_MAX_CONNS_DEFAULT 256
#define SERVER_IDLE_TIMEOUT_DEFAULT_MS 120000
#define SERVER_IO_TIMEOUT_DEFAULT_MS 10000
#define SERVER_LISTEN_MAX 16 /* `listen =` endpoints or systemd sockets */

struct server_conn; /* opaque: fd, peer text, timeouts */

struct server_ops {
	/* conn() - serve one client on its own thread until it returns; the runner
	 * closes the fd after. */
	void (*conn)(struct daemon *d, struct server_conn *c);
	int max_conns;       /* 0: SERVER_MAX_CONNS_DEFAULT */
	int idle_timeout_ms; /* wait for the next request; 0: SERVER_IDLE_TIMEOUT_DEFAULT_MS */
	int io_timeout_ms;   /* per read/write once a request has begun; 0: ..._IO_... */
};

/**
 * server_stream_runner() - the runner serving @ops (kept by reference: static storage).
 * Return: the runner for daemon_spec.runner (own_signals false, several `listen`).
 */
const struct daemon_runner *server_stream_runner(const struct server_ops *ops);

/**
 * server_conn_read() - read up to @n (> 0) bytes from the client.
 * @idle: true when waiting for the start of a new request (the idle timeout applies,
 *        and a stop ends the wait at once); false mid-request (the I/O timeout).
 * Return: bytes read (> 0), 0 at EOF, -ETIMEDOUT, -ECANCELED (stopping while idle),
 * or -errno.
 */
ssize_t server_conn_read(struct server_conn *c, void *buf, size_t n, bool idle);

/* server_conn_write_all() - write all @n bytes within the I/O timeout. Return 0 or
 * -errno (-ETIMEDOUT, -EPIPE, ...). */
int server_conn_write_all(struct server_conn *c, const void *buf, size_t n);

/* server_conn_peer() - "unix", "127.0.0.1:12345" or "[::1]:12345", for logs; owned by @c. */
const char *server_conn_peer(const struct server_conn *c);

/* server_conn_fd() - the client socket (owned by the runner: do not close it). */
int server_conn_fd(const struct server_conn *c);

/* server_conns() - connections being served now, for status. Thread safe. */
int server_conns(void);

/**
 * server_conn_new() - wrap a connected stream socket @fd in a conn outside the runner
 * (unit tests, tools): no stop applies to it. @idle_timeout_ms, @io_timeout_ms: 0 for
 * the defaults. Takes @fd; server_conn_free() closes it (NULL is fine).
 */
struct server_conn *server_conn_new(int fd, int idle_timeout_ms, int io_timeout_ms);
void server_conn_free(struct server_conn *c);

/* server_netstring (common/server_netstring.c): read one netstring request after another
 * from a conn. Input is read in blocks into @in; several pipelined netstrings in one
 * block are returned one per call before the conn is read again (during a stop too:
 * they have arrived, so they are answered before the idle read ends), a netstring split
 * over many reads is put together. Waiting for the first byte of a request is an idle
 * read (idle timeout, a stop ends it); once a netstring has begun, the I/O timeout
 * applies. Embedded (one per connection, e.g. on the conn() thread's stack); the
 * fields are private. */
#define SERVER_NETSTRING_BLOCK 4096
struct server_netstring {
	struct netstring_decoder dec;
	size_t off, end; /* unread input: in[off..end) */
	char in[SERVER_NETSTRING_BLOCK];
};

/* server_netstring_init() - accept payloads of at most @max bytes (socketmap requests:
 * SOCKETMAP_REQUEST_MAX). Free with server_netstring_fini(). */
void server_netstring_init(struct server_netstring *ns, size_t max);
void server_netstring_fini(struct server_netstring *ns);

/**
 * server_netstring_read() - the next netstring payload from @c.
 * @payload: set to the payload (NUL-terminated, not counted), owned by @ns and valid
 *           until the next call; @len: its length
 * Return: 1 with @payload set; 0 at EOF between two requests (the client is done);
 * -EPROTO at EOF inside a netstring; -EINVAL (not a netstring) or -EMSGSIZE (over
 * @max): the stream cannot be resynchronised, close it; or server_conn_read()'s
 * -ETIMEDOUT, -ECANCELED, -errno.
 */
int server_netstring_read(struct server_conn *c, struct server_netstring *ns, const char **payload,
                          size_t *len);

/* The pure half of server_netstring_read(), without a conn (tests, fuzzing):
 * server_netstring_push() appends input after the unread bytes, as much of @n as fits
 * in SERVER_NETSTRING_BLOCK with them, and returns how much it took;
 * server_netstring_take() decodes from them: 1 with @payload set, 0 when more input is
 * needed (all of it consumed), -EINVAL or -EMSGSIZE (sticky). */
size_t server_netstring_push(struct server_netstring *ns, const void *p, size_t n);
int server_netstring_take(struct server_netstring *ns, const char **payload, size_t *len);
/* server_netstring_idle() - true when no part of a netstring is buffered. */
bool server_netstring_idle(const struct server_netstring *ns);

#endif
