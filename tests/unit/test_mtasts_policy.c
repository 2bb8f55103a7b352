/* test_mtasts_policy: policyd-mtasts/policy.c -- the _mta-sts TXT record (RFC 8461 3.1),
 * policy bodies (RFC 8461 3.2, its example policy), Content-Type, MX matching (RFC 8461
 * 4.1 examples). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "policy.h"

/* ---- helpers */

static int pick(const char *const *txt, size_t n, char id[STS_ID_MAX + 1], struct buf *err)
{
	size_t len[8];

	for (size_t i = 0; i < n; i++)
		len[i] = strlen(txt[i]);
	return sts_txt_pick(txt, len, n, id, err);
}

static int pick1(const char *txt, char id[STS_ID_MAX + 1])
{
	struct buf err;
	buf_init(&err);
	int rc = pick(&txt, 1, id, &err);
	if (rc < 0)
		ck_assert_msg(err.len > 0 && err.data[err.len - 1] == '\n', "no error line for %s",
		              txt);
	buf_fini(&err);
	return rc;
}

static int parse(const char *body, struct sts_policy *p, struct buf *err)
{
	return sts_policy_parse(body, strlen(body), p, err);
}

/* Parse @body expecting -EINVAL and an error containing @want. */
static void parse_bad(const char *body, size_t len, const char *want)
{
	struct sts_policy p;
	struct buf err;

	buf_init(&err);
	ck_assert_int_eq(sts_policy_parse(body, len, &p, &err), -EINVAL);
	ck_assert_msg(strstr(buf_cstr(&err), want), "error \"%s\" lacks \"%s\"", buf_cstr(&err),
	              want);
	ck_assert_uint_eq(p.n_mx, 0);
	ck_assert_ptr_null(p.text);
	buf_fini(&err);
}

static void parse_bad_s(const char *body, const char *want)
{
	parse_bad(body, strlen(body), want);
}

static void parse_ok(const char *body, struct sts_policy *p)
{
	struct buf err;

	buf_init(&err);
	ck_assert_msg(parse(body, p, &err) == 0, "parse failed: %s", buf_cstr(&err));
	ck_assert_uint_eq(err.len, 0);
	buf_fini(&err);
}

/* ---- TXT */

START_TEST(txt_rfc_example)
{
	char id[STS_ID_MAX + 1];

	ck_assert_int_eq(pick1("v=STSv1; id=20160831085700Z;", id), 0);
	ck_assert_str_eq(id, "20160831085700Z");
	ck_assert_int_eq(pick1("v=STSv1; id=20160831085700Z", id), 0);
	ck_assert_int_eq(pick1("v=STSv1;id=x", id), 0);
	ck_assert_str_eq(id, "x");
	ck_assert_int_eq(pick1("v=STSv1;\tid=abc\t;  ", id), 0);
	ck_assert_str_eq(id, "abc");
}
END_TEST

