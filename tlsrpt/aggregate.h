/* aggregate: tlsrpt's counters in memory, added to the store by the flush, so that every host
 * of a fleet adds into one report (doc/store-schema.md, "tlsrpt").
 *
 * Events (event.h) are counted per UTC day, policy domain and policy: sessions that
 * succeeded, sessions that failed, and failed sessions per failure detail (RFC 8460 section
 * 4.3: result type, sending IP, MX host, HELO, receiving IP, reason, additional text). A
 * policy and a detail are keyed by a 64-bit FNV-1a hash of their fields, the same on every
 * host, so the store keys written by different collectors meet:
 *   pw:tlsrpt:pol:<day>:<domain>:<ph>       the policy, RFC 8460 JSON ("policy" object)
 *   pw:tlsrpt:cnt:<day>:<domain>:<ph>       hash: success, failure, d:<dh> per detail
 *   pw:tlsrpt:det:<day>:<domain>:<ph>:<dh>  the failure detail, RFC 8460 JSON
 * The flush takes the counts gathered so far and adds them (on lmdb in one transaction:
 * store_batch()); what the store refuses goes back
 * into memory for the next flush (a store outage loses nothing until the table is full).
 * Thread safe: any number of adders, one flusher.
 */
#ifndef POSTWARDEN_TLSRPT_AGGREGATE_H
#define POSTWARDEN_TLSRPT_AGGREGATE_H

#include <stdint.h>

#include "buf.h"
#include "event.h"

struct store;
struct tlsrpt_agg;

#define TLSRPT_AGG_ENTRIES_DEFAULT 100000 /* policies and details held between flushes */
#define TLSRPT_AGG_TTL_S                                                                           \
	(40 * 86400) /* the JSON keys live this long (counters: until reported)                    \
	              */

struct tlsrpt_agg_stats {
	unsigned long long events, sessions, dropped, flushed, flush_errors;
	unsigned long long held; /* entries waiting for the next flush */
};

/* tlsrpt_agg_new() - an empty table holding at most @max_entries (0: the default). */
struct tlsrpt_agg *tlsrpt_agg_new(size_t max_entries);
void tlsrpt_agg_free(struct tlsrpt_agg *a);

/**
 * tlsrpt_agg_add() - count @ev: one session per policy in it.
 * Return: 0, or -ENOSPC when the table is full (the event is dropped and counted).
 */
int tlsrpt_agg_add(struct tlsrpt_agg *a, const struct tlsrpt_event *ev);

/**
 * tlsrpt_agg_flush() - add everything counted so far to the store.
 * Return: the number of policies written, or -errno (the first store error; what failed is
 * kept for the next flush and one line per error kind is added to @err).
 */
int tlsrpt_agg_flush(struct tlsrpt_agg *a, struct store *st, struct buf *err);

void tlsrpt_agg_stats(struct tlsrpt_agg *a, struct tlsrpt_agg_stats *s);

#endif
