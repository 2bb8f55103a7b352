/* Unit tests for common/cidr: parse, format, list parse, match v4/v6/v4-mapped. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "cidr.h"

static void check_format(const char *in, const char *want)
{
	struct cidr c;
	char out[64];

	ck_assert_msg(cidr_parse(in, &c) == 0, "parse %s", in);
	cidr_format(&c, out, sizeof(out));
	ck_assert_str_eq(out, want);
}

START_TEST(parse_good)
{
	struct cidr c;

	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &c), 0);
	ck_assert_int_eq(c.family, AF_INET);
	ck_assert_uint_eq(c.prefix, 24);
	ck_assert_int_eq(c.addr[0], 192);
	ck_assert_int_eq(c.addr[2], 2);
	ck_assert_int_eq(cidr_parse("::1", &c), 0);
	ck_assert_int_eq(c.family, AF_INET6);
	ck_assert_uint_eq(c.prefix, 128);
	check_format("192.0.2.0/24", "192.0.2.0/24");
	check_format("10.1.2.3", "10.1.2.3/32");
	check_format("0.0.0.0/0", "0.0.0.0/0");
	check_format("2001:db8::/32", "2001:db8::/32");
	check_format("2001:DB8:0:0::/64", "2001:db8::/64");
	check_format("::/0", "::/0");
	check_format("::ffff:192.0.2.1", "::ffff:192.0.2.1/128");
	check_format("10.0.0.0/007", "10.0.0.0/7");
}
END_TEST

START_TEST(parse_bad)
{
	static const char *const bad[] = {
		"",
		"/24",
		"192.0.2.1/24",
		"10.0.0.0/33",
		"::/129",
		"10.0.0.0/",
		"10.0.0.0/-1",
		"10.0.0.0/+8",
		"10.0.0.0/ 8",
		"10.0.0.0/8/8",
		"10.0.0",
		"10.0.0.256",
		"2001:db8::1/32",
		"2001:db8:::1",
		"example.com",
		"10.0.0.0/0008",
		" 10.0.0.0",
		"10.0.0.0 ",
		"1.2.3.4/32x",
	};
	struct cidr c = { .family = 99 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(cidr_parse(bad[i], &c) == -EINVAL, "accepted '%s'", bad[i]);
		ck_assert_int_eq(c.family, 99);
	}
}
END_TEST

START_TEST(list_parse)
{
	struct cidr_list l;
	char *bad = (char *)"x";

	ck_assert_int_eq(
	        cidr_list_parse("  10.0.0.0/8,192.168.0.0/16 ,, ::1\t2001:db8::/32 ", &l, &bad), 0);
	ck_assert_ptr_null(bad);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_int_eq(l.v[2].family, AF_INET6);
	cidr_list_fini(&l);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_null(l.v);

	ck_assert_int_eq(cidr_list_parse(" , ", &l, &bad), 0);
	ck_assert_uint_eq(l.n, 0);
	cidr_list_fini(&l);

	ck_assert_int_eq(cidr_list_parse("10.0.0.0/8 10.0.0.1/8 ::1", &l, &bad), -EINVAL);
	ck_assert_str_eq(bad, "10.0.0.1/8");
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_null(l.v);
	free(bad);
	ck_assert_int_eq(cidr_list_parse("nope", &l, NULL), -EINVAL);
	cidr_list_fini(NULL);
}
END_TEST

static bool match_sa4(const struct cidr_list *l, const char *a)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, a, &sin.sin_addr), 1);
	return cidr_list_match(l, (struct sockaddr *)&sin);
}

static bool match_sa6(const struct cidr_list *l, const char *a)
{
	struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, a, &sin6.sin6_addr), 1);
	return cidr_list_match(l, (struct sockaddr *)&sin6);
}

START_TEST(match_v4_v6_mapped)
{
	struct cidr_list l;

	ck_assert_int_eq(
	        cidr_list_parse("192.0.2.0/25 10.0.0.0/8 2001:db8:1::/48 fe80::/10", &l, NULL), 0);
	ck_assert(cidr_list_match_str(&l, "192.0.2.0"));
	ck_assert(cidr_list_match_str(&l, "192.0.2.127"));
	ck_assert(!cidr_list_match_str(&l, "192.0.2.128"));
	ck_assert(cidr_list_match_str(&l, "10.255.255.255"));
	ck_assert(!cidr_list_match_str(&l, "11.0.0.0"));
	ck_assert(cidr_list_match_str(&l, "2001:db8:1:ffff::1"));
	ck_assert(!cidr_list_match_str(&l, "2001:db8:2::1"));
	ck_assert(cidr_list_match_str(&l, "febf::1"));
	ck_assert(!cidr_list_match_str(&l, "fec0::1"));
	ck_assert(cidr_list_match_str(&l, "::ffff:10.1.2.3"));
	ck_assert(!cidr_list_match_str(&l, "::ffff:11.1.2.3"));
	ck_assert(!cidr_list_match_str(&l, "::10.1.2.3")); /* v4-compatible, not mapped */
	ck_assert(!cidr_list_match_str(&l, "10.0.0.0/8"));
	ck_assert(!cidr_list_match_str(&l, "garbage"));
	ck_assert(!cidr_list_match_str(&l, NULL));
	ck_assert(match_sa4(&l, "10.9.8.7"));
	ck_assert(!match_sa4(&l, "192.0.2.200"));
	ck_assert(match_sa6(&l, "::ffff:192.0.2.1"));
	ck_assert(!match_sa6(&l, "::ffff:192.0.2.129"));
	ck_assert(match_sa6(&l, "2001:db8:1::25"));
	ck_assert(!cidr_list_match(&l, NULL));
	struct sockaddr sa = { .sa_family = AF_UNIX };
	ck_assert(!cidr_list_match(&l, &sa));
	ck_assert(!cidr_list_match_str(NULL, "10.0.0.1"));
	cidr_list_fini(&l);

	/* a v6 prefix over the mapped range matches mapped addresses too */
	ck_assert_int_eq(cidr_list_parse("::ffff:0:0/96", &l, NULL), 0);
	ck_assert(cidr_list_match_str(&l, "::ffff:1.2.3.4"));
	ck_assert(!cidr_list_match_str(&l, "1.2.3.4"));
	cidr_list_fini(&l);

	ck_assert_int_eq(cidr_list_parse("0.0.0.0/0", &l, NULL), 0);
	ck_assert(cidr_list_match_str(&l, "255.255.255.255"));
	ck_assert(!cidr_list_match_str(&l, "::1"));
	cidr_list_fini(&l);
}
END_TEST

