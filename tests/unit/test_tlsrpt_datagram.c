/* Unit tests for tlsrpt/datagram (and the names of tlsrpt/event.c): the datagrams libtlsrpt
 * 0.5.1 sent on this machine, byte for byte (the fuzz seeds
 * tests/fuzz/corpus/tlsrpt_datagram/captured-* are the same bytes); every result code; the
 * unfinished-policy code; no-policy-found; string escapes and UTF-8; the limits of the
 * event; and malformed input, each refused with -EINVAL and one line of text. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "datagram.h"

/* The captured datagrams, as libtlsrpt wrote them (no trailing newline). */
static const char cap_d1_ok[] =
        "{\"dpv\": \"1\",\"d\": \"d1.test\",\"pr\": \"v=TLSRPTv1; rua=mailto:tlsrpt@d1.test\","
        "\"policies\":[{\"policy-type\":2,\"policy-domain\": \"d1.test\",\"policy-string\":"
        "[\"version: STSv1\",\"mode: enforce\",\"mx: mx1.d1.test\",\"max_age: 86400\"],"
        "\"mx-host\":[\"mx1.d1.test\"],\"t\":0,\"f\":0}]}";
static const char cap_d1_fail[] =
        "{\"dpv\": \"1\",\"d\": \"d1.test\",\"pr\": \"v=TLSRPTv1; rua=mailto:tlsrpt@d1.test\","
        "\"policies\":[{\"policy-type\":2,\"policy-domain\": \"d1.test\",\"policy-string\":"
        "[\"version: STSv1\",\"mode: enforce\",\"mx: mx1.d1.test\",\"max_age: 86400\"],"
        "\"mx-host\":[\"mx1.d1.test\"],\"failure-details\":[{\"c\":204,\"s\": \"127.0.0.1\","
        "\"n\": \"mx1.d1.test\",\"h\": \"mx1.d1.test\",\"r\": \"127.0.18.25\",\"f\": "
        "\"certificate has expired\"}],\"t\":1,\"f\":1}]}";
static const char cap_d2_none[] =
        "{\"dpv\": \"1\",\"d\": \"d2.test\",\"pr\": "
        "\"v=TLSRPTv1;rua=mailto:a@d2.test,https://rpt.d2.test/v1\",\"policies\":"
        "[{\"policy-type\":9,\"t\":0,\"f\":0}]}";
static const char cap_d3_tlsa[] =
        "{\"dpv\": \"1\",\"d\": \"d3.test\",\"pr\": \"v=TLSRPTv1; rua=mailto:r@d3.test\","
        "\"policies\":[{\"policy-type\":1,\"policy-domain\": \"d3.test\",\"policy-string\":"
        "[\"3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\"],"
        "\"failure-details\":[{\"c\":304,\"s\": \"127.0.0.1\",\"n\": \"mx1.d3.test\",\"r\": "
        "\"127.0.18.26\",\"a\": \"all-TLSA-records-unusable\"}],\"t\":1,\"f\":1}]}";

static struct tlsrpt_datagram_buf scratch;
static struct tlsrpt_event ev;
static struct buf err;

static void setup(void)
{
	tlsrpt_datagram_buf_init(&scratch);
	buf_init(&err);
}

static void teardown(void)
{
	tlsrpt_datagram_buf_fini(&scratch);
	buf_fini(&err);
}

/* parse() - parse the C string @s; on failure @err holds exactly one line. */
static int parse(const char *s)
{
	buf_reset(&err);
	int r = tlsrpt_datagram_parse(s, strlen(s), 1700000000, &scratch, &ev, &err);
	if (r == 0)
		ck_assert_uint_eq(err.len, 0);
	else
		ck_assert_msg(err.len > 0 && !strchr(buf_cstr(&err), '\n'), "one line: '%s'",
		              buf_cstr(&err));
	return r;
}

/* parsef() - parse a datagram built with printf. */
static int parsef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int parsef(const char *fmt, ...)
{
	static char text[65536];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ck_assert_int_lt(k, (int)sizeof(text));
	return parse(text);
}

