/* Unit tests for milter-dkim/canon: relaxed headers, streaming relaxed/simple body. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "canon.h"
#include "check_common.h"

static char *hdr(const char *name, const char *value)
{
	static struct buf b;
	buf_fini(&b);
	buf_init(&b);
	canon_header_relaxed(&b, name, value);
	return b.data;
}

/* Canonicalize @in (@len bytes) in chunks cut at @cuts (ascending, -1 ends). */
static void body_run(enum canon_mode mode, const char *in, size_t len, const long *cuts,
                     struct buf *out, char b64[45])
{
	struct canon_body *cb = canon_body_new(mode);
	ck_assert_ptr_nonnull(cb);
	canon_body_copy_to(cb, out);
	size_t at = 0;
	for (; cuts && *cuts >= 0; cuts++) {
		ck_assert_int_eq(canon_body_update(cb, in + at, (size_t)*cuts - at), 0);
		at = (size_t)*cuts;
	}
	ck_assert_int_eq(canon_body_update(cb, in + at, len - at), 0);
	unsigned char d[CANON_DIGEST_LEN];
	ck_assert_int_eq(canon_body_final(cb, d), 0);
	EVP_EncodeBlock((unsigned char *)b64, d, CANON_DIGEST_LEN);
	canon_body_free(cb);
}

static void expect_body(enum canon_mode mode, const char *in, const char *want)
{
	struct buf out;
	buf_init(&out);
	char b64[45];
	body_run(mode, in, strlen(in), NULL, &out, b64);
	ck_assert_uint_eq(out.len, strlen(want));
	ck_assert_mem_eq(out.data ? out.data : "", want, out.len);
	buf_fini(&out);
}

START_TEST(header_relaxed_basics)
{
	ck_assert_str_eq(hdr("Subject", "a folded\n  subject line"),
	                 "subject:a folded subject line");
	ck_assert_str_eq(hdr("SUBJECT", "a\r\n\tb"), "subject:a b");
	ck_assert_str_eq(hdr("To", "  x   y \t "), "to:x y");
	ck_assert_str_eq(hdr("X-Empty", ""), "x-empty:");
	ck_assert_str_eq(hdr("X-Empty", " \t\n "), "x-empty:");
	/* unfolding removes the line break only: "a\nb" joins without a space */
	ck_assert_str_eq(hdr("X", "a\nb"), "x:ab");
	/* 8-bit bytes and a lone CR pass unchanged */
	ck_assert_str_eq(hdr("X", "caf\xc3\xa9 \r x"), "x:caf\xc3\xa9 \r x");
	/* RFC 6376 3.4.5 example */
	ck_assert_str_eq(hdr("A", "X"), "a:X");
	ck_assert_str_eq(hdr("B ", "Y\t\r\n\tZ  "), "b:Y Z");
}
END_TEST

START_TEST(body_rfc6376_example)
{
	expect_body(CANON_RELAXED, " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n");
	expect_body(CANON_SIMPLE, " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n");
}
END_TEST

