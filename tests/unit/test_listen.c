/* Unit tests for common/listen: endpoint syntax, libmilter form, binding. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_common.h"
#include "listen.h"

START_TEST(parse_unix)
{
	struct listen_spec ls;
	char out[256];
	ck_assert_int_eq(listen_parse("unix:/run/x/milter.sock", &ls), 0);
	ck_assert_int_eq(ls.kind, LISTEN_UNIX);
	ck_assert_str_eq(ls.path, "/run/x/milter.sock");
	ck_assert_uint_eq(ls.mode, 0660);
	ck_assert_int_eq(listen_parse("unix:/run/x.sock:0600", &ls), 0);
	ck_assert_uint_eq(ls.mode, 0600);
	listen_format(&ls, out, sizeof(out));
	ck_assert_str_eq(out, "unix:/run/x.sock:0600");
	listen_milter_conn(&ls, out, sizeof(out));
	ck_assert_str_eq(out, "unix:/run/x.sock");
	ck_assert_int_eq(listen_parse("unix:relative.sock", &ls), -EINVAL);
	ck_assert_int_eq(listen_parse("unix:", &ls), -EINVAL);
	ck_assert_int_eq(listen_parse("unix:/x.sock:0999", &ls), -EINVAL);
	char longp[200];
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "unix:/", 6);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_eq(listen_parse(longp, &ls), -ENAMETOOLONG);
}
END_TEST

START_TEST(parse_inet)
{
	struct listen_spec ls;
	char out[256];
	ck_assert_int_eq(listen_parse("inet:127.0.0.1:8891", &ls), 0);
	ck_assert_int_eq(ls.kind, LISTEN_INET);
	ck_assert_str_eq(ls.host, "127.0.0.1");
	ck_assert_str_eq(ls.port, "8891");
	listen_milter_conn(&ls, out, sizeof(out));
	ck_assert_str_eq(out, "inet:8891@127.0.0.1");
	ck_assert_int_eq(listen_parse("inet6:[::1]:10025", &ls), 0);
	ck_assert_int_eq(ls.kind, LISTEN_INET6);
	ck_assert_str_eq(ls.host, "::1");
	listen_format(&ls, out, sizeof(out));
	ck_assert_str_eq(out, "inet6:[::1]:10025");
	listen_milter_conn(&ls, out, sizeof(out));
	ck_assert_str_eq(out, "inet6:10025@::1");
	ck_assert_int_eq(listen_parse("inet:127.0.0.1", &ls), -EINVAL);
	ck_assert_int_eq(listen_parse("inet:127.0.0.1:0", &ls), -EINVAL);
	ck_assert_int_eq(listen_parse("inet:127.0.0.1:65536", &ls), -EINVAL);
	ck_assert_int_eq(listen_parse("inet6:::1:25", &ls), -EINVAL);
	ck_assert_int_eq(listen_parse("tcp:1.2.3.4:25", &ls), -EINVAL);
}
END_TEST

START_TEST(bind_unix_mode_and_stale)
{
	char dir[] = "/tmp/pwlisten.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char spec[300], path[200];
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s:0620", path);
	struct listen_spec ls;
	ck_assert_int_eq(listen_parse(spec, &ls), 0);
	int fd = listen_bind(&ls, SOCK_STREAM, 16);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0620);
	/* a live socket is never taken over, and its file stays */
	struct listen_spec other = ls;
	ck_assert_int_eq(listen_bind(&other, SOCK_STREAM, 16), -EADDRINUSE);
	struct stat st2;
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert_uint_eq(st2.st_ino, st.st_ino);
	close(fd);
	/* a stale socket file is replaced; the old owner's unlink leaves the new file alone */
	struct listen_spec old = ls;
	fd = listen_bind(&ls, SOCK_STREAM, 16);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(listen_unlink(&old), 1);
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert_int_eq(listen_unlink(&ls), 1); /* still listening: left alone */
	close(fd);
	ck_assert_int_eq(listen_unlink(&ls), 0);
	ck_assert_int_ne(stat(path, &st2), 0);
	/* a regular file is never removed */
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(listen_bind(&ls, SOCK_STREAM, 16), -EEXIST);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(bind_inet_loopback)
{
	struct listen_spec ls;
	ck_assert_int_eq(listen_parse("inet:127.0.0.1:1", &ls), 0);
	/* port 1 needs root; as root it may bind: accept either outcome, but never a crash */
	int fd = listen_bind(&ls, SOCK_STREAM, 4);
	if (fd >= 0)
		close(fd);
	else
		ck_assert(fd == -EACCES || fd == -EADDRINUSE);
	ck_assert_int_eq(listen_parse("inet:no.such.host.invalid:2525", &ls), 0);
	ck_assert_int_eq(listen_bind(&ls, SOCK_STREAM, 4), -EADDRNOTAVAIL);
}
END_TEST

START_TEST(adopt_without_systemd)
{
	int fds[4];
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	ck_assert_int_eq(listen_adopt_systemd(SOCK_STREAM, fds, 4), 0);
}
END_TEST

CHECK_MAIN("listen", parse_unix, parse_inet, bind_unix_mode_and_stale, bind_inet_loopback,
           adopt_without_systemd)
