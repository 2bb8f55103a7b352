/* Unit tests for common/socketmap: request parsing and limits, every reply kind,
 * the reply size limit, the reply parser, through the netstring decoder. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "netstring.h"
#include "socketmap.h"

START_TEST(request_parse)
{
	struct socketmap_request r;
	static const char ok[] = "mtasts example.com";
	static const char spaces[] = "map a b  c ";
	static const char empty_key[] = "map ";

	ck_assert_int_eq(socketmap_request_parse(ok, strlen(ok), &r), 0);
	ck_assert_uint_eq(r.name_len, 6);
	ck_assert_int_eq(memcmp(r.name, "mtasts", 6), 0);
	ck_assert_uint_eq(r.key_len, 11);
	ck_assert_int_eq(memcmp(r.key, "example.com", 11), 0);
	ck_assert_ptr_eq(r.key, ok + 7);

	ck_assert_int_eq(socketmap_request_parse(spaces, strlen(spaces), &r), 0);
	ck_assert_uint_eq(r.key_len, 7);
	ck_assert_int_eq(memcmp(r.key, "a b  c ", 7), 0);

	ck_assert_int_eq(socketmap_request_parse(empty_key, strlen(empty_key), &r), 0);
	ck_assert_uint_eq(r.key_len, 0);

	ck_assert_int_eq(socketmap_request_parse("nospace", 7, &r), -EINVAL);
	ck_assert_int_eq(socketmap_request_parse(" key", 4, &r), -EINVAL);
	ck_assert_int_eq(socketmap_request_parse("", 0, &r), -EINVAL);
	ck_assert_int_eq(socketmap_request_parse("m\tx key", 7, &r), -EINVAL);
	ck_assert_int_eq(socketmap_request_parse("m\x80 key", 6, &r), -EINVAL);
	ck_assert_int_eq(socketmap_request_parse("map k\0y", 7, &r), -EINVAL);
}
END_TEST

START_TEST(request_limits)
{
	char *p = malloc(SOCKETMAP_REQUEST_MAX + 2);
	struct socketmap_request r;

	memset(p, 'n', SOCKETMAP_NAME_MAX);
	p[SOCKETMAP_NAME_MAX] = ' ';
	memset(p + SOCKETMAP_NAME_MAX + 1, 'k', SOCKETMAP_REQUEST_MAX + 1 - SOCKETMAP_NAME_MAX - 1);
	/* name of exactly SOCKETMAP_NAME_MAX, request of exactly SOCKETMAP_REQUEST_MAX */
	ck_assert_int_eq(socketmap_request_parse(p, SOCKETMAP_REQUEST_MAX, &r), 0);
	ck_assert_uint_eq(r.name_len, SOCKETMAP_NAME_MAX);
	ck_assert_uint_eq(r.key_len, SOCKETMAP_REQUEST_MAX - SOCKETMAP_NAME_MAX - 1);
	ck_assert_int_eq(socketmap_request_parse(p, SOCKETMAP_REQUEST_MAX + 1, &r), -EMSGSIZE);
	/* name one byte longer */
	memset(p, 'n', SOCKETMAP_NAME_MAX + 1);
	p[SOCKETMAP_NAME_MAX + 1] = ' ';
	ck_assert_int_eq(socketmap_request_parse(p, SOCKETMAP_NAME_MAX + 5, &r), -EINVAL);
	free(p);
}
END_TEST