START_TEST(body_empty_hashes)
{
	struct buf out;
	buf_init(&out);
	char b64[45];
	body_run(CANON_RELAXED, "", 0, NULL, &out, b64);
	ck_assert_str_eq(b64, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	ck_assert_uint_eq(out.len, 0);
	body_run(CANON_SIMPLE, "", 0, NULL, &out, b64);
	ck_assert_str_eq(b64, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	buf_fini(&out);
	/* only blank (and whitespace-only) lines */
	expect_body(CANON_RELAXED, "\r\n\r\n \t\r\n\n", "");
	expect_body(CANON_SIMPLE, "\r\n\r\n\r\n", "\r\n");
	expect_body(CANON_SIMPLE, "\r\n \r\n\r\n", "\r\n \r\n");
}
END_TEST

START_TEST(body_rfc8463_hash)
{
	static const char body[] = "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\n"
	                           "Joe.\r\n\r\n";
	struct buf out;
	buf_init(&out);
	char b64[45];
	body_run(CANON_RELAXED, body, strlen(body), NULL, &out, b64);
	ck_assert_str_eq(b64, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
	ck_assert_str_eq(out.data,
	                 "Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n");
	buf_fini(&out);
}
END_TEST

START_TEST(body_line_ends_and_whitespace)
{
	/* bare LF is a line end like CRLF */
	expect_body(CANON_RELAXED, "a\nb \n\n", "a\r\nb\r\n");
	expect_body(CANON_SIMPLE, "a\nb \n\n", "a\r\nb \r\n");
	/* missing final CRLF is supplied, trailing WSP dropped */
	expect_body(CANON_RELAXED, "abc  \t", "abc\r\n");
	expect_body(CANON_SIMPLE, "abc ", "abc \r\n");
	/* inner WSP runs collapse; leading WSP becomes one SP */
	expect_body(CANON_RELAXED, "\t\t x \t y\r\n", " x y\r\n");
	/* whitespace-only line inside the body becomes an empty line, kept */
	expect_body(CANON_RELAXED, "a\r\n \t \r\nb\r\n \r\n", "a\r\n\r\nb\r\n");
	/* lone CR is an ordinary character, also at the very end */
	expect_body(CANON_RELAXED, "a\rb\r\n", "a\rb\r\n");
	expect_body(CANON_RELAXED, "a\r", "a\r\r\n");
	expect_body(CANON_RELAXED, "\r", "\r\r\n");
	/* 8-bit bytes pass unchanged */
	expect_body(CANON_RELAXED, "\xff\xfe \x80\r\n\xc3\xa9t\xc3\xa9\r\n",
	            "\xff\xfe \x80\r\n\xc3\xa9t\xc3\xa9\r\n");
	/* NUL bytes are data too */
	struct buf out;
	buf_init(&out);
	char b64[45];
	body_run(CANON_RELAXED, "a\0b\r\n", 5, NULL, &out, b64);
	ck_assert_uint_eq(out.len, 5);
	ck_assert_mem_eq(out.data, "a\0b\r\n", 5);
	buf_fini(&out);
}
END_TEST

static const char *const split_bodies[] = {
	"Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n\r\n",
	"line one  \r\n\t tabbed\t\r\n\r\n\r\n \r\nafter blanks \r\n\r\n",
	"bare\nlf\n \n\nmixed\r\nends\r\r\n\rx \t\r\n\r\n\r",
	"8bit \xe9\xe8  \xff\r\n\r\n  \r\n\r\n",
	"no final line end   ",
};

START_TEST(body_every_split_point)
{
	for (size_t b = 0; b < sizeof(split_bodies) / sizeof(split_bodies[0]); b++) {
		const char *in = split_bodies[b];
		size_t len = strlen(in);
		for (int mode = CANON_RELAXED; mode <= CANON_SIMPLE; mode++) {
			struct buf whole, part;
			buf_init(&whole);
			char want[45], got[45];
			body_run((enum canon_mode)mode, in, len, NULL, &whole, want);
			for (size_t i = 0; i <= len; i++) {
				for (size_t j = i; j <= len; j++) {
					long cuts[] = { (long)i, (long)j, -1 };
					buf_init(&part);
					body_run((enum canon_mode)mode, in, len, cuts, &part, got);
					ck_assert_msg(strcmp(got, want) == 0,
					              "body %zu mode %d split %zu,%zu", b, mode, i,
					              j);
					ck_assert_uint_eq(part.len, whole.len);
					buf_fini(&part);
				}
			}
			buf_fini(&whole);
		}
	}
}
END_TEST

START_TEST(body_byte_by_byte)
{
	const char *in = split_bodies[1];
	size_t len = strlen(in);
	long cuts[128];
	size_t n = 0;
	for (size_t i = 1; i < len && n < 127; i++)
		cuts[n++] = (long)i;
	cuts[n] = -1;
	struct buf a, b;
	buf_init(&a);
	buf_init(&b);
	char wa[45], wb[45];
	body_run(CANON_RELAXED, in, len, NULL, &a, wa);
	body_run(CANON_RELAXED, in, len, cuts, &b, wb);
	ck_assert_str_eq(wa, wb);
	ck_assert_str_eq(a.data, b.data);
	buf_fini(&a);
	buf_fini(&b);
}
END_TEST

START_TEST(body_long_blank_runs_are_linear)
{
	/* 4 MB of empty lines fed in 64 KiB chunks, then text, then 4 MB more:
	 * the first run must be emitted, the trailing one dropped. */
	size_t n = 2 * 1024 * 1024;
	char *blank = malloc(2 * n);
	ck_assert_ptr_nonnull(blank);
	for (size_t i = 0; i < n; i++)
		memcpy(blank + 2 * i, "\r\n", 2);
	struct canon_body *cb = canon_body_new(CANON_RELAXED);
	struct buf out;
	buf_init(&out);
	canon_body_copy_to(cb, &out);
	for (size_t at = 0; at < 2 * n; at += 65535) {
		size_t k = 2 * n - at < 65535 ? 2 * n - at : 65535;
		ck_assert_int_eq(canon_body_update(cb, blank + at, k), 0);
	}
	ck_assert_int_eq(canon_body_update(cb, "x", 1), 0);
	for (size_t at = 0; at < 2 * n; at += 65535) {
		size_t k = 2 * n - at < 65535 ? 2 * n - at : 65535;
		ck_assert_int_eq(canon_body_update(cb, blank + at, k), 0);
	}
	unsigned char d[CANON_DIGEST_LEN];
	ck_assert_int_eq(canon_body_final(cb, d), 0);
	ck_assert_uint_eq(out.len, 2 * n + 3);
	ck_assert_mem_eq(out.data + 2 * n, "x\r\n", 3);
	canon_body_free(cb);
	buf_fini(&out);
	free(blank);
}
END_TEST

/* A plain reference of the body canonicalizations (RFC 6376 3.4.3, 3.4.4), line by line, as
 * canon.c treats input: a line ends at LF (its CR before it dropped), a CR not before LF
 * is text; relaxed turns WSP runs into one SP and drops them at line end; empty lines at
 * the end are dropped; simple makes an empty body one CRLF. */
static void ref_body(enum canon_mode mode, const char *in, size_t len, struct buf *out)
{
	size_t start = 0, empty = 0;
	bool any = false;

	buf_init(out);
	while (start < len) {
		const char *lf = memchr(in + start, '\n', len - start);
		size_t end = lf ? (size_t)(lf - in) : len, n = end - start;
		if (lf && n > 0 && in[end - 1] == '\r')
			n--;
		struct buf line;
		buf_init(&line);
		for (size_t i = 0; i < n; i++) {
			char c = in[start + i];
			bool wsp = c == ' ' || c == '\t';
			if (mode == CANON_RELAXED && wsp) {
				while (i + 1 < n &&
				       (in[start + i + 1] == ' ' || in[start + i + 1] == '\t'))
					i++;
				if (i + 1 < n)
					buf_putc(&line, ' ');
				continue;
			}
			buf_putc(&line, c);
		}
		if (line.len == 0) {
			empty++;
		} else {
			for (; empty; empty--)
				buf_append(out, "\r\n", 2);
			buf_append(out, line.data, line.len);
			buf_append(out, "\r\n", 2);
			any = true;
		}
		buf_fini(&line);
		start = lf ? end + 1 : len;
	}
	if (mode == CANON_SIMPLE && !any && out->len == 0)
		buf_append(out, "\r\n", 2);
}

/* ref_check() - @in through the streaming canonicalizer in both modes, in random chunks of
 * 1..@max_chunk bytes, cut at a random length limit when @limited: the copy, the digest and
 * the length are the reference's. */
static void ref_check(const char *in, size_t len, size_t max_chunk, bool limited, unsigned *seed,
                      int round)
{
	for (int m = 0; m < 2; m++) {
		enum canon_mode mode = m ? CANON_RELAXED : CANON_SIMPLE;
		struct buf want, got;
		ref_body(mode, in, len, &want);
		struct canon_body *cb = canon_body_new(mode);
		ck_assert_ptr_nonnull(cb);
		buf_init(&got);
		canon_body_copy_to(cb, &got);
		unsigned long long limit =
		        limited ? (unsigned long long)(rand_r(seed) % 300) : ~0ULL;
		canon_body_limit(cb, limit);
		for (size_t at = 0; at < len;) {
			size_t k = 1 + (size_t)(rand_r(seed) % max_chunk);
			if (k > len - at)
				k = len - at;
			ck_assert_int_eq(canon_body_update(cb, in + at, k), 0);
			at += k;
		}
		unsigned char d[CANON_DIGEST_LEN], wd[CANON_DIGEST_LEN];
		ck_assert_int_eq(canon_body_final(cb, d), 0);
		size_t wl = limit < want.len ? (size_t)limit : want.len;
		const char *w = want.data ? want.data : "";
		ck_assert_msg(got.len == wl && memcmp(got.data ? got.data : "", w, wl) == 0,
		              "round %d mode %d: %zu bytes, want %zu", round, m, got.len, wl);
		ck_assert_uint_eq(canon_body_length(cb), want.len);
		unsigned int n = 0;
		ck_assert_int_eq(EVP_Digest(w, wl, wd, &n, EVP_sha256(), NULL), 1);
		ck_assert_mem_eq(d, wd, CANON_DIGEST_LEN);
		canon_body_free(cb);
		buf_fini(&got);
		buf_fini(&want);
	}
}

/* Long bodies, mostly words with single spaces (the fast path's runs, spaces inside them,
 * runs longer than the stage, hashed in place) and now and then a CR, LF, SP or HTAB, in
 * chunks of up to 10000 bytes. */
START_TEST(body_long_runs_match_reference)
{
	static const char text[] = "abcdefghij";
	static const char odd[] = " \t\r\n";
	unsigned seed = 777;
	static char in[30000];

	for (int round = 0; round < 60; round++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(in));
		for (size_t i = 0; i < len; i++) {
			/* odd rounds: a line end about every 10000 bytes, so runs pass the stage */
			unsigned r = (unsigned)rand_r(&seed) % 10000;
			if (round % 2)
				in[i] = r < 9000 ? text[r % 10] : r < 9999 ? ' ' : '\n';
			else
				in[i] = r < 8500 ? text[r % 10] : r < 9700 ? ' ' : odd[r % 4];
		}
		ref_check(in, len, 10000, false, &seed, round);
	}
}
END_TEST

/* Random bodies of CR, LF, SP, HTAB and text, fed in random chunks, with and without a
 * length limit: the streaming canonicalizer (its fast path for runs of text included)
 * gives what the reference gives. */
START_TEST(body_matches_reference)
{
	static const char alphabet[] = "ab \t\r\n";
	unsigned seed = 12345;
	char in[400];

	for (int round = 0; round < 3000; round++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(in));
		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rand_r(&seed) % 6];
		ref_check(in, len, 64, round % 3 == 0, &seed, round);
	}
}
END_TEST

CHECK_MAIN("dkim_canon", header_relaxed_basics, body_rfc6376_example, body_empty_hashes,
           body_rfc8463_hash, body_line_ends_and_whitespace, body_every_split_point,
           body_byte_by_byte, body_long_blank_runs_are_linear, body_matches_reference,
           body_long_runs_match_reference)
