/* test_tlsrpt_rua: the _smtp._tls TXT record into report endpoints (tlsrpt/rua.c, RFC 8460
 * section 3): the RFC's examples; blanks around ";" and ","; several URIs kept in order,
 * duplicates dropped; percent-encoded commas and semicolons in mailto (a decoded comma
 * separates addresses; a ?query dropped); other schemes skipped and counted; records that
 * do not start with v=TLSRPTv1; discarded; none or several TLSRPTv1 records: no reports;
 * malformed records (no rua, rua twice, an empty URI, a field without "=", a NUL byte);
 * addresses that a command line or a header could misread are not taken.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "rua.h"

static struct tlsrpt_rua_list L;
static struct buf E;

/* Parse the records of @recs (NULL-terminated). */
static int parse(const char *const *recs)
{
	size_t len[16], n = 0;
	while (recs[n]) {
		len[n] = strlen(recs[n]);
		n++;
	}
	tlsrpt_rua_list_free(&L);
	buf_fini(&E);
	buf_init(&E);
	int rc = tlsrpt_rua_parse(recs, len, n, &L, &E);
	if (rc == 0)
		ck_assert_uint_eq(E.len, 0);
	else
		ck_assert_uint_gt(E.len, 0);
	return rc;
}

static int parse1(const char *rec)
{
	const char *r[] = { rec, NULL };
	return parse(r);
}

static void is(size_t i, enum tlsrpt_rua_kind k, const char *target)
{
	ck_assert_uint_gt(L.n, i);
	ck_assert_int_eq(L.v[i].kind, k);
	ck_assert_str_eq(L.v[i].target, target);
}

START_TEST(test_rfc_examples)
{
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=mailto:reports@example.com"), 0);
	ck_assert_uint_eq(L.n, 1);
	is(0, TLSRPT_RUA_MAILTO, "reports@example.com");
	ck_assert_int_eq(parse1("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt"), 0);
	is(0, TLSRPT_RUA_HTTPS, "https://reporting.example.com/v1/tlsrpt");
	ck_assert_int_eq(
	        parse1("v=TLSRPTv1 ; rua = mailto:a@example.com , https://r.example.com/x?y=1 ;"),
	        -EINVAL); /* "rua " is no ext-name */
	ck_assert_int_eq(
	        parse1("v=TLSRPTv1 ; rua=mailto:a@example.com ,\thttps://r.example.com/x?y=1 ;"),
	        0);
	ck_assert_uint_eq(L.n, 2);
	is(0, TLSRPT_RUA_MAILTO, "a@example.com");
	is(1, TLSRPT_RUA_HTTPS, "https://r.example.com/x?y=1");
	ck_assert_uint_eq(L.skipped, 0);
}
END_TEST

START_TEST(test_order_duplicates_extensions)
{
	ck_assert_int_eq(parse1("v=TLSRPTv1;foo=bar;rua=mailto:b@x.test,mailto:a@x.test,"
	                        "mailto:b@x.test;ext.1=%41;"),
	                 0);
	ck_assert_uint_eq(L.n, 2);
	is(0, TLSRPT_RUA_MAILTO, "b@x.test");
	is(1, TLSRPT_RUA_MAILTO, "a@x.test");
	ck_assert_int_eq(parse1("v=TLSRPTv1;;rua=MAILTO:a@x.test"), 0); /* scheme: any case */
	is(0, TLSRPT_RUA_MAILTO, "a@x.test");
}
END_TEST

START_TEST(test_percent_encoding)
{
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=mailto:a@x.test%2Cb@y.test,mailto:c%2Bd@z.test"),
	                 0);
	ck_assert_uint_eq(L.n, 3);
	is(0, TLSRPT_RUA_MAILTO, "a@x.test");
	is(1, TLSRPT_RUA_MAILTO, "b@y.test");
	is(2, TLSRPT_RUA_MAILTO, "c+d@z.test");
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=mailto:a@x.test%3Bb@y.test"), -EINVAL);
	ck_assert_uint_eq(L.n, 0); /* a decoded ';' makes no address */
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=mailto:a@x.test?subject=hi,mailto:q@x.test%2"), 0);
	ck_assert_uint_eq(L.n, 1);
	is(0, TLSRPT_RUA_MAILTO, "a@x.test");
	ck_assert_uint_eq(L.skipped, 1); /* the broken escape */
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=mailto:a%20b@x.test"), -EINVAL); /* a blank */
}
END_TEST

