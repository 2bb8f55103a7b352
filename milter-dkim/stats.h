/* stats: milter-dkim's per-domain message counters (signed, unsigned, failed), kept in
 * memory by the signing threads and added to the store ("pw:dkim:count:<d>") by the
 * background thread. */
#ifndef POSTWARDEN_DKIM_STATS_H
#define POSTWARDEN_DKIM_STATS_H

struct store;

enum dkim_stats_outcome {
	DKIM_STATS_SIGNED,   /* at least one DKIM-Signature added */
	DKIM_STATS_UNSIGNED, /* the domain is configured, no selector passes the gate */
	DKIM_STATS_FAILED,   /* signing failed: tempfailed, or unsigned with on_error = accept */
	DKIM_STATS_N
};

/* dkim_stats_count() - count one message of d= domain @d. Thread safe, no I/O. */
void dkim_stats_count(const char *d, enum dkim_stats_outcome outcome);

/**
 * dkim_stats_flush() - add the counts since the last flush to @st (hash
 * "pw:dkim:count:<d>", fields "signed", "unsigned", "failed"). From one thread.
 * Return: 0, or -errno (that round's counts are then dropped: counters are best effort).
 */
int dkim_stats_flush(struct store *st);

/**
 * dkim_stats_read() - the totals of domain @d in @st (all hosts sharing it).
 * @n: receives DKIM_STATS_N counts, 0 for a field never written
 * Return: 0 (STORE_NOTFOUND is 0 with zero counts), or -errno.
 */
int dkim_stats_read(struct store *st, const char *d, long long n[DKIM_STATS_N]);

#endif
