/* Unit tests for common/log: the stderr and journald sinks' line formats, the
 * warn (strerror) / warnx split, debug gating, the rate limiter, the escaping of
 * every line (no value can forge a second line) and the stderr fallback when
 * there is no syslog socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_common.h"
#include "log.h"

/* Run @fn with stderr redirected into a pipe; return what it wrote. */
static void capture(void (*fn)(void), char *out, size_t outsz)
{
	int p[2], saved = dup(STDERR_FILENO);
	ck_assert_int_eq(pipe(p), 0);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	ssize_t n = read(p[0], out, outsz - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
}

static void emit_plain(void)
{
	log_open("unit", LOG_SINK_STDERR, false);
	errno = ENOENT;
	log_warn("open %s", "/x");
	log_warnx("plain %d", 7);
	log_debug("hidden");
	log_info("info line");
}

static void emit_journal(void)
{
	log_open("unit", LOG_SINK_JOURNAL, true);
	log_errx("bad");
	log_warn_e(-EACCES, "key %s", "k");
	log_debug("dbg");
	log_info("hello");
}

START_TEST(stderr_sink)
{
	char out[1024];
	capture(emit_plain, out, sizeof(out));
	ck_assert_str_eq(out, "unit: warning: open /x: No such file or directory\n"
	                      "unit: warning: plain 7\n"
	                      "unit: info line\n");
}
END_TEST

START_TEST(journal_sink)
{
	char out[1024];
	capture(emit_journal, out, sizeof(out));
	ck_assert_str_eq(out, "<3>error: bad\n"
	                      "<4>warning: key k: Permission denied\n"
	                      "<7>debug: dbg\n"
	                      "<6>hello\n");
}
END_TEST

static void emit_long(void)
{
	char big[8000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_open("unit", LOG_SINK_STDERR, false);
	log_warnx("%s", big);
}

START_TEST(long_line_cut_to_one_line)
{
	char out[9000];
	capture(emit_long, out, sizeof(out));
	size_t n = strlen(out);
	ck_assert_uint_le(n, 4096);
	ck_assert_int_eq(out[n - 1], '\n');
	ck_assert_ptr_eq(strchr(out, '\n'), out + n - 1);
}
END_TEST

START_TEST(ratelimit_once_per_interval)
{
	long stamp = 0;
	ck_assert(log_ratelimit(&stamp, 60));
	ck_assert(!log_ratelimit(&stamp, 60));
	ck_assert(!log_ratelimit(&stamp, 60));
	long other = 0;
	ck_assert(log_ratelimit(&other, 0));
	ck_assert(log_ratelimit(&other, 0));
}
END_TEST

static void emit_forged(void)
{
	log_open("unit", LOG_SINK_STDERR, false);
	log_info("%s: from=%s", "4XyZ", "<a@b>\nunit: 4XyZ: clean");
	log_warnx("virus=%s", "Eicar\r\x1b[2J\x7f");
	log_info("bad utf-8=%s c1=%s overlong=%s surrogate=%s cut=%s", "\xff\xfe", "\xc2\x85",
	         "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82");
	log_info("kept: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7 tab\tend");
}

START_TEST(control_bytes_escaped)
{
	char out[2048];
	capture(emit_forged, out, sizeof(out));
	ck_assert_str_eq(out,
	                 "unit: 4XyZ: from=<a@b>\\x0aunit: 4XyZ: clean\n"
	                 "unit: warning: virus=Eicar\\x0d\\x1b[2J\\x7f\n"
	                 "unit: bad utf-8=\\xff\\xfe c1=\\xc2\\x85 overlong=\\xc0\\xaf "
	                 "surrogate=\\xed\\xa0\\x80 cut=\\xe2\\x82\n"
	                 "unit: kept: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7 tab\\x09end\n");
}
END_TEST

static void emit_journal_forged(void)
{
	log_open("unit", LOG_SINK_JOURNAL, false);
	log_notice("q: from=%s", "x\n<3>error: forged");
}

START_TEST(journal_prefix_not_forgeable)
{
	char out[512];
	capture(emit_journal_forged, out, sizeof(out));
	ck_assert_str_eq(out, "<5>q: from=x\\x0a<3>error: forged\n");
}
END_TEST

static void emit_long_escaped(void)
{
	char big[3000];
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_open("unit", LOG_SINK_STDERR, false);
	log_warnx("%s", big);
}

START_TEST(long_escaped_line_stays_one_line)
{
	char out[9000];
	capture(emit_long_escaped, out, sizeof(out));
	size_t n = strlen(out);
	ck_assert_uint_le(n, 4096);
	ck_assert_ptr_eq(strchr(out, '\n'), out + n - 1);
	ck_assert_int_eq(out[n - 2], 'a'); /* ends on a whole "\x0a" */
	ck_assert_int_eq(out[n - 5], '\\');
}
END_TEST

static void emit_no_syslog_socket(void)
{
	unsetenv("JOURNAL_STREAM");
	log_set_syslog_path("/nonexistent/postwarden-unit/log");
	log_open("unit", LOG_SINK_AUTO, false);
	log_info("not lost");
	log_open("unit", LOG_SINK_SYSLOG, false);
	log_warnx("still not lost");
	log_set_syslog_path("/dev/log");
}

START_TEST(no_syslog_socket_falls_back_to_stderr)
{
	char out[512];
	capture(emit_no_syslog_socket, out, sizeof(out));
	ck_assert_str_eq(out, "unit: not lost\nunit: warning: still not lost\n");
}
END_TEST

CHECK_MAIN("log", stderr_sink, journal_sink, long_line_cut_to_one_line, ratelimit_once_per_interval,
           control_bytes_escaped, journal_prefix_not_forgeable, long_escaped_line_stays_one_line,
           no_syslog_socket_falls_back_to_stderr)
