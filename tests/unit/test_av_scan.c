/* Unit tests for milter-av/clamd + scan against in-process fake clamd servers on unix
 * sockets in a temp dir: INSTREAM framing, FILDES hand-over, failover with replay, the
 * reply read after a failed write, timeouts, max_size, endpoint parsing, header rebuild.
 * The real clamd is exercised by tests/integration/test_av_clamd.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "check_common.h"
#include "clamd.h"
#include "clamd_scan.h"

enum fake_mode {
	FAKE_OK,          /* parse INSTREAM/FILDES, reply "stream: OK" / "fd[N]: OK" */
	FAKE_FOUND_IF,    /* like OK but reply FOUND when the payload contains "VIRUS" */
	FAKE_CLOSE_AFTER, /* read limit bytes, then close without a reply */
	FAKE_LIMIT,       /* read limit bytes, reply "INSTREAM size limit exceeded. ERROR", close */
	FAKE_SILENT,      /* accept and read, never answer */
};

struct fake {
	char path[108];
	int lfd;
	enum fake_mode mode;
	size_t limit;
	pthread_t thr;
	/* results, read after join */
	int conns;
	struct buf payload; /* last INSTREAM/FILDES payload seen */
	bool framing_ok;
	bool got_fildes;
};

static char tmpdir[64];

static ssize_t read_full(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r <= 0)
			return r < 0 ? -1 : (ssize_t)got;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int recv_fd(int fd)
{
	char c;
	union {
		struct cmsghdr a;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov,
		            .msg_iovlen = 1,
		            .msg_control = ctl.b,
		            .msg_controllen = sizeof(ctl.b) };
	if (recvmsg(fd, &m, 0) != 1)
		return -1;
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	if (!h || h->cmsg_type != SCM_RIGHTS)
		return -1;
	int pfd;
	memcpy(&pfd, CMSG_DATA(h), sizeof(int));
	return pfd;
}

static void serve_one(struct fake *f, int c)
{
	char cmd[16] = { 0 };
	size_t n = 0;
	while (n < sizeof(cmd) - 1 && read(c, cmd + n, 1) == 1 && cmd[n])
		n++;
	if (strcmp(cmd, "zVERSION") == 0) {
		write(c, "ClamAV 9.9.9/1/x", 17);
		return;
	}
	buf_reset(&f->payload);
	if (f->mode == FAKE_SILENT) {
		char tmp[65536];
		while (read(c, tmp, sizeof(tmp)) > 0)
			;
		return;
	}
	if (strcmp(cmd, "zFILDES") == 0) {
		int pfd = recv_fd(c);
		f->got_fildes = pfd >= 0;
		char tmp[65536];
		ssize_t r;
		off_t off = 0;
		while (pfd >= 0 && (r = pread(pfd, tmp, sizeof(tmp), off)) > 0) {
			buf_append(&f->payload, tmp, (size_t)r);
			off += r;
		}
		if (pfd >= 0)
			close(pfd);
		const char *rep = strstr(buf_cstr(&f->payload), "VIRUS") && f->mode == FAKE_FOUND_IF
		                          ? "fd[9]: Fake.Virus FOUND"
		                          : "fd[9]: OK";
		write(c, rep, strlen(rep) + 1);
		return;
	}
	f->framing_ok = strcmp(cmd, "zINSTREAM") == 0;
	size_t total = 0;
	for (;;) {
		uint32_t be;
		if (read_full(c, &be, 4) != 4) {
			f->framing_ok = false;
			return;
		}
		uint32_t len = ntohl(be);
		if (len == 0)
			break;
		char *chunk = malloc(len);
		ssize_t r = read_full(c, chunk, len);
		if (r > 0)
			buf_append(&f->payload, chunk, (size_t)r);
		free(chunk);
		if (r != (ssize_t)len) {
			f->framing_ok = false;
			return;
		}
		total += len;
		if ((f->mode == FAKE_CLOSE_AFTER || f->mode == FAKE_LIMIT) && total >= f->limit) {
			if (f->mode == FAKE_LIMIT) {
				static const char lim[] = "INSTREAM size limit exceeded. ERROR";
				write(c, lim, sizeof(lim));
			}
			return;
		}
	}
	const char *rep = strstr(buf_cstr(&f->payload), "VIRUS") && f->mode == FAKE_FOUND_IF
	                          ? "stream: Fake.Virus FOUND"
	                          : "stream: OK";
	write(c, rep, strlen(rep) + 1);
}

static void *fake_thread(void *arg)
{
	struct fake *f = arg;
	for (;;) {
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		f->conns++;
		serve_one(f, c);
		close(c);
	}
}

