/* stats: milter-av's counters (scanned, infected by name, errors, per
 * backend). Message threads add to in-memory counters under a mutex; one
 * thread adds the deltas to the store every few seconds with HINCRBY-style
 * calls, so hosts sharing a Redis store add up. A store outage drops the
 * deltas of that round (the store is off the message path). Keys:
 * "pw:av:count" {scanned, clean, infected, oversize, errors}, "pw:av:virus"
 * {name: count}, "pw:av:backend:<endpoint>" (health JSON written with jansson, 1 day TTL).
 * av_stats_tick() is the daemon's tick: it flushes every 5 s and once more at stop,
 * and logs a store failure at most once a minute.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "av.h"
#include "log.h"
#include "store.h"
#include "xalloc.h"

#define AV_STATS_VIRUS_MAX 256 /* distinct names kept between flushes */

struct av_virus_delta {
	char name[VERDICT_NAME_MAX];
	long long n;
};

static pthread_mutex_t av_stats_lock = PTHREAD_MUTEX_INITIALIZER;
static long long av_pending[4]; /* by enum verdict_status */
static struct av_virus_delta av_virus[AV_STATS_VIRUS_MAX];
static size_t av_nvirus;

void av_stats_count(enum verdict_status status, const char *virus)
{
	pthread_mutex_lock(&av_stats_lock);
	if ((unsigned)status < 4)
		av_pending[status]++;
	if (status == VERDICT_INFECTED && virus && *virus) {
		size_t i;
		for (i = 0; i < av_nvirus; i++)
			if (strcmp(av_virus[i].name, virus) == 0)
				break;
		if (i == av_nvirus && av_nvirus < AV_STATS_VIRUS_MAX) {
			snprintf(av_virus[i].name, sizeof(av_virus[i].name), "%s", virus);
			av_virus[i].n = 0;
			av_nvirus++;
		}
		if (i < av_nvirus)
			av_virus[i].n++;
	}
	pthread_mutex_unlock(&av_stats_lock);
}

/* One JSON object per backend; an invalid UTF-8 version or error text (clamd's own
 * words) leaves that backend out of this round (-EINVAL). */
static int av_stats_backends(struct store *st, struct clamd_pool *pool)
{
	struct clamd_health h[16];
	size_t n = clamd_pool_health(pool, h, 16);
	int rc = 0;
	for (size_t i = 0; i < n && i < 16; i++) {
		char key[STORE_KEY_MAX];
		json_t *o =
		        json_pack("{s:b, s:I, s:I, s:I, s:s, s:s, s:I}", "up", h[i].up, "scans",
		                  (json_int_t)h[i].scans, "infected", (json_int_t)h[i].infected,
		                  "failures", (json_int_t)h[i].failures, "version", h[i].version,
		                  "last_error", h[i].last_error, "updated", (json_int_t)time(NULL));
		char *json = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		if (!json) {
			rc = -EINVAL;
			continue;
		}
		snprintf(key, sizeof(key), "pw:av:backend:%s", h[i].endpoint);
		int r = store_set(st, key, json, strlen(json), 86400);
		if (r < 0)
			rc = r;
		free(json);
	}
	return rc;
}

int av_stats_flush(struct store *st, struct clamd_pool *pool)
{
	static const char *const names[4] = { "clean", "infected", "oversize", "errors" };
	long long pend[4];
	struct av_virus_delta *v = NULL;
	size_t nv;
	int rc = 0;

	pthread_mutex_lock(&av_stats_lock);
	memcpy(pend, av_pending, sizeof(pend));
	memset(av_pending, 0, sizeof(av_pending));
	nv = av_nvirus;
	if (nv) {
		v = xmemdup(av_virus, nv * sizeof(*v));
		av_nvirus = 0;
	}
	pthread_mutex_unlock(&av_stats_lock);

	long long scanned = 0;
	for (int i = 0; i < 4; i++) {
		scanned += pend[i];
		if (pend[i] && rc == 0)
			rc = store_hincrby(st, "pw:av:count", names[i], pend[i], NULL);
	}
	if (scanned && rc == 0)
		rc = store_hincrby(st, "pw:av:count", "scanned", scanned, NULL);
	for (size_t i = 0; i < nv && rc == 0; i++)
		rc = store_hincrby(st, "pw:av:virus", v[i].name, v[i].n, NULL);
	free(v);
	if (rc == 0 && pool)
		rc = av_stats_backends(st, pool);
	return rc < 0 ? rc : 0;
}

static long av_store_warned;

void av_stats_tick(struct daemon *d, bool stopping)
{
	(void)stopping;
	struct store *st = daemon_store(d);
	if (!st)
		return;
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct av_conf *c = dc->priv;
	int r = av_stats_flush(st, c->pool);
	if (r < 0 && log_ratelimit(&av_store_warned, 60))
		log_warn_e(r, "store: counters not written (mail is not affected)");
	daemon_conf_put(dc);
}
