/* Unit tests for common/dns_rr: RDATA decoders (TXT joining, TLSA, MX names, A/AAAA) and
 * their refusal of malformed input. */
#include <errno.h>
#include <string.h>

#include "check_common.h"
#include "dns_rr.h"

#define RD(s) (const uint8_t *)(s), sizeof(s) - 1

START_TEST(txt_join)
{
	struct dns_txt t;

	ck_assert_int_eq(dns_rr_txt(RD("\x07v=DKIM1\x03; p\x01="), &t), 0);
	ck_assert_str_eq(t.text, "v=DKIM1; p=");
	ck_assert_uint_eq(t.len, 11);
	ck_assert_uint_eq(t.nstrings, 3);
	ck_assert_uint_eq(t.string_len[0], 7);
	ck_assert_uint_eq(t.string_len[1], 3);
	ck_assert_uint_eq(t.string_len[2], 1);
	dns_txt_fini(&t);
	ck_assert_ptr_null(t.text);
}
END_TEST

START_TEST(txt_edge)
{
	struct dns_txt t;
	uint8_t big[256 + 1 + 4];

	/* one empty string is a valid TXT record */
	ck_assert_int_eq(dns_rr_txt(RD("\x00"), &t), 0);
	ck_assert_str_eq(t.text, "");
	ck_assert_uint_eq(t.nstrings, 1);
	dns_txt_fini(&t);
	/* embedded NUL kept, counted */
	ck_assert_int_eq(dns_rr_txt(RD("\x03"
	                               "a\0b"),
	                            &t),
	                 0);
	ck_assert_uint_eq(t.len, 3);
	ck_assert_mem_eq(t.text, "a\0b", 3);
	dns_txt_fini(&t);
	/* 255-byte string followed by a 3-byte one */
	big[0] = 255;
	memset(big + 1, 'x', 255);
	big[256] = 3;
	memcpy(big + 257, "abc", 3);
	ck_assert_int_eq(dns_rr_txt(big, 260, &t), 0);
	ck_assert_uint_eq(t.len, 258);
	ck_assert_str_eq(t.text + 255, "abc");
	dns_txt_fini(&t);
	/* malformed */
	ck_assert_int_eq(dns_rr_txt(RD(""), &t), -EBADMSG);
	ck_assert_int_eq(dns_rr_txt(RD("\x05"
	                               "abc"),
	                            &t),
	                 -EBADMSG);
	ck_assert_int_eq(dns_rr_txt(RD("\x01"
	                               "a\x02"
	                               "b"),
	                            &t),
	                 -EBADMSG);
}
END_TEST

START_TEST(tlsa)
{
	struct dns_tlsa t;

	ck_assert_int_eq(dns_rr_tlsa(RD("\x03\x01\x01\xaa\xbb"), &t), 0);
	ck_assert_uint_eq(t.usage, 3);
	ck_assert_uint_eq(t.selector, 1);
	ck_assert_uint_eq(t.mtype, 1);
	ck_assert_uint_eq(t.len, 2);
	ck_assert_mem_eq(t.data, "\xaa\xbb", 2);
	dns_tlsa_fini(&t);
	ck_assert_int_eq(dns_rr_tlsa(RD("\x03\x01\x01"), &t), -EBADMSG);
	ck_assert_int_eq(dns_rr_tlsa(RD("\x03"), &t), -EBADMSG);
}
END_TEST

START_TEST(mx)
{
	struct dns_mx m;

	ck_assert_int_eq(dns_rr_mx(RD("\x00\x0a\x02mx\x07"
	                              "example\x04test\x00"),
	                           &m),
	                 0);
	ck_assert_uint_eq(m.pref, 10);
	ck_assert_str_eq(m.host, "mx.example.test");
	dns_mx_fini(&m);
	/* null MX (RFC 7505) */
	ck_assert_int_eq(dns_rr_mx(RD("\x00\x00\x00"), &m), 0);
	ck_assert_uint_eq(m.pref, 0);
	ck_assert_str_eq(m.host, ".");
	dns_mx_fini(&m);
	ck_assert_int_eq(dns_rr_mx(RD("\x01\x00\x01"
	                              "a\x00"),
	                           &m),
	                 0);
	ck_assert_uint_eq(m.pref, 256);
	dns_mx_fini(&m);
	/* compressed, truncated, trailing garbage, short */
	ck_assert_int_eq(dns_rr_mx(RD("\x00\x0a\xc0\x0c"), &m), -EBADMSG);
	ck_assert_int_eq(dns_rr_mx(RD("\x00\x0a\x02mx"), &m), -EBADMSG);
	ck_assert_int_eq(dns_rr_mx(RD("\x00\x0a\x00z"), &m), -EBADMSG);
	ck_assert_int_eq(dns_rr_mx(RD("\x00\x0a"), &m), -EBADMSG);
}
END_TEST

START_TEST(name_escapes)
{
	struct buf b;
	size_t used;

	buf_init(&b);
	ck_assert_int_eq(dns_rr_name(RD("\x03"
	                                "a.b\x03"
	                                "c\\ \x02\x01\x7f\x00"),
	                             &used, &b),
	                 0);
	ck_assert_str_eq(buf_cstr(&b), "a\\.b.c\\\\\\032.\\001\\127");
	ck_assert_uint_eq(used, 12);
	buf_fini(&b);
}
END_TEST

START_TEST(name_limits)
{
	uint8_t w[300];
	struct buf b;
	size_t used, off = 0;

	buf_init(&b);
	/* 63-byte labels: 4 of them make 256 wire bytes with the root: too long */
	for (int i = 0; i < 4; i++) {
		w[off++] = 63;
		memset(w + off, 'a', 63);
		off += 63;
	}
	w[off++] = 0;
	ck_assert_int_eq(dns_rr_name(w, off, &used, &b), -EBADMSG);
	ck_assert_uint_eq(b.len, 0);
	/* 3 x 63 + a 61-byte label = 255 bytes: the longest legal name */
	w[192] = 61;
	w[192 + 62] = 0;
	ck_assert_int_eq(dns_rr_name(w, 255, &used, &b), 0);
	ck_assert_uint_eq(used, 255);
	ck_assert_uint_eq(b.len, 63 * 3 + 61 + 3);
	buf_reset(&b);
	/* label length 64 */
	w[0] = 64;
	ck_assert_int_eq(dns_rr_name(w, sizeof(w), &used, &b), -EBADMSG);
	ck_assert_int_eq(dns_rr_name(w, 0, &used, &b), -EBADMSG);
	buf_fini(&b);
}
END_TEST

START_TEST(addr)
{
	char a[DNS_ADDR_MAX];

	ck_assert_int_eq(dns_rr_addr(DNS_TYPE_A, RD("\x7f\x00\x00\x01"), a), 0);
	ck_assert_str_eq(a, "127.0.0.1");
	ck_assert_int_eq(
	        dns_rr_addr(DNS_TYPE_AAAA, RD("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"), a), 0);
	ck_assert_str_eq(a, "2001:db8::1");
	ck_assert_int_eq(dns_rr_addr(DNS_TYPE_A, RD("\x7f\x00\x00"), a), -EBADMSG);
	ck_assert_int_eq(dns_rr_addr(DNS_TYPE_AAAA, RD("\x7f\x00\x00\x01"), a), -EBADMSG);
	ck_assert_int_eq(dns_rr_addr(DNS_TYPE_MX, RD("\x7f\x00\x00\x01"), a), -EINVAL);
}
END_TEST

CHECK_MAIN("dns_rr", txt_join, txt_edge, tlsa, mx, name_escapes, name_limits, addr)