static void fake_start(struct fake *f, const char *name, enum fake_mode mode, size_t limit)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->payload);
	snprintf(f->path, sizeof(f->path), "%s/%s", tmpdir, name);
	f->mode = mode;
	f->limit = limit;
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	strcpy(sun.sun_path, f->path);
	unlink(f->path);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(f->lfd, 8), 0);
	pthread_create(&f->thr, NULL, fake_thread, f);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	close(f->lfd);
	pthread_join(f->thr, NULL);
	unlink(f->path);
}

static void fake_free(struct fake *f)
{
	buf_fini(&f->payload);
}

static void rm_tmp(void)
{
	rmdir(tmpdir);
}

/* One temp dir per test process (Check forks each test); removed at exit. */
static void setup_tmp(void)
{
	if (tmpdir[0])
		return;
	strcpy(tmpdir, "/tmp/pw-avunit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	atexit(rm_tmp);
}

static char *endpoint(const struct fake *f)
{
	static char ep[4][128];
	static int i;
	char *e = ep[i++ % 4];
	snprintf(e, 128, "unix:%s", f->path);
	return e;
}

static void fill(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + i % 23);
	for (size_t i = 77; i < n; i += 78)
		p[i] = '\n';
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(endpoints_parse)
{
	const char *good[] = { "unix:/run/clamav/clamd.ctl", "inet:127.0.0.1:3310",
		               "inet:[::1]:3310", "inet:av2.example.org:3310" };
	struct clamd_pool *p = clamd_pool_new(good, 4, 1000, 1000);
	ck_assert_ptr_nonnull(p);
	ck_assert(clamd_pool_is_unix(p, 0));
	ck_assert(!clamd_pool_is_unix(p, 1));
	ck_assert_str_eq(clamd_pool_endpoint(p, 2), "inet:[::1]:3310");
	clamd_pool_free(p);
	const char *bad[][1] = { { "tcp:1.2.3.4:5" },
		                 { "inet:host" },
		                 { "inet::3310" },
		                 { "unix:" },
		                 { "inet:host:" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_ptr_null(clamd_pool_new(bad[i], 1, 1000, 1000));
		ck_assert_int_eq(errno, EINVAL);
	}
}
END_TEST

START_TEST(header_rebuild)
{
	struct buf b;
	buf_init(&b);
	clamd_header_format(&b, "Subject", "a folded\n  subject line");
	clamd_header_format(&b, "Content-Type", "multipart/mixed; boundary=\"x\"");
	clamd_header_format(&b, "X-Empty", "");
	clamd_header_format(&b, "X-Crlf", "one\r\n\ttwo");
	ck_assert_str_eq(buf_cstr(&b), "Subject: a folded\r\n  subject line\r\n"
	                               "Content-Type: multipart/mixed; boundary=\"x\"\r\n"
	                               "X-Empty: \r\n"
	                               "X-Crlf: one\r\n\ttwo\r\n");
	buf_fini(&b);
}
END_TEST

/* INSTREAM: chunked as it arrives, framed right, byte-exact; version cached. */
START_TEST(instream_framing)
{
	setup_tmp();
	struct fake f;
	fake_start(&f, "ok.sock", FAKE_FOUND_IF, 0);
	const char *eps[] = { endpoint(&f) };
	struct clamd_pool *pool = clamd_pool_new(eps, 1, 5000, 30000);
	size_t size = 3 * CLAMD_SCAN_CHUNK + 12345;
	char *msg = malloc(size);
	fill(msg, size);
	struct clamd_scan *s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, 10 * 1024 * 1024);
	ck_assert_int_eq(clamd_scan_header(s, "From", "a@example.org"), 0);
	ck_assert_int_eq(clamd_scan_eoh(s), 0);
	for (size_t off = 0; off < size; off += 65535)
		ck_assert_int_eq(
		        clamd_scan_write(s, msg + off, size - off < 65535 ? size - off : 65535), 0);
	struct clamd_result res;
	ck_assert_int_eq(clamd_scan_end(s, &res), 0);
	clamd_scan_free(s);
	ck_assert_int_eq(res.status, VERDICT_CLEAN);
	ck_assert_str_eq(res.backend, eps[0]);
	ck_assert_str_eq(res.version, "ClamAV 9.9.9");
	ck_assert_int_eq(res.fildes, 0);
	ck_assert(f.framing_ok);
	ck_assert_uint_eq(f.payload.len, size + 23);
	ck_assert_int_eq(memcmp(f.payload.data, "From: a@example.org\r\n\r\n", 23), 0);
	ck_assert_int_eq(memcmp(f.payload.data + 23, msg, size), 0);

	/* a second scan, infected; version from cache (no second zVERSION connection) */
	int conns = f.conns;
	s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, 1024);
	ck_assert_int_eq(clamd_scan_write(s, "xx VIRUS xx", 11), 0);
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	ck_assert_int_eq(res.status, VERDICT_INFECTED);
	ck_assert_str_eq(res.detail, "Fake.Virus");
	ck_assert_str_eq(res.version, "ClamAV 9.9.9");
	ck_assert_int_eq(f.conns, conns + 1);

	fake_stop(&f);
	fake_free(&f);
	clamd_pool_free(pool);
	free(msg);
}
END_TEST

