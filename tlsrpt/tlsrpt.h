/* tlsrpt: what tlsrpt's glue files share: the config table and snapshot (conf.c), the
 * datagram collector (collector.c), the log follower (follow.c), the counters (aggregate.h)
 * and the subcommands (commands.c). The pure parsers are datagram.h and logscan.h.
 */
#ifndef POSTWARDEN_TLSRPT_H
#define POSTWARDEN_TLSRPT_H

#include "aggregate.h"
#include "cfg.h"
#include "daemon.h"
#include "server_dgram.h"

extern const struct cfg_schema tlsrpt_schema;
extern const struct daemon_cmd tlsrpt_commands[];
extern const struct server_dgram_ops tlsrpt_dgram_ops;

/* The snapshot built from the config (daemon_conf->priv). */
struct tlsrpt_conf {
	char *sending_ip; /* NULL when not configured */
	unsigned listen_mode;
	int report_minute;        /* report_time in minutes after 00:00 UTC; -1: no daily run
	                           * (report_time = off, or report_from not set) */
	long long report_delay_s; /* report_delay: the day's random delay is 0 to this */
};

struct tlsrpt_conf *tlsrpt_conf_build(const struct cfg *cfg, struct buf *err);
void tlsrpt_conf_free(struct tlsrpt_conf *c);

/* collector.c: the process's counters (one table), the tick that flushes them, and the
 * socket mode applied once started. */
struct tlsrpt_agg *tlsrpt_counters(void);
void tlsrpt_started(struct daemon *d);
void tlsrpt_tick(struct daemon *d, bool stopping);
/* tlsrpt_flush() - add the counters to the store now; log one line on failure. */
int tlsrpt_flush(struct store *st);
/* reporter.c: the daily report run, started from the tick on a thread of its own; with
 * @stopping, the run in progress is stopped after its current domain and waited for. */
void tlsrpt_reporter_tick(struct daemon *d, bool stopping);

/* follow.c: `logfile =` (a mail log followed like tail -F, or the journal), one thread
 * feeding logscan into tlsrpt_counters(). tlsrpt_follow_start() - start it (from
 * started()); Return 0 or -errno. tlsrpt_follow_join() - after a stop was requested: wait
 * for the thread (it ends within one poll) and free it; a no-op when none runs. */
int tlsrpt_follow_start(struct daemon *d, const char *path, const char *sending_ip);
void tlsrpt_follow_join(void);
/* tlsrpt_follow_reloaded() - a reload: say when @logfile differs from the one followed. */
void tlsrpt_follow_reloaded(const char *logfile);
void tlsrpt_reloaded(struct daemon *d);

struct tlsrpt_follow_stats {
	bool active;
	unsigned long long lines, sessions, malformed, dropped, skipped, rotations;
};
void tlsrpt_follow_stats(struct tlsrpt_follow_stats *s);

#endif
