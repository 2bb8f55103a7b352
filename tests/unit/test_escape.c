/* Unit tests for common/escape: which bytes are escaped (C0, DEL, C1, invalid,
 * over-long and surrogate UTF-8, code points above U+10FFFF), which pass (printable
 * ASCII and well-formed UTF-8 up to 4 bytes), and the output bound. */
#include <string.h>

#include "check_common.h"
#include "escape.h"

static void expect(const char *in, size_t n, const char *want)
{
	char out[256];
	size_t len = escape_text(out, sizeof(out), in, n);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_int_eq(escape_needed(in, n), strcmp(in, want) != 0 || strlen(in) != n);
}

#define EXPECT(in, want) expect(in, sizeof(in) - 1, want)

START_TEST(passes_printable_utf8)
{
	EXPECT("plain ASCII ~!@#$%^&*()", "plain ASCII ~!@#$%^&*()");
	EXPECT("back\\slash", "back\\slash");
	EXPECT("\xc2\xa0 \xc3\xa9 \xdf\xbf", "\xc2\xa0 \xc3\xa9 \xdf\xbf");
	EXPECT("\xe0\xa0\x80 \xe2\x82\xac \xed\x9f\xbf \xef\xbf\xbd",
	       "\xe0\xa0\x80 \xe2\x82\xac \xed\x9f\xbf \xef\xbf\xbd");
	EXPECT("\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf");
	EXPECT("", "");
}
END_TEST

START_TEST(escapes_controls_and_bad_utf8)
{
	EXPECT("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d");
	EXPECT("\x1b[31m\x7f", "\\x1b[31m\\x7f");
	EXPECT("\xc2\x80\xc2\x9f", "\\xc2\\x80\\xc2\\x9f"); /* C1 controls */
	EXPECT("\xc0\xaf\xc1\xbf", "\\xc0\\xaf\\xc1\\xbf"); /* over-long */
	EXPECT("\xe0\x80\xaf", "\\xe0\\x80\\xaf");          /* over-long 3 */
	EXPECT("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* surrogate */
	EXPECT("\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf"); /* over-long 4 */
	EXPECT("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	EXPECT("\xf5\xff\xfe", "\\xf5\\xff\\xfe");
	EXPECT("\x80x\xbf", "\\x80x\\xbf"); /* lone continuation */
	EXPECT("\xe2\x82", "\\xe2\\x82");   /* cut at the end */
	EXPECT("\xe2\x82z", "\\xe2\\x82z"); /* cut in the middle */
	EXPECT("\xc3\xa9\xff\xc3\xa9", "\xc3\xa9\\xff\xc3\xa9");
	ck_assert(escape_needed("a\0b", 3));
}
END_TEST

START_TEST(output_bound)
{
	char out[9];
	ck_assert_uint_eq(escape_text(out, sizeof(out), "ab\ncd", 5), 8);
	ck_assert_str_eq(out, "ab\\x0acd");
	/* an escape that does not fit whole is left out, never cut */
	ck_assert_uint_eq(escape_text(out, sizeof(out), "abcde\n", 6), 5);
	ck_assert_str_eq(out, "abcde");
	/* nor is a UTF-8 sequence cut */
	ck_assert_uint_eq(escape_text(out, 4, "\xc3\xa9\xc3\xa9", 4), 2);
	ck_assert_str_eq(out, "\xc3\xa9");
	ck_assert_uint_eq(escape_text(out, 1, "abc", 3), 0);
	ck_assert_str_eq(out, "");
	/* 4 bytes out per byte in always fit */
	char big[4 * 4 + 1];
	ck_assert_uint_eq(escape_text(big, sizeof(big), "\n\n\n\n", 4), 16);
}
END_TEST

CHECK_MAIN("escape", passes_printable_utf8, escapes_controls_and_bad_utf8, output_bound)
