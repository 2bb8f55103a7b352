/* Integration test: milter-av's clamd client (clamd.c, clamd_scan.c, verdict.c) against real
 * clamd instances started by av-clamd.sh through tests/harness/clamd.sh (EICAR-only DB,
 * AlertExceedsMax yes). Messages come from av-mkmsgs.py with Postfix-style `Name:value`
 * headers; they are fed like the milter will: rebuilt headers, then 65535-byte body chunks.
 *
 * Environment (set by av-clamd.sh): AV_MSGS (message dir), AV_WORK (temp dir for fake
 * sockets), AV_SOCK1 + AV_TCP1 (clamd #1, unix + TCP port), AV_SOCK2 + AV_PID2 (clamd #2,
 * killed mid-stream at the end), AV_SOCK3 (clamd #3: StreamMaxLength/MaxFileSize 1M).
 * With --bench SOCKET N: time INSTREAM vs FILDES for 4 KB and 1 MB messages (not a test).
 * Prints PASS/FAIL lines; exit 1 if anything failed. alarm() bounds the whole run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clamd.h"
#include "clamd_scan.h"
#include "verdict.h"

#define MB (1024 * 1024)

static int failed, passed;

static void result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s: ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	if (ok)
		passed++;
	else
		failed++;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		fprintf(stderr, "test_av_clamd: %s not set (run through av-clamd.sh)\n", name);
		exit(2);
	}
	return v;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct msg {
	char *data;
	size_t len;
};

static struct msg load(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", env("AV_MSGS"), name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	struct msg m = { 0 };
	fseek(f, 0, SEEK_END);
	m.len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	m.data = malloc(m.len + 1);
	if (fread(m.data, 1, m.len, f) != m.len)
		exit(2);
	m.data[m.len] = '\0';
	fclose(f);
	return m;
}

/* Feed @m like the milter glue will: each header (name, value with folds as LF, as
 * Postfix hands them) through clamd_scan_header, then the body in 65535-byte chunks.
 * @hook, when set, runs after each body chunk with the number of body bytes written. */
static int feed(struct clamd_scan *s, const struct msg *m, void (*hook)(size_t))
{
	const char *p = m->data, *end = m->data + m->len;
	int r = 0;
	while (p < end && r == 0) {
		const char *eol = strstr(p, "\r\n");
		if (!eol || eol == p) {
			p = eol ? eol + 2 : end;
			break;
		}
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		char name[128], value[4096];
		size_t nl = (size_t)(colon - p), vl = 0;
		memcpy(name, p, nl);
		name[nl] = '\0';
		const char *v = colon + 1;
		for (;;) {
			memcpy(value + vl, v, (size_t)(eol - v));
			vl += (size_t)(eol - v);
			p = eol + 2;
			if (p >= end || (*p != ' ' && *p != '\t'))
				break;
			value[vl++] = '\n';
			v = p;
			eol = strstr(p, "\r\n");
		}
		value[vl] = '\0';
		r = clamd_scan_header(s, name, value);
	}
	if (r == 0)
		r = clamd_scan_eoh(s);
	size_t done = 0;
	while (p < end && r == 0) {
		size_t n = (size_t)(end - p) < 65535 ? (size_t)(end - p) : 65535;
		r = clamd_scan_write(s, p, n);
		p += n;
		done += n;
		if (hook)
			hook(done);
	}
	return r;
}

static struct clamd_result scan_msg(struct clamd_pool *pool, enum clamd_mode mode,
                                    const struct msg *m, size_t max_size)
{
	struct clamd_result res;
	struct clamd_scan *s = clamd_scan_begin(pool, mode, max_size);
	if (!s) {
		perror("clamd_scan_begin");
		exit(2);
	}
	feed(s, m, NULL);
	clamd_scan_end(s, &res);
	clamd_scan_free(s);
	return res;
}

static struct clamd_pool *pool_of(int timeout_ms, int n, ...)
{
	const char *eps[4];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		eps[i] = va_arg(ap, const char *);
	va_end(ap);
	struct clamd_pool *p = clamd_pool_new(eps, (size_t)n, timeout_ms, 60000);
	if (!p) {
		perror("clamd_pool_new");
		exit(2);
	}
	return p;
}

static bool is_eicar(const struct clamd_result *r)
{
	return r->status == VERDICT_INFECTED && strncmp(r->detail, "PW-Test.EICAR", 13) == 0;
}

static const char *mode_name(enum clamd_mode m)
{
	return m == CLAMD_MODE_AUTO ? "fildes" : "instream";
}

