/* schedule: the daemon's daily report run and its retries, as pure functions of a small
 * struct and the time. The day to report is always yesterday (UTC): a run starts at
 * report_time plus a random delay (report_delay: the reports of every sender do not reach
 * their receivers in the same minute), or after the day's grace when report_time is
 * earlier; a restart after that time runs at once (the sent marks in the store keep what went out
 * from going twice). A failed run (a domain not delivered, the lock of another host, no DKIM
 * selector) is tried again after 5 minutes, then 10, 20, ... at most 4 hours apart, and not 24
 * hours or more after the first try (RFC 8460 section 5.4: redelivery SHOULD be attempted for up to
 * 24 hours after the initial attempt, ideally with exponential backoff).
 */
#include <errno.h>
#include <string.h>

#include "clock.h"
#include "aggregate.h"
#include "schedule.h"

int tlsrpt_schedule_minute(const char *s)
{
	if (strlen(s) != 5 || s[2] != ':' || strspn(s, "0123456789:") != 5)
		return -EINVAL;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	return h < 24 && m < 60 ? h * 60 + m : -EINVAL;
}

bool tlsrpt_schedule_due(struct tlsrpt_schedule *s, long long now, int minute, long long delay_s,
                         char day[11])
{
	long long midnight = now - ((now % 86400) + 86400) % 86400;
	long long at = midnight + (long long)minute * 60;
	if (at < midnight + TLSRPT_SCHEDULE_GRACE_S)
		at = midnight + TLSRPT_SCHEDULE_GRACE_S;
	if (now < at)
		return false;
	char y[11];
	clock_utc_day(midnight - 1, y);
	if (strcmp(s->day, y) != 0) {
		memset(s, 0, sizeof(*s));
		memcpy(s->day, y, sizeof(y));
		s->next = at + (delay_s > 0 ? delay_s : 0);
	}
	if (s->done || now < s->next)
		return false;
	memcpy(day, y, sizeof(y));
	return true;
}

bool tlsrpt_schedule_result(struct tlsrpt_schedule *s, bool ok, long long now)
{
	if (s->attempts++ == 0)
		s->first = now;
	if (ok) {
		s->done = true;
		return true;
	}
	long long wait = TLSRPT_RETRY_FIRST_S;
	for (int i = 1; i < s->attempts && wait < TLSRPT_RETRY_MAX_S; i++)
		wait *= 2;
	if (wait > TLSRPT_RETRY_MAX_S)
		wait = TLSRPT_RETRY_MAX_S;
	s->next = now + wait;
	if (s->next >= s->first + TLSRPT_RETRY_GIVE_UP_S) {
		s->done = true;
		return true;
	}
	return false;
}