START_TEST(test_schemes)
{
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=http://x.test/,ftp://x.test,mailto:a@x.test"), 0);
	ck_assert_uint_eq(L.n, 1);
	ck_assert_uint_eq(L.skipped, 2);
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=http://x.test/"), -EINVAL);
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=https:///path"), -EINVAL);
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=https://x.test/\x01"), -EINVAL);
}
END_TEST

START_TEST(test_selection)
{
	const char *other[] = { "v=spf1 -all", "v=TLSRPTv1;rua=mailto:a@x.test", "hello", NULL };
	ck_assert_int_eq(parse(other), 0);
	is(0, TLSRPT_RUA_MAILTO, "a@x.test");
	const char *two[] = { "v=TLSRPTv1;rua=mailto:a@x.test", "v=TLSRPTv1; rua=mailto:b@x.test",
		              NULL };
	ck_assert_int_eq(parse(two), 1);
	ck_assert_uint_eq(L.n, 0);
	const char *none[] = { "v=spf1 -all", NULL };
	ck_assert_int_eq(parse(none), 1);
	const char *empty[] = { NULL };
	ck_assert_int_eq(parse(empty), 1);
	ck_assert_int_eq(parse1("v=TLSRPTv1"), 1);                     /* no ";": discarded */
	ck_assert_int_eq(parse1("v=tlsrptv1;rua=mailto:a@x.test"), 1); /* %s: case-sensitive */
	ck_assert_int_eq(parse1("v=TLSRPTv10;rua=mailto:a@x.test"), 1);
	ck_assert_int_eq(parse1(" v=TLSRPTv1;rua=mailto:a@x.test"), 1);
}
END_TEST

START_TEST(test_malformed)
{
	ck_assert_int_eq(parse1("v=TLSRPTv1;"), -EINVAL);
	ck_assert_int_eq(parse1("v=TLSRPTv1;foo=1"), -EINVAL);
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=mailto:a@x.test;rua=mailto:b@x.test"), -EINVAL);
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=mailto:a@x.test,,mailto:b@x.test"), -EINVAL);
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua="), -EINVAL);
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=mailto:a@x.test;junk"), -EINVAL);
	ck_assert_int_eq(parse1("v=TLSRPTv1;_x=1;rua=mailto:a@x.test"), -EINVAL);
	const char rec[] = "v=TLSRPTv1;rua=mailto:a@x.test\0b";
	const char *r[] = { rec };
	size_t len = sizeof(rec) - 1;
	buf_reset(&E);
	ck_assert_int_eq(tlsrpt_rua_parse(r, &len, 1, &L, &E), -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&E), "NUL"));
}
END_TEST

START_TEST(test_addresses)
{
	const char *bad[] = { "mailto:-f@x.test",
		              "mailto:@x.test",
		              "mailto:a@",
		              "mailto:a",
		              "mailto:a@localhost",
		              "mailto:a@x.test.",
		              "mailto:\"a b\"@x.test",
		              "mailto:a<b>@x.test",
		              "mailto:a@x_y.test",
		              "mailto:.a@x.test",
		              "mailto:a.@x.test",
		              "mailto:a@-x.test",
		              NULL };
	for (size_t i = 0; bad[i]; i++) {
		char rec[256];
		snprintf(rec, sizeof(rec), "v=TLSRPTv1;rua=%s", bad[i]);
		ck_assert_msg(parse1(rec) == -EINVAL, "%s taken", bad[i]);
	}
	ck_assert_int_eq(parse1("v=TLSRPTv1;rua=mailto:tls.rpt+x_y@sub.Example-1.test"), 0);
	is(0, TLSRPT_RUA_MAILTO, "tls.rpt+x_y@sub.Example-1.test");
}
END_TEST

START_TEST(test_limit)
{
	char rec[4096] = "v=TLSRPTv1;rua=";
	for (int i = 0; i < TLSRPT_RUA_MAX + 3; i++)
		snprintf(rec + strlen(rec), sizeof(rec) - strlen(rec), "%smailto:r%d@x.test",
		         i ? "," : "", i);
	ck_assert_int_eq(parse1(rec), 0);
	ck_assert_uint_eq(L.n, TLSRPT_RUA_MAX);
	ck_assert_uint_eq(L.skipped, 3);
	tlsrpt_rua_list_free(&L);
	buf_fini(&E);
}
END_TEST

CHECK_MAIN("tlsrpt_rua", test_rfc_examples, test_order_duplicates_extensions, test_percent_encoding,
           test_schemes, test_selection, test_malformed, test_addresses, test_limit)
