/* clamd_scan: one message to clamd, with failover and replay (see clamd_scan.h).
 *
 * Spec: clamd(8) and doc/protocols.md, "clamd commands and streams" (zINSTREAM framing, FILDES over
 * unix sockets, the size-limit reply that clamd sends before closing: after a failed write the
 * reply is still read) and "Header fields as Postfix passes them" (headers rebuilt as `Name: value`
 * CRLF, then an empty line).
 *
 * Every byte goes into a memfd first (small pieces gathered in a 64 KiB user buffer, so a
 * message's headers cost one write, not one each). INSTREAM backends get it in CLAMD_SCAN_CHUNK
 * pieces as it arrives (lazy connect: a small message is one connect and one sendmsg at the end);
 * for a unix backend in AUTO mode the memfd itself is passed with FILDES at the end.
 *
 * Only the reply that follows the whole message (the zero-length chunk, or the passed fd) is a
 * verdict, and only when it is exactly one line saying `OK`, `<name> FOUND` or a known
 * `... ERROR`. The one reply that counts before the end is clamd's INSTREAM size limit
 * (OVERSIZE). Any other early reply (seen when a write fails, or waiting before a send), a
 * reply of more than one line or an unknown one is a failed scan, like a connect error, a
 * dropped connection or a timeout: the backend is marked down in the pool and the next
 * untried backend that is up gets the whole memfd again. Over max_size the scan stops
 * sending and reports OVERSIZE: never a partial scan.
 *
 * Threads: a scan is used by one thread; the pool calls are thread safe. Nothing logs.
 */
#include "clamd_scan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "xalloc.h"

#define NO_BACKEND SIZE_MAX
/* Message bytes gathered in user memory before one write to the memfd. */
#define CLAMD_SCAN_STAGE (64 * 1024)

struct clamd_scan {
	struct clamd_pool *pool;
	enum clamd_mode mode;
	size_t max_size;
	int memfd;
	size_t total;     /* bytes of the message: in the memfd, then in stage */
	struct buf stage; /* the tail not yet written to the memfd (< CLAMD_SCAN_STAGE) */
	size_t sent;      /* bytes of the memfd sent on conn */
	int conn;         /* INSTREAM connection to cur, or -1 */
	size_t cur;       /* current backend, NO_BACKEND when none is left */
	bool *tried;
	bool tried_down; /* a backend marked down was given its one try */
	bool done;       /* outcome known: result holds it */
	unsigned failovers;
	char *chunk; /* CLAMD_SCAN_CHUNK bytes of scratch, allocated on first use */
	struct verdict_reply result;
	bool result_from_backend;
	bool fildes_used;
	char last_error[128];
};

static void finish(struct clamd_scan *s, enum verdict_status st, const char *detail)
{
	s->done = true;
	s->result.status = st;
	snprintf(s->result.detail, sizeof(s->result.detail), "%s", detail);
}

static bool use_fildes(const struct clamd_scan *s)
{
	return s->mode == CLAMD_MODE_AUTO && clamd_pool_is_unix(s->pool, s->cur);
}

static void close_conn(struct clamd_scan *s)
{
	if (s->conn >= 0)
		close(s->conn);
	s->conn = -1;
	s->sent = 0;
}

/* The next backend: the first untried one that is up; when every one is marked down, the
 * preferred untried one once anyway, so mail is scanned again as soon as clamd is back
 * rather than tempfailed until backend_retry has passed. */
static void pick_backend(struct clamd_scan *s)
{
	size_t n = clamd_pool_size(s->pool);
	size_t down = NO_BACKEND;
	for (size_t i = 0; i < n; i++) {
		if (s->tried[i])
			continue;
		if (clamd_pool_is_up(s->pool, i)) {
			s->tried[i] = true;
			s->cur = i;
			return;
		}
		if (down == NO_BACKEND)
			down = i;
	}
	if (down != NO_BACKEND && !s->tried_down) {
		s->tried_down = true;
		s->tried[down] = true;
		s->cur = down;
		return;
	}
	s->cur = NO_BACKEND;
	char why[VERDICT_NAME_MAX];
	if (s->last_error[0])
		snprintf(why, sizeof(why), "no clamd backend reachable (last: %s)", s->last_error);
	else
		snprintf(why, sizeof(why), "no clamd backend available (all marked down)");
	finish(s, VERDICT_ERROR, why);
}

/* The current backend gave no usable answer: mark it down and move to the next one. */
static void backend_gave_up(struct clamd_scan *s, const char *why)
{
	snprintf(s->last_error, sizeof(s->last_error), "%s: %s",
	         clamd_pool_endpoint(s->pool, s->cur), why);
	close_conn(s);
	clamd_pool_mark_down(s->pool, s->cur, s->last_error);
	s->failovers++;
	pick_backend(s);
}

static void backend_failed(struct clamd_scan *s, const char *what, int err)
{
	char why[96];
	if (err == -EPROTO)
		snprintf(why, sizeof(why), "%s: not a single reply line", what);
	else
		snprintf(why, sizeof(why), "%s: %s", what, strerror(-err));
	backend_gave_up(s, why);
}

