/* prune: the counters that have no expiry of their own deleted once their day is old: tlsrpt's
 * session counts (pw:tlsrpt:cnt:<day>:..., hashes found through their pw:tlsrpt:pol: keys,
 * which expire TLSRPT_AGG_TTL_S after their last write) and policyd-mtasts' failed policy
 * fetches (pw:mtasts:fail:<day>:...). The daemon runs it once a UTC day, from any host of a
 * fleet (deleting twice is harmless).
 */
#ifndef POSTWARDEN_TLSRPT_PRUNE_H
#define POSTWARDEN_TLSRPT_PRUNE_H

#include "buf.h"

struct store;

/* Days kept: a day's counts stay TLSRPT_PRUNE_KEEP_DAYS days after it (the daily report and
 * its 24 hours of retries are long over; `tlsrpt report --day` can be run again for a month).
 * Older session counts are deleted while their pw:tlsrpt:pol: key still exists, i.e. within
 * TLSRPT_PRUNE_WINDOW_DAYS days: a daemon stopped for longer leaves those few behind. */
#define TLSRPT_PRUNE_KEEP_DAYS 32
#define TLSRPT_PRUNE_WINDOW_DAYS 7

/**
 * tlsrpt_prune() - delete the counters of the days older than TLSRPT_PRUNE_KEEP_DAYS at @now.
 * @removed: if not NULL, receives the number of keys deleted
 * Return: 0, or -errno with a line in @err (what was deleted before stays deleted).
 */
int tlsrpt_prune(struct store *st, long long now, unsigned long *removed, struct buf *err);

#endif
