/* clock: the monotonic clock in milliseconds, for deadlines, backoffs and durations
 * (CLOCK_MONOTONIC, clock_gettime(2)). Its origin is arbitrary: compare and subtract
 * its values, never show them. Also the UTC day of a wall-clock time, the unit the store's
 * per-day keys and TLS-RPT reports use. Thread safe.
 */
#ifndef POSTWARDEN_CLOCK_H
#define POSTWARDEN_CLOCK_H

#include <stdint.h>
#include <time.h>

/* clock_mono_ms() - milliseconds on CLOCK_MONOTONIC (never negative). */
static inline int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* clock_utc_day() - "YYYY-MM-DD" of Unix time @t in UTC. */
static inline void clock_utc_day(long long t, char day[11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(day, 11, "%Y-%m-%d", &tm);
}

#endif
