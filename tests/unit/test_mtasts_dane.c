/* test_mtasts_dane: policyd-mtasts/dane.c -- the DANE-or-MTA-STS decision for each
 * combination of MX, address and TLSA facts, in the three dane_mode settings, and the
 * TLSA usability rule (RFC 7672 3.1). */
#include <errno.h>
#include <string.h>

#include "check_common.h"
#include "dane.h"

#define H_USABLE(n)                                                                                \
	{                                                                                          \
		.name = n, .addr = DANE_SECURE, .tlsa = DANE_SECURE, .usable = 1                   \
	}
#define H_UNUSABLE(n)                                                                              \
	{                                                                                          \
		.name = n, .addr = DANE_SECURE, .tlsa = DANE_SECURE, .unusable = 2                 \
	}
#define H_DENIED(n)                                                                                \
	{                                                                                          \
		.name = n, .addr = DANE_SECURE, .tlsa = DANE_SECURE, .tlsa_denied = true           \
	}
#define H_ADDR_INSECURE(n)                                                                         \
	{                                                                                          \
		.name = n, .addr = DANE_INSECURE                                                   \
	}
#define H_TLSA_INSECURE(n)                                                                         \
	{                                                                                          \
		.name = n, .addr = DANE_SECURE, .tlsa = DANE_INSECURE                              \
	}

static enum dane_verdict decide(enum dane_mode mode, enum dane_fact mx, const struct dane_host *h,
                                size_t n)
{
	struct dane_facts f = { .mx = mx, .n_hosts = n, .hosts = h };
	struct buf why;

	buf_init(&why);
	enum dane_verdict v = dane_decide(mode, &f, &why);
	ck_assert_msg(why.len > 0 && !strchr(why.data, '\n'), "why: \"%s\"", buf_cstr(&why));
	ck_assert_msg(strstr(why.data, dane_verdict_name(v)), "why \"%s\" lacks the verdict",
	              why.data);
	buf_fini(&why);
	/* NULL why is fine and gives the same verdict */
	ck_assert_int_eq(dane_decide(mode, &f, NULL), v);
	return v;
}

