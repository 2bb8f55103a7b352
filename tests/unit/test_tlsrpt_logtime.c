/* Unit tests for tlsrpt/logtime.c: each timestamp form and the bytes it takes, the year of
 * a year-less stamp against the reference time, local time through TZ (a POSIX TZ string,
 * so no tzdata is needed), the minute cache, and what is not a timestamp. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_common.h"
#include "testtime.h"
#include "logtime.h"

/* t_parse() - parse @s (with a host after it) against @ref; check the bytes taken. */
static long long t_parse(long long ref, const char *s, size_t want_len)
{
	struct logtime lt;
	long long t = -1;

	logtime_init(&lt, ref);
	ck_assert_uint_eq(logtime_parse(&lt, s, strlen(s), &t), want_len);
	return t;
}

START_TEST(forms)
{
	long long ref = t_utc(2026, 12, 3, 6, 0, 0), want = t_utc(2026, 12, 2, 23, 55, 0);

	t_tz("UTC");
	ck_assert_int_eq(t_parse(ref, "Dec  2 23:55:00 host", 15), want);
	ck_assert_int_eq(t_parse(ref, "Dec 02 23:55:00 host", 15), want);
	ck_assert_int_eq(t_parse(ref, "Dec 2 23:55:00 host", 14), want);
	ck_assert_int_eq(t_parse(ref, "2026-12-02T23:55:00+0000 host", 24), want);
	ck_assert_int_eq(t_parse(ref, "2026-12-02T23:55:00+00:00 host", 25), want);
	ck_assert_int_eq(t_parse(ref, "2026-12-02T23:55:00Z host", 20), want);
	ck_assert_int_eq(t_parse(ref, "2026-12-02T23:55:00.123456Z host", 27), want);
	ck_assert_int_eq(t_parse(ref, "2026-12-03T01:25:00.5+01:30 host", 27), want);
	ck_assert_int_eq(t_parse(ref, "2026-12-02T20:55:00-0300 host", 24), want);
	ck_assert_int_eq(t_parse(ref, "2026-12-02T23:55:00 host", 19), want);
	ck_assert_int_eq(t_parse(ref, "2026-12-02T23:55:00,25 host", 22), want);
}
END_TEST

START_TEST(year)
{
	t_tz("UTC");
	long long newyear = t_utc(2027, 1, 1, 0, 10, 0);
	ck_assert_int_eq(t_parse(newyear, "Dec 31 23:59:59", 15), t_utc(2026, 12, 31, 23, 59, 59));
	ck_assert_int_eq(t_parse(newyear, "Jan  1 00:05:00", 15), t_utc(2027, 1, 1, 0, 5, 0));
	ck_assert_int_eq(t_parse(newyear, "Jan  1 23:00:00", 15), t_utc(2027, 1, 1, 23, 0, 0));
	ck_assert_int_eq(t_parse(newyear, "Jan  2 01:00:00", 15), t_utc(2026, 1, 2, 1, 0, 0));
	ck_assert_int_eq(t_parse(t_utc(2027, 6, 1, 0, 0, 0), "Dec  2 23:55:00", 15),
	                 t_utc(2026, 12, 2, 23, 55, 0));
	/* the short-iso form has its own year */
	ck_assert_int_eq(t_parse(newyear, "2030-06-01T00:00:00Z", 20), t_utc(2030, 6, 1, 0, 0, 0));
	/* Feb 29 of a leap year */
	ck_assert_int_eq(t_parse(t_utc(2028, 3, 1, 0, 0, 0), "Feb 29 12:00:00", 15),
	                 t_utc(2028, 2, 29, 12, 0, 0));
}
END_TEST