static void test_verdicts(const char *sock1)
{
	static const char *infected[] = { "eicar-plain.eml", "eicar-b64.eml", "eicar-zip.eml",
		                          "eicar-late.eml" };
	static const char *clean[] = { "clean.eml", "clean-2m.eml" };
	struct clamd_pool *pool = pool_of(10000, 1, sock1);
	for (int mode = 0; mode < 2; mode++) {
		enum clamd_mode md = (enum clamd_mode)mode;
		bool want_fildes = md == CLAMD_MODE_AUTO;
		for (size_t i = 0; i < 4; i++) {
			struct msg m = load(infected[i]);
			struct clamd_result r = scan_msg(pool, md, &m, 25 * MB);
			result(is_eicar(&r) && r.fildes == want_fildes && r.size > m.len,
			       "%s %s -> %s %s (fildes=%d)", mode_name(md), infected[i],
			       verdict_status_name(r.status), r.detail, r.fildes);
			free(m.data);
		}
		for (size_t i = 0; i < 2; i++) {
			struct msg m = load(clean[i]);
			struct clamd_result r = scan_msg(pool, md, &m, 25 * MB);
			result(r.status == VERDICT_CLEAN && r.fildes == want_fildes &&
			               strncmp(r.version, "ClamAV ", 7) == 0 && r.backend &&
			               strcmp(r.backend, sock1) == 0,
			       "%s %s -> %s (%s, version \"%s\")", mode_name(md), clean[i],
			       verdict_status_name(r.status), r.detail, r.version);
			free(m.data);
		}
	}
	clamd_pool_free(pool);
}

/* Informational: the same base64 attachment with headers sent as Postfix gives them. */
static void show_raw_headers(const char *sock1)
{
	struct clamd_pool *pool = pool_of(10000, 1, sock1);
	struct msg m = load("eicar-b64.eml");
	struct clamd_scan *s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, 25 * MB);
	clamd_scan_write(s, m.data, m.len);
	struct clamd_result r;
	clamd_scan_end(s, &r);
	clamd_scan_free(s);
	printf("INFO: eicar-b64 with raw `Name:value` headers -> %s %s\n",
	       verdict_status_name(r.status), r.detail);
	free(m.data);
	clamd_pool_free(pool);
}

static void test_inet(const char *port)
{
	char ep[64];
	snprintf(ep, sizeof(ep), "inet:127.0.0.1:%s", port);
	struct clamd_pool *pool = pool_of(10000, 1, ep);
	struct msg m = load("eicar-zip.eml");
	struct clamd_result r = scan_msg(pool, CLAMD_MODE_AUTO, &m, 25 * MB);
	result(is_eicar(&r) && r.fildes == 0 && r.backend && strcmp(r.backend, ep) == 0,
	       "inet backend, auto mode uses INSTREAM -> %s %s (fildes=%d)",
	       verdict_status_name(r.status), r.detail, r.fildes);
	free(m.data);
	clamd_pool_free(pool);
}

static void test_max_size(const char *sock1)
{
	struct clamd_pool *pool = pool_of(10000, 1, sock1);
	for (int mode = 0; mode < 2; mode++) {
		enum clamd_mode md = (enum clamd_mode)mode;
		struct msg m = load("eicar-late.eml");
		struct clamd_result r = scan_msg(pool, md, &m, 1 * MB);
		result(r.status == VERDICT_OVERSIZE && r.backend == NULL,
		       "%s max_size 1M, EICAR at 1.5M -> %s (%s), never clean or truncated",
		       mode_name(md), verdict_status_name(r.status), r.detail);
		free(m.data);
		/* a limit just above the (rebuilt) message still scans */
		m = load("eicar-plain.eml");
		r = scan_msg(pool, md, &m, m.len + 10 /* rebuilt headers add a space each */);
		result(is_eicar(&r), "%s max_size just above the message -> %s", mode_name(md),
		       verdict_status_name(r.status));
		free(m.data);
	}
	clamd_pool_free(pool);
}

