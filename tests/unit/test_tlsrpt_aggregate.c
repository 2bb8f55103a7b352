/* test_tlsrpt_aggregate: tlsrpt's counters (tlsrpt/aggregate.c) flushed to a memory: store:
 * sessions per day, domain and policy, failures per detail, the policy and detail JSON as
 * RFC 8460 names them; two tables flushing into one store add up (two collectors of a
 * fleet); a flush into a store that is down keeps every count for the next flush, and one
 * lmdb cannot commit (map full) leaves nothing behind and keeps every count; a full
 * table drops and counts; events from threads at once are all counted.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "check_common.h"
#include "store.h"

#define DAY1 1764806400LL /* 2025-12-04T00:00:00Z */

struct scan_ctx {
	int n;
	char key[512];
	char val[2048];
};

static int scan_one(const char *key, const char *val, size_t len, void *arg)
{
	struct scan_ctx *c = arg;
	c->n++;
	snprintf(c->key, sizeof(c->key), "%s", key);
	snprintf(c->val, sizeof(c->val), "%.*s", (int)len, val);
	return 0;
}

struct hash_ctx {
	long long success, failure, details;
	int fields;
};

static int hash_one(const char *field, long long value, void *arg)
{
	struct hash_ctx *h = arg;
	h->fields++;
	if (strcmp(field, "success") == 0)
		h->success += value;
	else if (strcmp(field, "failure") == 0)
		h->failure += value;
	else if (strncmp(field, "d:", 2) == 0)
		h->details += value;
	return 0;
}

/* An STS event for @domain at @t: success, or a failure with one certificate-expired detail. */
static void sts_event(struct tlsrpt_event *ev, const char *domain, long long t, bool ok)
{
	memset(ev, 0, sizeof(*ev));
	ev->time = t;
	ev->domain = domain;
	ev->n_policies = 1;
	struct tlsrpt_policy *p = &ev->policies[0];
	p->type = TLSRPT_POLICY_STS;
	p->n_strings = 3;
	p->strings[0] = "version: STSv1";
	p->strings[1] = "mode: enforce";
	p->strings[2] = "mx: mx1.d1.test";
	p->n_mx = 1;
	p->mx[0] = "mx1.d1.test";
	p->success = ok;
	if (!ok) {
		p->n_details = 1;
		p->details[0] = (struct tlsrpt_detail){
			.result = TLSRPT_CERTIFICATE_EXPIRED,
			.sending_ip = "127.0.0.1",
			.mx_host = "mx1.d1.test",
			.receiving_ip = "127.0.18.25",
			.reason = "certificate has expired",
		};
	}
}

static struct hash_ctx counts(struct store *st, const char *cnt_prefix_key)
{
	struct hash_ctx h = { 0 };
	ck_assert_int_eq(store_hgetall(st, cnt_prefix_key, hash_one, &h), 0);
	return h;
}

/* The cnt key of the one policy stored for @day/@domain. */
static void policy_keys(struct store *st, const char *day, const char *domain, char *cnt, size_t n,
                        char *json, size_t jn)
{
	char prefix[128];
	struct scan_ctx c = { 0 };
	snprintf(prefix, sizeof(prefix), "pw:tlsrpt:pol:%s:%s:", day, domain);
	store_scan(st, prefix, scan_one, &c);
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_lt(snprintf(cnt, n, "pw:tlsrpt:cnt:%s", c.key + strlen("pw:tlsrpt:pol:")),
	                 (int)n);
	snprintf(json, jn, "%s", c.val);
}

