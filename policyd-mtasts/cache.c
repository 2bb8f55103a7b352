/* cache: policyd-mtasts' answers in memory, the workers that find them, and the background
 * refresh.
 *
 * One table per process, kept across reloads: domain -> the answer text for each map format,
 * how long it may be served without asking again, when to refresh it, and what resolve knows
 * (the cached policy). A query served from memory takes one mutex and copies a string. A
 * domain that is not known (or whose answer expired) is handed to a pool of workers, and the
 * query waits for it at most `fetch_timeout`; every query for that domain meanwhile waits for
 * the same work (single flight). A query that gives up answers NOTFOUND and the work goes on:
 * its result serves the next query. The store is consulted once per domain before its first
 * discovery (a policy another host or an earlier run fetched), and written after the answer
 * is published: a store outage costs neither an answer nor time on the warm path.
 *
 * How long answers live (monotonic clock):
 *   dane, dane-only       served 1 h, checked again every MTASTS_RECHECK_S while asked for
 *                         (every minute after a failed lookup)
 *   a policy (any mode)   served until max_age after its fetch; TXT id checked every
 *                         MTASTS_RECHECK_S while asked for (resolve.c refetches when needed)
 *   no policy             served negative_ttl, then found again in the background (when
 *                         asked for within MTASTS_IDLE_S) or at the next query
 *   discovery failed      NOTFOUND; retried in the background after MTASTS_RETRY_S (one
 *                         minute when DNS failed), served until the retry plus MTASTS_RECHECK_S
 * The tick queues the refreshes that are due for domains asked for within MTASTS_IDLE_S and
 * drops entries idle that long whose answer has expired.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mtasts.h"
#include "socketmap.h"
#include "status_record.h"
#include "store.h"
#include "xalloc.h"

#define MTASTS_WORKERS 8
#define MTASTS_BUCKETS 65536u
#define MTASTS_ENTRIES_MAX 100000
#define MTASTS_DANE_SERVE_S 3600
#define MTASTS_DNS_RETRY_S 60

struct mtasts_entry {
	struct mtasts_entry *next;  /* hash chain */
	struct mtasts_entry *qnext; /* work queue */
	char domain[MTASTS_DOMAIN_MAX];
	bool ready;  /* answer[] holds a result */
	bool queued; /* queued or being resolved: @res belongs to the worker */
	bool loaded; /* the store was consulted */
	int waiters;
	uint64_t gen;    /* completed resolves */
	char *answer[2]; /* the whole OK reply (a netstring) per enum sts_format; NULL: NOTFOUND */
	size_t answer_len[2];
	int64_t serve_until, refresh_at, last_used; /* monotonic ms */
	long recorded_day;              /* UTC day the policy in force was last recorded */
	enum mtasts_kind recorded_kind; /* the answer then */
	char *recorded_dane;            /* a DANE answer's TLSA records then (res.dane_tlsa) */
	struct mtasts_result res;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t done; /* broadcast when an entry's resolve completes; CLOCK_MONOTONIC */
	pthread_cond_t work; /* signalled when the queue grows or on stop */
	struct mtasts_entry *bucket[MTASTS_BUCKETS];
	struct mtasts_entry *qhead, *qtail;
	long entries;
	bool stopping;
	pthread_t workers[MTASTS_WORKERS];
	int nworkers;
	struct daemon *d;
	long full_stamp;
} mc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
};

static atomic_llong mc_queries, mc_hits, mc_waits, mc_timeouts, mc_fetches, mc_fetch_errors;

static uint32_t mtasts_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Under mc.lock. */
static struct mtasts_entry *mtasts_find(const char *domain, bool create)
{
	struct mtasts_entry **b = &mc.bucket[mtasts_hash(domain) % MTASTS_BUCKETS];
	for (struct mtasts_entry *e = *b; e; e = e->next)
		if (strcmp(e->domain, domain) == 0)
			return e;
	if (!create || mc.entries >= MTASTS_ENTRIES_MAX)
		return NULL;
	struct mtasts_entry *e = xcalloc(1, sizeof(*e));
	snprintf(e->domain, sizeof(e->domain), "%s", domain);
	mtasts_result_init(&e->res);
	e->next = *b;
	*b = e;
	mc.entries++;
	return e;
}

/* Under mc.lock. */
static void mtasts_enqueue(struct mtasts_entry *e)
{
	if (e->queued || mc.stopping)
		return;
	e->queued = true;
	e->qnext = NULL;
	if (mc.qtail)
		mc.qtail->qnext = e;
	else
		mc.qhead = e;
	mc.qtail = e;
	pthread_cond_signal(&mc.work);
}