static void test_clamd_limits(const char *sock3)
{
	struct clamd_pool *pool = pool_of(10000, 1, sock3);
	struct msg m = load("clean-2m.eml");
	struct clamd_result r = scan_msg(pool, CLAMD_MODE_INSTREAM, &m, 25 * MB);
	result(r.status == VERDICT_OVERSIZE && r.backend && strcmp(r.backend, sock3) == 0,
	       "instream past clamd StreamMaxLength -> %s (%s)", verdict_status_name(r.status),
	       r.detail);
	r = scan_msg(pool, CLAMD_MODE_AUTO, &m, 25 * MB);
	result(r.status == VERDICT_OVERSIZE && r.fildes,
	       "fildes past clamd MaxFileSize (AlertExceedsMax) -> %s (%s)",
	       verdict_status_name(r.status), r.detail);
	free(m.data);
	/* a message under the limits is still scanned normally there */
	m = load("eicar-zip.eml");
	r = scan_msg(pool, CLAMD_MODE_INSTREAM, &m, 25 * MB);
	result(is_eicar(&r), "small message on the limited clamd -> %s",
	       verdict_status_name(r.status));
	free(m.data);
	clamd_pool_free(pool);
}

static void set_sun(struct sockaddr_un *sun, const char *path)
{
	size_t n = strlen(path);
	if (n >= sizeof(sun->sun_path)) {
		fprintf(stderr, "socket path too long: %s\n", path);
		exit(2);
	}
	memcpy(sun->sun_path, path, n + 1);
}

static void test_dead_first(const char *sock1)
{
	char dead[512];
	snprintf(dead, sizeof(dead), "unix:%s/dead.sock", env("AV_WORK"));
	/* a socket file nobody listens on */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	set_sun(&sun, dead + 5);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		perror("bind");
	close(fd);
	for (int mode = 0; mode < 2; mode++) {
		enum clamd_mode md = (enum clamd_mode)mode;
		struct clamd_pool *pool = pool_of(5000, 2, dead, sock1);
		struct msg m = load("eicar-b64.eml");
		struct clamd_result r = scan_msg(pool, md, &m, 25 * MB);
		struct clamd_health h[2];
		clamd_pool_health(pool, h, 2);
		result(is_eicar(&r) && r.backend && strcmp(r.backend, sock1) == 0 &&
		               r.failovers == 1 && !h[0].up && h[0].failures == 1 && h[1].up,
		       "%s first backend dead -> %s from %s, first down (%s)", mode_name(md),
		       verdict_status_name(r.status), r.backend ? r.backend : "-", h[0].last_error);
		/* the next scan goes straight to the second one */
		r = scan_msg(pool, md, &m, 25 * MB);
		clamd_pool_health(pool, h, 2);
		result(is_eicar(&r) && r.failovers == 0 && h[0].failures == 1,
		       "%s next scan skips the down backend", mode_name(md));
		free(m.data);
		clamd_pool_free(pool);
	}
}

static int listen_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	set_sun(&sun, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0) {
		perror(path);
		exit(2);
	}
	return fd;
}

static void test_slow(const char *sock1)
{
	char slow[512];
	snprintf(slow, sizeof(slow), "unix:%s/slow.sock", env("AV_WORK"));
	int lfd = listen_unix(slow + 5); /* connections queue in the backlog, never answered */
	for (int mode = 0; mode < 2; mode++) {
		enum clamd_mode md = (enum clamd_mode)mode;
		struct clamd_pool *pool = pool_of(1000, 1, slow);
		struct msg m = load("clean.eml");
		int64_t t0 = mono_ms();
		struct clamd_result r = scan_msg(pool, md, &m, 25 * MB);
		int64_t dt = mono_ms() - t0;
		result(r.status == VERDICT_ERROR && dt >= 900 && dt < 4000,
		       "%s slow backend -> %s after %lld ms (%s)", mode_name(md),
		       verdict_status_name(r.status), (long long)dt, r.detail);
		clamd_pool_free(pool);

		pool = pool_of(1000, 2, slow, sock1);
		t0 = mono_ms();
		r = scan_msg(pool, md, &m, 25 * MB);
		dt = mono_ms() - t0;
		result(r.status == VERDICT_CLEAN && r.backend && strcmp(r.backend, sock1) == 0 &&
		               dt < 5000,
		       "%s slow first backend -> answered by the second after %lld ms",
		       mode_name(md), (long long)dt);
		clamd_pool_free(pool);
		free(m.data);
	}
	close(lfd);
}

/* A clamd that misbehaves (a real one cannot be made to): one thread serving a unix socket,
 * each connection as fake_mode says. */