START_TEST(txt_extensions)
{
	char id[STS_ID_MAX + 1];

	ck_assert_int_eq(pick1("v=STSv1; ext-1.a_b=foo:bar; id=A1; x=y", id), 0);
	ck_assert_str_eq(id, "A1");
	ck_assert_int_eq(pick1("v=STSv1; id=A1; x=", id), -EINVAL); /* empty ext value */
	ck_assert_int_eq(pick1("v=STSv1; id=A1; x=a=b", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1; id=A1; -x=1", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1; id=A1; x", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1; id=A1; x=1 y=2", id), -EINVAL);
}
END_TEST

START_TEST(txt_id_rules)
{
	char id[STS_ID_MAX + 1];
	char buf[80];

	snprintf(buf, sizeof(buf), "v=STSv1; id=%s", "0123456789abcdefABCDEF0123456789");
	ck_assert_int_eq(pick1(buf, id), 0);
	ck_assert_uint_eq(strlen(id), 32);
	snprintf(buf, sizeof(buf), "v=STSv1; id=%s", "0123456789abcdefABCDEF01234567890");
	ck_assert_int_eq(pick1(buf, id), -EINVAL); /* 33 */
	ck_assert_int_eq(pick1("v=STSv1; id=", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1; id=2024-01-01", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1; id=a_b", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1; id=a; id=b", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1;", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1; x=1", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1; id=abc def", id), -EINVAL);
	ck_assert_int_eq(pick1("v=STSv1; ID=abc", id), -EINVAL); /* no id (ID= is an extension) */
}
END_TEST

START_TEST(txt_not_sts)
{
	char id[STS_ID_MAX + 1];
	struct buf err;
	const char *none[] = { "v=spf1 -all",    "v=STSv1 ; id=1", "V=STSv1; id=1",
		               " v=STSv1; id=1", "v=STSv2; id=1",  "v=STSv1" };

	buf_init(&err);
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		ck_assert_int_eq(pick(&none[i], 1, id, &err), 1);
	ck_assert_int_eq(pick(none, sizeof(none) / sizeof(none[0]), id, &err), 1);
	ck_assert_int_eq(pick(none, 0, id, &err), 1);
	ck_assert_uint_eq(err.len, 0);
	buf_fini(&err);
}
END_TEST

START_TEST(txt_mixed_and_several)
{
	char id[STS_ID_MAX + 1];
	struct buf err;
	const char *mixed[] = { "v=spf1 -all", "v=STSv1; id=good", "something else" };
	const char *two[] = { "v=STSv1; id=one", "v=spf1 -all", "v=STSv1; id=two" };
	const char *one_bad[] = { "v=STSv1; id=one", "v=STSv1; id=bad id" };

	buf_init(&err);
	ck_assert_int_eq(pick(mixed, 3, id, &err), 0);
	ck_assert_str_eq(id, "good");
	ck_assert_int_eq(pick(two, 3, id, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "2 TXT records"));
	buf_reset(&err);
	ck_assert_int_eq(pick(one_bad, 2, id, &err), -EINVAL);
	buf_fini(&err);
}
END_TEST

START_TEST(txt_nul_byte)
{
	char id[STS_ID_MAX + 1];
	struct buf err;
	const char rec[] = "v=STSv1; id=ab\0cd";
	const char *txt[] = { rec };
	size_t len[] = { sizeof(rec) - 1 };

	buf_init(&err);
	ck_assert_int_eq(sts_txt_pick(txt, len, 1, id, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "NUL"));
	/* the length is what counts, not a NUL terminator */
	len[0] = 14;
	ck_assert_int_eq(sts_txt_pick(txt, len, 1, id, &err), 0);
	ck_assert_str_eq(id, "ab");
	buf_fini(&err);
}
END_TEST

/* ---- policy */

static const char rfc_example[] = "version: STSv1\r\n"
                                  "mode: enforce\r\n"
                                  "mx: mail.example.com\r\n"
                                  "mx: *.example.net\r\n"
                                  "mx: backupmx.example.com\r\n"
                                  "max_age: 604800\r\n";

START_TEST(policy_rfc_example)
{
	struct sts_policy p;

	parse_ok(rfc_example, &p);
	ck_assert_int_eq(p.mode, STS_MODE_ENFORCE);
	ck_assert_uint_eq(p.max_age, 604800);
	ck_assert_uint_eq(p.n_mx, 3);
	ck_assert_str_eq(p.mx[0], "mail.example.com");
	ck_assert_str_eq(p.mx[1], "*.example.net");
	ck_assert_str_eq(p.mx[2], "backupmx.example.com");
	ck_assert_str_eq(p.text, "version: STSv1\nmode: enforce\nmx: mail.example.com\n"
	                         "mx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n");
	ck_assert_uint_eq(p.text_len, strlen(p.text));
	sts_policy_fini(&p);
	ck_assert_ptr_null(p.text);
	sts_policy_fini(&p); /* twice is fine */
}
END_TEST

START_TEST(policy_lf_crlf_mixed)
{
	struct sts_policy a, b, c;

	parse_ok("version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400", &a);
	parse_ok("version: STSv1\r\nmode: testing\r\nmx: mx.example.com\r\nmax_age: 86400\r\n", &b);
	parse_ok("version: STSv1\r\nmode: testing\nmx: mx.example.com\r\nmax_age: 86400\n", &c);
	ck_assert_int_eq(a.mode, STS_MODE_TESTING);
	ck_assert_str_eq(a.text, b.text);
	ck_assert_str_eq(a.text, c.text);
	sts_policy_fini(&a);
	sts_policy_fini(&b);
	sts_policy_fini(&c);
	parse_bad_s("version: STSv1\rmode: none\nmax_age: 1\n", "CR not followed by LF");
}
END_TEST

START_TEST(policy_whitespace)
{
	struct sts_policy p;

	/* no space after the colon, tabs and trailing whitespace, empty lines */
	parse_ok("version:STSv1 \t\nmode:\tenforce\r\n\nmx:   MX1.Example.COM  \r\n\r\n"
	         "max_age: 60\t\n\n",
	         &p);
	ck_assert_str_eq(p.mx[0], "mx1.example.com");
	ck_assert_uint_eq(p.max_age, 60);
	ck_assert_str_eq(p.text, "version:STSv1\nmode:\tenforce\nmx:   MX1.Example.COM\n"
	                         "max_age: 60\n");
	sts_policy_fini(&p);
	/* whitespace before the colon or at the start of a line is not the grammar */
	parse_bad_s("version : STSv1\nmode: none\nmax_age: 1\n", "line 1: not \"key: value\"");
	parse_bad_s(" version: STSv1\nmode: none\nmax_age: 1\n", "line 1");
	parse_bad_s("version: STSv1\nmode: enforce x\nmax_age: 1\nmx: a.b\n", "line 2: mode");
}
END_TEST

START_TEST(policy_max_age)
{
	struct sts_policy p;

	parse_ok("version: STSv1\nmode: none\nmax_age: 9999999999\n", &p);
	ck_assert_uint_eq(p.max_age, STS_MAX_AGE_MAX);
	ck_assert_uint_eq(p.n_mx, 0);
	sts_policy_fini(&p);
	parse_ok("version: STSv1\nmode: none\nmax_age: 31557600\n", &p);
	ck_assert_uint_eq(p.max_age, 31557600);
	sts_policy_fini(&p);
	parse_ok("version: STSv1\nmode: none\nmax_age: 31557601\n", &p);
	ck_assert_uint_eq(p.max_age, 31557600);
	sts_policy_fini(&p);
	parse_ok("version: STSv1\nmode: none\nmax_age: 0000000000\n", &p);
	ck_assert_uint_eq(p.max_age, 0);
	sts_policy_fini(&p);
	const char *bad[] = { "10000000000", "", "-1", "+1", "1e5", "12 34", "0x10" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char body[128];
		snprintf(body, sizeof(body), "version: STSv1\nmode: none\nmax_age: %s\n", bad[i]);
		parse_bad(body, strlen(body), "max_age");
	}
}
END_TEST

START_TEST(policy_duplicates_first_wins)
{
	struct sts_policy p;

	parse_ok("version: STSv1\nmode: enforce\nmode: none\nmax_age: 100\nmax_age: 5\n"
	         "version: STSv2\nmx: a.example\nmx: b.example\nmx: a.example\n",
	         &p);
	ck_assert_int_eq(p.mode, STS_MODE_ENFORCE);
	ck_assert_uint_eq(p.max_age, 100);
	ck_assert_uint_eq(p.n_mx, 3); /* mx repeats */
	sts_policy_fini(&p);
	/* a later duplicate is not even checked; a bad first one makes the policy invalid */
	parse_ok("version: STSv1\nmode: none\nmode: bogus\nmax_age: 1\nmax_age: x\n", &p);
	sts_policy_fini(&p);
	parse_bad_s("version: STSv1\nmode: bogus\nmode: none\nmax_age: 1\n", "line 2: mode");
}
END_TEST

START_TEST(policy_required)
{
	parse_bad_s("version: STSv1\nmode: enforce\nmax_age: 100\n", "mode enforce without mx");
	parse_bad_s("version: STSv1\nmode: testing\nmax_age: 100\n", "mode testing without mx");
	parse_bad_s("mode: none\nmax_age: 100\n", "no version line");
	parse_bad_s("version: STSv1\nmax_age: 100\nmx: a.b\n", "no mode line");
	parse_bad_s("version: STSv1\nmode: none\n", "no max_age line");
	parse_bad_s("", "no version line");
	parse_bad_s("\r\n\n", "no mode line");

	struct sts_policy p;
	parse_ok("version: STSv1\nmode: none\nmax_age: 1\n", &p); /* none needs no mx */
	ck_assert_int_eq(p.mode, STS_MODE_NONE);
	sts_policy_fini(&p);
	parse_ok("max_age: 1\nmx: x.example\nmode: testing\nversion: STSv1\n", &p); /* any order */
	sts_policy_fini(&p);
}
END_TEST

START_TEST(policy_bad_version_and_mode)
{
	const char *versions[] = { "STSv2", "stsv1", "STSv1;", "STSv1 x", "" };
	const char *modes[] = { "Enforce", "ENFORCE", "enforcing", "report", "" };
	char body[128];

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		snprintf(body, sizeof(body), "version: %s\nmode: none\nmax_age: 1\n", versions[i]);
		parse_bad(body, strlen(body), "version");
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(body, sizeof(body), "version: STSv1\nmode: %s\nmax_age: 1\n", modes[i]);
		parse_bad(body, strlen(body), "mode");
	}
	/* keys are case-sensitive: "Mode" is an extension, so mode is missing */
	parse_bad_s("version: STSv1\nMode: none\nmax_age: 1\n", "no mode line");
}
END_TEST

START_TEST(policy_mx_patterns)
{
	const char *good[] = { "mx.example.com",        "*.example.com", "a",
		               "xn--bcher-kva.example", "1.2.3.4",       "a-b.c-d.e" };
	const char *bad[] = { "*.",
		              "*",
		              "*example.com",
		              "a.*.example.com",
		              "**.example.com",
		              "mx.example.com.",
		              ".example.com",
		              "-a.example",
		              "a-.example",
		              "a..b",
		              "a_b.example",
		              "[1.2.3.4]",
		              "mx.example.com:25",
		              "*.*.example.com" };
	char body[512];
	struct sts_policy p;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(body, sizeof(body), "version: STSv1\nmode: enforce\nmax_age: 1\nmx: %s\n",
		         good[i]);
		parse_ok(body, &p);
		ck_assert_str_eq(p.mx[0], good[i]);
		sts_policy_fini(&p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "version: STSv1\nmode: enforce\nmax_age: 1\nmx: %s\n",
		         bad[i]);
		parse_bad(body, strlen(body), "line 4: mx");
	}
	/* 63-byte label ok, 64 not */
	char l63[64], l64[65];
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	snprintf(body, sizeof(body), "version: STSv1\nmode: enforce\nmax_age: 1\nmx: %s.ex\n", l63);
	parse_ok(body, &p);
	sts_policy_fini(&p);
	snprintf(body, sizeof(body), "version: STSv1\nmode: enforce\nmax_age: 1\nmx: %s.ex\n", l64);
	parse_bad(body, strlen(body), "mx");
}
END_TEST

