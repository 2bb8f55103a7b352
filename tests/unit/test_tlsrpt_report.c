/* test_tlsrpt_report: a day's RFC 8460 report from the store (tlsrpt/report.c) against a
 * memory: store: the sessions counted by aggregate.c, plus the policy fetches policyd-mtasts
 * recorded as failed (pw:mtasts:fail:<day>:<domain>:<result-type>), which become failed
 * sessions of an sts policy without a policy string, one failure detail per result type in
 * name order; a domain with only fetch failures gets a report; counters that are not
 * policyd-mtasts' result types are ignored; another day's or domain's are not included.
 */
#include <check.h>
#include <string.h>

#include "aggregate.h"
#include "buf.h"
#include "check_common.h"
#include "report.h"
#include "store.h"

#define NOON 1764849600LL /* 2025-12-04 12:00:00 UTC */

static const struct tlsrpt_report_meta meta = { .organization_name = "Example Org",
	                                        .contact_info = "tlsrpt@example.org" };

static void count_session(struct store *st, const char *domain, bool ok)
{
	struct tlsrpt_agg *a = tlsrpt_agg_new(0);
	struct tlsrpt_event ev = { .time = NOON, .domain = domain, .n_policies = 1 };
	struct tlsrpt_policy *p = &ev.policies[0];
	p->type = TLSRPT_POLICY_NONE;
	p->success = ok;
	if (!ok) {
		p->n_details = 1;
		p->details[0] = (struct tlsrpt_detail){ .result = TLSRPT_STARTTLS_NOT_SUPPORTED,
			                                .mx_host = "mx.a.test",
			                                .receiving_ip = "192.0.2.1" };
	}
	ck_assert_int_eq(tlsrpt_agg_add(a, &ev), 0);
	ck_assert_int_ge(tlsrpt_agg_flush(a, st, NULL), 0);
	tlsrpt_agg_free(a);
}

static void set(struct store *st, const char *key, const char *val)
{
	ck_assert_int_eq(store_set(st, key, val, strlen(val), 0), 0);
}

static json_t *build(struct store *st, const char *domain, int want)
{
	json_t *r = NULL;
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(tlsrpt_report_build(st, "2025-12-04", domain, "id-1", &meta, &r, &err),
	                 want);
	buf_fini(&err);
	return r;
}

START_TEST(test_fetch_failures)
{
	struct store *st = store_open("memory:");
	count_session(st, "a.test", true);
	count_session(st, "a.test", false);
	set(st, "pw:mtasts:fail:2025-12-04:a.test:sts-webpki-invalid", "3");
	set(st, "pw:mtasts:fail:2025-12-04:a.test:sts-policy-fetch-error", "2");
	set(st, "pw:mtasts:fail:2025-12-04:a.test:something-else", "7");     /* ignored */
	set(st, "pw:mtasts:fail:2025-12-05:a.test:sts-webpki-invalid", "9"); /* another day */
	set(st, "pw:mtasts:fail:2025-12-04:b.test:sts-policy-invalid", "4"); /* fetches only */
	set(st, "pw:mtasts:fail:2025-12-04:c.test:sts-policy-invalid", "x"); /* not a count */

	char **d;
	size_t n;
	ck_assert_int_eq(tlsrpt_report_domains(st, "2025-12-04", &d, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(d[0], "a.test");
	ck_assert_str_eq(d[1], "b.test");
	ck_assert_str_eq(d[2], "c.test");
	tlsrpt_report_domains_free(d);

	json_t *r = build(st, "a.test", 0);
	json_t *pols = json_object_get(r, "policies");
	ck_assert_uint_eq(json_array_size(pols), 2);
	/* sorted by the policy's JSON: no-policy-found before sts */
	json_t *p0 = json_array_get(pols, 0), *p1 = json_array_get(pols, 1);
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(p0, "policy"), "policy-type")),
	        "no-policy-found");
	char *s = json_dumps(p1, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s,
	                 "{\"failure-details\":[{\"failed-session-count\":2,\"result-type\":"
	                 "\"sts-policy-fetch-error\"},{\"failed-session-count\":3,\"result-type\":"
	                 "\"sts-webpki-invalid\"}],\"policy\":{\"policy-domain\":\"a.test\","
	                 "\"policy-type\":\"sts\"},\"summary\":{\"total-failure-session-count\":5,"
	                 "\"total-successful-session-count\":0}}");
	free(s);
	json_decref(r);

	r = build(st, "b.test", 0);
	s = json_dumps(json_object_get(r, "policies"), JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s,
	                 "[{\"failure-details\":[{\"failed-session-count\":4,\"result-type\":"
	                 "\"sts-policy-invalid\"}],\"policy\":{\"policy-domain\":\"b.test\","
	                 "\"policy-type\":\"sts\"},\"summary\":{\"total-failure-session-count\":4,"
	                 "\"total-successful-session-count\":0}}]");
	free(s);
	json_decref(r);
	/* nothing usable: nothing to report */
	ck_assert_ptr_null(build(st, "c.test", 1));
	store_close(st);
}
END_TEST

CHECK_MAIN("tlsrpt_report", test_fetch_failures)
