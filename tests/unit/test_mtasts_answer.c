/* test_mtasts_answer: policyd-mtasts/answer.c -- map names, the OK data for enforce
 * policies in both formats (Postfix <= 3.9, and >= 3.10 with TLSRPT attributes), DANE
 * answers, the socketmap size limit, and request key classification. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "check_common.h"
#include "socketmap.h"

static void policy(const char *body, struct sts_policy *p)
{
	struct buf err;

	buf_init(&err);
	ck_assert_msg(sts_policy_parse(body, strlen(body), p, &err) == 0, "%s", buf_cstr(&err));
	buf_fini(&err);
}

static const char rfc_example[] = "version: STSv1\r\n"
                                  "mode: enforce\r\n"
                                  "mx: mail.example.com\r\n"
                                  "mx: *.example.net\r\n"
                                  "mx: backupmx.example.com\r\n"
                                  "max_age: 604800\r\n";

START_TEST(format_names)
{
	enum sts_format f;

	ck_assert_int_eq(sts_format_from_name("postfix", 7, &f), 0);
	ck_assert_int_eq(f, STS_FORMAT_POSTFIX);
	ck_assert_int_eq(sts_format_from_name("postfix-tlsrpt", 14, &f), 0);
	ck_assert_int_eq(f, STS_FORMAT_TLSRPT);
	ck_assert_int_eq(sts_format_from_name("postfix-tlsrpt", 7, &f), 0); /* length counts */
	ck_assert_int_eq(f, STS_FORMAT_POSTFIX);
	ck_assert_int_eq(sts_format_from_name("Postfix", 7, &f), -EINVAL);
	ck_assert_int_eq(sts_format_from_name("postfix-tls", 11, &f), -EINVAL);
	ck_assert_int_eq(sts_format_from_name("", 0, &f), -EINVAL);
	ck_assert_str_eq(sts_format_name(STS_FORMAT_POSTFIX), "postfix");
	ck_assert_str_eq(sts_format_name(STS_FORMAT_TLSRPT), "postfix-tlsrpt");
}
END_TEST

START_TEST(answer_postfix)
{
	struct sts_policy p;
	struct buf out;

	policy(rfc_example, &p);
	buf_init(&out);
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_POSTFIX, "example.com", &p), 0);
	ck_assert_str_eq(out.data, "secure match=mail.example.com:.example.net:backupmx.example.com"
	                           " servername=hostname");
	/* appends */
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_POSTFIX, "example.com", &p), 0);
	ck_assert_uint_eq(out.len, 2 * strlen("secure match=mail.example.com:.example.net:"
	                                      "backupmx.example.com servername=hostname"));
	buf_fini(&out);
	sts_policy_fini(&p);
}
END_TEST

START_TEST(answer_tlsrpt)
{
	struct sts_policy p;
	struct buf out;

	policy(rfc_example, &p);
	buf_init(&out);
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_TLSRPT, "example.com", &p), 0);
	ck_assert_str_eq(out.data,
	                 "secure match=mail.example.com:.example.net:backupmx.example.com"
	                 " servername=hostname policy_type=sts policy_domain=example.com"
	                 " mx_host_pattern=mail.example.com mx_host_pattern=*.example.net"
	                 " mx_host_pattern=backupmx.example.com"
	                 " { policy_string = version: STSv1 } { policy_string = mode: enforce }"
	                 " { policy_string = mx: mail.example.com }"
	                 " { policy_string = mx: *.example.net }"
	                 " { policy_string = mx: backupmx.example.com }"
	                 " { policy_string = max_age: 604800 }");
	buf_fini(&out);
	sts_policy_fini(&p);
}
END_TEST

START_TEST(answer_tlsrpt_lines_as_fetched)
{
	struct sts_policy p;
	struct buf out;

	/* lines keep their own spelling (case, extensions, duplicates); empty lines, CRs and
	 * trailing blanks go; a line with a brace cannot be quoted and is left out */
	policy("version:STSv1\r\nmode:\tenforce  \n\nmx: MX.Example.ORG\next: a {b} c\n"
	       "ext2: x = y, z\nmax_age: 9999999999\nmode: none\n",
	       &p);
	buf_init(&out);
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_TLSRPT, "example.org", &p), 0);
	ck_assert_str_eq(out.data, "secure match=mx.example.org servername=hostname"
	                           " policy_type=sts policy_domain=example.org"
	                           " mx_host_pattern=mx.example.org"
	                           " { policy_string = version:STSv1 }"
	                           " { policy_string = mode:\tenforce }"
	                           " { policy_string = mx: MX.Example.ORG }"
	                           " { policy_string = ext2: x = y, z }"
	                           " { policy_string = max_age: 9999999999 }"
	                           " { policy_string = mode: none }");
	buf_fini(&out);
	sts_policy_fini(&p);
}
END_TEST

