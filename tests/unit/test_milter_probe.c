/* Unit tests for common/milter_probe: the option negotiation against fake filters on a
 * unix and a TCP socket, each way it can fail, /proc, the store record, the status line. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check_common.h"
#include "milter_probe.h"
#include "store.h"

enum fake_mode { FAKE_FILTER, FAKE_WRONG, FAKE_CLOSE };

struct fake {
	int lfd;
	enum fake_mode mode;
	unsigned char req[17];
	unsigned char quit[5];
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	int c = accept(f->lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	if (recv(c, f->req, sizeof(f->req), MSG_WAITALL) == (ssize_t)sizeof(f->req)) {
		/* 'O', version 6, actions 0x01, steps 0x1000 */
		unsigned char o[17] = { 0, 0, 0, 13, 'O', 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0x10, 0 };
		if (f->mode == FAKE_WRONG)
			o[4] = 'c';
		if (f->mode != FAKE_CLOSE && send(c, o, sizeof(o), 0) == (ssize_t)sizeof(o))
			(void)!recv(c, f->quit, sizeof(f->quit), MSG_WAITALL);
	}
	close(c);
	return NULL;
}

static void unix_spec(struct listen_spec *ls, char *dir)
{
	char spec[300];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "unix:%s/f.sock", dir);
	ck_assert_int_eq(listen_parse(spec, ls), 0);
}

static int unix_listen(const struct listen_spec *ls, bool do_listen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ls->path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (do_listen)
		ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

static int probe_fake(const struct listen_spec *ls, int lfd, enum fake_mode mode,
                      struct milter_probe_result *res, struct fake *f)
{
	pthread_t t;
	memset(f, 0, sizeof(*f));
	f->lfd = lfd;
	f->mode = mode;
	ck_assert_int_eq(pthread_create(&t, NULL, fake_main, f), 0);
	int r = milter_probe(ls, 2000, res);
	pthread_join(t, NULL);
	return r;
}

START_TEST(negotiates_over_unix)
{
	char dir[] = "/tmp/pwprobe.XXXXXX";
	struct listen_spec ls;
	struct milter_probe_result res;
	struct fake f;
	unix_spec(&ls, dir);
	int lfd = unix_listen(&ls, true);
	ck_assert_int_eq(probe_fake(&ls, lfd, FAKE_FILTER, &res, &f), 0);
	static const unsigned char want[9] = { 0, 0, 0, 13, 'O', 0, 0, 0, 6 };
	ck_assert_int_eq(memcmp(f.req, want, sizeof(want)), 0);
	static const unsigned char quit[5] = { 0, 0, 0, 1, 'Q' };
	ck_assert_int_eq(memcmp(f.quit, quit, sizeof(quit)), 0);
	ck_assert_uint_eq(res.version, 6);
	ck_assert_uint_eq(res.actions, 1);
	ck_assert_uint_eq(res.steps, 0x1000);
	ck_assert_int_eq(res.peer_pid, getpid());

	ck_assert_int_eq(probe_fake(&ls, lfd, FAKE_WRONG, &res, &f), -EPROTO);
	ck_assert_int_eq(probe_fake(&ls, lfd, FAKE_CLOSE, &res, &f), -EPROTO);

	/* accepted by the kernel, never answered: bounded by the timeout */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(milter_probe(&ls, 300, &res), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 290);
	ck_assert_int_lt(ms, 1000);
	close(lfd);

	/* a stale socket file, then none */
	ck_assert_int_eq(milter_probe(&ls, 300, &res), -ECONNREFUSED);
	unlink(ls.path);
	ck_assert_int_eq(milter_probe(&ls, 300, &res), -ENOENT);
	rmdir(dir);
}
END_TEST

START_TEST(negotiates_over_tcp)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	char spec[64];
	snprintf(spec, sizeof(spec), "inet:127.0.0.1:%u", ntohs(sin.sin_port));
	struct listen_spec ls;
	struct milter_probe_result res;
	struct fake f;
	ck_assert_int_eq(listen_parse(spec, &ls), 0);
	ck_assert_int_eq(probe_fake(&ls, lfd, FAKE_FILTER, &res, &f), 0);
	ck_assert_uint_eq(res.version, 6);
	ck_assert_int_eq(res.peer_pid, 0);
	close(lfd);
	ck_assert_int_eq(milter_probe(&ls, 300, &res), -ECONNREFUSED);
	char where[128];
	milter_probe_where(&ls, where, sizeof(where));
	ck_assert_str_eq(where, spec);
}
END_TEST