/* Out of descriptors is this process's trouble, not the backend's: fail this scan
 * (on_error) without marking a healthy clamd down. */
static void connect_failed(struct clamd_scan *s, int err)
{
	if (err == -EMFILE || err == -ENFILE)
		finish(s, VERDICT_ERROR, CLAMD_SCAN_NOFD);
	else
		backend_failed(s, "connect", err);
}

/* Take a reply as the scan's result: `OK`, `<name> FOUND` and a known `... ERROR` are
 * final; anything else is a failed scan on this backend. */
static void take_reply(struct clamd_scan *s, const char *reply, int len)
{
	struct verdict_reply v;
	if (verdict_parse(reply, (size_t)len, &v) < 0) {
		backend_gave_up(s, v.detail);
		return;
	}
	s->result = v;
	s->done = true;
	s->result_from_backend = true;
	clamd_pool_count(s->pool, s->cur, v.status);
	clamd_pool_mark_up(s->pool, s->cur);
	close_conn(s);
}

/* clamd answered before it had the whole message (@err: the write that failed, or 0 when
 * a reply was waiting before a send). Only its stream size limit means something there;
 * any other early reply, `stream: OK` included, is a failed scan. */
static void early_reply(struct clamd_scan *s, int err)
{
	char reply[VERDICT_REPLY_MAX + 1];
	struct verdict_reply v;
	int r = err == -ETIMEDOUT ? err
	                          : clamd_read_reply(s->conn, reply, sizeof(reply),
	                                             clamd_pool_timeout(s->pool));
	if (r < 0 && err) {
		backend_failed(s, "write", err);
		return;
	}
	if (r < 0) {
		backend_gave_up(s, r == -ECONNRESET ? "closed before the end of the message"
		                                    : "replied before the end of the message");
		return;
	}
	if (verdict_parse(reply, (size_t)r, &v) == 0 && verdict_is_stream_limit(&v)) {
		take_reply(s, reply, r);
		return;
	}
	char why[VERDICT_NAME_MAX];
	snprintf(why, sizeof(why), "replied before the end of the message: %s%s%.64s",
	         verdict_status_name(v.status), v.detail[0] ? " " : "", v.detail);
	backend_gave_up(s, why);
}

/* Before a send: has clamd already answered or closed? Then the reply is early. */
static bool replied_early(struct clamd_scan *s)
{
	struct pollfd p = { .fd = s->conn, .events = POLLIN };
	if (poll(&p, 1, 0) <= 0)
		return false;
	early_reply(s, 0);
	return true;
}

static int ensure_conn(struct clamd_scan *s, bool *fresh)
{
	*fresh = false;
	if (s->conn >= 0)
		return 0;
	int fd = clamd_connect(s->pool, s->cur);
	if (fd < 0) {
		connect_failed(s, fd);
		return fd;
	}
	s->conn = fd;
	s->sent = 0;
	*fresh = true;
	return 0;
}