/* A one-policy STS datagram around a policy body (the members inside {...}). */
#define POLICY(body)                                                                               \
	"{\"dpv\":\"1\",\"d\":\"x.test\",\"pr\":\"v=TLSRPTv1\",\"policies\":[{" body "}]}"

START_TEST(captured_sts_success)
{
	ck_assert_int_eq(parse(cap_d1_ok), 0);
	ck_assert_int_eq(ev.time, 1700000000);
	ck_assert_str_eq(ev.domain, "d1.test");
	ck_assert_str_eq(ev.tlsrpt, "v=TLSRPTv1; rua=mailto:tlsrpt@d1.test");
	ck_assert_uint_eq(ev.n_policies, 1);
	const struct tlsrpt_policy *p = &ev.policies[0];
	ck_assert_int_eq(p->type, TLSRPT_POLICY_STS);
	ck_assert_str_eq(p->domain, "d1.test");
	ck_assert_uint_eq(p->n_strings, 4);
	ck_assert_str_eq(p->strings[0], "version: STSv1");
	ck_assert_str_eq(p->strings[1], "mode: enforce");
	ck_assert_str_eq(p->strings[2], "mx: mx1.d1.test");
	ck_assert_str_eq(p->strings[3], "max_age: 86400");
	ck_assert_uint_eq(p->n_mx, 1);
	ck_assert_str_eq(p->mx[0], "mx1.d1.test");
	ck_assert(p->success);
	ck_assert_uint_eq(p->n_details, 0);
	/* the strings live in the scratch */
	ck_assert(ev.domain >= scratch.data && ev.domain < scratch.data + scratch.cap);
}
END_TEST

START_TEST(captured_sts_failure)
{
	ck_assert_int_eq(parse(cap_d1_fail), 0);
	ck_assert_uint_eq(ev.n_policies, 1);
	const struct tlsrpt_policy *p = &ev.policies[0];
	ck_assert(!p->success);
	ck_assert_uint_eq(p->n_details, 1);
	const struct tlsrpt_detail *d = &p->details[0];
	ck_assert_int_eq(d->result, TLSRPT_CERTIFICATE_EXPIRED);
	ck_assert_str_eq(tlsrpt_result_name(d->result), "certificate-expired");
	ck_assert_str_eq(d->sending_ip, "127.0.0.1");
	ck_assert_str_eq(d->mx_host, "mx1.d1.test");
	ck_assert_str_eq(d->mx_helo, "mx1.d1.test");
	ck_assert_str_eq(d->receiving_ip, "127.0.18.25");
	ck_assert_str_eq(d->reason, "certificate has expired");
	ck_assert_ptr_null(d->additional);
}
END_TEST

START_TEST(captured_no_policy_found)
{
	ck_assert_int_eq(parse(cap_d2_none), 0);
	ck_assert_str_eq(ev.domain, "d2.test");
	ck_assert_str_eq(ev.tlsrpt, "v=TLSRPTv1;rua=mailto:a@d2.test,https://rpt.d2.test/v1");
	ck_assert_uint_eq(ev.n_policies, 1);
	const struct tlsrpt_policy *p = &ev.policies[0];
	ck_assert_int_eq(p->type, TLSRPT_POLICY_NONE);
	ck_assert_str_eq(tlsrpt_policy_type_name(p->type), "no-policy-found");
	ck_assert_ptr_null(p->domain);
	ck_assert_uint_eq(p->n_strings, 0);
	ck_assert_uint_eq(p->n_mx, 0);
	ck_assert(p->success);
}
END_TEST

START_TEST(captured_tlsa_failure)
{
	ck_assert_int_eq(parse(cap_d3_tlsa), 0);
	const struct tlsrpt_policy *p = &ev.policies[0];
	ck_assert_int_eq(p->type, TLSRPT_POLICY_TLSA);
	ck_assert_uint_eq(p->n_strings, 1);
	ck_assert_str_eq(p->strings[0],
	                 "3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF");
	ck_assert(!p->success);
	ck_assert_uint_eq(p->n_details, 1);
	ck_assert_int_eq(p->details[0].result, TLSRPT_TLSA_INVALID);
	ck_assert_str_eq(p->details[0].additional, "all-TLSA-records-unusable");
	ck_assert_ptr_null(p->details[0].mx_helo);
	ck_assert_ptr_null(p->details[0].reason);
}
END_TEST