START_TEST(policy_mx_limit)
{
	struct buf b;
	struct sts_policy p;

	buf_init(&b);
	buf_puts(&b, "version: STSv1\nmode: enforce\nmax_age: 1\n");
	for (int i = 0; i < STS_MX_MAX; i++)
		buf_printf(&b, "mx: mx%d.example.com\n", i);
	parse_ok(b.data, &p);
	ck_assert_uint_eq(p.n_mx, STS_MX_MAX);
	ck_assert_str_eq(p.mx[STS_MX_MAX - 1], "mx63.example.com");
	sts_policy_fini(&p);
	buf_puts(&b, "mx: one.too.many\nmx: two.too.many\n");
	parse_bad(b.data, b.len, "more than 64 mx lines");
	buf_fini(&b);
}
END_TEST

START_TEST(policy_extensions)
{
	struct sts_policy p;

	parse_ok("version: STSv1\nmode: enforce\nfoo: bar baz\nx_y-z.1: \nmax_age: 5\n"
	         "mx: a.example\nunicode: caf\xc3\xa9 \xe2\x82\xac\ntab: a\tb\n",
	         &p);
	ck_assert_uint_eq(p.n_mx, 1);
	ck_assert_ptr_nonnull(strstr(p.text, "foo: bar baz\n"));
	sts_policy_fini(&p);
	/* extension names follow the grammar; a line without a colon is invalid */
	parse_bad_s("version: STSv1\nmode: none\nmax_age: 1\n_x: 1\n", "line 4");
	parse_bad_s("version: STSv1\nmode: none\nmax_age: 1\nno colon here\n", "line 4");
	parse_bad_s("version: STSv1\nmode: none\nmax_age: 1\n"
	            "a23456789012345678901234567890123: 1\n",
	            "line 4");
}
END_TEST