START_TEST(request_encode)
{
	struct buf b;
	char *key = malloc(SOCKETMAP_REQUEST_MAX);

	buf_init(&b);
	ck_assert_int_eq(socketmap_request_encode(&b, "mtasts", "example.com", 11), 0);
	ck_assert_str_eq(buf_cstr(&b), "18:mtasts example.com,");
	ck_assert_int_eq(socketmap_request_encode(&b, "bad name", "x", 1), -EINVAL);
	ck_assert_int_eq(socketmap_request_encode(&b, "", "x", 1), -EINVAL);
	ck_assert_int_eq(socketmap_request_encode(&b, "m", "a\0b", 3), -EINVAL);
	memset(key, 'k', SOCKETMAP_REQUEST_MAX);
	ck_assert_int_eq(socketmap_request_encode(&b, "m", key, SOCKETMAP_REQUEST_MAX - 1),
	                 -EMSGSIZE);
	ck_assert_str_eq(buf_cstr(&b), "18:mtasts example.com,");
	buf_reset(&b);
	ck_assert_int_eq(socketmap_request_encode(&b, "m", key, SOCKETMAP_REQUEST_MAX - 2), 0);
	ck_assert_int_eq(memcmp(b.data, "10000:m k", 9), 0);
	free(key);
	buf_fini(&b);
}
END_TEST

START_TEST(replies)
{
	struct buf b;

	buf_init(&b);
	ck_assert_int_eq(socketmap_reply_ok(&b, "secure match=.example.com", 25), 0);
	ck_assert_str_eq(buf_cstr(&b), "28:OK secure match=.example.com,");
	buf_reset(&b);
	ck_assert_int_eq(socketmap_reply_notfound(&b), 0);
	ck_assert_str_eq(buf_cstr(&b), "9:NOTFOUND ,");
	buf_reset(&b);
	ck_assert_int_eq(socketmap_reply_temp(&b, "dns failure"), 0);
	ck_assert_str_eq(buf_cstr(&b), "16:TEMP dns failure,");
	buf_reset(&b);
	ck_assert_int_eq(socketmap_reply_timeout(&b, "slow"), 0);
	ck_assert_str_eq(buf_cstr(&b), "12:TIMEOUT slow,");
	buf_reset(&b);
	ck_assert_int_eq(socketmap_reply_perm(&b, NULL), 0);
	ck_assert_str_eq(buf_cstr(&b), "5:PERM ,");
	buf_reset(&b);
	ck_assert_int_eq(socketmap_reply_ok(&b, "", 0), 0);
	ck_assert_str_eq(buf_cstr(&b), "3:OK ,");
	buf_fini(&b);
	ck_assert_str_eq(socketmap_status_name(SOCKETMAP_TIMEOUT), "TIMEOUT");
	ck_assert_str_eq(socketmap_status_name((enum socketmap_status)42), "?");
}
END_TEST

/* Decode one netstring from @b (it must hold exactly one) and parse the reply. */
static void decode_reply(const struct buf *b, enum socketmap_status *st, const char **data,
                         size_t *dlen, struct netstring_decoder *d)
{
	size_t used, len;
	ck_assert_int_eq(netstring_decoder_feed(d, b->data, b->len, &used), 1);
	ck_assert_uint_eq(used, b->len);
	const char *p = netstring_decoder_payload(d, &len);
	ck_assert_int_eq(socketmap_reply_parse(p, len, st, data, dlen), 0);
}