START_TEST(match_every_prefix_length)
{
	/* "::/n" and "0.0.0.0/n" contain an address whose only set bit is bit b iff b >= n */
	for (unsigned n = 0; n <= 128; n++) {
		char text[64];
		struct cidr_list l;
		snprintf(text, sizeof(text), "::/%u", n);
		ck_assert_int_eq(cidr_list_parse(text, &l, NULL), 0);
		for (unsigned bit = 0; bit < 128; bit++) {
			struct sockaddr_in6 sin6;
			memset(&sin6, 0, sizeof(sin6));
			sin6.sin6_family = AF_INET6;
			sin6.sin6_addr.s6_addr[bit / 8] = (unsigned char)(0x80u >> (bit % 8));
			ck_assert_int_eq(cidr_list_match(&l, (struct sockaddr *)&sin6), bit >= n);
		}
		cidr_list_fini(&l);
	}
	for (unsigned n = 0; n <= 32; n++) {
		char text[64];
		struct cidr_list l;
		snprintf(text, sizeof(text), "0.0.0.0/%u", n);
		ck_assert_int_eq(cidr_list_parse(text, &l, NULL), 0);
		for (unsigned bit = 0; bit < 32; bit++) {
			struct sockaddr_in sin;
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			sin.sin_addr.s_addr = htonl(0x80000000u >> bit);
			ck_assert_int_eq(cidr_list_match(&l, (struct sockaddr *)&sin), bit >= n);
		}
		cidr_list_fini(&l);
	}
}
END_TEST

START_TEST(format_truncates)
{
	struct cidr c;
	char out[8];

	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &c), 0);
	cidr_format(&c, out, sizeof(out));
	ck_assert_str_eq(out, "192.0.2");
}
END_TEST

CHECK_MAIN("cidr", parse_good, parse_bad, list_parse, match_v4_v6_mapped, match_every_prefix_length,
           format_truncates)
