/* Unit tests for common/buf. */
#include <string.h>

#include "buf.h"
#include "check_common.h"

START_TEST(append_grows_and_terminates)
{
	struct buf b;
	buf_init(&b);
	ck_assert_str_eq(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_append(&b, "abc", 3);
	ck_assert_uint_eq(b.len, 3000);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_int_eq(memcmp(b.data + 2997, "abc", 3), 0);
	buf_fini(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(printf_consume_steal)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s=%d;", "x", 42);
	buf_puts(&b, "tail");
	ck_assert_str_eq(buf_cstr(&b), "x=42;tail");
	buf_consume(&b, 5);
	ck_assert_str_eq(buf_cstr(&b), "tail");
	buf_consume(&b, 100);
	ck_assert_uint_eq(b.len, 0);
	buf_putc(&b, 'z');
	size_t n;
	char *s = buf_steal(&b, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(s, "z");
	ck_assert_ptr_null(b.data);
	free(s);
	s = buf_steal(&b, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(embedded_nul_kept)
{
	struct buf b;
	buf_init(&b);
	buf_append(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(b.data[2], 'b');
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(buf_cstr(&b), "");
	buf_fini(&b);
}
END_TEST

START_TEST(add_line_separates_and_takes_null)
{
	struct buf b;
	buf_init(&b);
	buf_add_line(&b, "first: %d", 1);
	ck_assert_str_eq(buf_cstr(&b), "first: 1");
	buf_add_line(&b, "%s", "second");
	ck_assert_str_eq(buf_cstr(&b), "first: 1\nsecond");
	buf_add_line(NULL, "nobody wants this %s", "text");
	buf_fini(&b);
}
END_TEST

CHECK_MAIN("buf", append_grows_and_terminates, printf_consume_steal, embedded_nul_kept,
           add_line_separates_and_takes_null)