START_TEST(proc_name_and_start)
{
	char comm[64];
	time_t started, now = time(NULL);
	ck_assert_int_eq(milter_probe_proc(getpid(), comm, sizeof(comm), &started), 0);
	ck_assert_str_eq(comm, "test_milter_pro"); /* the kernel keeps 15 bytes */
	ck_assert_int_le(started, now + 1);
	ck_assert_int_gt(started, now - 600);
	ck_assert_int_eq(milter_probe_proc(0x7ffffff0, NULL, 0, NULL), -ENOENT);
}
END_TEST

START_TEST(record_and_describe)
{
	struct store *st = store_open("memory:");
	const char *listen = "unix:/run/x/f.sock:0660";
	struct listen_spec ls;
	struct milter_probe_result res = { 0 };
	struct buf b;
	pid_t pid;
	time_t t;
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(listen_parse(listen, &ls), 0);
	buf_init(&b);

	ck_assert_int_eq(milter_probe_describe("test_milter_probe", listen, &ls, -ECONNREFUSED,
	                                       &res, st, &b),
	                 1);
	ck_assert_str_eq(buf_cstr(&b),
	                 "daemon: NOT REACHABLE at /run/x/f.sock (Connection refused)\n");

	/* the socket's creator is this process: its pid and /proc start time */
	time_t started;
	milter_probe_proc(getpid(), NULL, 0, &started);
	char want[128], since[32];
	struct tm tm;
	gmtime_r(&started, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(want, sizeof(want), "daemon: running (pid %d, since %s)\n", (int)getpid(), since);
	res.peer_pid = getpid();
	buf_reset(&b);
	ck_assert_int_eq(milter_probe_describe("test_milter_probe", listen, &ls, 0, &res, st, &b),
	                 0);
	ck_assert_str_eq(buf_cstr(&b), want);

	/* another process made the socket (socket activation): no record, then the record */
	res.peer_pid = 0x7ffffff0;
	buf_reset(&b);
	milter_probe_describe("test_milter_probe", listen, &ls, 0, &res, st, &b);
	ck_assert_str_eq(buf_cstr(&b), "daemon: running (pid unknown)\n");
	ck_assert_int_eq(milter_probe_recorded(st, "test_milter_probe", listen, &pid, &t),
	                 STORE_NOTFOUND);
	ck_assert_int_eq(milter_probe_record(st, "test_milter_probe", listen, getpid(), 1), 0);
	ck_assert_int_eq(milter_probe_recorded(st, "test_milter_probe", listen, &pid, &t), 0);
	ck_assert_int_eq(pid, getpid());
	ck_assert_int_eq(t, 1);
	buf_reset(&b);
	milter_probe_describe("test_milter_probe", listen, &ls, 0, &res, st, &b);
	ck_assert_str_eq(buf_cstr(&b), want);
	/* a record naming a process of another name is not believed */
	buf_reset(&b);
	milter_probe_describe("milter-av", listen, &ls, 0, &res, st, &b);
	ck_assert_str_eq(buf_cstr(&b), "daemon: running (pid unknown)\n");

	ck_assert_int_eq(milter_probe_unrecord(st, "test_milter_probe", listen, getpid() + 1),
	                 STORE_NOTFOUND);
	ck_assert_int_eq(milter_probe_unrecord(st, "test_milter_probe", listen, getpid()), 0);
	ck_assert_int_eq(milter_probe_recorded(st, "test_milter_probe", listen, &pid, &t),
	                 STORE_NOTFOUND);
	buf_fini(&b);
	store_close(st);
}
END_TEST

CHECK_MAIN("milter_probe", negotiates_over_unix, negotiates_over_tcp, proc_name_and_start,
           record_and_describe)