static void mtasts_entry_free(struct mtasts_entry *e)
{
	free(e->answer[0]);
	free(e->answer[1]);
	mtasts_result_fini(&e->res);
	free(e->recorded_dane);
	free(e);
}

/* Append the reply of @e in @fmt to @out. Under mc.lock. */
static int mtasts_copy(const struct mtasts_entry *e, enum sts_format fmt, struct buf *out)
{
	if (!e->answer[fmt])
		return 0;
	buf_append(out, e->answer[fmt], e->answer_len[fmt]);
	return 1;
}

int mtasts_cache_answer(struct daemon *d, const char *domain, enum sts_format fmt, struct buf *out)
{
	int64_t now = clock_mono_ms();
	int rc = 0;

	atomic_fetch_add(&mc_queries, 1);
	pthread_mutex_lock(&mc.lock);
	struct mtasts_entry *e = mc.stopping ? NULL : mtasts_find(domain, true);
	if (!e && mc.stopping) {
		pthread_mutex_unlock(&mc.lock);
		return 0;
	}
	if (!e) {
		pthread_mutex_unlock(&mc.lock);
		if (log_ratelimit(&mc.full_stamp, 60))
			log_warnx("cache full (%d domains): answering NOTFOUND for %s",
			          MTASTS_ENTRIES_MAX, domain);
		return 0;
	}
	e->last_used = now;
	if (e->ready && now < e->serve_until) {
		rc = mtasts_copy(e, fmt, out);
		if (now >= e->refresh_at)
			mtasts_enqueue(e);
		pthread_mutex_unlock(&mc.lock);
		atomic_fetch_add(&mc_hits, 1);
		return rc;
	}
	mtasts_enqueue(e);
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct mtasts_conf *c = dc->priv;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	int64_t ns = until.tv_nsec + (int64_t)(c->fetch_timeout_ms % 1000) * 1000000;
	until.tv_sec += c->fetch_timeout_ms / 1000 + ns / 1000000000;
	until.tv_nsec = ns % 1000000000;
	daemon_conf_put(dc);

	uint64_t gen = e->gen;
	e->waiters++;
	while (e->gen == gen && !mc.stopping)
		if (pthread_cond_timedwait(&mc.done, &mc.lock, &until) == ETIMEDOUT)
			break;
	e->waiters--;
	bool answered = e->gen != gen;
	if (answered)
		rc = mtasts_copy(e, fmt, out);
	pthread_mutex_unlock(&mc.lock);
	atomic_fetch_add(answered ? &mc_waits : &mc_timeouts, 1);
	if (!answered)
		log_notice("%s: no answer within fetch_timeout: NOTFOUND (discovery goes on)",
		           domain);
	return rc;
}

/* The OK replies of @r (whole netstrings, made once here so that a query from memory is a
 * copy), NULL for NOTFOUND. */
static void mtasts_texts(const struct mtasts_result *r, const char *domain, char *text[2],
                         size_t len[2])
{
	for (int f = 0; f < 2; f++) {
		struct buf b, reply;
		buf_init(&b);
		buf_init(&reply);
		int rc = mtasts_answer_text(r, (enum sts_format)f, domain, &b);
		if (rc > 0 && socketmap_reply_ok(&reply, b.data, b.len) < 0)
			rc = -EMSGSIZE;
		if (rc < 0)
			log_errx("%s: the answer does not fit a socketmap reply: NOTFOUND", domain);
		text[f] = rc > 0 ? buf_steal(&reply, &len[f]) : NULL;
		buf_fini(&reply);
		buf_fini(&b);
	}
}

/* When the answer of @r stops being served and when to look again, from @now (ms). */
static void mtasts_times(const struct mtasts_result *r, const struct mtasts_conf *c, int64_t now,
                         int64_t *serve_until, int64_t *refresh_at)
{
	int64_t retry;

	switch (r->kind) {
	case MTASTS_DANE:
	case MTASTS_DANE_ONLY:
		*serve_until = now + MTASTS_DANE_SERVE_S * 1000LL;
		*refresh_at =
		        now + (r->dane_failed ? MTASTS_DNS_RETRY_S : MTASTS_RECHECK_S) * 1000LL;
		return;
	case MTASTS_FAILED:
		retry = r->fail_type ? MTASTS_RETRY_S : MTASTS_DNS_RETRY_S;
		*refresh_at = now + retry * 1000;
		*serve_until = *refresh_at + MTASTS_RECHECK_S * 1000LL;
		return;
	default:
		break;
	}
	if (r->have_policy) {
		int64_t left = r->fetched_s + (int64_t)r->policy.max_age - (int64_t)time(NULL);
		*serve_until = now + (left > 0 ? left : 0) * 1000;
		*refresh_at =
		        now + (r->refresh_failed ? MTASTS_RETRY_S : MTASTS_RECHECK_S) * 1000LL;
		if (*refresh_at > *serve_until)
			*refresh_at = *serve_until;
		return;
	}
	*serve_until = now + c->negative_ttl_s * 1000LL;
	*refresh_at = *serve_until;
}