enum fake_mode {
	FAKE_EARLY_OK_CLOSE, /* `stream: OK` at once, then close */
	FAKE_EARLY_OK_DRAIN, /* `stream: OK` at once, then read everything */
	FAKE_EARLY_LIMIT,    /* the INSTREAM size limit error at once, then close */
	FAKE_TWO_LINES,      /* the whole message, then two reply lines */
	FAKE_GARBAGE,        /* the whole message, then a reply that is no clamd reply */
	FAKE_NO_TERMINATOR,  /* the whole message, then `stream: OK` without NUL, then close */
};

struct fake {
	int lfd;
	enum fake_mode mode;
	pthread_t thr;
};

static bool fake_read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* Read one command up to its NUL; for zFILDES take the passed fd; for zINSTREAM read the
 * chunks up to the zero length. */
static void fake_take_message(int fd)
{
	char cmd[32];
	size_t n = 0;
	while (n + 1 < sizeof(cmd) && fake_read_all(fd, &cmd[n], 1) && cmd[n])
		n++;
	cmd[n] = '\0';
	if (strcmp(cmd, "zFILDES") == 0) {
		char byte;
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr msg = { .msg_iov = &iov,
			              .msg_iovlen = 1,
			              .msg_control = ctl.buf,
			              .msg_controllen = sizeof(ctl.buf) };
		if (recvmsg(fd, &msg, 0) == 1) {
			struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
			int passed_fd;
			if (c && c->cmsg_type == SCM_RIGHTS) {
				memcpy(&passed_fd, CMSG_DATA(c), sizeof(int));
				close(passed_fd);
			}
		}
		return;
	}
	static char sink[65536];
	for (;;) {
		uint32_t be;
		if (!fake_read_all(fd, &be, 4))
			return;
		uint32_t len = ntohl(be);
		if (len == 0)
			return;
		while (len > 0) {
			size_t k = len < sizeof(sink) ? len : sizeof(sink);
			if (!fake_read_all(fd, sink, k))
				return;
			len -= (uint32_t)k;
		}
	}
}

static void fake_serve(int fd, enum fake_mode mode)
{
	static const char ok[] = "stream: OK";
	static const char limit[] = "INSTREAM size limit exceeded. ERROR";
	static const char two[] = "stream: OK\0stream: OK";
	static const char garbage[] = "HELLO THERE";
	char sink[65536];
	switch (mode) {
	case FAKE_EARLY_OK_CLOSE:
		(void)!write(fd, ok, sizeof(ok));
		break;
	case FAKE_EARLY_OK_DRAIN:
		(void)!write(fd, ok, sizeof(ok));
		while (read(fd, sink, sizeof(sink)) > 0)
			;
		break;
	case FAKE_EARLY_LIMIT:
		(void)!write(fd, limit, sizeof(limit));
		break;
	case FAKE_TWO_LINES:
		fake_take_message(fd);
		(void)!write(fd, two, sizeof(two));
		break;
	case FAKE_GARBAGE:
		fake_take_message(fd);
		(void)!write(fd, garbage, sizeof(garbage));
		break;
	case FAKE_NO_TERMINATOR:
		fake_take_message(fd);
		(void)!write(fd, ok, sizeof(ok) - 1);
		break;
	}
	close(fd);
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	for (;;) {
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		fake_serve(fd, f->mode);
	}
}

static int listen_unix(const char *path);

static void fake_start(struct fake *f, const char *path, enum fake_mode mode)
{
	f->lfd = listen_unix(path);
	f->mode = mode;
	pthread_create(&f->thr, NULL, fake_main, f);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->thr, NULL);
	close(f->lfd);
}

/* Only a reply that follows the whole message is a verdict; the one early reply that counts
 * is the stream size limit; a reply of more than one line, or no known reply, is a failed
 * scan: the next backend gets the message, and with none left the result is an error. */