START_TEST(time_zone)
{
	long long ref = t_utc(2026, 12, 3, 6, 0, 0);

	t_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	ck_assert_int_eq(t_parse(ref, "Jul 15 12:00:00", 15), t_utc(2026, 7, 15, 10, 0, 0));
	ck_assert_int_eq(t_parse(ref, "Jan 15 12:00:00", 15), t_utc(2026, 1, 15, 11, 0, 0));
	ck_assert_int_eq(t_parse(ref, "2026-07-15T12:00:00", 19), t_utc(2026, 7, 15, 10, 0, 0));
	ck_assert_int_eq(t_parse(ref, "2026-07-15T12:00:00+00:00", 25),
	                 t_utc(2026, 7, 15, 12, 0, 0));
	/* the hour after the spring change: 03:30 CEST is 01:30 UTC */
	ck_assert_int_eq(t_parse(ref, "Mar 29 03:30:00", 15), t_utc(2026, 3, 29, 1, 30, 0));
	/* a reference time in a zone ahead of UTC: local 1 Jan 00:30 is still 31 Dec UTC */
	ck_assert_int_eq(t_parse(t_utc(2026, 12, 31, 23, 30, 0), "Jan  1 00:20:00", 15),
	                 t_utc(2026, 12, 31, 23, 20, 0));
	t_tz("UTC");
}
END_TEST

START_TEST(cache)
{
	struct logtime lt;
	long long t;

	t_tz("UTC");
	logtime_init(&lt, t_utc(2026, 12, 3, 6, 0, 0));
	ck_assert_uint_eq(logtime_parse(&lt, "Dec  2 23:55:00", 15, &t), 15);
	ck_assert_int_eq(t, t_utc(2026, 12, 2, 23, 55, 0));
	ck_assert_uint_eq(logtime_parse(&lt, "Dec  2 23:55:59", 15, &t), 15);
	ck_assert_int_eq(t, t_utc(2026, 12, 2, 23, 55, 59));
	ck_assert_uint_eq(logtime_parse(&lt, "Dec  2 23:56:01", 15, &t), 15);
	ck_assert_int_eq(t, t_utc(2026, 12, 2, 23, 56, 1));
	/* same minute, other year form: not confused with the year-less one */
	ck_assert_uint_eq(logtime_parse(&lt, "2020-12-02T23:56:01", 19, &t), 19);
	ck_assert_int_eq(t, t_utc(2020, 12, 2, 23, 56, 1));
	/* a new reference drops the cache */
	logtime_init(&lt, t_utc(2030, 12, 3, 6, 0, 0));
	ck_assert_uint_eq(logtime_parse(&lt, "Dec  2 23:56:01", 15, &t), 15);
	ck_assert_int_eq(t, t_utc(2030, 12, 2, 23, 56, 1));
}
END_TEST

START_TEST(not_timestamps)
{
	static const char *const bad[] = {
		"",
		"Dec",
		"Dec  2 23:55",
		"Xyz  2 23:55:00",
		"dec  2 23:55:00",
		"Dec   2 23:55:00",
		"Dec  0 23:55:00",
		"Dec 32 23:55:00",
		"Dec  2 24:00:00",
		"Dec  2 23:60:00",
		"Dec  2 23:55:61",
		"Dec  2 23-55-00",
		"Dec  2 2a:55:00",
		"2026-12-02 23:55:00",
		"2026-00-02T23:55:00Z",
		"2026-13-02T23:55:00Z",
		"2026-12-00T23:55:00Z",
		"1969-12-31T23:59:59Z",
		"2026-12-02T23:55:00+2",
		"2026-12-02T23:55:00+24:00",
		"2026-12-02T23:55:00+01:60",
		"2026-12-02T23:55",
		"postfix/smtp[1]:",
	};
	struct logtime lt;
	long long t;

	t_tz("UTC");
	logtime_init(&lt, t_utc(2026, 12, 3, 6, 0, 0));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(logtime_parse(&lt, bad[i], strlen(bad[i]), &t) == 0, "%s", bad[i]);
	/* the length bounds the parse */
	ck_assert_uint_eq(logtime_parse(&lt, "Dec  2 23:55:00", 14, &t), 0);
	ck_assert_uint_eq(logtime_parse(&lt, "2026-12-02T23:55:00+01:00", 21, &t), 0);
}
END_TEST

CHECK_MAIN("tlsrpt_logtime", forms, year, time_zone, cache, not_timestamps)
