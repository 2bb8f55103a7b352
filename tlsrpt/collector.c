/* collector: the libtlsrpt datagrams Postfix >= 3.10 sends, counted. The datagram runner's
 * worker hands batches here; each datagram is parsed (datagram.c) and counted in the
 * process's table (aggregate.c), which the tick adds to the store every few seconds and
 * once more after the runner has drained its queue at a stop, so nothing received is lost
 * by a restart. A malformed datagram is counted and logged at most once a minute, with its
 * size and the parser's reason (no datagram bytes). The tick also writes this collector's
 * counters for `status` (pw:tlsrpt:status:<host>, 60 s) and starts the daily report run
 * (reporter.c).
 */
#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "datagram.h"
#include "listen.h"
#include "log.h"
#include "prune.h"
#include "status_record.h"
#include "store.h"
#include "tlsrpt.h"

static struct tlsrpt_agg *tlsrpt_table;
static atomic_ullong tlsrpt_malformed;
static long tlsrpt_malformed_stamp, tlsrpt_store_stamp;

struct tlsrpt_agg *tlsrpt_counters(void)
{
	if (!tlsrpt_table)
		tlsrpt_table = tlsrpt_agg_new(0);
	return tlsrpt_table;
}

static void tlsrpt_batch(struct daemon *d, const struct iovec *msgs, size_t n)
{
	static struct tlsrpt_datagram_buf scratch; /* the runner has one worker thread */
	struct tlsrpt_agg *a = tlsrpt_counters();
	struct tlsrpt_event ev;
	struct buf err;
	long long now = time(NULL);

	(void)d;
	buf_init(&err);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&err);
		if (tlsrpt_datagram_parse(msgs[i].iov_base, msgs[i].iov_len, now, &scratch, &ev,
		                          &err) < 0) {
			unsigned long long k = atomic_fetch_add(&tlsrpt_malformed, 1) + 1;
			if (log_ratelimit(&tlsrpt_malformed_stamp, 60))
				log_warnx("malformed datagram (%zu bytes): %s (%llu so far)",
				          msgs[i].iov_len, buf_cstr(&err), k);
			continue;
		}
		if (tlsrpt_agg_add(a, &ev) < 0 && log_ratelimit(&tlsrpt_store_stamp, 60))
			log_errx("counter table full (the store has not taken counts): dropping");
	}
	buf_fini(&err);
}

const struct server_dgram_ops tlsrpt_dgram_ops = {
	.batch = tlsrpt_batch,
};

int tlsrpt_flush(struct store *st)
{
	static long stamp;
	struct buf err;

	if (!st)
		return -ENOTCONN;
	buf_init(&err);
	int rc = tlsrpt_agg_flush(tlsrpt_counters(), st, &err);
	if (rc < 0 && log_ratelimit(&stamp, 60))
		log_errx("%s", buf_cstr(&err));
	buf_fini(&err);
	return rc;
}

static void tlsrpt_status_write(struct store *st)
{
	struct server_dgram_stats ds;
	struct tlsrpt_agg_stats as;
	struct tlsrpt_follow_stats fs;

	server_dgram_stats(&ds);
	tlsrpt_agg_stats(tlsrpt_counters(), &as);
	json_t *rec = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "received",
	                        (json_int_t)ds.received, "dropped_full",
	                        (json_int_t)ds.dropped_full, "truncated", (json_int_t)ds.truncated,
	                        "malformed", (json_int_t)atomic_load(&tlsrpt_malformed), "sessions",
	                        (json_int_t)as.sessions, "dropped", (json_int_t)as.dropped,
	                        "flush_errors", (json_int_t)as.flush_errors);
	tlsrpt_follow_stats(&fs);
	if (rec && fs.active)
		json_object_set_new(
		        rec, "log",
		        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "lines", (json_int_t)fs.lines,
		                  "sessions", (json_int_t)fs.sessions, "malformed",
		                  (json_int_t)fs.malformed, "dropped", (json_int_t)fs.dropped,
		                  "skipped", (json_int_t)fs.skipped, "rotations",
		                  (json_int_t)fs.rotations));
	status_record_write(st, "tlsrpt", rec);
}

/* Once a UTC day (the first tick of the day): old counters deleted (prune.h). */
static void tlsrpt_prune_daily(struct store *st)
{
	static long long pruned_day = -1;
	static long stamp;
	long long now = (long long)time(NULL), today = now / 86400;
	unsigned long removed = 0;
	struct buf err;

	if (today == pruned_day)
		return;
	buf_init(&err);
	if (tlsrpt_prune(st, now, &removed, &err) < 0) {
		if (log_ratelimit(&stamp, 3600))
			log_errx("deleting counters older than %d days: %s", TLSRPT_PRUNE_KEEP_DAYS,
			         buf_cstr(&err));
	} else {
		pruned_day = today;
	}
	if (removed)
		log_info("deleted %lu counters older than %d days", removed,
		         TLSRPT_PRUNE_KEEP_DAYS);
	buf_fini(&err);
}

void tlsrpt_tick(struct daemon *d, bool stopping)
{
	struct store *st = daemon_store(d);
	if (stopping)
		tlsrpt_follow_join(); /* its last lines are counted before the final flush */
	tlsrpt_flush(st);
	if (st)
		tlsrpt_status_write(st);
	if (st && !stopping)
		tlsrpt_prune_daily(st);
	tlsrpt_reporter_tick(d, stopping);
	if (stopping) {
		struct tlsrpt_agg_stats as;
		tlsrpt_agg_stats(tlsrpt_counters(), &as);
		if (as.held)
			log_errx("stopping with %llu counters the store did not take", as.held);
	}
}

/* `listen_mode`, when set, on the socket file this process made (systemd's socket units
 * set theirs with SocketMode=). The file belongs to the service user by now. */
void tlsrpt_started(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct tlsrpt_conf *c = dc->priv;
	size_t n;
	const char *const *l = cfg_list(dc->cfg, NULL, "listen", &n);
	struct listen_spec ls;
	struct stat sb;

	tlsrpt_counters();
	if (server_dgram_bound() && cfg_is_set(dc->cfg, NULL, "listen_mode") && n == 1 &&
	    listen_parse(l[0], &ls) == 0 && ls.kind == LISTEN_UNIX && stat(ls.path, &sb) == 0 &&
	    sb.st_uid == geteuid() && chmod(ls.path, c->listen_mode) < 0)
		log_warn("%s: cannot set listen_mode %04o", ls.path, c->listen_mode);
	const char *logfile = cfg_str(dc->cfg, NULL, "logfile");
	if (*logfile && tlsrpt_follow_start(d, logfile, c->sending_ip) < 0)
		log_errx("logfile = %s: cannot start the log follower", logfile);
	daemon_conf_put(dc);
}

/* The follower keeps the log it started with: a reload only says so. */
void tlsrpt_reloaded(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	tlsrpt_follow_reloaded(cfg_str(dc->cfg, NULL, "logfile"));
	daemon_conf_put(dc);
}