/* Strings of one parse stay valid while the scratch is not reused; the next parse reuses it. */
START_TEST(scratch_reuse)
{
	ck_assert_int_eq(parse(cap_d1_fail), 0);
	ck_assert_str_eq(ev.policies[0].details[0].reason, "certificate has expired");
	ck_assert_int_eq(parse(cap_d2_none), 0);
	ck_assert_str_eq(ev.domain, "d2.test");
	ck_assert_int_eq(parse(cap_d1_ok), 0);
	ck_assert_str_eq(ev.domain, "d1.test");
}
END_TEST

START_TEST(every_result_code)
{
	static const struct {
		int code;
		const char *name;
	} codes[] = {
		{ 201, "starttls-not-supported" },
		{ 202, "certificate-host-mismatch" },
		{ 203, "certificate-not-trusted" },
		{ 204, "certificate-expired" },
		{ 205, "validation-failure" },
		{ 301, "sts-policy-fetch-error" },
		{ 302, "sts-policy-invalid" },
		{ 303, "sts-webpki-invalid" },
		{ 304, "tlsa-invalid" },
		{ 305, "dnssec-invalid" },
		{ 306, "dane-required" },
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		ck_assert_int_eq(parsef(POLICY("\"policy-type\":2,\"failure-details\":[{\"c\":%d}],"
		                               "\"t\":1,\"f\":1"),
		                        codes[i].code),
		                 0);
		ck_assert_uint_eq(ev.policies[0].n_details, 1);
		ck_assert_int_eq(ev.policies[0].details[0].result, codes[i].code);
		ck_assert_str_eq(tlsrpt_result_name(codes[i].code), codes[i].name);
		ck_assert_ptr_null(ev.policies[0].details[0].sending_ip);
	}
	static const int bad[] = { 0, 1, 200, 206, 300, 307, 900, 902, -204, 1204 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(parsef(POLICY("\"policy-type\":2,\"failure-details\":[{\"c\":%d}],"
		                               "\"t\":1,\"f\":1"),
		                        bad[i]),
		                 -EINVAL);
		ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "unknown result code"));
		ck_assert_ptr_null(tlsrpt_result_name(bad[i]));
	}
}
END_TEST

/* 901: a policy the MTA never finished. It counts as failed; the detail is not kept. */
START_TEST(unfinished_policy)
{
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"failure-details\":[{\"c\":901}],"
	                              "\"t\":1,\"f\":1")),
	                 0);
	ck_assert(!ev.policies[0].success);
	ck_assert_uint_eq(ev.policies[0].n_details, 0);
	/* even with f 0 */
	ck_assert_int_eq(parse(POLICY("\"policy-type\":1,\"failure-details\":[{\"c\":205},"
	                              "{\"c\":901}],\"t\":2,\"f\":0")),
	                 0);
	ck_assert(!ev.policies[0].success);
	ck_assert_uint_eq(ev.policies[0].n_details, 1);
	ck_assert_int_eq(ev.policies[0].details[0].result, TLSRPT_VALIDATION_FAILURE);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(tlsrpt_policy_type_name(1), "tlsa");
	ck_assert_str_eq(tlsrpt_policy_type_name(2), "sts");
	ck_assert_str_eq(tlsrpt_policy_type_name(9), "no-policy-found");
	ck_assert_ptr_null(tlsrpt_policy_type_name(0));
	ck_assert_ptr_null(tlsrpt_policy_type_name(3));
	ck_assert_ptr_null(tlsrpt_result_name(901));
}
END_TEST

