/* av: what milter-av's glue files share: the config snapshot built from the
 * file, the milter callbacks (struct milter_ops), the subcommands and the counters. */
#ifndef POSTWARDEN_AV_H
#define POSTWARDEN_AV_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "cidr.h"
#include "clamd.h"
#include "daemon.h"
#include "clamd_scan.h"
#include "verdict.h"

struct milter_ops;

struct av_conf {
	struct clamd_pool *pool; /* owned; lives as long as the snapshot */
	enum clamd_mode mode;
	size_t max_size;
	struct verdict_policy policy;
	const struct cidr_list *skip_networks;
	bool skip_authenticated;
};

extern const struct cfg_schema av_schema;
extern const struct milter_ops av_milter_ops;
extern const struct daemon_cmd av_commands[]; /* commands.c */

/* av_conf_build() - the snapshot for @cfg. Return it, or NULL after adding a line to @err. */
struct av_conf *av_conf_build(const struct cfg *cfg, struct buf *err);
void av_conf_free(struct av_conf *c);

/* Counters: kept in memory by the message threads, added to the store
 * ("pw:av:count", "pw:av:virus") by av_stats_flush() from one thread. */
void av_stats_count(enum verdict_status status, const char *virus);
/* av_stats_flush() - write pending deltas and @pool's backend health. Return 0 or
 * -errno (the deltas are then dropped: counters are best effort). */
int av_stats_flush(struct store *st, struct clamd_pool *pool);
/* av_stats_tick() - the daemon's tick: av_stats_flush() to the daemon's store, if any,
 * with the current snapshot's pool; a failure is logged at most once a minute. */
void av_stats_tick(struct daemon *d, bool stopping);

/* backends_probe_run() - the daemon's `started` hook: ask every backend of the snapshot's
 * pool for its version at start, mark down the ones that do not answer while another does
 * (backends_probe.c). */
void backends_probe_run(struct daemon *d);

#endif
