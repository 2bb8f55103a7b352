/* aggregate: tlsrpt's counters (see aggregate.h). The JSON of a policy or a detail is built
 * once, when the table first sees it; an event whose policy and details are known costs a
 * few hashes and a mutex.
 */
#include "aggregate.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "store.h"
#include "xalloc.h"

#define AGG_BUCKETS 4096u
#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

struct agg_detail {
	struct agg_detail *next;
	uint64_t dh;
	long long n;
	char *json;
};

struct agg_pol {
	struct agg_pol *next;
	uint64_t key; /* day, domain and policy */
	uint64_t ph;  /* the policy alone (store key) */
	char day[11];
	char *domain;
	char *json;
	long long success, failure;
	struct agg_detail *details;
};

struct tlsrpt_agg {
	pthread_mutex_t lock;
	struct agg_pol *bucket[AGG_BUCKETS];
	size_t entries, max;
	struct tlsrpt_agg_stats st;
};

/* One field into a running FNV-1a hash, ended by a byte no text holds. */
static uint64_t agg_fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	return (h ^ 0xffu) * FNV_PRIME;
}

struct tlsrpt_agg *tlsrpt_agg_new(size_t max_entries)
{
	struct tlsrpt_agg *a = xcalloc(1, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->max = max_entries ? max_entries : TLSRPT_AGG_ENTRIES_DEFAULT;
	return a;
}

static void agg_pol_free(struct agg_pol *p)
{
	while (p->details) {
		struct agg_detail *d = p->details;
		p->details = d->next;
		free(d->json);
		free(d);
	}
	free(p->domain);
	free(p->json);
	free(p);
}

void tlsrpt_agg_free(struct tlsrpt_agg *a)
{
	if (!a)
		return;
	for (unsigned b = 0; b < AGG_BUCKETS; b++)
		while (a->bucket[b]) {
			struct agg_pol *p = a->bucket[b];
			a->bucket[b] = p->next;
			agg_pol_free(p);
		}
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static uint64_t agg_policy_hash(const struct tlsrpt_policy *p, const char *domain)
{
	char type[8];
	snprintf(type, sizeof(type), "%d", (int)p->type);
	uint64_t h = agg_fnv(agg_fnv(FNV_OFFSET, type), domain);
	for (size_t i = 0; i < p->n_strings; i++)
		h = agg_fnv(h, p->strings[i]);
	h = agg_fnv(h, "\x01mx");
	for (size_t i = 0; i < p->n_mx; i++)
		h = agg_fnv(h, p->mx[i]);
	return h;
}

static uint64_t agg_detail_hash(const struct tlsrpt_detail *d)
{
	char code[8];
	snprintf(code, sizeof(code), "%d", (int)d->result);
	const char *f[] = { code,      d->sending_ip, d->mx_host, d->mx_helo, d->receiving_ip,
		            d->reason, d->additional };
	uint64_t h = FNV_OFFSET;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		h = agg_fnv(h, f[i] ? f[i] : "\x02");
	return h;
}

static json_t *agg_strings(const char *const *s, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(s[i]));
	return arr;
}

/* The RFC 8460 "policy" object. */
static char *agg_policy_json(const struct tlsrpt_policy *p, const char *domain)
{
	const char *type = tlsrpt_policy_type_name(p->type);
	json_t *o = json_pack("{s:s,s:s}", "policy-type", type ? type : "no-policy-found",
	                      "policy-domain", domain);
	if (p->n_strings)
		json_object_set_new(o, "policy-string", agg_strings(p->strings, p->n_strings));
	if (p->n_mx)
		json_object_set_new(o, "mx-host", agg_strings(p->mx, p->n_mx));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* One RFC 8460 "failure-details" entry, without its count. */
static char *agg_detail_json(const struct tlsrpt_detail *d)
{
	const char *name = tlsrpt_result_name(d->result);
	json_t *o = json_pack("{s:s}", "result-type", name ? name : "validation-failure");
	const struct {
		const char *k, *v;
	} f[] = {
		{ "sending-mta-ip", d->sending_ip },  { "receiving-mx-hostname", d->mx_host },
		{ "receiving-mx-helo", d->mx_helo },  { "receiving-ip", d->receiving_ip },
		{ "failure-reason-code", d->reason }, { "additional-information", d->additional },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].v && *f[i].v)
			json_object_set_new(o, f[i].k, json_string(f[i].v));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static uint64_t agg_key(const char *day, const char *domain, uint64_t ph)
{
	return agg_fnv(agg_fnv(ph, day), domain);
}

/* The entry for (@day, @domain, @ph); a new one gets its JSON from @make (NULL: none yet).
 * Under a->lock. */
static struct agg_pol *agg_find(struct tlsrpt_agg *a, const char *day, const char *domain,
                                uint64_t ph, char *(*make)(const void *, const char *),
                                const void *arg)
{
	uint64_t key = agg_key(day, domain, ph);
	struct agg_pol **b = &a->bucket[key % AGG_BUCKETS];
	for (struct agg_pol *p = *b; p; p = p->next)
		if (p->key == key && p->ph == ph && strcmp(p->day, day) == 0 &&
		    strcmp(p->domain, domain) == 0)
			return p;
	if (a->entries >= a->max)
		return NULL;
	struct agg_pol *p = xcalloc(1, sizeof(*p));
	p->key = key;
	p->ph = ph;
	snprintf(p->day, sizeof(p->day), "%s", day);
	p->domain = xstrdup(domain);
	p->json = make ? make(arg, domain) : NULL;
	p->next = *b;
	*b = p;
	a->entries++;
	return p;
}

static char *agg_make_policy(const void *arg, const char *domain)
{
	return agg_policy_json(arg, domain);
}

/* Count @n failed sessions for detail @dh of @p (JSON from @d when new). Under a->lock. */
static int agg_detail_add(struct tlsrpt_agg *a, struct agg_pol *p, uint64_t dh,
                          const struct tlsrpt_detail *d, const char *json, long long n)
{
	for (struct agg_detail *x = p->details; x; x = x->next)
		if (x->dh == dh) {
			x->n += n;
			return 0;
		}
	if (a->entries >= a->max)
		return -ENOSPC;
	struct agg_detail *x = xcalloc(1, sizeof(*x));
	x->dh = dh;
	x->n = n;
	x->json = json ? xstrdup(json) : agg_detail_json(d);
	x->next = p->details;
	p->details = x;
	a->entries++;
	return 0;
}

int tlsrpt_agg_add(struct tlsrpt_agg *a, const struct tlsrpt_event *ev)
{
	char day[11];
	int rc = 0;

	clock_utc_day(ev->time, day);
	pthread_mutex_lock(&a->lock);
	a->st.events++;
	for (size_t i = 0; i < ev->n_policies; i++) {
		const struct tlsrpt_policy *pol = &ev->policies[i];
		const char *domain = pol->domain ? pol->domain : ev->domain;
		uint64_t ph = agg_policy_hash(pol, domain);
		struct agg_pol *p = agg_find(a, day, domain, ph, agg_make_policy, pol);
		if (!p) {
			rc = -ENOSPC;
			break;
		}
		a->st.sessions++;
		if (pol->success) {
			p->success++;
			continue;
		}
		p->failure++;
		for (size_t k = 0; k < pol->n_details && rc == 0; k++)
			rc = agg_detail_add(a, p, agg_detail_hash(&pol->details[k]),
			                    &pol->details[k], NULL, 1);
	}
	if (rc < 0)
		a->st.dropped++;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* Put back what the store did not take (non-zero counts of @p). Under a->lock. */
static void agg_merge_back(struct tlsrpt_agg *a, struct agg_pol *p)
{
	struct agg_pol *q = agg_find(a, p->day, p->domain, p->ph, NULL, NULL);
	if (q && !q->json) { /* made here: take the JSON along */
		q->json = p->json;
		p->json = NULL;
	}
	if (!q) {
		a->st.dropped++;
		return;
	}
	q->success += p->success;
	q->failure += p->failure;
	for (struct agg_detail *d = p->details; d; d = d->next)
		if (d->n && agg_detail_add(a, q, d->dh, NULL, d->json, d->n) < 0)
			a->st.dropped++;
}

/* Write @p's counts; with @zero, zero each one the store took. Return 0 or the first
 * -errno. */
static int agg_write(struct store *st, struct agg_pol *p, bool zero)
{
	char key[STORE_KEY_MAX], cnt[STORE_KEY_MAX], field[32];
	int rc;

	snprintf(key, sizeof(key), "pw:tlsrpt:pol:%s:%s:%016" PRIx64, p->day, p->domain, p->ph);
	snprintf(cnt, sizeof(cnt), "pw:tlsrpt:cnt:%s:%s:%016" PRIx64, p->day, p->domain, p->ph);
	if (p->json && (rc = store_set(st, key, p->json, strlen(p->json), TLSRPT_AGG_TTL_S)) < 0)
		return rc;
	if (p->success && (rc = store_hincrby(st, cnt, "success", p->success, NULL)) < 0)
		return rc;
	if (zero)
		p->success = 0;
	if (p->failure && (rc = store_hincrby(st, cnt, "failure", p->failure, NULL)) < 0)
		return rc;
	if (zero)
		p->failure = 0;
	for (struct agg_detail *d = p->details; d; d = d->next) {
		snprintf(key, sizeof(key), "pw:tlsrpt:det:%s:%s:%016" PRIx64 ":%016" PRIx64, p->day,
		         p->domain, p->ph, d->dh);
		snprintf(field, sizeof(field), "d:%016" PRIx64, d->dh);
		if (d->json &&
		    (rc = store_set(st, key, d->json, strlen(d->json), TLSRPT_AGG_TTL_S)) < 0)
			return rc;
		if ((rc = store_hincrby(st, cnt, field, d->n, NULL)) < 0)
			return rc;
		if (zero)
			d->n = 0;
	}
	return 0;
}

/* Every entry of the list @arg, in one store_batch(). Return how many, or the first -errno. */
static int agg_write_all(struct store *st, void *arg)
{
	int n = 0;
	for (struct agg_pol *p = arg; p; p = p->next, n++) {
		int rc = agg_write(st, p, false);
		if (rc < 0)
			return rc;
	}
	return n;
}

int tlsrpt_agg_flush(struct tlsrpt_agg *a, struct store *st, struct buf *err)
{
	struct agg_pol *all = NULL;
	int rc = 0, written = 0;

	pthread_mutex_lock(&a->lock);
	for (unsigned b = 0; b < AGG_BUCKETS; b++)
		while (a->bucket[b]) {
			struct agg_pol *p = a->bucket[b];
			a->bucket[b] = p->next;
			p->next = all;
			all = p;
		}
	a->entries = 0;
	pthread_mutex_unlock(&a->lock);

	if (all && store_batch_atomic(st)) {
		/* one transaction: all of it is written, or none and all of it goes back */
		rc = store_batch(st, agg_write_all, all);
		if (rc >= 0)
			written = rc;
		else
			buf_add_line(err, "store: %s (counts kept for the next flush)",
			             strerror(-rc));
		while (all) {
			struct agg_pol *p = all;
			all = p->next;
			if (rc < 0) {
				pthread_mutex_lock(&a->lock);
				agg_merge_back(a, p);
				a->st.flush_errors++;
				pthread_mutex_unlock(&a->lock);
			}
			agg_pol_free(p);
		}
	}
	while (all) {
		struct agg_pol *p = all;
		all = p->next;
		int r = rc < 0 ? rc : agg_write(st, p, true);
		if (r < 0) {
			if (rc == 0)
				buf_add_line(err, "store: %s (counts kept for the next flush)",
				             strerror(-r));
			rc = r;
			pthread_mutex_lock(&a->lock);
			agg_merge_back(a, p);
			a->st.flush_errors++;
			pthread_mutex_unlock(&a->lock);
		} else {
			written++;
		}
		agg_pol_free(p);
	}
	pthread_mutex_lock(&a->lock);
	a->st.flushed += (unsigned long long)written;
	pthread_mutex_unlock(&a->lock);
	return rc < 0 ? rc : written;
}

void tlsrpt_agg_stats(struct tlsrpt_agg *a, struct tlsrpt_agg_stats *s)
{
	pthread_mutex_lock(&a->lock);
	*s = a->st;
	s->held = a->entries;
	pthread_mutex_unlock(&a->lock);
}