START_TEST(policy_bytes)
{
	/* NUL anywhere */
	const char nul[] = "version: STSv1\nmode: none\nmax_age: 1\nx: a\0b\n";
	parse_bad(nul, sizeof(nul) - 1, "NUL");
	/* non-ASCII in a known field, malformed UTF-8 or control bytes in an extension */
	parse_bad_s("version: STSv1\nmode: enforce\nmax_age: 1\nmx: b\xc3\xbc.example\n",
	            "non-ASCII");
	parse_bad_s("version: STSv1\nmode: none\nmax_age: 1\nx: \xff\n", "UTF-8");
	parse_bad_s("version: STSv1\nmode: none\nmax_age: 1\nx: \xc3\n", "UTF-8");
	parse_bad_s("version: STSv1\nmode: none\nmax_age: 1\nx: a\x01z\n", "control");
	parse_bad_s("version: STSv1\nmode: none\nmax_age: 1\nx: a\x7fz\n", "control");
}
END_TEST

START_TEST(policy_size)
{
	struct buf b;
	struct sts_policy p;

	buf_init(&b);
	buf_puts(&b, "version: STSv1\nmode: none\nmax_age: 1\n");
	while (b.len < STS_POLICY_MAX - 10)
		buf_puts(&b, "x: y\n");
	while (b.len < STS_POLICY_MAX)
		buf_putc(&b, '\n');
	ck_assert_uint_eq(b.len, STS_POLICY_MAX);
	parse_ok(b.data, &p);
	sts_policy_fini(&p);
	buf_putc(&b, '\n');
	parse_bad(b.data, b.len, "more than 65536");
	buf_fini(&b);
}
END_TEST