/* The verdict in each mode: off is always NONE, dane never ONLY. */
static void expect(enum dane_fact mx, const struct dane_host *h, size_t n, enum dane_verdict only,
                   enum dane_verdict dane)
{
	ck_assert_int_eq(decide(DANE_MODE_ONLY, mx, h, n), only);
	ck_assert_int_eq(decide(DANE_MODE_DANE, mx, h, n), dane);
	ck_assert_int_eq(decide(DANE_MODE_OFF, mx, h, n), DANE_VERDICT_NONE);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(all_usable)
{
	const struct dane_host h[] = { H_USABLE("mx1.example"), H_USABLE("mx2.example") };

	expect(DANE_SECURE, h, N(h), DANE_VERDICT_ONLY, DANE_VERDICT_DANE);
	expect(DANE_SECURE, h, 1, DANE_VERDICT_ONLY, DANE_VERDICT_DANE);
}
END_TEST

START_TEST(some_usable)
{
	const struct dane_host denied[] = { H_USABLE("mx1.example"), H_DENIED("mx2.example") };
	const struct dane_host insecure[] = { H_ADDR_INSECURE("mx1.other"),
		                              H_USABLE("mx2.example") };
	const struct dane_host unusable[] = { H_USABLE("mx1.example"), H_UNUSABLE("mx2.example") };

	expect(DANE_SECURE, denied, 2, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	expect(DANE_SECURE, insecure, 2, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	expect(DANE_SECURE, unusable, 2, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
}
END_TEST

START_TEST(all_unusable)
{
	const struct dane_host h[] = { H_UNUSABLE("mx1.example"), H_UNUSABLE("mx2.example") };
	const struct dane_host mixed[] = { H_UNUSABLE("mx1.example"), H_DENIED("mx2.example") };
	/* usable and unusable records on one host: the host is usable */
	struct dane_host both = H_USABLE("mx.example");
	both.unusable = 3;

	expect(DANE_SECURE, h, 2, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	expect(DANE_SECURE, mixed, 2, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	expect(DANE_SECURE, &both, 1, DANE_VERDICT_ONLY, DANE_VERDICT_DANE);
}
END_TEST

START_TEST(no_dane)
{
	const struct dane_host denied[] = { H_DENIED("mx1.example"), H_DENIED("mx2.example") };
	const struct dane_host insecure[] = { H_ADDR_INSECURE("mx1.other"),
		                              H_TLSA_INSECURE("mx2.example"),
		                              H_DENIED("mx3.example") };

	expect(DANE_SECURE, denied, 2, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	expect(DANE_SECURE, insecure, 3, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	/* a secure answer with no records and no denial flag counts as denied */
	const struct dane_host empty = { .name = "mx", .addr = DANE_SECURE, .tlsa = DANE_SECURE };
	expect(DANE_SECURE, &empty, 1, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
}
END_TEST

START_TEST(mx_facts)
{
	const struct dane_host h[] = { H_USABLE("mx1.example") };

	/* insecure MX: no DANE whatever the hosts say */
	expect(DANE_INSECURE, h, 1, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	expect(DANE_INSECURE, NULL, 0, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	/* bogus or failed MX: leave it to Postfix's dane level */
	expect(DANE_BOGUS, NULL, 0, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	expect(DANE_FAILED, NULL, 0, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	/* secure null MX: no hosts, nothing to protect */
	expect(DANE_SECURE, NULL, 0, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
}
END_TEST

START_TEST(lookup_failures)
{
	const enum dane_fact bad[] = { DANE_BOGUS, DANE_FAILED };

	for (size_t i = 0; i < 2; i++) {
		struct dane_host addr[] = { H_USABLE("mx1.example"), H_USABLE("mx2.example") };
		struct dane_host tlsa[] = { H_USABLE("mx1.example"), H_DENIED("mx2.example") };
		struct dane_host alone[] = { H_DENIED("mx1.example"), H_ADDR_INSECURE("mx2") };
		addr[1].addr = bad[i];
		tlsa[1].tlsa = bad[i];
		tlsa[1].tlsa_denied = false;
		alone[0].tlsa = bad[i];
		expect(DANE_SECURE, addr, 2, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
		expect(DANE_SECURE, tlsa, 2, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
		expect(DANE_SECURE, alone, 2, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	}
	/* a TLSA fact is not read when the addresses are insecure */
	struct dane_host ins = H_ADDR_INSECURE("mx.other");
	ins.tlsa = DANE_BOGUS;
	expect(DANE_SECURE, &ins, 1, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
}
END_TEST

START_TEST(hosts_without_address)
{
	struct dane_host h[] = { H_USABLE("mx1.example"), H_DENIED("gone.example") };

	h[1].addr_none = true;
	expect(DANE_SECURE, h, 2, DANE_VERDICT_ONLY, DANE_VERDICT_DANE);
	h[0].addr_none = true;
	expect(DANE_SECURE, h, 2, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	h[1].addr = DANE_INSECURE; /* insecure denial of the addresses: skipped too */
	expect(DANE_SECURE, h, 2, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
}
END_TEST

START_TEST(why_text)
{
	const struct dane_host h[] = { H_USABLE("mx1.example"), H_DENIED("mx2.example") };
	struct dane_facts f = { .mx = DANE_SECURE, .n_hosts = 2, .hosts = h };
	struct buf why;

	buf_init(&why);
	buf_puts(&why, "x: ");
	ck_assert_int_eq(dane_decide(DANE_MODE_ONLY, &f, &why), DANE_VERDICT_DANE);
	ck_assert_str_eq(why.data, "x: MX secure; mx1.example: usable TLSA; mx2.example: no TLSA "
	                           "(secure denial) -> dane");
	buf_reset(&why);
	dane_decide(DANE_MODE_OFF, &f, &why);
	ck_assert_str_eq(why.data, "dane_mode = off -> none");
	buf_fini(&why);
}
END_TEST

START_TEST(tlsa_usable)
{
	for (unsigned u = 0; u < 256; u++)
		for (unsigned s = 0; s < 4; s++)
			for (unsigned m = 0; m < 4; m++)
				ck_assert_int_eq(dane_tlsa_usable(u, s, m),
				                 (u == 2 || u == 3) && s <= 1 && m <= 2);
	ck_assert(dane_tlsa_usable(3, 1, 1));
	ck_assert(dane_tlsa_usable(2, 0, 0));
	ck_assert(!dane_tlsa_usable(0, 0, 1)); /* PKIX-TA */
	ck_assert(!dane_tlsa_usable(1, 1, 1)); /* PKIX-EE */
	ck_assert(!dane_tlsa_usable(3, 2, 1));
	ck_assert(!dane_tlsa_usable(3, 1, 255));
}
END_TEST

START_TEST(names)
{
	enum dane_mode m;

	ck_assert_int_eq(dane_mode_from_name("dane-only", &m), 0);
	ck_assert_int_eq(m, DANE_MODE_ONLY);
	ck_assert_int_eq(dane_mode_from_name("dane", &m), 0);
	ck_assert_int_eq(m, DANE_MODE_DANE);
	ck_assert_int_eq(dane_mode_from_name("off", &m), 0);
	ck_assert_int_eq(m, DANE_MODE_OFF);
	ck_assert_int_eq(dane_mode_from_name("on", &m), -EINVAL);
	ck_assert_str_eq(dane_mode_name(DANE_MODE_ONLY), "dane-only");
	ck_assert_str_eq(dane_verdict_name(DANE_VERDICT_NONE), "none");
	ck_assert_str_eq(dane_fact_name(DANE_FAILED), "failed");
	ck_assert_str_eq(dane_fact_name((enum dane_fact)9), "?");
}
END_TEST

CHECK_MAIN("mtasts_dane", all_usable, some_usable, all_unusable, no_dane, mx_facts, lookup_failures,
           hosts_without_address, why_text, tlsa_usable, names)