START_TEST(escapes)
{
	ck_assert_int_eq(parse("{\"d\":\"x.test\",\"pr\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\","
	                       "\"policies\":[{\"policy-type\":9,\"f\":0}]}"),
	                 0);
	ck_assert_str_eq(ev.tlsrpt, "a\"b\\c/d\be\ff\ng\rh\ti");
	/* \u: one, two and three bytes of UTF-8, a surrogate pair (four), raw UTF-8 kept */
	ck_assert_int_eq(parse("{\"d\":\"x.test\",\"pr\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00"
	                       "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
	                       "\"policies\":[{\"policy-type\":9,\"f\":0}]}"),
	                 0);
	ck_assert_str_eq(ev.tlsrpt, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9\xe2\x82\xac"
	                            "\xf0\x9f\x98\x80");
	ck_assert_int_eq(parse("{\"d\":\"x.test\",\"pr\":\"\",\"policies\":[{\"policy-type\":9,"
	                       "\"f\":0}]}"),
	                 0);
	ck_assert_str_eq(ev.tlsrpt, "");

	static const char *const bad[] = {
		"\\ud83d",          /* high surrogate alone */
		"\\ud83dx",         /* ... followed by a plain byte */
		"\\ud83d\\u0041",   /* ... followed by a non-surrogate */
		"\\ud83d\\ud83d",   /* ... followed by another high one */
		"\\ude00",          /* low surrogate alone */
		"\\u0000",          /* NUL */
		"\\u12",            /* short */
		"\\u12g4",          /* not hex */
		"\\x41",            /* unknown escape */
		"\\'",              /* not a JSON escape */
		"a\tb",             /* raw control character */
		"a\nb",             /* raw newline */
		"\xc0\x80",         /* overlong NUL */
		"\xc1\xbf",         /* overlong */
		"\xe0\x80\xaf",     /* overlong */
		"\xed\xa0\x80",     /* a surrogate in UTF-8 */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xf5\x80\x80\x80", /* no such lead byte */
		"\x80",             /* a continuation byte alone */
		"\xc3",             /* cut short (the quote follows) */
		"\xe2\x82",         /* cut short */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(
		        parsef("{\"d\":\"x.test\",\"pr\":\"%s\",\"policies\":[{\"policy-type\":9,"
		               "\"f\":0}]}",
		               bad[i]) == -EINVAL,
		        "accepted bad string %zu", i);
	/* a NUL byte in the datagram itself */
	static const char nul[] = "{\"d\":\"x.te\0st\",\"policies\":[{\"policy-type\":9,\"f\":0}]}";
	buf_reset(&err);
	ck_assert_int_eq(tlsrpt_datagram_parse(nul, sizeof(nul) - 1, 0, &scratch, &ev, &err),
	                 -EINVAL);
}
END_TEST

START_TEST(domains)
{
	ck_assert_int_eq(parse("{\"d\":\"MX.Example.TEST.\",\"policies\":[{\"policy-type\":2,"
	                       "\"policy-domain\":\"Example.TEST\",\"f\":0}]}"),
	                 0);
	ck_assert_str_eq(ev.domain, "mx.example.test");
	ck_assert_str_eq(ev.policies[0].domain, "example.test");
	ck_assert_ptr_null(ev.tlsrpt);
	/* escaped letters are lower-cased too; U-labels kept */
	ck_assert_int_eq(
	        parse("{\"d\":\"\\u0058.test\",\"policies\":[{\"policy-type\":9,\"f\":0}]}"), 0);
	ck_assert_str_eq(ev.domain, "x.test");
	ck_assert_int_eq(parse("{\"d\":\"b\xc3\xbc"
	                       "cher.test\",\"policies\":[{\"policy-type\":9,"
	                       "\"f\":0}]}"),
	                 0);
	ck_assert_str_eq(ev.domain, "b\xc3\xbc"
	                            "cher.test");
	static const char *const bad[] = { "",         ".",         "..",       ".x.test",
		                           "x.test..", "x..test",   "a b.test", "a/b",
		                           "a:b",      "a\\u0001b", "x@test" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parsef("{\"d\":\"%s\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
		                     bad[i]) == -EINVAL,
		              "accepted domain %s", bad[i]);
		ck_assert_msg(parsef("{\"d\":\"x.test\",\"policies\":[{\"policy-type\":2,"
		                     "\"policy-domain\":\"%s\",\"f\":0}]}",
		                     bad[i]) == -EINVAL,
		              "accepted policy-domain %s", bad[i]);
	}
	char longname[300];
	memset(longname, 'a', 255);
	longname[255] = '\0';
	ck_assert_int_eq(
	        parsef("{\"d\":\"%s\",\"policies\":[{\"policy-type\":9,\"f\":0}]}", longname), 0);
	longname[255] = 'a';
	longname[256] = '\0';
	ck_assert_int_eq(
	        parsef("{\"d\":\"%s\",\"policies\":[{\"policy-type\":9,\"f\":0}]}", longname),
	        -EINVAL);
}
END_TEST

