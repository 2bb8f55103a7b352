/* testtime: time helpers for the unit tests that read local-time logs (tlsrpt's logtime
 * and logscan): a UTC calendar time as Unix seconds, and the process's time zone set. */
#ifndef POSTWARDEN_TEST_TESTTIME_H
#define POSTWARDEN_TEST_TESTTIME_H

#include <stdlib.h>
#include <time.h>

static inline long long t_utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900,
		         .tm_mon = mo - 1,
		         .tm_mday = d,
		         .tm_hour = h,
		         .tm_min = mi,
		         .tm_sec = s };
	return (long long)timegm(&tm);
}

static inline void t_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

#endif
