/* Unit tests for common/netstring: decoding split at every byte position,
 * several netstrings per chunk, every error, the encoder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "netstring.h"

/* Feed @in split into chunks at @cut (and byte-by-byte after it when @bytewise);
 * append each payload to @got, separated by '|'. Return the last feed result. */
static int decode_split(const char *in, size_t n, size_t max, size_t cut, bool bytewise,
                        struct buf *got)
{
	struct netstring_decoder d;
	size_t pos = 0;
	int rc = 0;

	netstring_decoder_init(&d, max);
	while (pos < n) {
		size_t end = pos < cut ? cut : (bytewise ? pos + 1 : n);
		size_t used;
		rc = netstring_decoder_feed(&d, in + pos, end - pos, &used);
		ck_assert_uint_le(used, end - pos);
		if (rc < 0)
			break;
		if (rc == 1) {
			size_t len;
			const char *p = netstring_decoder_payload(&d, &len);
			ck_assert_int_eq(p[len], '\0');
			buf_append(got, p, len);
			buf_putc(got, '|');
		} else {
			ck_assert_uint_eq(used, end - pos);
		}
		pos += used;
	}
	netstring_decoder_fini(&d);
	return rc;
}

START_TEST(split_at_every_position)
{
	static const char in[] = "5:hello,0:,12:hello world!,3:a,b,";
	const size_t n = sizeof(in) - 1;

	for (size_t cut = 0; cut <= n; cut++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			struct buf got;
			buf_init(&got);
			int rc = decode_split(in, n, 100, cut, bytewise, &got);
			ck_assert_int_eq(rc, 1);
			ck_assert_str_eq(buf_cstr(&got), "hello||hello world!|a,b|");
			buf_fini(&got);
		}
	}
}
END_TEST

START_TEST(binary_payload)
{
	static const char in[] = "4:\0\n:,,";
	struct netstring_decoder d;
	size_t used, len;

	netstring_decoder_init(&d, 10);
	ck_assert_int_eq(netstring_decoder_feed(&d, in, sizeof(in) - 1, &used), 1);
	ck_assert_uint_eq(used, sizeof(in) - 1);
	const char *p = netstring_decoder_payload(&d, &len);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(memcmp(p, "\0\n:,", 4), 0);
	ck_assert(netstring_decoder_idle(&d));
	netstring_decoder_fini(&d);
}
END_TEST

static int decode_all(const char *in, size_t max)
{
	struct buf got;
	buf_init(&got);
	int rc = decode_split(in, strlen(in), max, 0, true, &got);
	int rc2 = decode_split(in, strlen(in), max, strlen(in), false, &got);
	ck_assert_int_eq(rc, rc2);
	buf_fini(&got);
	return rc;
}

START_TEST(errors)
{
	ck_assert_int_eq(decode_all("x:abc,", 100), -EINVAL);
	ck_assert_int_eq(decode_all(":abc,", 100), -EINVAL);
	ck_assert_int_eq(decode_all("3x:abc,", 100), -EINVAL);
	ck_assert_int_eq(decode_all(" 3:abc,", 100), -EINVAL);
	ck_assert_int_eq(decode_all("-3:abc,", 100), -EINVAL);
	ck_assert_int_eq(decode_all("3:abc;", 100), -EINVAL);
	ck_assert_int_eq(decode_all("3:abcd,", 100), -EINVAL);
	ck_assert_int_eq(decode_all("2:abc,", 100), -EINVAL);
	ck_assert_int_eq(decode_all("3:abc,x", 100), -EINVAL);
	/* length limit: exactly max is fine, max + 1 refused before any payload */
	ck_assert_int_eq(decode_all("5:hello,", 5), 1);
	ck_assert_int_eq(decode_all("6:hello!,", 5), -EMSGSIZE);
	ck_assert_int_eq(decode_all("99999999999999999999999:", 100), -EMSGSIZE);
	ck_assert_int_eq(decode_all("1:a,", 0), -EMSGSIZE);
	ck_assert_int_eq(decode_all("0:,", 0), 1);
	/* leading zeros accepted like Postfix, but the digit count is bounded */
	ck_assert_int_eq(decode_all("003:abc,", 100), 1);
	ck_assert_int_eq(decode_all("00000000000000000003:abc,", 100), 1);
	ck_assert_int_eq(decode_all("000000000000000000003:abc,", 100), -EINVAL);
}
END_TEST

START_TEST(error_is_sticky_until_reset)
{
	struct netstring_decoder d;
	size_t used;

	netstring_decoder_init(&d, 100);
	ck_assert_int_eq(netstring_decoder_feed(&d, "3:ab", 4, &used), 0);
	ck_assert(!netstring_decoder_idle(&d));
	ck_assert_int_eq(netstring_decoder_feed(&d, "cX", 2, &used), -EINVAL);
	ck_assert_uint_eq(used, 2);
	ck_assert_int_eq(netstring_decoder_feed(&d, "1:a,", 4, &used), -EINVAL);
	ck_assert_uint_eq(used, 0);
	ck_assert(!netstring_decoder_idle(&d));
	netstring_decoder_reset(&d);
	ck_assert(netstring_decoder_idle(&d));
	ck_assert_int_eq(netstring_decoder_feed(&d, "1:a,", 4, &used), 1);
	size_t len;
	ck_assert_str_eq(netstring_decoder_payload(&d, &len), "a");
	ck_assert_uint_eq(len, 1);
	/* empty feed: nothing happens */
	ck_assert_int_eq(netstring_decoder_feed(&d, "", 0, &used), 0);
	ck_assert_uint_eq(used, 0);
	ck_assert_str_eq(netstring_decoder_payload(&d, &len), "");
	ck_assert_uint_eq(len, 0);
	netstring_decoder_fini(&d);
	ck_assert_str_eq(netstring_strerror(-EINVAL), "netstring format error");
	ck_assert_str_eq(netstring_strerror(-EMSGSIZE), "netstring longer than allowed");
}
END_TEST

START_TEST(encode_roundtrip)
{
	struct buf b;
	struct netstring_decoder d;
	size_t used, len;
	char big[3000];

	buf_init(&b);
	netstring_encode(&b, "", 0);
	netstring_encode(&b, "hello", 5);
	ck_assert_str_eq(buf_cstr(&b), "0:,5:hello,");
	buf_reset(&b);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	netstring_encode(&b, big, sizeof(big));
	ck_assert_int_eq(memcmp(b.data, "3000:", 5), 0);
	netstring_decoder_init(&d, sizeof(big));
	ck_assert_int_eq(netstring_decoder_feed(&d, b.data, b.len, &used), 1);
	ck_assert_uint_eq(used, b.len);
	const char *p = netstring_decoder_payload(&d, &len);
	ck_assert_uint_eq(len, sizeof(big));
	ck_assert_int_eq(memcmp(p, big, len), 0);
	netstring_decoder_fini(&d);
	buf_fini(&b);
}
END_TEST

CHECK_MAIN("netstring", split_at_every_position, binary_payload, errors,
           error_is_sticky_until_reset, encode_roundtrip)
