/* test_tlsrpt_schedule: the daemon's daily report run (tlsrpt/schedule.c): "HH:MM" parsed;
 * yesterday is due from report_time (plus the day's random delay) on, never before the day's grace
 * (00:15:05); a done day is not due again, the next day is; a failed run is tried again after 5,
 * 10, 20 ... minutes, at most 4 hours apart, and given up 24 hours after the first try.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "check_common.h"
#include "schedule.h"

#define DAY0 1764806400LL /* 2025-12-04T00:00:00Z */

START_TEST(test_minute)
{
	ck_assert_int_eq(tlsrpt_schedule_minute("00:30"), 30);
	ck_assert_int_eq(tlsrpt_schedule_minute("23:59"), 23 * 60 + 59);
	ck_assert_int_eq(tlsrpt_schedule_minute("24:00"), -EINVAL);
	ck_assert_int_eq(tlsrpt_schedule_minute("7:30"), -EINVAL);
	ck_assert_int_eq(tlsrpt_schedule_minute("07:60"), -EINVAL);
	ck_assert_int_eq(tlsrpt_schedule_minute("off"), -EINVAL);
}
END_TEST

START_TEST(test_due)
{
	struct tlsrpt_schedule s;
	char day[11] = "";
	memset(&s, 0, sizeof(s));
	ck_assert(!tlsrpt_schedule_due(&s, DAY0 + 29 * 60 + 59, 30, 0, day));
	ck_assert(tlsrpt_schedule_due(&s, DAY0 + 30 * 60, 30, 0, day));
	ck_assert_str_eq(day, "2025-12-03");
	ck_assert(!tlsrpt_schedule_result(&s, false, DAY0 + 30 * 60)); /* failed: retry */
	ck_assert(!tlsrpt_schedule_due(&s, DAY0 + 34 * 60, 30, 0, day));
	ck_assert(tlsrpt_schedule_due(&s, DAY0 + 35 * 60, 30, 0, day));
	ck_assert(tlsrpt_schedule_result(&s, true, DAY0 + 35 * 60)); /* done */
	ck_assert(!tlsrpt_schedule_due(&s, DAY0 + 12 * 3600, 30, 0, day));
	ck_assert(!tlsrpt_schedule_due(&s, DAY0 + 86400 + 29 * 60, 30, 0, day));
	ck_assert(tlsrpt_schedule_due(&s, DAY0 + 86400 + 30 * 60, 30, 0, day));
	ck_assert_str_eq(day, "2025-12-04");
	/* report_time before the grace: the grace wins; a start later in the day: due at once */
	memset(&s, 0, sizeof(s));
	ck_assert(!tlsrpt_schedule_due(&s, DAY0 + 15 * 60 + 4, 0, 0, day));
	ck_assert(tlsrpt_schedule_due(&s, DAY0 + 15 * 60 + 5, 0, 0, day));
	memset(&s, 0, sizeof(s));
	ck_assert(tlsrpt_schedule_due(&s, DAY0 + 20 * 3600, 30, 0, day));
	ck_assert_str_eq(day, "2025-12-03");
}
END_TEST

/* report_delay: the day's delay postpones the first try; it is drawn once per day (the
 * value given on later calls of the same day is ignored), and a new day takes a new one */
START_TEST(test_delay)
{
	struct tlsrpt_schedule s;
	char day[11] = "";
	memset(&s, 0, sizeof(s));
	ck_assert(!tlsrpt_schedule_due(&s, DAY0 + 30 * 60, 30, 600, day));
	ck_assert_str_eq(s.day, "2025-12-03");
	ck_assert(!tlsrpt_schedule_due(&s, DAY0 + 39 * 60 + 59, 30, 0, day));
	ck_assert(tlsrpt_schedule_due(&s, DAY0 + 40 * 60, 30, 3600, day));
	ck_assert_str_eq(day, "2025-12-03");
	ck_assert(tlsrpt_schedule_result(&s, true, DAY0 + 40 * 60));
	ck_assert(!tlsrpt_schedule_due(&s, DAY0 + 86400 + 30 * 60, 30, 120, day));
	ck_assert(!tlsrpt_schedule_due(&s, DAY0 + 86400 + 31 * 60 + 59, 30, 0, day));
	ck_assert(tlsrpt_schedule_due(&s, DAY0 + 86400 + 32 * 60, 30, 0, day));
	ck_assert_str_eq(day, "2025-12-04");
	/* a negative delay counts as none */
	memset(&s, 0, sizeof(s));
	ck_assert(tlsrpt_schedule_due(&s, DAY0 + 30 * 60, 30, -5, day));
}
END_TEST

START_TEST(test_backoff)
{
	struct tlsrpt_schedule s;
	char day[11];
	long long t = DAY0 + 1800, waits[16];
	int n = 0;
	memset(&s, 0, sizeof(s));
	ck_assert(tlsrpt_schedule_due(&s, t, 30, 0, day));
	for (;;) {
		bool last = tlsrpt_schedule_result(&s, false, t);
		if (last)
			break;
		ck_assert_int_lt(n, 16);
		waits[n++] = s.next - t;
		ck_assert(!tlsrpt_schedule_due(&s, s.next - 1, 30, 0, day));
		t = s.next;
		if (t >= DAY0 + 86400 + 1800)
			break;
		ck_assert(tlsrpt_schedule_due(&s, t, 30, 0, day));
		ck_assert_str_eq(day, "2025-12-03");
	}
	ck_assert_int_eq(waits[0], 300);
	ck_assert_int_eq(waits[1], 600);
	ck_assert_int_eq(waits[2], 1200);
	ck_assert_int_eq(waits[n - 1], 4 * 3600);
	ck_assert(s.done);
	ck_assert_int_lt(t - s.first, 86400);
	ck_assert_int_ge(s.next - s.first, 86400);
}
END_TEST

CHECK_MAIN("tlsrpt_schedule", test_minute, test_due, test_delay, test_backoff)