static long mtasts_utc_day(int64_t t)
{
	return (long)(t / 86400);
}

/* After publishing: the store copy of a new policy and the records tlsrpt reads. */
static void mtasts_write_back(struct mtasts_entry *e, struct store *st)
{
	int64_t now = time(NULL);
	struct mtasts_result *r = &e->res;

	if (r->fail_type) {
		atomic_fetch_add(&mc_fetch_errors, 1);
		log_warnx("%s: policy fetch failed: %s", e->domain, buf_cstr(&r->how));
		if (st)
			mtasts_record_failure(st, e->domain, r->fail_type, now);
	}
	if (st && (r->kind == MTASTS_DANE || r->kind == MTASTS_DANE_ONLY)) {
		/* once a day, and again when the answer or the TLSA records change */
		if (e->recorded_day != mtasts_utc_day(now) || !e->recorded_dane ||
		    strcmp(e->recorded_dane, buf_cstr(&r->dane_tlsa)) != 0 ||
		    e->recorded_kind != r->kind) {
			if (mtasts_record_dane(st, e->domain, r, now) == 0) {
				free(e->recorded_dane);
				e->recorded_dane = xstrdup(buf_cstr(&r->dane_tlsa));
				e->recorded_kind = r->kind;
				e->recorded_day = mtasts_utc_day(now);
			}
		}
		return;
	}
	if (!st || !r->have_policy)
		return;
	if (r->fetched_now)
		mtasts_store_policy_put(st, e->domain, r);
	if (r->fetched_now || e->recorded_day != mtasts_utc_day(now) || e->recorded_kind != r->kind)
		if (mtasts_record_policy(st, e->domain, r, now) == 0) {
			e->recorded_day = mtasts_utc_day(now);
			e->recorded_kind = r->kind;
		}
}

static void mtasts_work(struct mtasts_entry *e)
{
	struct daemon_conf *dc = daemon_conf_get(mc.d);
	const struct mtasts_conf *c = dc->priv;
	struct store *st = daemon_store(mc.d);

	if (!e->loaded && st) {
		mtasts_store_policy_get(st, e->domain, &e->res);
		e->loaded = true;
	}
	mtasts_resolve(c, mtasts_dane_mode(c), e->domain, &e->res);
	if (e->res.fetched_now || e->res.fail_type)
		atomic_fetch_add(&mc_fetches, 1);
	log_debug("%s: %s (%s)", e->domain, mtasts_kind_name(e->res.kind), buf_cstr(&e->res.how));

	char *text[2];
	size_t len[2] = { 0, 0 };
	int64_t serve_until, refresh_at;
	mtasts_texts(&e->res, e->domain, text, len);
	mtasts_times(&e->res, c, clock_mono_ms(), &serve_until, &refresh_at);

	pthread_mutex_lock(&mc.lock);
	free(e->answer[0]);
	free(e->answer[1]);
	e->answer[0] = text[0];
	e->answer[1] = text[1];
	e->answer_len[0] = len[0];
	e->answer_len[1] = len[1];
	e->serve_until = serve_until;
	e->refresh_at = refresh_at;
	e->ready = true;
	e->gen++;
	pthread_cond_broadcast(&mc.done);
	pthread_mutex_unlock(&mc.lock);

	mtasts_write_back(e, st);
	daemon_conf_put(dc);

	pthread_mutex_lock(&mc.lock);
	e->queued = false;
	pthread_mutex_unlock(&mc.lock);
}

static void *mtasts_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mc.lock);
	for (;;) {
		while (!mc.qhead && !mc.stopping)
			pthread_cond_wait(&mc.work, &mc.lock);
		if (mc.stopping)
			break;
		struct mtasts_entry *e = mc.qhead;
		mc.qhead = e->qnext;
		if (!mc.qhead)
			mc.qtail = NULL;
		pthread_mutex_unlock(&mc.lock);
		mtasts_work(e);
		pthread_mutex_lock(&mc.lock);
	}
	pthread_mutex_unlock(&mc.lock);
	return NULL;
}

