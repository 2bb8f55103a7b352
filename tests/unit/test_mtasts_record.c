/* test_mtasts_record: the records policyd-mtasts leaves for tlsrpt (policyd-mtasts/record.c)
 * read back the way tlsrpt reads them (tlsrpt/seen.c), against a memory: store: an
 * enforce policy gives an sts policy with its lines and MX patterns; a dane-only answer gives
 * a tlsa policy whose strings are the TLSA records of the MX host a session reached (host
 * names matched in any case; a host without records, or no host, gives none); a fetch
 * failure is a counter per day, domain and result type.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "mtasts.h"
#include "seen.h"
#include "store.h"

#define DAY1 1764806400LL /* 2025-12-04 00:00:00 UTC */

static struct tlsrpt_seen seen; /* large: not on the stack */

/* mtasts_result_init/fini live in the daemon's resolve.c: the same here */
static void result_init(struct mtasts_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->how);
	buf_init(&r->dane_tlsa);
}

static void result_fini(struct mtasts_result *r)
{
	if (r->have_policy)
		sts_policy_fini(&r->policy);
	buf_fini(&r->how);
	buf_fini(&r->dane_tlsa);
}

static struct tlsrpt_policy lookup(const char *domain, const char *mx_host)
{
	struct tlsrpt_policy p = { .type = TLSRPT_POLICY_NONE };
	tlsrpt_seen_fini(&seen); /* each look-up reads the store again */
	tlsrpt_seen_policy(&seen, DAY1 + 60, domain, mx_host, &p);
	return p;
}

/* A memory: store, the look-up cache on it, an empty result. */
static struct store *setup(struct mtasts_result *r)
{
	struct store *st = store_open("memory:");
	memset(&seen, 0, sizeof(seen));
	seen.st = st;
	result_init(r);
	return st;
}

START_TEST(test_dane)
{
	struct mtasts_result r;
	struct store *st = setup(&r);
	r.kind = MTASTS_DANE_ONLY;
	buf_puts(&r.dane_tlsa, "MX1.d.test 3 1 1 AABB\n"
	                       "MX1.d.test 2 0 1 CCDD\n"
	                       "mx2.d.test 3 1 2 EEFF\n");
	ck_assert_int_eq(mtasts_record_dane(st, "d.test", &r, DAY1 + 10), 0);

	char *val = NULL;
	size_t len;
	ck_assert_int_eq(store_get(st, "pw:mtasts:seen:2025-12-04:d.test", &val, &len), 0);
	ck_assert_str_eq(val, "{\"type\":\"tlsa\",\"mode\":\"dane-only\",\"hosts\":{\"mx1.d.test\":"
	                      "[\"3 1 1 AABB\",\"2 0 1 CCDD\"],\"mx2.d.test\":[\"3 1 2 EEFF\"]}}");
	free(val);

	struct tlsrpt_policy p = lookup("d.test", "mx1.D.test");
	ck_assert_int_eq(p.type, TLSRPT_POLICY_TLSA);
	ck_assert_uint_eq(p.n_strings, 2);
	ck_assert_str_eq(p.strings[0], "3 1 1 AABB");
	ck_assert_str_eq(p.strings[1], "2 0 1 CCDD");
	ck_assert_uint_eq(p.n_mx, 0);
	p = lookup("d.test", "mx2.d.test");
	ck_assert_uint_eq(p.n_strings, 1);
	ck_assert_str_eq(p.strings[0], "3 1 2 EEFF");
	p = lookup("d.test", "mx3.d.test");
	ck_assert_int_eq(p.type, TLSRPT_POLICY_TLSA);
	ck_assert_uint_eq(p.n_strings, 0);
	p = lookup("d.test", NULL);
	ck_assert_int_eq(p.type, TLSRPT_POLICY_TLSA);

	/* "dane" (some hosts without TLSA): the same record, mode dane */
	r.kind = MTASTS_DANE;
	buf_reset(&r.dane_tlsa);
	ck_assert_int_eq(mtasts_record_dane(st, "e.test", &r, DAY1 + 10), 0);
	ck_assert_int_eq(store_get(st, "pw:mtasts:seen:2025-12-04:e.test", &val, &len), 0);
	ck_assert_str_eq(val, "{\"type\":\"tlsa\",\"mode\":\"dane\",\"hosts\":{}}");
	free(val);
	ck_assert_int_eq(lookup("e.test", "mx.e.test").type, TLSRPT_POLICY_TLSA);
	/* another day: nothing */
	struct tlsrpt_policy q = { .type = TLSRPT_POLICY_NONE };
	tlsrpt_seen_fini(&seen);
	tlsrpt_seen_policy(&seen, DAY1 + 86400, "d.test", "mx1.d.test", &q);
	ck_assert_int_eq(q.type, TLSRPT_POLICY_NONE);

	tlsrpt_seen_fini(&seen);
	result_fini(&r);
	store_close(st);
}
END_TEST

START_TEST(test_sts_and_failure)
{
	struct mtasts_result r;
	struct store *st = setup(&r);
	const char *text = "version: STSv1\nmode: enforce\nmx: mx1.s.test\nmx: *.s.test\n"
	                   "max_age: 86400\n";
	ck_assert_int_eq(sts_policy_parse(text, strlen(text), &r.policy, NULL), 0);
	r.have_policy = true;
	r.kind = MTASTS_ENFORCE;
	strcpy(r.id, "id1");
	ck_assert_int_eq(mtasts_record_policy(st, "s.test", &r, DAY1 + 10), 0);
	struct tlsrpt_policy p = lookup("s.test", "mx1.s.test");
	ck_assert_int_eq(p.type, TLSRPT_POLICY_STS);
	ck_assert_uint_eq(p.n_strings, 5);
	ck_assert_str_eq(p.strings[1], "mode: enforce");
	ck_assert_uint_eq(p.n_mx, 2);
	ck_assert_str_eq(p.mx[1], "*.s.test");

	ck_assert_int_eq(mtasts_record_failure(st, "f.test", "sts-webpki-invalid", DAY1 + 10), 0);
	ck_assert_int_eq(mtasts_record_failure(st, "f.test", "sts-webpki-invalid", DAY1 + 20), 0);
	char *val = NULL;
	size_t len;
	ck_assert_int_eq(
	        store_get(st, "pw:mtasts:fail:2025-12-04:f.test:sts-webpki-invalid", &val, &len),
	        0);
	ck_assert_str_eq(val, "2");
	free(val);
	tlsrpt_seen_fini(&seen);
	result_fini(&r);
	store_close(st);
}
END_TEST

CHECK_MAIN("mtasts_record", test_dane, test_sts_and_failure)