static void test_hostile(const char *sock1)
{
	static const struct {
		enum fake_mode mode;
		enum clamd_mode md;
		const char *msg;
		const char *name;
	} cases[] = {
		{ FAKE_EARLY_OK_CLOSE, CLAMD_MODE_INSTREAM, "clean-2m.eml", "early OK, close" },
		{ FAKE_EARLY_OK_DRAIN, CLAMD_MODE_INSTREAM, "clean-2m.eml",
		  "early OK, keeps reading" },
		{ FAKE_TWO_LINES, CLAMD_MODE_INSTREAM, "clean.eml", "two reply lines" },
		{ FAKE_TWO_LINES, CLAMD_MODE_AUTO, "clean.eml", "two reply lines" },
		{ FAKE_GARBAGE, CLAMD_MODE_INSTREAM, "clean.eml", "unknown reply" },
		{ FAKE_GARBAGE, CLAMD_MODE_AUTO, "clean.eml", "unknown reply" },
		{ FAKE_NO_TERMINATOR, CLAMD_MODE_INSTREAM, "clean.eml", "unterminated reply" },
	};
	char path[512], ep[520];
	snprintf(path, sizeof(path), "%s/fake.sock", env("AV_WORK"));
	snprintf(ep, sizeof(ep), "unix:%s", path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;
		fake_start(&f, path, cases[i].mode);
		struct msg m = load(cases[i].msg);
		struct clamd_pool *pool = pool_of(3000, 1, ep);
		struct clamd_result r = scan_msg(pool, cases[i].md, &m, 25 * MB);
		struct clamd_health h;
		clamd_pool_health(pool, &h, 1);
		result(r.status == VERDICT_ERROR && !h.up && h.scans == 0,
		       "%s hostile clamd (%s), alone -> %s (%s)", mode_name(cases[i].md),
		       cases[i].name, verdict_status_name(r.status), r.detail);
		clamd_pool_free(pool);

		pool = pool_of(3000, 2, ep, sock1);
		r = scan_msg(pool, cases[i].md, &m, 25 * MB);
		result(r.status == VERDICT_CLEAN && r.failovers == 1 && r.backend &&
		               strcmp(r.backend, sock1) == 0,
		       "%s hostile clamd (%s), then a real one -> %s from %s",
		       mode_name(cases[i].md), cases[i].name, verdict_status_name(r.status),
		       r.backend ? r.backend : "-");
		clamd_pool_free(pool);
		free(m.data);
		fake_stop(&f);
	}

	struct fake f;
	fake_start(&f, path, FAKE_EARLY_LIMIT);
	struct msg m = load("clean-2m.eml");
	struct clamd_pool *pool = pool_of(3000, 2, ep, sock1);
	struct clamd_result r = scan_msg(pool, CLAMD_MODE_INSTREAM, &m, 25 * MB);
	result(r.status == VERDICT_OVERSIZE && r.failovers == 0,
	       "instream early size-limit error -> %s (%s)", verdict_status_name(r.status),
	       r.detail);
	clamd_pool_free(pool);
	free(m.data);
	fake_stop(&f);
}

static void test_no_backend(void)
{
	char none[512];
	snprintf(none, sizeof(none), "unix:%s/none.sock", env("AV_WORK"));
	struct clamd_pool *pool = pool_of(1000, 2, none, "inet:127.0.0.1:1");
	struct msg m = load("eicar-plain.eml");
	int64_t t0 = mono_ms();
	struct clamd_result r = scan_msg(pool, CLAMD_MODE_AUTO, &m, 25 * MB);
	result(r.status == VERDICT_ERROR && mono_ms() - t0 < 3000,
	       "no backend reachable -> %s (%s)", verdict_status_name(r.status), r.detail);
	free(m.data);
	clamd_pool_free(pool);
}

struct thr {
	struct clamd_pool *pool;
	const struct msg *bad, *good;
	int ok;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	for (int i = 0; i < 20; i++) {
		enum clamd_mode md = (enum clamd_mode)(i % 2);
		bool want_bad = (i / 2) % 2;
		struct clamd_result r = scan_msg(t->pool, md, want_bad ? t->bad : t->good, 25 * MB);
		if (want_bad ? is_eicar(&r) : r.status == VERDICT_CLEAN)
			t->ok++;
	}
	return NULL;
}

/* libmilter runs a thread per SMTP connection: one pool, many concurrent scans. */
static void test_threads(const char *sock1)
{
	struct clamd_pool *pool = pool_of(20000, 1, sock1);
	struct msg bad = load("eicar-zip.eml"), good = load("clean.eml");
	struct thr t[6];
	pthread_t th[6];
	for (int i = 0; i < 6; i++) {
		t[i] = (struct thr){ .pool = pool, .bad = &bad, .good = &good };
		pthread_create(&th[i], NULL, thr_main, &t[i]);
	}
	int ok = 0;
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		ok += t[i].ok;
	}
	struct clamd_health h;
	clamd_pool_health(pool, &h, 1);
	result(ok == 120 && h.scans == 120 && h.infected == 60 && h.failures == 0,
	       "6 threads x 20 scans on one pool: %d/120 right, backend counted %lu scans, "
	       "%lu infected",
	       ok, h.scans, h.infected);
	free(bad.data);
	free(good.data);
	clamd_pool_free(pool);
}

static pid_t kill_pid;
static bool killed;