START_TEST(answer_tlsrpt_without_text)
{
	struct sts_policy p = { .mode = STS_MODE_ENFORCE, .max_age = 86400, .n_mx = 2 };
	char m0[] = "*.d.example", m1[] = "mx.d.example";
	struct buf out;

	p.mx[0] = m0;
	p.mx[1] = m1;
	buf_init(&out);
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_TLSRPT, "d.example", &p), 0);
	ck_assert_str_eq(out.data, "secure match=.d.example:mx.d.example servername=hostname"
	                           " policy_type=sts policy_domain=d.example"
	                           " mx_host_pattern=*.d.example mx_host_pattern=mx.d.example"
	                           " { policy_string = version: STSv1 }"
	                           " { policy_string = mode: enforce }"
	                           " { policy_string = mx: *.d.example }"
	                           " { policy_string = mx: mx.d.example }"
	                           " { policy_string = max_age: 86400 }");
	buf_fini(&out);
}
END_TEST

START_TEST(answer_refused)
{
	struct sts_policy p;
	struct buf out;

	buf_init(&out);
	buf_puts(&out, "keep");
	policy("version: STSv1\nmode: testing\nmx: a.example\nmax_age: 1\n", &p);
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_POSTFIX, "example", &p), -EINVAL);
	sts_policy_fini(&p);
	policy("version: STSv1\nmode: none\nmax_age: 1\n", &p);
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_TLSRPT, "example", &p), -EINVAL);
	sts_policy_fini(&p);
	policy("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n", &p);
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_TLSRPT, "bad domain", &p), -EINVAL);
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_TLSRPT, "", &p), -EINVAL);
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_TLSRPT, "a{b}", &p), -EINVAL);
	sts_policy_fini(&p);
	ck_assert_str_eq(out.data, "keep");
	buf_fini(&out);
}
END_TEST

/* The TLSRPT answer for a policy built so that the answer is @target bytes long. */
static int answer_of_len(size_t target, struct buf *out)
{
	static const char head[] =
	        "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 1\n";
	struct sts_policy p;
	struct buf body;
	int rc;

	policy(head, &p);
	buf_reset(out);
	sts_answer_policy(out, STS_FORMAT_TLSRPT, "example.com", &p);
	sts_policy_fini(&p);
	/* each line "<n letters>:" adds " { policy_string = " n ":" " }": 22 + n bytes */
	size_t room = target - out->len;
	size_t lines = room / 23 - 1, last = room - 23 * lines; /* last: 23..45 */
	buf_init(&body);
	buf_puts(&body, head);
	for (size_t i = 0; i < lines; i++)
		buf_puts(&body, "a:\n");
	for (size_t i = 0; i < last - 22; i++)
		buf_putc(&body, 'b');
	buf_puts(&body, ":\n");
	policy(body.data, &p);
	buf_reset(out);
	rc = sts_answer_policy(out, STS_FORMAT_TLSRPT, "example.com", &p);
	sts_policy_fini(&p);
	buf_fini(&body);
	return rc;
}

START_TEST(answer_size_limit)
{
	struct buf body, out;
	struct sts_policy p;

	/* ~16000 short extension lines, each ~26 bytes of answer: over 100000 in TLSRPT form */
	buf_init(&body);
	buf_puts(&body, "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 1\n");
	while (body.len < STS_POLICY_MAX - 4)
		buf_puts(&body, "a:\n");
	policy(body.data, &p);
	buf_init(&out);
	buf_puts(&out, "x");
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_POSTFIX, "example.com", &p), 0);
	buf_reset(&out);
	buf_puts(&out, "x");
	ck_assert_int_eq(sts_answer_policy(&out, STS_FORMAT_TLSRPT, "example.com", &p), -EMSGSIZE);
	ck_assert_uint_eq(out.len, 1);
	ck_assert_str_eq(out.data, "x");
	sts_policy_fini(&p);

	/* exactly at the limit: SOCKETMAP_REPLY_MAX - 3 bytes of data fit, one more does not */
	ck_assert_int_eq(answer_of_len(SOCKETMAP_REPLY_MAX - 3, &out), 0);
	ck_assert_uint_eq(out.len, SOCKETMAP_REPLY_MAX - 3);
	ck_assert_int_eq(answer_of_len(SOCKETMAP_REPLY_MAX - 2, &out), -EMSGSIZE);
	ck_assert_uint_eq(out.len, 0);
	buf_fini(&out);
	buf_fini(&body);
}
END_TEST