START_TEST(policy_several_errors)
{
	struct sts_policy p;
	struct buf err;

	buf_init(&err);
	ck_assert_int_eq(parse("version: STSv9\nmode: strict\nmax_age: x\nmx: -\n", &p, &err),
	                 -EINVAL);
	/* one line per problem */
	size_t lines = 0;
	for (size_t i = 0; i < err.len; i++)
		lines += err.data[i] == '\n';
	ck_assert_uint_eq(lines, 4);
	ck_assert_ptr_nonnull(strstr(err.data, "policy line 1: version \"STSv9\" is not STSv1"));
	buf_fini(&err);
}
END_TEST

/* a policy of nothing but bad lines: the error text describes the first few and counts the
 * rest, so a hostile 64 KB policy cannot make a megabyte of text (kept in the cache, logged) */
START_TEST(policy_error_text_bounded)
{
	struct sts_policy p;
	struct buf body, err;

	buf_init(&body);
	buf_init(&err);
	while (body.len < STS_POLICY_MAX - 2)
		buf_puts(&body, "x\n");
	ck_assert_int_eq(sts_policy_parse(body.data, body.len, &p, &err), -EINVAL);
	ck_assert_uint_lt(err.len, 1024);
	ck_assert_ptr_nonnull(strstr(err.data, "policy line 1: not \"key: value\"\n"));
	ck_assert_ptr_nonnull(strstr(err.data, "policy line 8: not \"key: value\"\n"));
	ck_assert_ptr_null(strstr(err.data, "policy line 9:"));
	ck_assert_ptr_nonnull(strstr(err.data, "policy: 32759 more lines with errors\n"));
	ck_assert_ptr_nonnull(strstr(err.data, "policy: no version line\n"));
	buf_fini(&err);
	buf_fini(&body);
}
END_TEST

