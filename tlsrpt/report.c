/* report: RFC 8460 reports from the store's counters (see report.h).
 *
 * A day's policy domains are the names in its pw:tlsrpt:pol:<day>:<domain>:<ph> keys; each
 * policy's counts are the pw:tlsrpt:cnt hash (success, failure, d:<dh>), each failure
 * detail's fields the pw:tlsrpt:det JSON (aggregate.c writes all three). The report object
 * follows RFC 8460 section 4.4: organization-name, date-range (the UTC day), contact-info,
 * report-id, policies[] with policy, summary and failure-details (each with its
 * failed-session-count). Policies and details come out sorted, so the same counts give the
 * same report.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include <openssl/rand.h>

#include "store.h"
#include "xalloc.h"

#define REPORT_ID_TTL_S (40 * 86400)

int tlsrpt_day_bounds(const char *day, long long *begin, long long *end)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *rest = strptime(day, "%Y-%m-%d", &tm);
	if (!rest || *rest)
		return -EINVAL;
	*begin = (long long)timegm(&tm);
	*end = *begin + 86399;
	return 0;
}

struct names {
	char **v;
	size_t n, cap;
	size_t skip; /* prefix length */
};

static int names_add(const char *key, const char *val, size_t len, void *arg)
{
	struct names *nm = arg;
	const char *d = key + nm->skip, *colon = strrchr(d, ':');
	(void)val;
	(void)len;
	if (!colon)
		return 0;
	if (nm->n + 2 > nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 16;
		nm->v = xrealloc(nm->v, nm->cap * sizeof(char *));
	}
	nm->v[nm->n++] = xstrndup(d, (size_t)(colon - d));
	return 0;
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tlsrpt_report_domains(struct store *st, const char *day, char ***out, size_t *n)
{
	char prefix[64];
	struct names nm = { 0 };

	snprintf(prefix, sizeof(prefix), "pw:tlsrpt:pol:%s:", day);
	nm.skip = strlen(prefix);
	int rc = store_scan(st, prefix, names_add, &nm);
	if (rc >= 0) { /* domains with only failed policy fetches report those */
		snprintf(prefix, sizeof(prefix), "%s%s:", TLSRPT_MTASTS_FAIL_PREFIX, day);
		nm.skip = strlen(prefix);
		rc = store_scan(st, prefix, names_add, &nm);
	}
	if (rc < 0) {
		for (size_t i = 0; i < nm.n; i++)
			free(nm.v[i]);
		free(nm.v);
		return rc;
	}
	if (!nm.v)
		nm.v = xcalloc(1, sizeof(char *));
	qsort(nm.v, nm.n, sizeof(char *), names_cmp);
	size_t k = 0;
	for (size_t i = 0; i < nm.n; i++) {
		if (k && strcmp(nm.v[k - 1], nm.v[i]) == 0)
			free(nm.v[i]);
		else
			nm.v[k++] = nm.v[i];
	}
	nm.v[k] = NULL;
	*out = nm.v;
	*n = k;
	return 0;
}

void tlsrpt_report_domains_free(char **d)
{
	for (size_t i = 0; d && d[i]; i++)
		free(d[i]);
	free(d);
}

int tlsrpt_report_id(struct store *st, const char *day, const char *domain, bool make, char *id,
                     size_t idsz)
{
	char key[STORE_KEY_MAX], *val = NULL;
	unsigned char r[8];
	size_t len;

	snprintf(key, sizeof(key), "pw:tlsrpt:rid:%s:%s", day, domain);
	int rc = store_get(st, key, &val, &len);
	if (rc == 0) {
		snprintf(id, idsz, "%.*s", (int)len, val);
		free(val);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (RAND_bytes(r, sizeof(r)) != 1)
		return -EIO;
	snprintf(id, idsz, "%sT00:00:00Z_%s_%02x%02x%02x%02x%02x%02x%02x%02x", day, domain, r[0],
	         r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	if (!make)
		return 0;
	/* set if absent: the first host of a fleet to make one wins, the others read it */
	rc = store_lock(st, key, id, REPORT_ID_TTL_S);
	if (rc == STORE_EXISTS) {
		if ((rc = store_get(st, key, &val, &len)) != 0)
			return rc < 0 ? rc : -EAGAIN;
		snprintf(id, idsz, "%.*s", (int)len, val);
		free(val);
		return 0;
	}
	return rc;
}

struct counts {
	long long success, failure;
	json_t *details; /* object: dh hex -> count */
};

static int counts_add(const char *field, long long value, void *arg)
{
	struct counts *c = arg;
	if (strcmp(field, "success") == 0)
		c->success += value;
	else if (strcmp(field, "failure") == 0)
		c->failure += value;
	else if (strncmp(field, "d:", 2) == 0)
		json_object_set_new(c->details, field + 2, json_integer(value));
	return 0;
}

struct policies {
	struct store *st;
	const char *day, *domain;
	json_t *arr;
	long long sessions;
	int err;
};

static int detail_cmp(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "_k"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "_k"));
	return strcmp(x ? x : "", y ? y : "");
}

/* The failure-details array of one policy, sorted by the detail's JSON text. */
static json_t *report_details(struct policies *ps, const char *polkey, json_t *dcounts)
{
	const char *dh;
	json_t *v, *arr = json_array();
	size_t n = json_object_size(dcounts), i = 0;
	json_t **tmp = xcalloc(n ? n : 1, sizeof(json_t *));

	json_object_foreach(dcounts, dh, v)
	{
		char key[STORE_KEY_MAX], *val = NULL;
		size_t len;
		snprintf(key, sizeof(key), "pw:tlsrpt:det:%s:%s", polkey, dh);
		if (store_get(ps->st, key, &val, &len) != 0)
			continue; /* expired or not yet written: the count alone is in summary */
		json_t *d = json_loadb(val, len, 0, NULL);
		if (json_is_object(d)) {
			json_object_set_new(d, "_k", json_stringn(val, len));
			json_object_set_new(d, "failed-session-count",
			                    json_integer(json_integer_value(v)));
			tmp[i++] = d;
		} else {
			json_decref(d);
		}
		free(val);
	}
	qsort(tmp, i, sizeof(json_t *), detail_cmp);
	for (size_t k = 0; k < i; k++) {
		json_object_del(tmp[k], "_k");
		json_array_append_new(arr, tmp[k]);
	}
	free(tmp);
	return arr;
}

static int report_policy(const char *key, const char *val, size_t len, void *arg)
{
	struct policies *ps = arg;
	const char *polkey = key + strlen("pw:tlsrpt:pol:");
	char cnt[STORE_KEY_MAX];
	struct counts c = { .details = json_object() };

	snprintf(cnt, sizeof(cnt), "pw:tlsrpt:cnt:%s", polkey);
	int rc = store_hgetall(ps->st, cnt, counts_add, &c);
	json_t *policy = json_loadb(val, len, 0, NULL);
	if (rc < 0 || !json_is_object(policy)) {
		if (rc < 0)
			ps->err = rc;
		json_decref(policy);
		json_decref(c.details);
		return rc < 0 ? rc : 0;
	}
	if (c.success + c.failure > 0) {
		json_t *p = json_pack("{s:o,s:{s:I,s:I}}", "policy", policy, "summary",
		                      "total-successful-session-count", (json_int_t)c.success,
		                      "total-failure-session-count", (json_int_t)c.failure);
		if (c.failure)
			json_object_set_new(p, "failure-details",
			                    report_details(ps, polkey, c.details));
		json_array_append_new(ps->arr, p);
		ps->sessions += c.success + c.failure;
	} else {
		json_decref(policy);
	}
	json_decref(c.details);
	return 0;
}

/* pw:mtasts:fail:<day>:<domain>:<result-type> = N: N failed policy fetches by policyd-mtasts,
 * reported as failed sessions of an sts policy with no policy string (none was fetched). */
static int report_fetch_failure(const char *key, const char *val, size_t len, void *arg)
{
	struct policies *ps = arg;
	const char *type = strrchr(key, ':') + 1;
	long long n = 0;

	if (len == 0 || len > 19 || strspn(val, "0123456789") != len || (n = atoll(val)) <= 0 ||
	    (strcmp(type, "sts-policy-fetch-error") != 0 &&
	     strcmp(type, "sts-policy-invalid") != 0 && strcmp(type, "sts-webpki-invalid") != 0))
		return 0; /* not one of policyd-mtasts' counters: ignored */
	json_t *policy = json_pack("{s:s,s:s}", "policy-type", "sts", "policy-domain", ps->domain);
	json_t *entry = NULL, *e;
	size_t i;
	json_array_foreach(ps->arr, i, e)
	{
		if (json_equal(json_object_get(e, "policy"), policy))
			entry = e;
	}
	if (!entry) {
		entry = json_pack("{s:o,s:{s:I,s:I},s:[]}", "policy", policy, "summary",
		                  "total-successful-session-count", (json_int_t)0,
		                  "total-failure-session-count", (json_int_t)0, "failure-details");
		json_array_append_new(ps->arr, entry);
	} else {
		json_decref(policy);
	}
	json_t *sum = json_object_get(entry, "summary");
	json_t *fail = json_object_get(sum, "total-failure-session-count");
	json_object_set_new(sum, "total-failure-session-count",
	                    json_integer(json_integer_value(fail) + n));
	json_t *details = json_object_get(entry, "failure-details");
	if (!details) {
		details = json_array();
		json_object_set_new(entry, "failure-details", details);
	}
	size_t at = 0; /* in result-type order: the store's scan order is not defined */
	json_array_foreach(details, i, e)
	{
		const char *t = json_string_value(json_object_get(e, "result-type"));
		if (t && strcmp(t, type) < 0)
			at = i + 1;
	}
	json_array_insert_new(
	        details, at,
	        json_pack("{s:s,s:I}", "result-type", type, "failed-session-count", (json_int_t)n));
	ps->sessions += n;
	return 0;
}

static int policy_cmp(const void *a, const void *b)
{
	char *x = json_dumps(json_object_get(*(json_t *const *)a, "policy"), JSON_SORT_KEYS);
	char *y = json_dumps(json_object_get(*(json_t *const *)b, "policy"), JSON_SORT_KEYS);
	int r = strcmp(x ? x : "", y ? y : "");
	free(x);
	free(y);
	return r;
}

static void report_sort(json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **tmp = xcalloc(n ? n : 1, sizeof(json_t *));
	for (size_t i = 0; i < n; i++)
		tmp[i] = json_incref(json_array_get(arr, i));
	qsort(tmp, n, sizeof(json_t *), policy_cmp);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, tmp[i]);
	free(tmp);
}

