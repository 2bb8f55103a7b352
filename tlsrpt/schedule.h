/* schedule: when the daemon sends a day's reports (report_time) and when it tries again
 * after a failed run (backoff, given up a day after the first try). Pure: no I/O.
 */
#ifndef POSTWARDEN_TLSRPT_SCHEDULE_H
#define POSTWARDEN_TLSRPT_SCHEDULE_H

#include <stdbool.h>

#define TLSRPT_RETRY_FIRST_S 300              /* the first retry, then doubled */
#define TLSRPT_RETRY_MAX_S (4 * 3600)         /* the longest wait between two tries */
#define TLSRPT_RETRY_GIVE_UP_S 86400          /* no try this long after the first */
#define TLSRPT_SCHEDULE_GRACE_S (15 * 60 + 5) /* as TLSRPT_SEND_GRACE_S (send.h) */

/* One day's progress. Zero it to start. */
struct tlsrpt_schedule {
	char day[11]; /* the day being sent; "" before the first */
	int attempts;
	long long first; /* time of the first try */
	long long next;  /* no try before (report_time plus the day's random delay, then backoff) */
	bool done;       /* sent, or given up */
};

/* tlsrpt_schedule_minute() - "HH:MM" (UTC) as minutes after midnight, or -EINVAL. */
int tlsrpt_schedule_minute(const char *hhmm);

/**
 * tlsrpt_schedule_due() - should a run start at @now, and for which day?
 * @minute: report_time in minutes after 00:00 UTC
 * @delay_s: the random delay for a day that starts now (the caller draws it, 0 to
 *           report_delay): read only when this call starts a new day
 * @day: receives the day (yesterday, UTC) when true is returned
 * Yesterday is due from today's @minute plus the day's delay on (and never before its end
 * plus TLSRPT_SCHEDULE_GRACE_S); a new day starts a new @s. Not when @s says it is done or
 * its next try is later.
 */
bool tlsrpt_schedule_due(struct tlsrpt_schedule *s, long long now, int minute, long long delay_s,
                         char day[11]);

/**
 * tlsrpt_schedule_result() - record the end of a run of @s->day at @now: @ok (nothing left to
 * send) makes it done; otherwise the next try waits TLSRPT_RETRY_FIRST_S, doubled each time up
 * to TLSRPT_RETRY_MAX_S. Return true when this was the last try (done, or given up: the next
 * try would come TLSRPT_RETRY_GIVE_UP_S or more after the first).
 */
bool tlsrpt_schedule_result(struct tlsrpt_schedule *s, bool ok, long long now);

#endif