static bool proc_gone(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

static void kill_hook(size_t body_done)
{
	if (killed || body_done < 2 * CLAMD_SCAN_CHUNK)
		return;
	killed = true;
	kill(kill_pid, SIGKILL);
	for (int i = 0; i < 500 && !proc_gone(kill_pid); i++)
		usleep(10000);
}

static void test_killed_mid_stream(const char *sock1)
{
	const char *sock2 = env("AV_SOCK2");
	kill_pid = (pid_t)atoi(env("AV_PID2"));
	struct clamd_pool *pool = pool_of(10000, 2, sock2, sock1);
	struct msg m = load("eicar-late.eml");
	struct clamd_scan *s = clamd_scan_begin(pool, CLAMD_MODE_INSTREAM, 25 * MB);
	feed(s, &m, kill_hook);
	struct clamd_result r;
	clamd_scan_end(s, &r);
	clamd_scan_free(s);
	struct clamd_health h[2];
	clamd_pool_health(pool, h, 2);
	result(killed && proc_gone(kill_pid), "clamd #2 killed after 512 KiB were streamed to it");
	result(is_eicar(&r) && r.backend && strcmp(r.backend, sock1) == 0 && r.failovers == 1 &&
	               !h[0].up && h[1].scans == 1,
	       "killed mid-stream -> rescanned on the second: %s %s from %s (first: %s)",
	       verdict_status_name(r.status), r.detail, r.backend ? r.backend : "-",
	       h[0].last_error);
	free(m.data);
	clamd_pool_free(pool);
}

static double bench_one(struct clamd_pool *pool, enum clamd_mode mode, size_t size, int n)
{
	char *data = malloc(size);
	for (size_t i = 0; i < size; i++)
		data[i] = (char)('a' + i % 26);
	for (size_t i = 75; i < size; i += 76)
		data[i] = '\n';
	int64_t t0 = mono_ms();
	for (int i = 0; i < n; i++) {
		struct clamd_scan *s = clamd_scan_begin(pool, mode, 25 * MB);
		clamd_scan_header(s, "Subject", "bench");
		clamd_scan_eoh(s);
		for (size_t off = 0; off < size; off += 65535)
			clamd_scan_write(s, data + off, size - off < 65535 ? size - off : 65535);
		struct clamd_result r;
		clamd_scan_end(s, &r);
		clamd_scan_free(s);
		if (r.status != VERDICT_CLEAN) {
			fprintf(stderr, "bench: unexpected %s %s\n", verdict_status_name(r.status),
			        r.detail);
			exit(1);
		}
	}
	free(data);
	return (double)(mono_ms() - t0);
}

static int bench(const char *sock, int n)
{
	char ep[512];
	snprintf(ep, sizeof(ep), "unix:%s", sock);
	struct clamd_pool *pool = pool_of(30000, 1, ep);
	static const size_t sizes[] = { 4096, MB };
	for (size_t i = 0; i < 2; i++) {
		double ti = bench_one(pool, CLAMD_MODE_INSTREAM, sizes[i], n);
		double tf = bench_one(pool, CLAMD_MODE_AUTO, sizes[i], n);
		printf("%7zu bytes x %d: INSTREAM %.0f ms (%.0f msg/s), FILDES %.0f ms (%.0f "
		       "msg/s), "
		       "FILDES/INSTREAM speed %.2fx\n",
		       sizes[i], n, ti, n * 1000.0 / ti, tf, n * 1000.0 / tf, ti / tf);
	}
	clamd_pool_free(pool);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: the client must avoid it */
	alarm(240);
	if (argc == 4 && strcmp(argv[1], "--bench") == 0)
		return bench(argv[2], atoi(argv[3]));

	char sock1[512], sock3[512], sock2[512];
	snprintf(sock1, sizeof(sock1), "unix:%s", env("AV_SOCK1"));
	snprintf(sock3, sizeof(sock3), "unix:%s", env("AV_SOCK3"));
	snprintf(sock2, sizeof(sock2), "unix:%s", env("AV_SOCK2"));
	setenv("AV_SOCK2", sock2, 1);

	test_verdicts(sock1);
	show_raw_headers(sock1);
	test_threads(sock1);
	test_inet(env("AV_TCP1"));
	test_max_size(sock1);
	test_clamd_limits(sock3);
	test_dead_first(sock1);
	test_slow(sock1);
	test_no_backend();
	test_hostile(sock1);
	test_killed_mid_stream(sock1);

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