START_TEST(versions_and_required)
{
	/* no dpv: accepted */
	ck_assert_int_eq(parse("{\"d\":\"x.test\",\"pr\":\"p\",\"policies\":[{\"policy-type\":9,"
	                       "\"f\":0}]}"),
	                 0);
	ck_assert_int_eq(parse("{\"dpv\":\"2\",\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,"
	                       "\"f\":0}]}"),
	                 -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "unsupported datagram protocol version"));
	ck_assert_int_eq(parse("{\"dpv\":1,\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,"
	                       "\"f\":0}]}"),
	                 -EINVAL);
	ck_assert_int_eq(parse("{\"dpv\":\"\",\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,"
	                       "\"f\":0}]}"),
	                 -EINVAL);
	ck_assert_int_eq(parse("{\"pr\":\"p\",\"policies\":[{\"policy-type\":9,\"f\":0}]}"),
	                 -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "\"d\": missing"));
	ck_assert_int_eq(parse("{\"d\":\"x.test\",\"pr\":\"p\"}"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "\"policies\": missing"));
	ck_assert_int_eq(parse("{\"d\":\"x.test\",\"policies\":[]}"), -EINVAL);
	ck_assert_int_eq(parse("{\"d\":\"x.test\",\"policies\":{}}"), -EINVAL);
	ck_assert_int_eq(parse("{\"d\":1,\"policies\":[{\"policy-type\":9,\"f\":0}]}"), -EINVAL);
	ck_assert_int_eq(parse("{\"d\":null,\"policies\":[{\"policy-type\":9,\"f\":0}]}"), -EINVAL);
	/* a policy needs its type and final result */
	ck_assert_int_eq(parse(POLICY("\"f\":0")), -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2")), -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":3,\"f\":0")), -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "unknown policy type"));
	ck_assert_int_eq(parse(POLICY("\"policy-type\":0,\"f\":0")), -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":\"2\",\"f\":0")), -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"f\":2")), -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"f\":-1")), -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"f\":true")), -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"t\":-1,\"f\":0")), -EINVAL);
	/* a detail needs its code; its strings must be strings */
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"failure-details\":[{\"s\":\"a\"}],"
	                              "\"f\":1")),
	                 -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"failure-details\":[{\"c\":205,"
	                              "\"s\":1}],\"f\":1")),
	                 -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"failure-details\":[205],\"f\":1")),
	                 -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"policy-string\":[1],\"f\":1")), -EINVAL);
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"mx-host\":\"a\",\"f\":1")), -EINVAL);
}
END_TEST

START_TEST(numbers)
{
	ck_assert_int_eq(parse(POLICY("\"policy-type\": 2 ,\"t\":  0,\"f\":0 ")), 0);
	static const char *const bad[] = { "02",  "2.0", "2e0",
		                           "2E0", "-",   "+2",
		                           "0x2", "2a",  "1234567890123456" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parsef(POLICY("\"policy-type\":%s,\"f\":0"), bad[i]) == -EINVAL,
		              "accepted number %s", bad[i]);
}
END_TEST

/* n copies of @item separated by commas into @out. */
static void repeat(char *out, size_t outsz, const char *item, int n)
{
	size_t k = 0;
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		k += (size_t)snprintf(out + k, outsz - k, "%s%s", i ? "," : "", item);
	ck_assert_uint_lt(k, outsz);
}

