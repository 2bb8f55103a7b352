/* test_fetch: common/fetch against real HTTPS servers started by tests/integration/fetch.sh
 * (nginx at FETCH_NGINX with CA FETCH_CA; openssl s_server -WWW, which sends no
 * Content-Length, at FETCH_SSERVER with FETCH_SSERVER_CA; an unrelated CA FETCH_WRONG_CA).
 * Checks a 200 text/plain GET, the size limit with and without Content-Length, rejection of
 * 404/301/405, TLS failures (wrong CA, wrong name), https-only, a listener that never
 * answers (timeout), a refused connection, POST, and concurrent use of one client. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/check_common.h"
#include "fetch.h"
#include "xalloc.h"

#define POLICY "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n"
#define HOST "mta-sts.example.test"
#define BASE "https://" HOST

static const char *env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && *v, "%s not set: run through tests/integration/fetch.sh", name);
	return v;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fresh() - @err emptied, for the next call's line alone. */
static struct buf *fresh(struct buf *err)
{
	buf_reset(err);
	return err;
}

/* A client for HOST:443 sent to @addr ("127.0.0.1:PORT"). */
static struct fetch *client(const char *addr, const char *ca, size_t max, int timeout_ms)
{
	char *ct = xasprintf(HOST ":443:%s", addr);
	struct fetch_opts o = { .ca_file = ca,
		                .connect_to = ct,
		                .connect_timeout_ms = timeout_ms,
		                .timeout_ms = timeout_ms,
		                .max_size = max };
	struct fetch *f;

	signal(SIGPIPE, SIG_IGN); /* fetch.h: NOSIGNAL is set, the process ignores SIGPIPE */
	f = fetch_new(&o);
	free(ct);
	ck_assert_ptr_nonnull(f);
	return f;
}

static struct fetch *nginx(size_t max)
{
	return client(env("FETCH_NGINX"), env("FETCH_CA"), max, 5000);
}

START_TEST(get_200)
{
	struct fetch *f = nginx(0);
	struct fetch_response r;
	struct buf err;

	fetch_response_init(&r);
	buf_init(&err);
	ck_assert_int_eq(fetch_get(f, BASE "/.well-known/mta-sts.txt", &r, fresh(&err)), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.content_type, "text/plain");
	ck_assert_uint_eq(r.len, strlen(POLICY));
	ck_assert_str_eq(r.body, POLICY);
	ck_assert_str_eq(buf_cstr(&err), "");
	/* the response is reusable */
	ck_assert_int_eq(fetch_get(f, BASE "/big.txt", &r, fresh(&err)), 0);
	ck_assert_uint_eq(r.len, 3000);
	buf_fini(&err);
	fetch_response_fini(&r);
	fetch_free(f);
}
END_TEST

START_TEST(size_limit)
{
	struct fetch *small = nginx(1000), *big = nginx(4000);
	struct fetch_response r;
	struct buf err;

	fetch_response_init(&r);
	buf_init(&err);
	/* announced by Content-Length */
	ck_assert_int_eq(fetch_get(small, BASE "/big.txt", &r, fresh(&err)), -EMSGSIZE);
	fprintf(stderr, "content-length: %s\n", buf_cstr(&err));
	ck_assert_ptr_null(r.body);
	/* chunked, no Content-Length: only the write callback can stop it */
	ck_assert_int_eq(fetch_get(small, BASE "/chunked/big.txt", &r, fresh(&err)), -EMSGSIZE);
	fprintf(stderr, "chunked: %s\n", buf_cstr(&err));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "1000"));
	ck_assert_int_eq(fetch_get(big, BASE "/chunked/big.txt", &r, fresh(&err)), 0);
	ck_assert_uint_eq(r.len, 3000);
	/* exactly at the limit is fine */
	fetch_free(big);
	big = nginx(3000);
	ck_assert_int_eq(fetch_get(big, BASE "/chunked/big.txt", &r, fresh(&err)), 0);
	buf_fini(&err);
	fetch_response_fini(&r);
	fetch_free(small);
	fetch_free(big);
}
END_TEST

START_TEST(size_limit_http10)
{
	struct fetch *small = client(env("FETCH_SSERVER"), env("FETCH_SSERVER_CA"), 1000, 5000);
	struct fetch *big = client(env("FETCH_SSERVER"), env("FETCH_SSERVER_CA"), 4000, 5000);
	struct fetch_response r;

	fetch_response_init(&r);
	ck_assert_int_eq(fetch_get(small, BASE "/big.txt", &r, NULL), -EMSGSIZE);
	ck_assert_int_eq(fetch_get(big, BASE "/big.txt", &r, NULL), 0);
	ck_assert_uint_eq(r.len, 3000);
	ck_assert_int_eq(fetch_get(big, BASE "/.well-known/mta-sts.txt", &r, NULL), 0);
	ck_assert_str_eq(r.body, POLICY);
	ck_assert_ptr_nonnull(r.content_type);
	ck_assert_int_eq(strncmp(r.content_type, "text/plain", 10), 0);
	fetch_response_fini(&r);
	fetch_free(small);
	fetch_free(big);
}
END_TEST

START_TEST(bad_status)
{
	struct fetch *f = nginx(0);
	struct fetch_response r;
	struct buf err;

	fetch_response_init(&r);
	buf_init(&err);
	ck_assert_int_eq(fetch_get(f, BASE "/nosuch.txt", &r, fresh(&err)), -EPROTO);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(buf_cstr(&err), "HTTP status 404");
	ck_assert_int_eq(fetch_get(f, BASE "/redirect", &r, fresh(&err)), -EPROTO);
	ck_assert_int_eq(r.status, 301);
	ck_assert_int_eq(fetch_post(f, BASE "/big.txt", "text/plain", "x", 1, &r, fresh(&err)),
	                 -EPROTO);
	ck_assert_int_eq(r.status, 405);
	buf_fini(&err);
	fetch_response_fini(&r);
	fetch_free(f);
}
END_TEST

