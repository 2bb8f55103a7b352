/* Unit tests for common/server_netstring.c and the conn I/O under it (common/server.c):
 * pipelined and split netstrings, the size limit, format errors, EOF between and inside
 * requests, the idle and I/O timeouts, write_all's timeout and EPIPE. Conns are made
 * with server_conn_new() over socketpairs; no runner. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_common.h"
#include "clock.h"
#include "server.h"
#include "socketmap.h"

/* A conn over one end of a socketpair; the other end in *peer. */
static struct server_conn *tconn(int *peer, int idle_ms, int io_ms)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	*peer = sv[1];
	return server_conn_new(sv[0], idle_ms, io_ms);
}

static void tsend(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

START_TEST(pipelined_in_one_push)
{
	struct server_netstring ns;
	const char *p;
	size_t n;
	server_netstring_init(&ns, 100);
	const char *in = "3:abc,0:,2:de,";
	ck_assert_uint_eq(server_netstring_push(&ns, in, strlen(in)), strlen(in));
	ck_assert_int_eq(server_netstring_take(&ns, &p, &n), 1);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(p, "abc");
	ck_assert(!server_netstring_idle(&ns));
	ck_assert_int_eq(server_netstring_take(&ns, &p, &n), 1);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(server_netstring_take(&ns, &p, &n), 1);
	ck_assert_str_eq(p, "de");
	ck_assert_int_eq(server_netstring_take(&ns, &p, &n), 0);
	ck_assert(server_netstring_idle(&ns));
	server_netstring_fini(&ns);
}
END_TEST

START_TEST(split_byte_by_byte)
{
	struct server_netstring ns;
	const char *p;
	size_t n;
	const char *in = "11:hello world,";
	int got = 0;
	server_netstring_init(&ns, 100);
	for (size_t i = 0; i < strlen(in); i++) {
		ck_assert_uint_eq(server_netstring_push(&ns, in + i, 1), 1);
		int r = server_netstring_take(&ns, &p, &n);
		ck_assert_int_eq(r, i + 1 == strlen(in));
		ck_assert(server_netstring_idle(&ns) == (i + 1 == strlen(in)));
		got += r;
	}
	ck_assert_int_eq(got, 1);
	ck_assert_str_eq(p, "hello world");
	server_netstring_fini(&ns);
}
END_TEST

START_TEST(push_takes_what_fits)
{
	static char big[SERVER_NETSTRING_BLOCK + 100];
	struct server_netstring ns;
	server_netstring_init(&ns, 100);
	memset(big, '1', sizeof(big));
	ck_assert_uint_eq(server_netstring_push(&ns, big, sizeof(big)), SERVER_NETSTRING_BLOCK);
	ck_assert_uint_eq(server_netstring_push(&ns, big, 1), 0);
	server_netstring_fini(&ns);
}
END_TEST

START_TEST(limit_and_format_errors_are_sticky)
{
	struct server_netstring ns;
	const char *p;
	size_t n;
	server_netstring_init(&ns, 5);
	server_netstring_push(&ns, "5:hello,6:", 10);
	ck_assert_int_eq(server_netstring_take(&ns, &p, &n), 1);
	ck_assert_int_eq(server_netstring_take(&ns, &p, &n), -EMSGSIZE);
	server_netstring_push(&ns, "1:a,", 4);
	ck_assert_int_eq(server_netstring_take(&ns, &p, &n), -EMSGSIZE);
	server_netstring_fini(&ns);

	server_netstring_init(&ns, 5);
	server_netstring_push(&ns, "2:ab;", 5);
	ck_assert_int_eq(server_netstring_take(&ns, &p, &n), -EINVAL);
	server_netstring_fini(&ns);
}
END_TEST

START_TEST(read_pipelined_and_partial_from_a_socket)
{
	int peer;
	struct server_conn *c = tconn(&peer, 2000, 2000);
	struct server_netstring ns;
	const char *p;
	size_t n;
	server_netstring_init(&ns, SOCKETMAP_REQUEST_MAX);
	ck_assert_str_eq(server_conn_peer(c), "unix");
	tsend(peer, "5:hello,3:f");
	ck_assert_int_eq(server_netstring_read(c, &ns, &p, &n), 1);
	ck_assert_str_eq(p, "hello");
	tsend(peer, "oo,");
	ck_assert_int_eq(server_netstring_read(c, &ns, &p, &n), 1);
	ck_assert_str_eq(p, "foo");
	close(peer);
	ck_assert_int_eq(server_netstring_read(c, &ns, &p, &n), 0);
	server_netstring_fini(&ns);
	server_conn_free(c);
}
END_TEST

START_TEST(read_a_request_larger_than_a_block)
{
	static char req[SOCKETMAP_REQUEST_MAX + 16];
	int peer;
	struct server_conn *c = tconn(&peer, 2000, 2000);
	struct server_netstring ns;
	const char *p;
	size_t n;
	server_netstring_init(&ns, SOCKETMAP_REQUEST_MAX);
	int h = snprintf(req, sizeof(req), "%d:", SOCKETMAP_REQUEST_MAX);
	memset(req + h, 'k', SOCKETMAP_REQUEST_MAX);
	req[h + SOCKETMAP_REQUEST_MAX] = ',';
	ck_assert_int_eq(write(peer, req, h + SOCKETMAP_REQUEST_MAX + 1),
	                 h + SOCKETMAP_REQUEST_MAX + 1);
	ck_assert_int_eq(server_netstring_read(c, &ns, &p, &n), 1);
	ck_assert_uint_eq(n, SOCKETMAP_REQUEST_MAX);
	ck_assert_int_eq(p[n - 1], 'k');
	/* one byte over the limit is refused as soon as the length is read */
	tsend(peer, "10001:");
	ck_assert_int_eq(server_netstring_read(c, &ns, &p, &n), -EMSGSIZE);
	close(peer);
	server_netstring_fini(&ns);
	server_conn_free(c);
}
END_TEST

START_TEST(eof_inside_a_request)
{
	int peer;
	struct server_conn *c = tconn(&peer, 2000, 2000);
	struct server_netstring ns;
	const char *p;
	size_t n;
	server_netstring_init(&ns, 100);
	tsend(peer, "5:hel");
	close(peer);
	ck_assert_int_eq(server_netstring_read(c, &ns, &p, &n), -EPROTO);
	server_netstring_fini(&ns);
	server_conn_free(c);
}
END_TEST

START_TEST(idle_timeout_between_requests)
{
	int peer;
	struct server_conn *c = tconn(&peer, 150, 5000);
	struct server_netstring ns;
	const char *p;
	size_t n;
	server_netstring_init(&ns, 100);
	int64_t t0 = clock_mono_ms();
	ck_assert_int_eq(server_netstring_read(c, &ns, &p, &n), -ETIMEDOUT);
	int64_t took = clock_mono_ms() - t0;
	ck_assert_int_ge(took, 140);
	ck_assert_int_lt(took, 3000);
	close(peer);
	server_netstring_fini(&ns);
	server_conn_free(c);
}
END_TEST

START_TEST(io_timeout_inside_a_request)
{
	int peer;
	struct server_conn *c = tconn(&peer, 60000, 150);
	struct server_netstring ns;
	const char *p;
	size_t n;
	server_netstring_init(&ns, 100);
	tsend(peer, "5:he");
	int64_t t0 = clock_mono_ms();
	ck_assert_int_eq(server_netstring_read(c, &ns, &p, &n), -ETIMEDOUT);
	ck_assert_int_lt(clock_mono_ms() - t0, 3000);
	close(peer);
	server_netstring_fini(&ns);
	server_conn_free(c);
}
END_TEST

START_TEST(write_all_times_out_and_sees_epipe)
{
	static char block[1 << 16];
	int peer;
	struct server_conn *c = tconn(&peer, 1000, 150);
	int r = 0;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 1000 && r == 0; i++)
		r = server_conn_write_all(c, block, sizeof(block));
	ck_assert_int_eq(r, -ETIMEDOUT);
	close(peer);
	ck_assert_int_eq(server_conn_write_all(c, "x", 1), -EPIPE);
	server_conn_free(c);
}
END_TEST

CHECK_MAIN("server_netstring", pipelined_in_one_push, split_byte_by_byte, push_takes_what_fits,
           limit_and_format_errors_are_sticky, read_pipelined_and_partial_from_a_socket,
           read_a_request_larger_than_a_block, eof_inside_a_request, idle_timeout_between_requests,
           io_timeout_inside_a_request, write_all_times_out_and_sees_epipe)
