/* test_tlsrpt_deliver: report mail handed to a sendmail program (tlsrpt/deliver.c), with
 * shell scripts standing in for it: the arguments ("-f from -i -- rcpt" after the configured
 * ones) and the message on stdin; exit 0 is delivery, another status fails with what the
 * program said; a program that hangs is killed at the deadline; one that does not read its
 * input and a missing one fail cleanly; a relative path is refused. And the DKIM selector
 * check on a memory: store: published and matching, for the domain or a parent.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_common.h"
#include "deliver.h"
#include "store.h"

static char dir[] = "/tmp/test_tlsrpt_deliver.XXXXXX";

/* A script DIR/@name with @body after "#!/bin/sh". Returns its path (static). */
static const char *script(const char *name, const char *body)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
	return path;
}

static char *slurp(const char *name)
{
	static char b[4096];
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(b, 1, sizeof(b) - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

START_TEST(test_ok_args_stdin)
{
	setup();
	char cmd[512];
	const char *p = script("ok", "d=$(dirname \"$0\"); printf '%s|' \"$@\" >\"$d/args\"; "
	                             "cat >\"$d/msg\"");
	snprintf(cmd, sizeof(cmd), "%s  -C\t/etc/x", p);
	struct buf err;
	buf_init(&err);
	const char msg[] = "From: a@b.test\n\nhello\n.\nstill\n";
	ck_assert_int_eq(
	        tlsrpt_deliver_sendmail(cmd, "r@s.test", "x@y.test", msg, strlen(msg), 5000, &err),
	        0);
	ck_assert_uint_eq(err.len, 0);
	ck_assert_str_eq(slurp("args"), "-C|/etc/x|-f|r@s.test|-i|--|x@y.test|");
	ck_assert_str_eq(slurp("msg"), msg);
	buf_fini(&err);
}
END_TEST

START_TEST(test_status)
{
	setup();
	const char *p = script("tf", "cat >/dev/null; echo 'queue file: \tno space' >&2; exit 75");
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(tlsrpt_deliver_sendmail(p, "r@s.test", "x@y.test", "m\n", 2, 5000, &err),
	                 -EIO);
	ck_assert_ptr_nonnull(
	        strstr(buf_cstr(&err), "exited with status 75: queue file:  no space"));
	ck_assert_ptr_null(strchr(buf_cstr(&err), '\n'));
	buf_fini(&err);
}
END_TEST

START_TEST(test_timeout)
{
	setup();
	const char *p = script("hang", "exec sleep 30");
	struct buf err;
	buf_init(&err);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(tlsrpt_deliver_sendmail(p, "r@s.test", "x@y.test", "m\n", 2, 300, &err),
	                 -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	ck_assert_int_lt(ms, 3000);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "timed out after 300 ms"));
	buf_fini(&err);
}
END_TEST

START_TEST(test_no_reader_big_message)
{
	setup();
	const char *p = script("deaf", "exit 0");
	size_t n = 1 << 20;
	char *msg = malloc(n);
	memset(msg, 'a', n);
	struct buf err;
	buf_init(&err);
	int rc = tlsrpt_deliver_sendmail(p, "r@s.test", "x@y.test", msg, n, 5000, &err);
	ck_assert(rc == 0); /* its status decides: it exited 0 */
	free(msg);
	buf_fini(&err);
}
END_TEST

START_TEST(test_missing_and_relative)
{
	setup();
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(tlsrpt_deliver_sendmail("/nonexistent/sendmail", "r@s.test", "x@y.test",
	                                         "m\n", 2, 5000, &err),
	                 -ENOENT);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "cannot run /nonexistent/sendmail"));
	buf_reset(&err);
	ck_assert_int_eq(tlsrpt_deliver_sendmail("sendmail -t", "r@s.test", "x@y.test", "m\n", 2,
	                                         5000, &err),
	                 -EINVAL);
	buf_reset(&err);
	ck_assert_int_eq(
	        tlsrpt_deliver_sendmail("  ", "r@s.test", "x@y.test", "m\n", 2, 5000, &err),
	        -EINVAL);
	buf_fini(&err);
}
END_TEST

static void sel(struct store *st, const char *key, const char *json)
{
	ck_assert_int_eq(store_set(st, key, json, strlen(json), 0), 0);
}

START_TEST(test_dkim_selector)
{
	struct store *st = store_open("memory:");
	char s[512];
	ck_assert_int_eq(tlsrpt_dkim_selector(st, "mail.example.org", s, sizeof(s)), 1);
	sel(st, "pw:dkim:sel:mail.example.org:old", "{\"published\":true,\"matches\":false}");
	sel(st, "pw:dkim:sel:mail.example.org:new", "{\"published\":false,\"matches\":false}");
	sel(st, "pw:dkim:sel:org:x", "{\"published\":true,\"matches\":true}");
	sel(st, "pw:dkim:sel:other.example.org:y", "{\"published\":true,\"matches\":true}");
	ck_assert_int_eq(tlsrpt_dkim_selector(st, "mail.example.org", s, sizeof(s)), 1);
	sel(st, "pw:dkim:sel:example.org:s1", "{\"published\":true,\"matches\":true}");
	ck_assert_int_eq(tlsrpt_dkim_selector(st, "mail.example.org", s, sizeof(s)), 0);
	ck_assert_str_eq(s, "example.org:s1");
	sel(st, "pw:dkim:sel:mail.example.org:new", "{\"published\":true,\"matches\":true}");
	ck_assert_int_eq(tlsrpt_dkim_selector(st, "mail.example.org", s, sizeof(s)), 0);
	ck_assert_str_eq(s, "mail.example.org:new");
	sel(st, "pw:dkim:sel:broken.test:a", "not json");
	ck_assert_int_eq(tlsrpt_dkim_selector(st, "broken.test", s, sizeof(s)), 1);
	store_close(st);
}
END_TEST

CHECK_MAIN("tlsrpt_deliver", test_ok_args_stdin, test_status, test_timeout,
           test_no_reader_big_message, test_missing_and_relative, test_dkim_selector)
