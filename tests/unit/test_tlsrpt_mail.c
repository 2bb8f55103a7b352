/* test_tlsrpt_mail: the report mail (tlsrpt/mail.c, RFC 8460 section 5.3.1): the RFC 4648
 * base64 test vectors and 76-character lines; the headers the RFC asks for (Subject with
 * domain, submitter and report-id, TLS-Report-Domain, TLS-Report-Submitter, TLS-Required:
 * No, multipart/report; report-type="tlsrpt"), the gzip part with its file name, the
 * closing boundary; fields with line breaks or empty ones refused.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "check_common.h"
#include "mail.h"

static void b64(const char *in, const char *want)
{
	struct buf b;
	buf_init(&b);
	tlsrpt_base64(in, strlen(in), &b);
	ck_assert_str_eq(buf_cstr(&b), want);
	buf_fini(&b);
}

START_TEST(test_base64)
{
	b64("", "");
	b64("f", "Zg==\n");
	b64("fo", "Zm8=\n");
	b64("foo", "Zm9v\n");
	b64("foob", "Zm9vYg==\n");
	b64("fooba", "Zm9vYmE=\n");
	b64("foobar", "Zm9vYmFy\n");
	char in[120];
	memset(in, 'a', sizeof(in));
	struct buf b;
	buf_init(&b);
	tlsrpt_base64(in, sizeof(in), &b);
	const char *s = buf_cstr(&b), *nl = strchr(s, '\n');
	ck_assert_int_eq(nl - s, 76);
	ck_assert_uint_eq(strlen(nl + 1), 76 + 1 + 8 + 1); /* 160 = 76 + 76 + 8 */
	buf_fini(&b);
}
END_TEST

static struct tlsrpt_mail mail(void)
{
	static const unsigned char gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02 };
	return (struct tlsrpt_mail){
		.from = "tlsrpt@sender.test",
		.to = "reports@d1.test",
		.domain = "d1.test",
		.submitter = "sender.test",
		.organization = "Test Org",
		.report_id = "2026-11-23T00:00:00Z_d1.test_0123456789abcdef",
		.day = "2026-11-23",
		.filename = "sender.test!d1.test!1795392000!1795478399!00ff.json.gz",
		.gz = gz,
		.gz_len = sizeof(gz),
		.now = 1795478400 + 3600,
		.unique = "c0ffee",
	};
}

static void has(const char *msg, const char *s)
{
	ck_assert_msg(strstr(msg, s) != NULL, "missing: %s\n--\n%s", s, msg);
}

START_TEST(test_message)
{
	struct tlsrpt_mail m = mail();
	struct buf out, err;
	buf_init(&out);
	buf_init(&err);
	ck_assert_int_eq(tlsrpt_mail_build(&m, &out, &err), 0);
	ck_assert_uint_eq(err.len, 0);
	const char *s = buf_cstr(&out);
	ck_assert(strncmp(s, "From: tlsrpt@sender.test\nTo: reports@d1.test\n", 45) == 0);
	has(s, "\nSubject: Report Domain: d1.test Submitter: sender.test\n Report-ID: "
	       "<2026-11-23T00:00:00Z_d1.test_0123456789abcdef@sender.test>\n");
	has(s, "\nDate: Tue, 24 Nov 2026 01:00:00 +0000\n");
	has(s, "\nMessage-ID: <tlsrpt.c0ffee@sender.test>\n");
	has(s, "\nTLS-Report-Domain: d1.test\n");
	has(s, "\nTLS-Report-Submitter: sender.test\n");
	has(s, "\nTLS-Required: No\n");
	has(s, "\nMIME-Version: 1.0\n");
	has(s, "\nContent-Type: multipart/report; report-type=\"tlsrpt\";\n"
	       " boundary=\"tlsrpt-c0ffee\"\n\n");
	has(s, "\n--tlsrpt-c0ffee\nContent-Type: text/plain; charset=\"us-ascii\"\n");
	has(s, "from Test Org\n");
	has(s,
	    "\n--tlsrpt-c0ffee\nContent-Type: application/tlsrpt+gzip;\n name=\"sender.test!d1.test"
	    "!1795392000!1795478399!00ff.json.gz\"\nContent-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment;\n filename=\"sender.test!d1.test!1795392000!"
	    "1795478399!00ff.json.gz\"\n\nH4sIAAEC\n\n--tlsrpt-c0ffee--\n");
	const char *head_end = strstr(s, "\n\n");
	ck_assert_ptr_nonnull(head_end);
	for (const char *l = s; l < head_end;) { /* no header line over 78 characters */
		const char *nl = strchr(l, '\n');
		ck_assert_int_le(nl - l, 78);
		l = nl + 1;
	}
	buf_fini(&out);
	buf_fini(&err);
}
END_TEST

START_TEST(test_refused)
{
	struct buf out, err;
	buf_init(&out);
	buf_init(&err);
	struct tlsrpt_mail m = mail();
	m.to = "a@d1.test\nBcc: x@y.test";
	ck_assert_int_eq(tlsrpt_mail_build(&m, &out, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "to is empty or not printable"));
	m = mail();
	m.submitter = "";
	buf_reset(&err);
	ck_assert_int_eq(tlsrpt_mail_build(&m, &out, &err), -EINVAL);
	m = mail();
	m.filename = "a\"b";
	ck_assert_int_eq(tlsrpt_mail_build(&m, &out, &err), -EINVAL);
	m = mail();
	m.organization = ""; /* the text part names the submitter instead */
	buf_reset(&err);
	ck_assert_int_eq(tlsrpt_mail_build(&m, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "from sender.test\n"));
	buf_fini(&out);
	buf_fini(&err);
}
END_TEST

CHECK_MAIN("tlsrpt_mail", test_base64, test_message, test_refused)