START_TEST(limits)
{
	static char list[32768];
	static const char pol9[] = "{\"policy-type\":9,\"f\":0}";

	repeat(list, sizeof(list), pol9, TLSRPT_POLICIES_MAX);
	ck_assert_int_eq(parsef("{\"d\":\"x.test\",\"policies\":[%s]}", list), 0);
	ck_assert_uint_eq(ev.n_policies, TLSRPT_POLICIES_MAX);
	repeat(list, sizeof(list), pol9, TLSRPT_POLICIES_MAX + 1);
	ck_assert_int_eq(parsef("{\"d\":\"x.test\",\"policies\":[%s]}", list), -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "more entries than the collector keeps"));

	repeat(list, sizeof(list), "\"mx: *.x.test\"", TLSRPT_POLICY_STRINGS_MAX);
	ck_assert_int_eq(parsef(POLICY("\"policy-type\":2,\"policy-string\":[%s],\"f\":0"), list),
	                 0);
	ck_assert_uint_eq(ev.policies[0].n_strings, TLSRPT_POLICY_STRINGS_MAX);
	repeat(list, sizeof(list), "\"mx: *.x.test\"", TLSRPT_POLICY_STRINGS_MAX + 1);
	ck_assert_int_eq(parsef(POLICY("\"policy-type\":2,\"policy-string\":[%s],\"f\":0"), list),
	                 -EINVAL);

	repeat(list, sizeof(list), "\"mx.x.test\"", TLSRPT_MX_HOSTS_MAX);
	ck_assert_int_eq(parsef(POLICY("\"policy-type\":2,\"mx-host\":[%s],\"f\":0"), list), 0);
	ck_assert_uint_eq(ev.policies[0].n_mx, TLSRPT_MX_HOSTS_MAX);
	repeat(list, sizeof(list), "\"mx.x.test\"", TLSRPT_MX_HOSTS_MAX + 1);
	ck_assert_int_eq(parsef(POLICY("\"policy-type\":2,\"mx-host\":[%s],\"f\":0"), list),
	                 -EINVAL);

	repeat(list, sizeof(list), "{\"c\":202,\"n\":\"mx.x.test\"}", TLSRPT_DETAILS_MAX);
	ck_assert_int_eq(parsef(POLICY("\"policy-type\":2,\"failure-details\":[%s],\"f\":1"), list),
	                 0);
	ck_assert_uint_eq(ev.policies[0].n_details, TLSRPT_DETAILS_MAX);
	repeat(list, sizeof(list), "{\"c\":202,\"n\":\"mx.x.test\"}", TLSRPT_DETAILS_MAX + 1);
	ck_assert_int_eq(parsef(POLICY("\"policy-type\":2,\"failure-details\":[%s],\"f\":1"), list),
	                 -EINVAL);
	/* empty arrays are fine */
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"policy-string\":[],\"mx-host\":[],"
	                              "\"failure-details\":[],\"t\":0,\"f\":0")),
	                 0);
}
END_TEST

START_TEST(structure)
{
	static const char *const bad[] = {
		"",
		"   ",
		"[]",
		"\"x\"",
		"1",
		"null",
		"{",
		"{}",
		"{\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0}]",
		"{\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0}]} x",
		"{\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0}]}{}",
		"{\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0}]},",
		"{\"d\":\"x.test\",,\"policies\":[{\"policy-type\":9,\"f\":0}]}",
		"{\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0},]}",
		"{\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0,}]}",
		"{\"d\" \"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
		"{d:\"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
		"{'d':'x.test','policies':[{'policy-type':9,'f':0}]}",
		"{\"d\":\"x.test\",\"d\":\"y.test\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
		"{\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"policy-type\":9,\"f\":0}]}",
		"{\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0}],\"policies\":[]}",
		"{\"d\":\"x.test\",\"policies\":[{\"policy-type\":2,\"failure-details\":[{\"c\":"
		"205,"
		"\"c\":205}],\"f\":1}]}",
		"\xef\xbb\xbf{\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i]) == -EINVAL, "accepted case %zu", i);
	/* white space around and inside is fine */
	ck_assert_int_eq(
	        parse(" \r\n\t{ \"d\" : \"x.test\" , \"policies\" : [ { \"policy-type\" : 9 "
	              ", \"f\" : 0 } ] } \n"),
	        0);
}
END_TEST

/* Members the format does not have are skipped (nested, any JSON type), to a depth. */
START_TEST(unknown_members)
{
	ck_assert_int_eq(parse("{\"x\":{\"a\":[1,-2.5e+3,true,false,null,\"s\",{}],\"b\":[]},"
	                       "\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,\"new\":[[]],"
	                       "\"failure-details\":[],\"f\":0}],\"y\":0}"),
	                 0);
	ck_assert_str_eq(ev.domain, "x.test");
	ck_assert_int_eq(parse(POLICY("\"policy-type\":2,\"failure-details\":[{\"c\":202,"
	                              "\"z\":{\"q\":1}}],\"f\":1")),
	                 0);
	ck_assert_int_eq(ev.policies[0].details[0].result, TLSRPT_CERTIFICATE_HOST_MISMATCH);
	/* bad values in a skipped member are still errors */
	static const char *const bad[] = { "tru",  "nul",     "1.",         "1e",      "-",
		                           "[1,]", "{\"a\"}", "{\"a\":1,}", "\"\\q\"", "01x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parsef("{\"x\":%s,\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,"
		                     "\"f\":0}]}",
		                     bad[i]) == -EINVAL,
		              "accepted skipped value %s", bad[i]);
	static char deep[256];
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	deep[80] = '\0';
	ck_assert_int_eq(parsef("{\"x\":%s,\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,"
	                        "\"f\":0}]}",
	                        deep),
	                 -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "nested too deep"));
	memset(deep, '[', 10);
	memset(deep + 10, ']', 10);
	deep[20] = '\0';
	ck_assert_int_eq(parsef("{\"x\":%s,\"d\":\"x.test\",\"policies\":[{\"policy-type\":9,"
	                        "\"f\":0}]}",
	                        deep),
	                 0);
}
END_TEST