START_TEST(test_counts_and_json)
{
	struct store *st = store_open("memory:");
	struct tlsrpt_agg *a = tlsrpt_agg_new(0);
	struct tlsrpt_event ev;
	char cnt[1024], json[2048];

	for (int i = 0; i < 3; i++) {
		sts_event(&ev, "d1.test", DAY1 + 10 + i, true);
		ck_assert_int_eq(tlsrpt_agg_add(a, &ev), 0);
		sts_event(&ev, "d1.test", DAY1 + 20 + i, false);
		ck_assert_int_eq(tlsrpt_agg_add(a, &ev), 0);
	}
	sts_event(&ev, "d1.test", DAY1 + 86400, true); /* the next UTC day */
	ck_assert_int_eq(tlsrpt_agg_add(a, &ev), 0);
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(tlsrpt_agg_flush(a, st, &err), 2);
	ck_assert_uint_eq(err.len, 0);

	policy_keys(st, "2025-12-04", "d1.test", cnt, sizeof(cnt), json, sizeof(json));
	struct hash_ctx h = counts(st, cnt);
	ck_assert_int_eq(h.success, 3);
	ck_assert_int_eq(h.failure, 3);
	ck_assert_int_eq(h.details, 3);
	ck_assert_int_eq(h.fields, 3);
	json_t *o = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "policy-type")), "sts");
	ck_assert_str_eq(json_string_value(json_object_get(o, "policy-domain")), "d1.test");
	ck_assert_int_eq(json_array_size(json_object_get(o, "policy-string")), 3);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "mx-host"), 0)),
	                 "mx1.d1.test");
	json_decref(o);

	struct scan_ctx d = { 0 };
	store_scan(st, "pw:tlsrpt:det:2025-12-04:d1.test:", scan_one, &d);
	ck_assert_int_eq(d.n, 1);
	o = json_loads(d.val, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(o, "result-type")),
	                 "certificate-expired");
	ck_assert_str_eq(json_string_value(json_object_get(o, "failure-reason-code")),
	                 "certificate has expired");
	ck_assert_str_eq(json_string_value(json_object_get(o, "receiving-ip")), "127.0.18.25");
	ck_assert_ptr_null(json_object_get(o, "receiving-mx-helo"));
	json_decref(o);

	policy_keys(st, "2025-12-05", "d1.test", cnt, sizeof(cnt), json, sizeof(json));
	h = counts(st, cnt);
	ck_assert_int_eq(h.success, 1);
	ck_assert_int_eq(h.failure, 0);

	ck_assert_int_eq(tlsrpt_agg_flush(a, st, &err), 0); /* nothing pending */
	buf_fini(&err);
	tlsrpt_agg_free(a);
	store_close(st);
}
END_TEST

START_TEST(test_two_collectors_add_up)
{
	struct store *st = store_open("memory:");
	struct tlsrpt_agg *a = tlsrpt_agg_new(0), *b = tlsrpt_agg_new(0);
	struct tlsrpt_event ev;
	char cnt[1024], json[2048];

	sts_event(&ev, "d1.test", DAY1 + 5, false);
	tlsrpt_agg_add(a, &ev);
	tlsrpt_agg_add(b, &ev);
	sts_event(&ev, "d1.test", DAY1 + 6, true);
	tlsrpt_agg_add(b, &ev);
	ck_assert_int_eq(tlsrpt_agg_flush(a, st, NULL), 1);
	ck_assert_int_eq(tlsrpt_agg_flush(b, st, NULL), 1);
	policy_keys(st, "2025-12-04", "d1.test", cnt, sizeof(cnt), json, sizeof(json));
	struct hash_ctx h = counts(st, cnt);
	ck_assert_int_eq(h.failure, 2);
	ck_assert_int_eq(h.success, 1);
	ck_assert_int_eq(h.details, 2);
	ck_assert_int_eq(h.fields, 3); /* one detail field: both hosts hashed it alike */
	tlsrpt_agg_free(a);
	tlsrpt_agg_free(b);
	store_close(st);
}
END_TEST

START_TEST(test_store_down_keeps_counts)
{
	struct store *down = store_open("redis://127.0.0.1:1/0?timeout=200ms");
	struct store *st = store_open("memory:");
	struct tlsrpt_agg *a = tlsrpt_agg_new(0);
	struct tlsrpt_event ev;
	struct buf err;
	char cnt[1024], json[2048];

	ck_assert_ptr_nonnull(down);
	buf_init(&err);
	sts_event(&ev, "d1.test", DAY1, false);
	tlsrpt_agg_add(a, &ev);
	ck_assert_int_lt(tlsrpt_agg_flush(a, down, &err), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "kept for the next flush"));
	sts_event(&ev, "d1.test", DAY1 + 1, false);
	tlsrpt_agg_add(a, &ev);
	ck_assert_int_eq(tlsrpt_agg_flush(a, st, NULL), 1);
	policy_keys(st, "2025-12-04", "d1.test", cnt, sizeof(cnt), json, sizeof(json));
	struct hash_ctx h = counts(st, cnt);
	ck_assert_int_eq(h.failure, 2);
	ck_assert_int_eq(h.details, 2);
	struct tlsrpt_agg_stats s;
	tlsrpt_agg_stats(a, &s);
	ck_assert_uint_eq(s.dropped, 0);
	ck_assert_uint_eq(s.flush_errors, 1);
	buf_fini(&err);
	tlsrpt_agg_free(a);
	store_close(st);
	store_close(down);
}
END_TEST