int tlsrpt_report_build(struct store *st, const char *day, const char *domain, const char *id,
                        const struct tlsrpt_report_meta *meta, json_t **out, struct buf *err)
{
	long long begin, end;
	char prefix[STORE_KEY_MAX], from[32], to[32];
	struct policies ps = { .st = st, .day = day, .domain = domain, .arr = json_array() };

	if (tlsrpt_day_bounds(day, &begin, &end) < 0) {
		buf_add_line(err, "'%s' is not a day (YYYY-MM-DD)", day);
		json_decref(ps.arr);
		return -EINVAL;
	}
	snprintf(prefix, sizeof(prefix), "pw:tlsrpt:pol:%s:%s:", day, domain);
	int rc = store_scan(st, prefix, report_policy, &ps);
	if (rc >= 0 && ps.err == 0) {
		snprintf(prefix, sizeof(prefix), "%s%s:%s:", TLSRPT_MTASTS_FAIL_PREFIX, day,
		         domain);
		rc = store_scan(st, prefix, report_fetch_failure, &ps);
	}
	if (rc < 0 || ps.err < 0) {
		buf_add_line(err, "store: %s", strerror(-(rc < 0 ? rc : ps.err)));
		json_decref(ps.arr);
		return rc < 0 ? rc : ps.err;
	}
	if (ps.sessions == 0) {
		json_decref(ps.arr);
		return 1;
	}
	report_sort(ps.arr);
	snprintf(from, sizeof(from), "%sT00:00:00Z", day);
	snprintf(to, sizeof(to), "%sT23:59:59Z", day);
	*out = json_pack("{s:s,s:{s:s,s:s},s:s,s:s,s:o}", "organization-name",
	                 meta->organization_name, "date-range", "start-datetime", from,
	                 "end-datetime", to, "contact-info", meta->contact_info, "report-id", id,
	                 "policies", ps.arr);
	return *out ? 0 : -ENOMEM;
}

static uint64_t report_fnv(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void tlsrpt_report_filename(const struct tlsrpt_report_meta *meta, const char *domain,
                            const char *day, const char *id, char *out, size_t outsz)
{
	long long begin = 0, end = 0;
	const char *at = strrchr(meta->contact_info, '@');
	tlsrpt_day_bounds(day, &begin, &end);
	snprintf(out, outsz, "%s!%s!%lld!%lld!%016" PRIx64 ".json.gz",
	         at ? at + 1 : meta->contact_info, domain, begin, end, report_fnv(id));
}

int tlsrpt_report_gzip(const json_t *report, struct buf *out)
{
	char *text = json_dumps(report, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	size_t n = strlen(text);
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(text);
		return -ENOMEM;
	}
	uLong bound = deflateBound(&z, (uLong)n) + 32;
	buf_reserve(out, bound);
	z.next_in = (Bytef *)text;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out->data + out->len;
	z.avail_out = (uInt)bound;
	int r = deflate(&z, Z_FINISH);
	if (r == Z_STREAM_END) {
		out->len += z.total_out;
		out->data[out->len] = '\0';
	}
	deflateEnd(&z);
	free(text);
	return r == Z_STREAM_END ? 0 : -EIO;
}