START_TEST(fildes_handover)
{
	setup_tmp();
	struct fake f;
	fake_start(&f, "fd.sock", FAKE_FOUND_IF, 0);
	const char *eps[] = { endpoint(&f) };
	struct clamd_pool *pool = clamd_pool_new(eps, 1, 5000, 30000);
	struct clamd_scan *s = clamd_scan_begin(pool, CLAMD_MODE_AUTO, 1024 * 1024);
	size_t size = 700000;
	char *msg = malloc(size);
	fill(msg, size);
	memcpy(msg + 600000, "VIRUS", 5);
	ck_assert_int_eq(clamd_scan_write(s, msg, size), 0);
	struct clamd_result res;
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	fake_stop(&f);
	ck_assert(f.got_fildes);
	ck_assert_int_eq(res.fildes, 1);
	ck_assert_int_eq(res.status, VERDICT_INFECTED);
	ck_assert_uint_eq(f.payload.len, size);
	ck_assert_int_eq(memcmp(f.payload.data, msg, size), 0);
	fake_free(&f);
	clamd_pool_free(pool);
	free(msg);
}
END_TEST

/* First backend drops the connection mid-stream: the whole message is replayed on the
 * second one, the first is marked down and skipped by the next scan. */
START_TEST(failover_replays)
{
	setup_tmp();
	struct fake a, b;
	fake_start(&a, "drop.sock", FAKE_CLOSE_AFTER, CLAMD_SCAN_CHUNK);
	fake_start(&b, "good.sock", FAKE_OK, 0);
	const char *eps[] = { endpoint(&a), endpoint(&b) };
	struct clamd_pool *pool = clamd_pool_new(eps, 2, 5000, 60000);
	size_t size = 8 * CLAMD_SCAN_CHUNK;
	char *msg = malloc(size);
	fill(msg, size);
	struct clamd_scan *s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, size);
	for (size_t off = 0; off < size; off += 100000)
		clamd_scan_write(s, msg + off, size - off < 100000 ? size - off : 100000);
	struct clamd_result res;
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	ck_assert_int_eq(res.status, VERDICT_CLEAN);
	ck_assert_str_eq(res.backend, eps[1]);
	ck_assert_uint_eq(res.failovers, 1);
	ck_assert(b.framing_ok);
	ck_assert_uint_eq(b.payload.len, size);
	ck_assert_int_eq(memcmp(b.payload.data, msg, size), 0);

	struct clamd_health h[2];
	ck_assert_uint_eq(clamd_pool_health(pool, h, 2), 2);
	ck_assert(!h[0].up);
	ck_assert_uint_eq(h[0].failures, 1);
	ck_assert(h[0].down_ms_left > 0);
	ck_assert(h[1].up);
	ck_assert_uint_eq(h[1].scans, 1);

	int before = a.conns;
	s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, size);
	clamd_scan_write(s, "hello\r\n", 7);
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	ck_assert_int_eq(res.status, VERDICT_CLEAN);
	ck_assert_int_eq(a.conns, before);

	fake_stop(&a);
	fake_stop(&b);
	fake_free(&a);
	fake_free(&b);
	clamd_pool_free(pool);
	free(msg);
}
END_TEST

/* clamd's size-limit reply arrives while we still write: read it, report OVERSIZE, and
 * do not fail over (the next clamd has the same limit). */
START_TEST(limit_reply_after_write_error)
{
	setup_tmp();
	struct fake a, b;
	fake_start(&a, "limit.sock", FAKE_LIMIT, CLAMD_SCAN_CHUNK);
	fake_start(&b, "other.sock", FAKE_OK, 0);
	const char *eps[] = { endpoint(&a), endpoint(&b) };
	struct clamd_pool *pool = clamd_pool_new(eps, 2, 5000, 60000);
	size_t size = 40 * CLAMD_SCAN_CHUNK;
	char *msg = malloc(size);
	fill(msg, size);
	struct clamd_scan *s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, size);
	for (size_t off = 0; off < size; off += 65536)
		if (clamd_scan_write(s, msg + off, 65536) == CLAMD_SCAN_DONE)
			break;
	struct clamd_result res;
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	ck_assert_int_eq(res.status, VERDICT_OVERSIZE);
	ck_assert_str_eq(res.backend, eps[0]);
	ck_assert_int_eq(b.conns, 0);
	fake_stop(&a);
	fake_stop(&b);
	fake_free(&a);
	fake_free(&b);
	clamd_pool_free(pool);
	free(msg);
}
END_TEST

