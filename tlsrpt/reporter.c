/* reporter: the daemon's daily report run (tlsrpt.conf(5) report_time), on its own thread so
 * the tick goes on flushing counters while reports go out. The tick asks schedule.c whether
 * yesterday is due (report_time plus a random delay of up to report_delay, drawn for each
 * day), starts one run (send.c's tlsrpt_send_run(), the same as `tlsrpt report --day D`)
 * when none is running, and records its result for the retries when it is over.
 * No schedule without report_from, or with report_time = off. At a stop the run is asked to
 * stop after the domain in hand and is waited for. A run first sends, oldest first, the days
 * of the TLSRPT_CATCHUP_DAYS before yesterday that have counters but no run record (the
 * daemon was down on their day; a run refused before any domain counts as none), once
 * each. Each domain tried is logged (info when delivered, error when not); a run refused
 * before any domain (no DKIM selector, another host's lock) once per try.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "report.h"
#include "schedule.h"
#include "send.h"
#include "store.h"
#include "tlsrpt.h"

/* Days before yesterday a daily run also sends when no run covered them. */
#define TLSRPT_CATCHUP_DAYS 6

static struct tlsrpt_schedule reporter_sched;
static pthread_t reporter_thread;
static bool reporter_started; /* a thread to join (tick thread only) */
static atomic_bool reporter_busy, reporter_stop;
static atomic_int reporter_rc;
static char reporter_day[11];

static void reporter_log(const char *domain, int rc, const char *what, void *arg)
{
	const char *day = arg;
	if (rc < 0)
		log_errx("report %s %s: %s", day, domain, what);
	else
		log_info("report %s %s: %s", day, domain, what);
}

/* One day's run, logged. @retried: failed domains are tried again later (yesterday). */
static int reporter_day_run(struct daemon *d, const struct cfg *cfg, const char *day, bool retried)
{
	struct buf err;
	unsigned sent = 0;
	buf_init(&err);
	int rc = tlsrpt_send_run(daemon_store(d), cfg, day, NULL, (long long)time(NULL),
	                         &reporter_stop, reporter_log, (void *)day, &sent, &err);
	if (err.len)
		log_errx("reports of %s: %s", day, buf_cstr(&err));
	else
		log_info("reports of %s: %u sent%s", day, sent,
		         rc != TLSRPT_RUN_FAILED ? ""
		         : retried               ? ", some domains failed (tried again later)"
		                                 : ", some domains failed (see tlsrpt status)");
	buf_fini(&err);
	return rc;
}

/* Whether @day is one the daemon missed: it has counters but no run record, or a run that
 * was refused before any domain (no DKIM selector, no report_from then). */
static bool reporter_missed(struct store *st, const char *day)
{
	char key[STORE_KEY_MAX], *val = NULL, **domains = NULL;
	size_t len, n = 0;
	snprintf(key, sizeof(key), "%s%s", TLSRPT_RUN_PREFIX, day);
	int rc = store_get(st, key, &val, &len);
	bool refused = rc == 0 && memmem(val, len, "\"refused\"", 9) != NULL;
	free(val);
	if (rc < 0 || (rc == 0 && !refused))
		return false;
	if (tlsrpt_report_domains(st, day, &domains, &n) < 0)
		n = 0;
	tlsrpt_report_domains_free(domains);
	return n > 0;
}

static void *reporter_run(void *arg)
{
	struct daemon *d = arg;
	struct daemon_conf *dc = daemon_conf_get(d);
	long long begin, end;

	/* the days before yesterday that no run covered (the daemon was down), oldest first */
	if (tlsrpt_day_bounds(reporter_day, &begin, &end) == 0) {
		for (int ago = TLSRPT_CATCHUP_DAYS; ago >= 1 && !atomic_load(&reporter_stop);
		     ago--) {
			char day[11];
			clock_utc_day(begin - (long long)ago * 86400, day);
			if (reporter_missed(daemon_store(d), day))
				reporter_day_run(d, dc->cfg, day, false);
		}
	}
	int rc = reporter_day_run(d, dc->cfg, reporter_day, true);
	daemon_conf_put(dc);
	atomic_store(&reporter_rc, rc);
	atomic_store(&reporter_busy, false);
	return NULL;
}

/* Join a finished run and record its result. */
static void reporter_reap(void)
{
	if (!reporter_started || atomic_load(&reporter_busy))
		return;
	pthread_join(reporter_thread, NULL);
	reporter_started = false;
	int rc = atomic_load(&reporter_rc);
	long long now = (long long)time(NULL);
	if (tlsrpt_schedule_result(&reporter_sched, rc == TLSRPT_RUN_DONE, now) &&
	    rc != TLSRPT_RUN_DONE)
		log_errx("reports of %s: giving up after %d tries", reporter_sched.day,
		         reporter_sched.attempts);
}

/* A random delay of 0 to @max seconds (getrandom(); 0 when it fails). */
static long long reporter_delay(long long max)
{
	unsigned long long r = 0;
	if (max <= 0 || getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		return 0;
	return (long long)(r % (unsigned long long)(max + 1));
}

void tlsrpt_reporter_tick(struct daemon *d, bool stopping)
{
	if (stopping) {
		atomic_store(&reporter_stop, true);
		if (reporter_started)
			pthread_join(reporter_thread, NULL);
		reporter_started = false;
		return;
	}
	reporter_reap();
	if (reporter_started || !daemon_store(d))
		return;
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct tlsrpt_conf *c = dc->priv;
	char day[11], before[11];
	long long now = (long long)time(NULL), delay = reporter_delay(c->report_delay_s);
	memcpy(before, reporter_sched.day, sizeof(before));
	bool due = c->report_minute >= 0 &&
	           tlsrpt_schedule_due(&reporter_sched, now, c->report_minute, delay, day);
	daemon_conf_put(dc);
	if (strcmp(before, reporter_sched.day) != 0) {
		char at[32];
		time_t next = (time_t)reporter_sched.next;
		struct tm tm;
		strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", gmtime_r(&next, &tm));
		log_info("reports of %s: due at %s UTC (random delay %llds)", reporter_sched.day,
		         at, delay);
	}
	if (!due)
		return;
	memcpy(reporter_day, day, sizeof(day));
	atomic_store(&reporter_busy, true);
	/* the thread must not take the signals the skeleton waits for */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int e = pthread_create(&reporter_thread, NULL, reporter_run, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		atomic_store(&reporter_busy, false);
		log_err_e(-e, "reports of %s: cannot start a thread", day);
		return;
	}
	reporter_started = true;
}