START_TEST(answer_dane)
{
	struct buf out;

	buf_init(&out);
	ck_assert_int_eq(sts_answer_dane(&out, STS_FORMAT_POSTFIX, "example.com", true), 0);
	ck_assert_str_eq(out.data, "dane-only");
	buf_reset(&out);
	ck_assert_int_eq(sts_answer_dane(&out, STS_FORMAT_POSTFIX, "example.com", false), 0);
	ck_assert_str_eq(out.data, "dane");
	buf_reset(&out);
	/* no TLSRPT attributes with Postfix's built-in DANE levels */
	ck_assert_int_eq(sts_answer_dane(&out, STS_FORMAT_TLSRPT, "example.com", true), 0);
	ck_assert_str_eq(out.data, "dane-only");
	buf_reset(&out);
	ck_assert_int_eq(sts_answer_dane(&out, STS_FORMAT_TLSRPT, "example.com", false), 0);
	ck_assert_str_eq(out.data, "dane");
	buf_fini(&out);
}
END_TEST

static int key(const char *k, char out[256])
{
	return sts_key_parse(k, strlen(k), out);
}

START_TEST(key_domains)
{
	char out[256];

	ck_assert_int_eq(key("example.com", out), STS_KEY_DOMAIN);
	ck_assert_str_eq(out, "example.com");
	ck_assert_int_eq(key("Mail.EXAMPLE.com.", out), STS_KEY_DOMAIN);
	ck_assert_str_eq(out, "mail.example.com");
	ck_assert_int_eq(key("xn--bcher-kva.example", out), STS_KEY_DOMAIN);
	ck_assert_str_eq(out, "xn--bcher-kva.example");
	ck_assert_int_eq(key("a-b.c1", out), STS_KEY_DOMAIN);
	ck_assert_int_eq(key("1.example", out), STS_KEY_DOMAIN);
	ck_assert_int_eq(key("123.4a", out), STS_KEY_DOMAIN);
	/* the key is not NUL-terminated */
	ck_assert_int_eq(sts_key_parse("example.comXYZ", 11, out), STS_KEY_DOMAIN);
	ck_assert_str_eq(out, "example.com");

	/* 253 bytes: four labels of 63 plus dots = 255 is too long; 253 fits */
	char name[300];
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0'; /* last label 61 bytes */
	ck_assert_int_eq(key(name, out), STS_KEY_DOMAIN);
	ck_assert_uint_eq(strlen(out), 253);
	name[253] = '.';
	name[254] = '\0'; /* trailing dot is not counted */
	ck_assert_int_eq(key(name, out), STS_KEY_DOMAIN);
	name[253] = 'a';
	ck_assert_int_eq(key(name, out), STS_KEY_OTHER); /* 254 */
}
END_TEST

START_TEST(key_parent_and_other)
{
	char out[256];
	const char *other[] = { "",
		                "localhost",
		                "localhost.",
		                "[192.0.2.1]",
		                "[mx.example.com]:25",
		                "mx.example.com:25",
		                "192.0.2.1",
		                "[ipv6:2001:db8::1]",
		                "2001:db8::1",
		                "exa mple.com",
		                " example.com",
		                "example.com ",
		                "ex_ample.com",
		                "b\xc3\xbc"
		                "cher.example",
		                "example..com",
		                "-example.com",
		                "example-.com",
		                "example.com..",
		                "a.123",
		                "/var/run/socket",
		                "example.com\n" };

	ck_assert_int_eq(key(".example.com", out), STS_KEY_PARENT);
	ck_assert_int_eq(key(".com", out), STS_KEY_PARENT);
	ck_assert_int_eq(key(".", out), STS_KEY_PARENT);
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		ck_assert_msg(key(other[i], out) == STS_KEY_OTHER, "\"%s\" is not a domain",
		              other[i]);
	char label64[80];
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".example");
	ck_assert_int_eq(key(label64, out), STS_KEY_OTHER);
}
END_TEST

CHECK_MAIN("mtasts_answer", format_names, answer_postfix, answer_tlsrpt,
           answer_tlsrpt_lines_as_fetched, answer_tlsrpt_without_text, answer_refused,
           answer_size_limit, answer_dane, key_domains, key_parent_and_other)