/* Move the staged tail into the memfd (one write for many small headers). */
static int spill(struct clamd_scan *s)
{
	const char *p = s->stage.data;
	size_t left = s->stage.len;
	while (left > 0) {
		ssize_t w = write(s->memfd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		left -= (size_t)w;
	}
	buf_reset(&s->stage);
	return 0;
}

static int read_chunk(struct clamd_scan *s, size_t off, size_t n)
{
	if (!s->chunk)
		s->chunk = xmalloc(CLAMD_SCAN_CHUNK);
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(s->memfd, s->chunk + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		got += (size_t)r;
	}
	return 0;
}

/* Send what is pending over INSTREAM: whole chunks, or everything plus the terminator
 * when @final. Handles failover; returns with s->done set when the outcome is known. */
static void instream_flush(struct clamd_scan *s, bool final)
{
	static const char cmd[] = "zINSTREAM";
	static const uint32_t zero = 0;
	int timeout = clamd_pool_timeout(s->pool);

	while (!s->done && !use_fildes(s)) {
		size_t pending = s->total - s->sent;
		if (!final && pending < CLAMD_SCAN_CHUNK)
			return;
		if (s->stage.len && spill(s) < 0) {
			finish(s, VERDICT_ERROR, "cannot buffer message in memory");
			return;
		}
		bool fresh;
		if (ensure_conn(s, &fresh) < 0)
			continue;
		size_t n = pending < CLAMD_SCAN_CHUNK ? pending : CLAMD_SCAN_CHUNK;
		struct iovec iov[4];
		int k = 0;
		if (fresh)
			iov[k++] = (struct iovec){ .iov_base = (void *)(uintptr_t)cmd,
				                   .iov_len = sizeof(cmd) };
		uint32_t hdr = htonl((uint32_t)n);
		if (n > 0) {
			int r = read_chunk(s, s->sent, n);
			if (r < 0) {
				finish(s, VERDICT_ERROR, "cannot read message buffer");
				return;
			}
			iov[k++] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
			iov[k++] = (struct iovec){ .iov_base = s->chunk, .iov_len = n };
		}
		bool last = final && n == pending;
		if (last)
			iov[k++] = (struct iovec){ .iov_base = (void *)(uintptr_t)&zero,
				                   .iov_len = sizeof(zero) };
		if (replied_early(s))
			continue;
		int r = clamd_sendv(s->conn, iov, k, timeout);
		if (r < 0) {
			early_reply(s, r);
			continue;
		}
		s->sent += n;
		if (last)
			return;
	}
}

static void fildes_scan(struct clamd_scan *s)
{
	int timeout = clamd_pool_timeout(s->pool);
	if (s->stage.len && spill(s) < 0) {
		finish(s, VERDICT_ERROR, "cannot buffer message in memory");
		return;
	}
	int fd = clamd_connect(s->pool, s->cur);
	if (fd < 0) {
		connect_failed(s, fd);
		return;
	}
	s->conn = fd;
	if (lseek(s->memfd, 0, SEEK_SET) < 0) {
		finish(s, VERDICT_ERROR, "cannot rewind message buffer");
		return;
	}
	if (replied_early(s))
		return;
	int r = clamd_send_fildes(fd, s->memfd, timeout);
	if (r < 0) {
		early_reply(s, r);
		return;
	}
	char reply[VERDICT_REPLY_MAX + 1];
	r = clamd_read_reply(fd, reply, sizeof(reply), timeout);
	if (r < 0) {
		backend_failed(s, "reply", r);
		return;
	}
	take_reply(s, reply, r);
	s->fildes_used = s->result_from_backend;
}

struct clamd_scan *clamd_scan_begin(struct clamd_pool *pool, enum clamd_mode mode, size_t max_size)
{
	int fd = memfd_create("milter-av", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct clamd_scan *s = xcalloc(1, sizeof(*s));
	s->pool = pool;
	s->mode = mode;
	s->max_size = max_size;
	s->memfd = fd;
	s->conn = -1;
	s->tried = xcalloc(clamd_pool_size(pool), sizeof(*s->tried));
	pick_backend(s);
	return s;
}

int clamd_scan_write(struct clamd_scan *s, const void *data, size_t len)
{
	if (s->done)
		return CLAMD_SCAN_DONE;
	if (len > s->max_size - s->total) {
		close_conn(s);
		char why[96];
		snprintf(why, sizeof(why), "message exceeds max_size (%zu bytes)", s->max_size);
		finish(s, VERDICT_OVERSIZE, why);
		return CLAMD_SCAN_DONE;
	}
	/* Small pieces (a header each) are gathered in user memory; the memfd gets them in
	 * one write, and big body chunks directly. */
	buf_append(&s->stage, data, len);
	if (s->stage.len >= CLAMD_SCAN_STAGE && spill(s) < 0) {
		finish(s, VERDICT_ERROR, "cannot buffer message in memory");
		return CLAMD_SCAN_DONE;
	}
	s->total += len;
	instream_flush(s, false);
	return s->done ? CLAMD_SCAN_DONE : 0;
}

void clamd_header_format(struct buf *out, const char *name, const char *value)
{
	buf_puts(out, name);
	buf_append(out, ": ", 2);
	for (const char *v = value; *v; v++) {
		if (*v == '\n' && (v == value || v[-1] != '\r'))
			buf_putc(out, '\r');
		buf_putc(out, *v);
	}
	buf_append(out, "\r\n", 2);
}

int clamd_scan_header(struct clamd_scan *s, const char *name, const char *value)
{
	struct buf b;
	buf_init(&b);
	clamd_header_format(&b, name, value);
	int r = clamd_scan_write(s, b.data, b.len);
	buf_fini(&b);
	return r;
}

int clamd_scan_eoh(struct clamd_scan *s)
{
	return clamd_scan_write(s, "\r\n", 2);
}

int clamd_scan_end(struct clamd_scan *s, struct clamd_result *res)
{
	while (!s->done) {
		if (use_fildes(s))
			fildes_scan(s);
		else {
			instream_flush(s, true);
			if (s->done)
				break;
			char reply[VERDICT_REPLY_MAX + 1];
			int r = clamd_read_reply(s->conn, reply, sizeof(reply),
			                         clamd_pool_timeout(s->pool));
			if (r < 0) {
				backend_failed(s, "reply", r);
				continue;
			}
			take_reply(s, reply, r);
		}
	}
	close_conn(s);

	memset(res, 0, sizeof(*res));
	res->status = s->result.status;
	memcpy(res->detail, s->result.detail, sizeof(res->detail));
	res->size = s->total;
	res->failovers = s->failovers;
	res->fildes = s->fildes_used;
	if (s->result_from_backend && s->cur != NO_BACKEND) {
		res->backend = clamd_pool_endpoint(s->pool, s->cur);
		clamd_pool_version(s->pool, s->cur, res->version, sizeof(res->version));
	}
	return 0;
}

void clamd_scan_free(struct clamd_scan *s)
{
	if (!s)
		return;
	close_conn(s);
	if (s->memfd >= 0)
		close(s->memfd);
	buf_fini(&s->stage);
	free(s->tried);
	free(s->chunk);
	free(s);
}
