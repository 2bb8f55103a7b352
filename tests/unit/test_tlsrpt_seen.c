/* test_tlsrpt_seen: the policy policyd-mtasts recorded for a domain on a UTC day
 * (tlsrpt/seen.c) against a memory: store: an STS record gives its policy lines and MX
 * names; another day or another domain, or no store, gives no-policy-found; a record that
 * changes in the store after the first look-up is not seen again (cached); a cache that
 * fills up starts over and still answers; a DANE record gives type tlsa and the TLSA records
 * of the session's MX host.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "seen.h"
#include "store.h"

#define DAY1 1764806400LL /* 2025-12-04 00:00:00 UTC */

static const char rec[] = "{\"policy\":[\"version: STSv1\",\"mode: enforce\",\"mx: mx1.d1.test\","
                          "\"max_age: 86400\"],\"mx\":[\"mx1.d1.test\"]}";

static struct tlsrpt_policy lookup(struct tlsrpt_seen *c, long long t, const char *domain)
{
	struct tlsrpt_policy p = { .type = TLSRPT_POLICY_NONE };
	tlsrpt_seen_policy(c, t, domain, NULL, &p);
	return p;
}

START_TEST(test_sts_record)
{
	struct store *st = store_open("memory:");
	static struct tlsrpt_seen c; /* large: not on the stack */
	memset(&c, 0, sizeof(c));
	c.st = st;
	ck_assert_int_eq(store_set(st, "pw:mtasts:seen:2025-12-04:d1.test", rec, strlen(rec), 0),
	                 0);

	struct tlsrpt_policy p = lookup(&c, DAY1 + 3600, "d1.test");
	ck_assert_int_eq(p.type, TLSRPT_POLICY_STS);
	ck_assert_uint_eq(p.n_strings, 4);
	ck_assert_str_eq(p.strings[1], "mode: enforce");
	ck_assert_uint_eq(p.n_mx, 1);
	ck_assert_str_eq(p.mx[0], "mx1.d1.test");

	ck_assert_int_eq(lookup(&c, DAY1 + 86400, "d1.test").type, TLSRPT_POLICY_NONE);
	ck_assert_int_eq(lookup(&c, DAY1, "d2.test").type, TLSRPT_POLICY_NONE);

	/* cached: a record written after the first look-up of that day and domain */
	ck_assert_int_eq(store_set(st, "pw:mtasts:seen:2025-12-04:d2.test", rec, strlen(rec), 0),
	                 0);
	ck_assert_int_eq(lookup(&c, DAY1, "d2.test").type, TLSRPT_POLICY_NONE);
	tlsrpt_seen_fini(&c);
	ck_assert_int_eq(lookup(&c, DAY1, "d2.test").type, TLSRPT_POLICY_STS);

	/* a full cache starts over */
	char dom[64];
	for (int i = 0; i < TLSRPT_SEEN_CACHE + 10; i++) {
		snprintf(dom, sizeof(dom), "x%d.test", i);
		ck_assert_int_eq(lookup(&c, DAY1, dom).type, TLSRPT_POLICY_NONE);
	}
	ck_assert_uint_le(c.n, TLSRPT_SEEN_CACHE);
	ck_assert_int_eq(lookup(&c, DAY1, "d1.test").type, TLSRPT_POLICY_STS);
	tlsrpt_seen_fini(&c);
	store_close(st);
}
END_TEST

/* a DANE answer policyd-mtasts recorded: type tlsa, the TLSA records of the MX host the
 * session reached (any case), none for another host or no host; no mx-host */
START_TEST(test_tlsa_record)
{
	static const char dane[] =
	        "{\"type\":\"tlsa\",\"mode\":\"dane-only\",\"hosts\":{\"mx1.d3.test\":"
	        "[\"3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\","
	        "\"2 0 1 FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210\"],"
	        "\"mx2.d3.test\":[\"3 1 2 00\"]}}";
	struct store *st = store_open("memory:");
	static struct tlsrpt_seen c;
	memset(&c, 0, sizeof(c));
	c.st = st;
	ck_assert_int_eq(store_set(st, "pw:mtasts:seen:2025-12-04:d3.test", dane, strlen(dane), 0),
	                 0);
	struct tlsrpt_policy p = { .type = TLSRPT_POLICY_NONE };
	tlsrpt_seen_policy(&c, DAY1, "d3.test", "MX1.d3.test", &p);
	ck_assert_int_eq(p.type, TLSRPT_POLICY_TLSA);
	ck_assert_uint_eq(p.n_strings, 2);
	ck_assert_str_eq(p.strings[0],
	                 "3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF");
	ck_assert_str_eq(p.strings[1],
	                 "2 0 1 FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210");
	ck_assert_uint_eq(p.n_mx, 0);
	memset(&p, 0, sizeof(p));
	tlsrpt_seen_policy(&c, DAY1, "d3.test", "mx2.d3.test", &p);
	ck_assert_uint_eq(p.n_strings, 1);
	ck_assert_str_eq(p.strings[0], "3 1 2 00");
	memset(&p, 0, sizeof(p));
	tlsrpt_seen_policy(&c, DAY1, "d3.test", "mx9.d3.test", &p);
	ck_assert_int_eq(p.type, TLSRPT_POLICY_TLSA);
	ck_assert_uint_eq(p.n_strings, 0);
	memset(&p, 0, sizeof(p));
	tlsrpt_seen_policy(&c, DAY1, "d3.test", NULL, &p);
	ck_assert_int_eq(p.type, TLSRPT_POLICY_TLSA);
	ck_assert_uint_eq(p.n_strings, 0);
	tlsrpt_seen_fini(&c);
	store_close(st);
}
END_TEST

START_TEST(test_no_store)
{
	static struct tlsrpt_seen c;
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(lookup(&c, DAY1, "d1.test").type, TLSRPT_POLICY_NONE);
	tlsrpt_seen_fini(&c);
}
END_TEST

CHECK_MAIN("tlsrpt_seen", test_sts_record, test_tlsa_record, test_no_store)