/* Every proper prefix of a real datagram is refused (a cut-short datagram never parses),
 * and never read past: the buffer handed over is exactly the prefix. */
START_TEST(prefixes)
{
	const char *const all[] = { cap_d1_ok, cap_d1_fail, cap_d2_none, cap_d3_tlsa };
	for (size_t k = 0; k < 4; k++) {
		size_t n = strlen(all[k]);
		for (size_t i = 0; i < n; i++) {
			char *copy = malloc(i ? i : 1);
			memcpy(copy, all[k], i);
			buf_reset(&err);
			ck_assert_msg(tlsrpt_datagram_parse(copy, i, 0, &scratch, &ev, &err) ==
			                      -EINVAL,
			              "datagram %zu: prefix of %zu bytes accepted", k, i);
			free(copy);
		}
	}
}
END_TEST

/* The error text names the problem and the byte, never the datagram's content. */
START_TEST(error_text)
{
	ck_assert_int_eq(parse("{\"d\":\"x.test\",\"policies\":[{\"policy-type\":7,\"f\":0}]}"),
	                 -EINVAL);
	ck_assert_str_eq(buf_cstr(&err),
	                 "tlsrpt datagram: \"policy-type\": unknown policy type at byte 42");
	buf_reset(&err);
	buf_puts(&err, "before");
	ck_assert_int_eq(tlsrpt_datagram_parse("{\"secret\"", 9, 0, &scratch, &ev, &err), -EINVAL);
	ck_assert_ptr_null(strstr(buf_cstr(&err), "secret"));
	ck_assert_int_eq(strncmp(buf_cstr(&err), "before\n", 7), 0);
	ck_assert_int_eq(
	        tlsrpt_datagram_parse(cap_d2_none, strlen(cap_d2_none), 0, &scratch, &ev, NULL), 0);
	ck_assert_int_eq(tlsrpt_datagram_parse("x", 1, 0, &scratch, &ev, NULL), -EINVAL);
}
END_TEST

static void add_fixture(TCase *tc)
{
	tcase_add_checked_fixture(tc, setup, teardown);
}

int main(void)
{
	Suite *s = suite_create("tlsrpt_datagram");
	TCase *tc = tcase_create("main");
	const TTest *const tests[] = {
		captured_sts_success,
		captured_sts_failure,
		captured_no_policy_found,
		captured_tlsa_failure,
		scratch_reuse,
		every_result_code,
		unfinished_policy,
		names,
		escapes,
		domains,
		versions_and_required,
		numbers,
		limits,
		structure,
		unknown_members,
		prefixes,
		error_text,
	};
	add_fixture(tc);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		tcase_add_test(tc, tests[i]);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