START_TEST(tls_failures)
{
	struct fetch *f = client(env("FETCH_NGINX"), env("FETCH_WRONG_CA"), 0, 5000);
	struct fetch_response r;
	struct buf err;
	char *ct;

	fetch_response_init(&r);
	buf_init(&err);
	ck_assert_int_eq(fetch_get(f, BASE "/.well-known/mta-sts.txt", &r, fresh(&err)), -EPROTO);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_null(r.body);
	fprintf(stderr, "wrong CA: %s\n", buf_cstr(&err));
	ck_assert_str_ne(buf_cstr(&err), "");
	fetch_free(f);

	/* right CA, name not in the certificate */
	ct = xasprintf("wrong.example.test:443:%s", env("FETCH_NGINX"));
	f = fetch_new(&(struct fetch_opts){ .ca_file = env("FETCH_CA"), .connect_to = ct });
	ck_assert_int_eq(
	        fetch_get(f, "https://wrong.example.test/.well-known/mta-sts.txt", &r, fresh(&err)),
	        -EPROTO);
	fprintf(stderr, "wrong name: %s\n", buf_cstr(&err));
	fetch_free(f);
	free(ct);

	/* missing CA file */
	f = client(env("FETCH_NGINX"), "/nonexistent/ca.crt", 0, 5000);
	ck_assert_int_eq(fetch_get(f, BASE "/.well-known/mta-sts.txt", &r, fresh(&err)), -ENOENT);
	fetch_free(f);

	/* https only */
	f = nginx(0);
	ck_assert_int_eq(fetch_get(f, "http://" HOST "/", &r, fresh(&err)), -EPROTONOSUPPORT);
	ck_assert_int_eq(fetch_get(f, "ftp://" HOST "/", &r, fresh(&err)), -EPROTONOSUPPORT);
	buf_fini(&err);
	fetch_response_fini(&r);
	fetch_free(f);
}
END_TEST

static int listener(int backlog, char *addr, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	if (backlog >= 0)
		ck_assert_int_eq(listen(fd, backlog), 0);
	snprintf(addr, len, "127.0.0.1:%u", ntohs(a.sin_port));
	return fd;
}

START_TEST(timeout_silent_server)
{
	char addr[64];
	int fd = listener(4, addr, sizeof(addr)); /* the kernel accepts, nobody talks */
	struct fetch *f = client(addr, env("FETCH_CA"), 0, 800);
	struct fetch_response r;
	struct buf err;
	long long t0 = now_ms(), ms;
	int rc;

	fetch_response_init(&r);
	buf_init(&err);
	rc = fetch_get(f, BASE "/.well-known/mta-sts.txt", &r, fresh(&err));
	ms = now_ms() - t0;
	fprintf(stderr, "silent server: rc=%d in %lld ms: %s\n", rc, ms, buf_cstr(&err));
	ck_assert_int_eq(rc, -ETIMEDOUT);
	ck_assert_int_ge(ms, 700);
	ck_assert_int_le(ms, 800 + 700);
	buf_fini(&err);
	fetch_response_fini(&r);
	fetch_free(f);
	close(fd);
}
END_TEST

START_TEST(connect_refused)
{
	char addr[64];
	int fd = listener(-1, addr, sizeof(addr)); /* bound, never listening: RST */
	struct fetch *f = client(addr, env("FETCH_CA"), 0, 2000);
	struct fetch_response r;
	struct buf err;

	fetch_response_init(&r);
	buf_init(&err);
	ck_assert_int_eq(fetch_get(f, BASE "/.well-known/mta-sts.txt", &r, fresh(&err)),
	                 -ECONNREFUSED);
	fprintf(stderr, "refused: %s\n", buf_cstr(&err));
	buf_fini(&err);
	fetch_response_fini(&r);
	fetch_free(f);
	close(fd);
}
END_TEST

START_TEST(post_echo)
{
	static const char body[] = "{\"report\": 1}\n\0binary";
	struct fetch *f = nginx(0);
	struct fetch_response r;

	if (!getenv("FETCH_ECHO")) {
		fprintf(stderr, "post_echo: nginx echo module missing, not checked\n");
		fetch_free(f);
		return;
	}
	fetch_response_init(&r);
	ck_assert_int_eq(fetch_post(f, BASE "/echo", "application/tlsrpt+json", body,
	                            sizeof(body) - 1, &r, NULL),
	                 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.len, sizeof(body) - 1);
	ck_assert_mem_eq(r.body, body, sizeof(body) - 1);
	fetch_response_fini(&r);
	fetch_free(f);
}
END_TEST

struct worker {
	struct fetch *f;
	int bad;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct fetch_response r;

	fetch_response_init(&r);
	for (int i = 0; i < 10; i++) {
		if (fetch_get(w->f, BASE "/.well-known/mta-sts.txt", &r, NULL) != 0 ||
		    strcmp(r.body, POLICY) != 0)
			w->bad++;
		if (fetch_get(w->f, BASE "/chunked/big.txt", &r, NULL) != -EMSGSIZE)
			w->bad++;
	}
	fetch_response_fini(&r);
	return NULL;
}

START_TEST(concurrent)
{
	struct fetch *f = nginx(2000);
	struct worker w[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .f = f };
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].bad, 0);
	}
	fetch_free(f);
}
END_TEST

CHECK_MAIN("fetch", get_200, size_limit, size_limit_http10, bad_status, tls_failures,
           timeout_silent_server, connect_refused, post_echo, concurrent)