START_TEST(policy_copy_and_reparse)
{
	struct sts_policy p, q, r;

	parse_ok(rfc_example, &p);
	ck_assert_int_eq(sts_policy_copy(&q, &p), 0);
	sts_policy_fini(&p);
	ck_assert_uint_eq(q.n_mx, 3);
	ck_assert_str_eq(q.mx[1], "*.example.net");
	parse_ok(q.text, &r); /* the kept text parses to the same policy */
	ck_assert_int_eq(r.mode, q.mode);
	ck_assert_uint_eq(r.max_age, q.max_age);
	ck_assert_uint_eq(r.n_mx, q.n_mx);
	ck_assert_str_eq(r.text, q.text);
	sts_policy_fini(&q);
	sts_policy_fini(&r);
	/* a policy without text copies too */
	struct sts_policy bare = { .mode = STS_MODE_ENFORCE, .max_age = 3, .n_mx = 1 };
	char mx[] = "a.example";
	bare.mx[0] = mx;
	sts_policy_copy(&q, &bare);
	ck_assert_ptr_null(q.text);
	ck_assert_str_eq(q.mx[0], "a.example");
	sts_policy_fini(&q);
}
END_TEST

/* ---- Content-Type, matching, names */

START_TEST(content_type)
{
	ck_assert(sts_content_type_ok("text/plain"));
	ck_assert(sts_content_type_ok("TEXT/Plain"));
	ck_assert(sts_content_type_ok("text/plain; charset=utf-8"));
	ck_assert(sts_content_type_ok("  text/plain ;charset=\"us-ascii\""));
	ck_assert(sts_content_type_ok("text/plain \t"));
	ck_assert(!sts_content_type_ok(NULL));
	ck_assert(!sts_content_type_ok(""));
	ck_assert(!sts_content_type_ok("text/html"));
	ck_assert(!sts_content_type_ok("text/plainx"));
	ck_assert(!sts_content_type_ok("text/plain x"));
	ck_assert(!sts_content_type_ok("text/"));
	ck_assert(!sts_content_type_ok("application/octet-stream"));
}
END_TEST

START_TEST(mx_match_rfc)
{
	/* RFC 8461 4.1 */
	ck_assert(sts_mx_match("*.example.com", "mail.example.com"));
	ck_assert(!sts_mx_match("*.example.com", "example.com"));
	ck_assert(!sts_mx_match("*.example.com", "foo.bar.example.com"));
	ck_assert(sts_mx_match("mail.example.com", "mail.example.com"));
	ck_assert(sts_mx_match("mail.example.com", "MAIL.Example.Com."));
	ck_assert(sts_mx_match("*.example.com", "MAIL.EXAMPLE.COM."));
	ck_assert(!sts_mx_match("mail.example.com", "mail.example.com.evil"));
	ck_assert(!sts_mx_match("mail.example.com", "xmail.example.com"));
	ck_assert(!sts_mx_match("*.example.com", ".example.com"));
	ck_assert(!sts_mx_match("*.example.com", "mail.example.co"));
	ck_assert(!sts_mx_match("*.example.com", "mailexample.com"));
	ck_assert(!sts_mx_match("", "a"));
	ck_assert(!sts_mx_match("a", ""));
	ck_assert(!sts_mx_match("a", "."));
	ck_assert(!sts_mx_match(NULL, "a"));
}
END_TEST

START_TEST(mode_names)
{
	enum sts_mode m;

	ck_assert_str_eq(sts_mode_name(STS_MODE_NONE), "none");
	ck_assert_str_eq(sts_mode_name(STS_MODE_TESTING), "testing");
	ck_assert_str_eq(sts_mode_name(STS_MODE_ENFORCE), "enforce");
	ck_assert_str_eq(sts_mode_name((enum sts_mode)7), "?");
	ck_assert_int_eq(sts_mode_from_name("testing", &m), 0);
	ck_assert_int_eq(m, STS_MODE_TESTING);
	ck_assert_int_eq(sts_mode_from_name("Testing", &m), -EINVAL);
}
END_TEST

CHECK_MAIN("mtasts_policy", txt_rfc_example, txt_extensions, txt_id_rules, txt_not_sts,
           txt_mixed_and_several, txt_nul_byte, policy_rfc_example, policy_lf_crlf_mixed,
           policy_whitespace, policy_max_age, policy_duplicates_first_wins, policy_required,
           policy_bad_version_and_mode, policy_mx_patterns, policy_mx_limit, policy_extensions,
           policy_bytes, policy_size, policy_several_errors, policy_error_text_bounded,
           policy_copy_and_reparse, content_type, mx_match_rfc, mode_names)