START_TEST(silent_backend_times_out)
{
	setup_tmp();
	struct fake f;
	fake_start(&f, "silent.sock", FAKE_SILENT, 0);
	const char *eps[] = { endpoint(&f) };
	struct clamd_pool *pool = clamd_pool_new(eps, 1, 300, 60000);
	int64_t t0 = mono_ms();
	struct clamd_scan *s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, 4096);
	clamd_scan_write(s, "hello\r\n", 7);
	struct clamd_result res;
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	int64_t dt = mono_ms() - t0;
	ck_assert_int_eq(res.status, VERDICT_ERROR);
	ck_assert_ptr_null(res.backend);
	ck_assert(dt >= 250 && dt < 3000);
	ck_assert(!clamd_pool_is_up(pool, 0));
	fake_stop(&f);
	fake_free(&f);
	clamd_pool_free(pool);
}
END_TEST

START_TEST(oversize_stops_sending)
{
	setup_tmp();
	struct fake f;
	fake_start(&f, "big.sock", FAKE_OK, 0);
	const char *eps[] = { endpoint(&f) };
	struct clamd_pool *pool = clamd_pool_new(eps, 1, 5000, 60000);
	char block[100000];
	fill(block, sizeof(block));
	struct clamd_scan *s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, 1000000);
	int r = 0, i;
	for (i = 0; i < 20 && r == 0; i++)
		r = clamd_scan_write(s, block, sizeof(block));
	ck_assert_int_eq(r, CLAMD_SCAN_DONE);
	ck_assert_int_eq(i, 11); /* 10 blocks fit exactly, the 11th does not */
	struct clamd_result res;
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	ck_assert_int_eq(res.status, VERDICT_OVERSIZE);
	ck_assert_ptr_null(res.backend);
	fake_stop(&f);
	/* 3 whole chunks were streamed, then the stream was dropped without its end */
	ck_assert_int_eq(f.conns, 1);
	ck_assert(!f.framing_ok);
	ck_assert_uint_eq(f.payload.len, 3 * CLAMD_SCAN_CHUNK);
	fake_free(&f);
	clamd_pool_free(pool);
}
END_TEST

START_TEST(no_backend_is_error)
{
	setup_tmp();
	char ep1[160], ep2[160];
	snprintf(ep1, sizeof(ep1), "unix:%s/none1.sock", tmpdir);
	snprintf(ep2, sizeof(ep2), "unix:%s/none2.sock", tmpdir);
	const char *eps[] = { ep1, ep2 };
	struct clamd_pool *pool = clamd_pool_new(eps, 2, 1000, 60000);
	for (int mode = 0; mode < 2; mode++) {
		struct clamd_scan *s = clamd_scan_begin(pool, (enum clamd_mode)mode, 4096);
		clamd_scan_write(s, "hello\r\n", 7);
		struct clamd_result res;
		clamd_scan_end(s, &res);
		clamd_scan_free(s);
		ck_assert_int_eq(res.status, VERDICT_ERROR);
		ck_assert_ptr_nonnull(strstr(res.detail, "no clamd backend"));
	}
	struct clamd_health h[2];
	clamd_pool_health(pool, h, 2);
	ck_assert(!h[0].up && !h[1].up);
	ck_assert_ptr_nonnull(strstr(h[0].last_error, "connect"));
	clamd_pool_free(pool);
}
END_TEST

START_TEST(retry_after_down)
{
	setup_tmp();
	char ep[160];
	snprintf(ep, sizeof(ep), "unix:%s/later.sock", tmpdir);
	const char *eps[] = { ep };
	struct clamd_pool *pool = clamd_pool_new(eps, 1, 1000, 200);
	struct clamd_scan *s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, 4096);
	struct clamd_result res;
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	ck_assert_int_eq(res.status, VERDICT_ERROR);
	ck_assert(!clamd_pool_is_up(pool, 0));
	struct fake f;
	fake_start(&f, "later.sock", FAKE_OK, 0);
	usleep(250 * 1000);
	ck_assert(clamd_pool_is_up(pool, 0));
	s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, 4096);
	clamd_scan_write(s, "x", 1);
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	ck_assert_int_eq(res.status, VERDICT_CLEAN);
	fake_stop(&f);
	fake_free(&f);
	clamd_pool_free(pool);
}
END_TEST

CHECK_MAIN("av_scan", endpoints_parse, header_rebuild, instream_framing, fildes_handover,
           failover_replays, limit_reply_after_write_error, silent_backend_times_out,
           oversize_stops_sending, no_backend_is_error, retry_after_down)
