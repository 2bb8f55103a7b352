/* stats: milter-dkim's per-domain counters (see stats.h).
 *
 * Signing threads add to an in-memory table under a mutex; the background thread
 * takes the table every few seconds and adds it to the store with HINCRBY-style calls,
 * so hosts sharing a Redis store add up, as milter-av's counters do. The store is off
 * the message path: a store outage drops that round's counts. The table holds the d=
 * domains seen since the last flush (configured domains only, bounded by
 * DKIM_STATS_DOMAINS_MAX). Domains are counted lower-cased.
 */
#include "stats.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store.h"
#include "xalloc.h"

#define DKIM_STATS_DOMAINS_MAX 4096

struct dkim_stats_delta {
	char *d;
	long long n[DKIM_STATS_N];
};

static const char *const dkim_stats_fields[DKIM_STATS_N] = { "signed", "unsigned", "failed" };

static pthread_mutex_t dkim_stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dkim_stats_delta *dkim_stats_tab;
static size_t dkim_stats_n, dkim_stats_cap;

static void dkim_stats_key(const char *d, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "pw:dkim:count:");
	for (size_t i = 0; d[i] && (size_t)n + 1 < outsz; i++)
		out[n++] = (char)tolower((unsigned char)d[i]);
	out[n] = '\0';
}

void dkim_stats_count(const char *d, enum dkim_stats_outcome outcome)
{
	if ((unsigned)outcome >= DKIM_STATS_N)
		return;
	pthread_mutex_lock(&dkim_stats_lock);
	size_t i;
	for (i = 0; i < dkim_stats_n; i++)
		if (strcasecmp(dkim_stats_tab[i].d, d) == 0)
			break;
	if (i == dkim_stats_n && dkim_stats_n < DKIM_STATS_DOMAINS_MAX) {
		if (dkim_stats_n == dkim_stats_cap) {
			dkim_stats_cap = dkim_stats_cap ? dkim_stats_cap * 2 : 16;
			dkim_stats_tab = xreallocarray(dkim_stats_tab, dkim_stats_cap,
			                               sizeof(*dkim_stats_tab));
		}
		memset(&dkim_stats_tab[i], 0, sizeof(dkim_stats_tab[i]));
		dkim_stats_tab[i].d = xstrdup(d);
		dkim_stats_n++;
	}
	if (i < dkim_stats_n)
		dkim_stats_tab[i].n[outcome]++;
	pthread_mutex_unlock(&dkim_stats_lock);
}

int dkim_stats_flush(struct store *st)
{
	pthread_mutex_lock(&dkim_stats_lock);
	struct dkim_stats_delta *tab = dkim_stats_tab;
	size_t n = dkim_stats_n;
	dkim_stats_tab = NULL;
	dkim_stats_n = dkim_stats_cap = 0;
	pthread_mutex_unlock(&dkim_stats_lock);

	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char key[STORE_KEY_MAX + 1];
		dkim_stats_key(tab[i].d, key, sizeof(key));
		for (int f = 0; f < DKIM_STATS_N && rc == 0; f++)
			if (tab[i].n[f])
				rc = store_hincrby(st, key, dkim_stats_fields[f], tab[i].n[f],
				                   NULL);
		free(tab[i].d);
	}
	free(tab);
	return rc < 0 ? rc : 0;
}

static int dkim_stats_field(const char *field, long long value, void *arg)
{
	long long *n = arg;
	for (int f = 0; f < DKIM_STATS_N; f++)
		if (strcmp(field, dkim_stats_fields[f]) == 0)
			n[f] = value;
	return 0;
}

int dkim_stats_read(struct store *st, const char *d, long long n[DKIM_STATS_N])
{
	char key[STORE_KEY_MAX + 1];
	memset(n, 0, DKIM_STATS_N * sizeof(n[0]));
	dkim_stats_key(d, key, sizeof(key));
	int r = store_hgetall(st, key, dkim_stats_field, n);
	return r == STORE_NOTFOUND ? 0 : r;
}