START_TEST(reply_size_limit)
{
	size_t max_ok = SOCKETMAP_REPLY_MAX - 3;
	char *data = malloc(SOCKETMAP_REPLY_MAX + 10);
	struct netstring_decoder d;
	enum socketmap_status st;
	const char *out;
	size_t olen;
	struct buf b;

	memset(data, 'x', SOCKETMAP_REPLY_MAX + 9);
	data[SOCKETMAP_REPLY_MAX + 9] = '\0';
	buf_init(&b);
	netstring_decoder_init(&d, SOCKETMAP_REPLY_MAX);
	/* OK data: exactly fits, one more byte is refused and nothing is written */
	ck_assert_int_eq(socketmap_reply_ok(&b, data, max_ok), 0);
	decode_reply(&b, &st, &out, &olen, &d);
	ck_assert_int_eq(st, SOCKETMAP_OK);
	ck_assert_uint_eq(olen, max_ok);
	buf_reset(&b);
	ck_assert_int_eq(socketmap_reply_ok(&b, data, max_ok + 1), -EMSGSIZE);
	ck_assert_uint_eq(b.len, 0);
	/* reasons are truncated to the limit */
	ck_assert_int_eq(socketmap_reply_temp(&b, data), 0);
	decode_reply(&b, &st, &out, &olen, &d);
	ck_assert_int_eq(st, SOCKETMAP_TEMP);
	ck_assert_uint_eq(olen, SOCKETMAP_REPLY_MAX - 5);
	buf_reset(&b);
	ck_assert_int_eq(socketmap_reply_timeout(&b, data), 0);
	decode_reply(&b, &st, &out, &olen, &d);
	ck_assert_int_eq(st, SOCKETMAP_TIMEOUT);
	ck_assert_uint_eq(olen, SOCKETMAP_REPLY_MAX - 8);
	buf_reset(&b);
	ck_assert_int_eq(socketmap_reply_perm(&b, data), 0);
	decode_reply(&b, &st, &out, &olen, &d);
	ck_assert_int_eq(st, SOCKETMAP_PERM);
	ck_assert_uint_eq(olen, SOCKETMAP_REPLY_MAX - 5);
	ck_assert_int_eq(socketmap_reply_parse(data, SOCKETMAP_REPLY_MAX + 1, &st, &out, &olen),
	                 -EMSGSIZE);
	netstring_decoder_fini(&d);
	buf_fini(&b);
	free(data);
}
END_TEST

START_TEST(reply_parse)
{
	enum socketmap_status st;
	const char *data;
	size_t n;

	ck_assert_int_eq(socketmap_reply_parse("OK a b", 6, &st, &data, &n), 0);
	ck_assert_int_eq(st, SOCKETMAP_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(memcmp(data, "a b", 3), 0);
	ck_assert_int_eq(socketmap_reply_parse("NOTFOUND", 8, &st, &data, &n), 0);
	ck_assert_int_eq(st, SOCKETMAP_NOTFOUND);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(socketmap_reply_parse("NOTFOUND ", 9, &st, &data, &n), 0);
	ck_assert_int_eq(st, SOCKETMAP_NOTFOUND);
	ck_assert_int_eq(socketmap_reply_parse("TEMP", 4, &st, &data, &n), 0);
	ck_assert_int_eq(st, SOCKETMAP_TEMP);
	ck_assert_int_eq(socketmap_reply_parse("ok x", 4, &st, &data, &n), -EINVAL);
	ck_assert_int_eq(socketmap_reply_parse("OKAY x", 6, &st, &data, &n), -EINVAL);
	ck_assert_int_eq(socketmap_reply_parse("", 0, &st, &data, &n), -EINVAL);
	ck_assert_int_eq(socketmap_reply_parse("OK \0", 4, &st, &data, &n), -EINVAL);
}
END_TEST

START_TEST(request_through_decoder)
{
	static const char wire[] = "18:mtasts example.com,11:mtasts .com,";
	struct netstring_decoder d;
	struct socketmap_request r;
	size_t pos = 0, used, len, count = 0;

	netstring_decoder_init(&d, SOCKETMAP_REQUEST_MAX);
	while (pos < sizeof(wire) - 1) {
		int rc = netstring_decoder_feed(&d, wire + pos, sizeof(wire) - 1 - pos, &used);
		pos += used;
		ck_assert_int_eq(rc, 1);
		const char *p = netstring_decoder_payload(&d, &len);
		ck_assert_int_eq(socketmap_request_parse(p, len, &r), 0);
		ck_assert_int_eq(memcmp(r.name, "mtasts", r.name_len), 0);
		count++;
	}
	ck_assert_uint_eq(count, 2);
	ck_assert_int_eq(memcmp(r.key, ".com", r.key_len), 0);
	netstring_decoder_fini(&d);
}
END_TEST

CHECK_MAIN("socketmap", request_parse, request_limits, request_encode, replies, reply_size_limit,
           reply_parse, request_through_decoder)