int mtasts_cache_start(struct daemon *d)
{
	pthread_condattr_t ca;

	mc.d = d;
	mc.stopping = false;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mc.done, &ca);
	pthread_condattr_destroy(&ca);
	for (int i = 0; i < MTASTS_WORKERS; i++) {
		int rc = pthread_create(&mc.workers[i], NULL, mtasts_worker, NULL);
		if (rc != 0) {
			log_err_e(rc, "cannot start a discovery worker");
			return -rc;
		}
		mc.nworkers++;
	}
	return 0;
}

void mtasts_cache_stop(void)
{
	pthread_mutex_lock(&mc.lock);
	mc.stopping = true;
	pthread_cond_broadcast(&mc.work);
	pthread_cond_broadcast(&mc.done);
	pthread_mutex_unlock(&mc.lock);
	for (int i = 0; i < mc.nworkers; i++)
		pthread_join(mc.workers[i], NULL);
	mc.nworkers = 0;
	/* A connection thread the runner gave up on may still wait on an entry: those stay
	 * (the process is exiting); new queries see mc.stopping and touch none. */
	pthread_mutex_lock(&mc.lock);
	for (unsigned b = 0; b < MTASTS_BUCKETS; b++) {
		struct mtasts_entry **pe = &mc.bucket[b];
		while (*pe) {
			struct mtasts_entry *e = *pe;
			if (e->waiters) {
				pe = &e->next;
				continue;
			}
			*pe = e->next;
			mtasts_entry_free(e);
			mc.entries--;
		}
	}
	mc.qhead = mc.qtail = NULL;
	pthread_mutex_unlock(&mc.lock);
}

/* Queue due refreshes, drop idle entries. Under mc.lock. */
static void mtasts_sweep(int64_t now)
{
	for (unsigned b = 0; b < MTASTS_BUCKETS; b++) {
		struct mtasts_entry **pe = &mc.bucket[b];
		while (*pe) {
			struct mtasts_entry *e = *pe;
			bool idle = now - e->last_used > MTASTS_IDLE_S * 1000LL;
			if (!e->queued && !e->waiters && idle && now >= e->serve_until) {
				*pe = e->next;
				mtasts_entry_free(e);
				mc.entries--;
				continue;
			}
			if (e->ready && !idle && now >= e->refresh_at)
				mtasts_enqueue(e);
			pe = &e->next;
		}
	}
}

void mtasts_cache_stats(struct mtasts_stats *s)
{
	s->queries = atomic_load(&mc_queries);
	s->hits = atomic_load(&mc_hits);
	s->waits = atomic_load(&mc_waits);
	s->timeouts = atomic_load(&mc_timeouts);
	s->fetches = atomic_load(&mc_fetches);
	s->fetch_errors = atomic_load(&mc_fetch_errors);
	pthread_mutex_lock(&mc.lock);
	s->entries = mc.entries;
	pthread_mutex_unlock(&mc.lock);
}

/* pw:mtasts:status:<host>: this daemon's counters, for `status`. */
static void mtasts_status_write(struct store *st)
{
	struct mtasts_stats s;

	mtasts_cache_stats(&s);
	status_record_write(
	        st, "mtasts",
	        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "entries", (json_int_t)s.entries,
	                  "queries", (json_int_t)s.queries, "hits", (json_int_t)s.hits, "waits",
	                  (json_int_t)s.waits, "timeouts", (json_int_t)s.timeouts, "fetches",
	                  (json_int_t)s.fetches, "fetch_errors", (json_int_t)s.fetch_errors));
}

void mtasts_cache_tick(struct daemon *d, bool stopping)
{
	struct store *st = daemon_store(d);
	if (stopping) {
		mtasts_cache_stop();
		return;
	}
	pthread_mutex_lock(&mc.lock);
	mtasts_sweep(clock_mono_ms());
	pthread_mutex_unlock(&mc.lock);
	if (st)
		mtasts_status_write(st);
}

void mtasts_cache_invalidate(void)
{
	pthread_mutex_lock(&mc.lock);
	for (unsigned b = 0; b < MTASTS_BUCKETS; b++)
		for (struct mtasts_entry *e = mc.bucket[b]; e; e = e->next)
			e->refresh_at = 0;
	pthread_mutex_unlock(&mc.lock);
}