/* lmdb writes a flush in one transaction: when it cannot commit (the map is full), nothing
 * of it is in the store and every count waits for the next flush. */
START_TEST(test_lmdb_batch_all_or_nothing)
{
	char dir[] = "/tmp/test_tlsrpt_agg.XXXXXX", uri[128];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(uri, sizeof(uri), "lmdb:%s?mapsize=64K", dir);
	struct store *small = store_open(uri);
	struct store *st = store_open("memory:");
	struct tlsrpt_agg *a = tlsrpt_agg_new(0);
	struct tlsrpt_event ev;
	struct buf err;
	char dom[64], cnt[1024], json[2048];

	ck_assert_ptr_nonnull(small);
	buf_init(&err);
	for (int i = 0; i < 2000; i++) { /* far more than 64 KiB of keys */
		snprintf(dom, sizeof(dom), "domain-%04d.example.test", i);
		sts_event(&ev, dom, DAY1, false);
		ck_assert_int_eq(tlsrpt_agg_add(a, &ev), 0);
	}
	ck_assert_int_lt(tlsrpt_agg_flush(a, small, &err), 0);
	struct scan_ctx c = { 0 };
	store_scan(small, "pw:tlsrpt:", scan_one, &c);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(tlsrpt_agg_flush(a, st, NULL), 2000);
	policy_keys(st, "2025-12-04", "domain-1999.example.test", cnt, sizeof(cnt), json,
	            sizeof(json));
	struct hash_ctx h = counts(st, cnt);
	ck_assert_int_eq(h.failure, 1);
	ck_assert_int_eq(h.details, 1);
	buf_fini(&err);
	tlsrpt_agg_free(a);
	store_close(st);
	store_close(small);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_full_table_drops)
{
	struct tlsrpt_agg *a = tlsrpt_agg_new(2);
	struct tlsrpt_event ev;
	char dom[32];

	for (int i = 0; i < 3; i++) {
		snprintf(dom, sizeof(dom), "d%d.test", i);
		sts_event(&ev, dom, DAY1, true);
		ck_assert_int_eq(tlsrpt_agg_add(a, &ev), i < 2 ? 0 : -ENOSPC);
	}
	struct tlsrpt_agg_stats s;
	tlsrpt_agg_stats(a, &s);
	ck_assert_uint_eq(s.dropped, 1);
	ck_assert_uint_eq(s.held, 2);
	tlsrpt_agg_free(a);
}
END_TEST

static void *adder(void *arg)
{
	struct tlsrpt_event ev;
	for (int i = 0; i < 5000; i++) {
		sts_event(&ev, "d1.test", DAY1 + i % 100, i % 3 != 0);
		tlsrpt_agg_add(arg, &ev);
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct store *st = store_open("memory:");
	struct tlsrpt_agg *a = tlsrpt_agg_new(0);
	pthread_t t[4];
	char cnt[1024], json[2048];

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, adder, a);
	for (int i = 0; i < 4; i++) {
		if (i == 2)
			tlsrpt_agg_flush(a, st, NULL); /* a flush while adding */
		pthread_join(t[i], NULL);
	}
	tlsrpt_agg_flush(a, st, NULL);
	policy_keys(st, "2025-12-04", "d1.test", cnt, sizeof(cnt), json, sizeof(json));
	struct hash_ctx h = counts(st, cnt);
	ck_assert_int_eq(h.success + h.failure, 4 * 5000);
	ck_assert_int_eq(h.failure, 4 * 1667);
	tlsrpt_agg_free(a);
	store_close(st);
}
END_TEST

CHECK_MAIN("tlsrpt_aggregate", test_counts_and_json, test_two_collectors_add_up,
           test_store_down_keeps_counts, test_lmdb_batch_all_or_nothing, test_full_table_drops,
           test_threads)
