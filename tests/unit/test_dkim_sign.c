/* Unit tests for milter-dkim/sign, headers and from: the RFC 8463 Appendix A
 * vector byte for byte, header choice and oversigning, folding, and every
 * signature verified again with OpenSSL's EVP_DigestVerify. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "canon.h"
#include "check_common.h"
#include "from.h"
#include "headers.h"
#include "keys.h"
#include "sign.h"

static const char *const rfc_headers[][2] = {
	{ "From", "Joe SixPack <joe@football.example.com>" },
	{ "To", "Suzie Q <suzie@shopping.example.net>" },
	{ "Subject", "Is dinner ready?" },
	{ "Date", "Fri, 11 Jul 2003 21:00:37 -0700 (PDT)" },
	{ "Message-ID", "<20030712040037.46341.5F8J@football.example.com>" },
};
static const char rfc_body[] = "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n"
                               "\r\n";

/* The RFC's signature fields as Postfix hands them over (folds as "\n"), b= emptied. */
static const char rfc_ed_sig[] =
        "v=1; a=ed25519-sha256; c=relaxed/relaxed;\n d=football.example.com; "
        "i=@football.example.com;\n q=dns/txt; s=brisbane; t=1528637909; h=from : to :\n "
        "subject : date : message-id : from : subject : date;\n "
        "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n b=";
static const char rfc_rsa_sig[] =
        "v=1; a=rsa-sha256; c=relaxed/relaxed;\n d=football.example.com; "
        "i=@football.example.com;\n q=dns/txt; s=test; t=1528637909; h=from : to : subject :\n "
        "date : message-id : from : subject : date;\n "
        "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n b=";
static const char rfc_ed_b[] =
        "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";
static const char rfc_rsa_b[] =
        "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+"
        "FF3Zo9Rpo1tFOeS9"
        "mPYQTnGdaSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=";
static const char rfc_rsa_p[] =
        "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
        "J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLz"
        "BfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

static size_t b64_decode(const char *in, unsigned char *out)
{
	int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)strlen(in));
	ck_assert_int_gt(n, 0);
	size_t len = (size_t)n;
	for (size_t i = strlen(in); i > 0 && in[i - 1] == '='; i--)
		len--;
	return len;
}

static EVP_PKEY *rfc_ed_key(void)
{
	unsigned char seed[64];
	size_t n = b64_decode("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=", seed);
	ck_assert_uint_eq(n, 32);
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	ck_assert_ptr_nonnull(k);
	return k;
}

static void rfc_block(struct buf *block, const char *sig)
{
	for (size_t i = 0; i < 5; i++) {
		canon_header_relaxed(block, rfc_headers[i][0], rfc_headers[i][1]);
		buf_puts(block, "\r\n");
	}
	canon_header_relaxed(block, "DKIM-Signature", sig);
}

/* Verify b64 signature @b over @data with @pub the DKIM way (Ed25519 pre-hashed). */
static int verify(EVP_PKEY *pub, const void *data, size_t len, const char *b)
{
	unsigned char sig[1024];
	size_t slen = b64_decode(b, sig);
	unsigned char digest[SHA256_DIGEST_LENGTH];
	bool ed = EVP_PKEY_get_base_id(pub) == EVP_PKEY_ED25519;
	if (ed) {
		SHA256(data, len, digest);
		data = digest;
		len = sizeof(digest);
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, ed ? NULL : EVP_sha256(), NULL, pub), 1);
	int r = EVP_DigestVerify(ctx, sig, slen, data, len);
	EVP_MD_CTX_free(ctx);
	return r;
}

START_TEST(rfc8463_vector_ed25519_exact)
{
	struct buf block, b;
	buf_init(&block);
	buf_init(&b);
	rfc_block(&block, rfc_ed_sig);
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)block.data, block.len, md);
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ck_assert_str_eq(hex, "48ce9a2c710ece1710ff156996b836a7f45470e43efe5643074d6e1690ed62e7");
	EVP_PKEY *k = rfc_ed_key();
	ck_assert_int_eq(sign_data(k, block.data, block.len, &b), 0);
	ck_assert_str_eq(b.data, rfc_ed_b);
	ck_assert_int_eq(verify(k, block.data, block.len, rfc_ed_b), 1);
	/* the published key record */
	struct buf rec;
	buf_init(&rec);
	ck_assert_int_eq(keys_dns_record(k, &rec), 0);
	ck_assert_str_eq(rec.data,
	                 "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	buf_fini(&rec);
	EVP_PKEY_free(k);
	buf_fini(&block);
	buf_fini(&b);
}
END_TEST

START_TEST(rfc8463_vector_rsa_verifies)
{
	struct buf block;
	buf_init(&block);
	rfc_block(&block, rfc_rsa_sig);
	unsigned char der[512];
	size_t n = b64_decode(rfc_rsa_p, der);
	const unsigned char *p = der;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)n);
	ck_assert_ptr_nonnull(pub);
	ck_assert_int_eq(verify(pub, block.data, block.len, rfc_rsa_b), 1);
	block.data[0] = 'F'; /* a changed header block must not verify */
	ck_assert_int_ne(verify(pub, block.data, block.len, rfc_rsa_b), 1);
	EVP_PKEY_free(pub);
	buf_fini(&block);
}
END_TEST

/* Cut "b=..." (the last tag) down to "b=" and unfold nothing: the verifier's view. */
static char *strip_b(const char *value)
{
	const char *b = strstr(value, " b=");
	const char *b2 = strstr(value, "\tb=");
	if (!b || (b2 && b2 > b))
		b = b2;
	ck_assert_ptr_nonnull(b);
	size_t at = (size_t)(b - value) + 3;
	char *s = strndup(value, at);
	return s;
}

static char *b_value(const char *value)
{
	const char *b = strstr(value, "b=");
	while (b && b > value && b[-1] != ' ' && b[-1] != '\t')
		b = strstr(b + 1, "b=");
	ck_assert_ptr_nonnull(b);
	char *out = malloc(strlen(b));
	size_t k = 0;
	for (const char *p = b + 2; *p; p++)
		if (*p != '\n' && *p != '\t' && *p != ' ')
			out[k++] = *p;
	out[k] = '\0';
	return out;
}

static struct sign *rfc_signer(size_t split)
{
	struct sign *s = sign_new();
	ck_assert_ptr_nonnull(s);
	sign_header(s, "DKIM-Signature", "v=1; a=rsa-sha256; d=x; s=y; h=from; bh=x; b=y");
	for (size_t i = 0; i < 5; i++)
		sign_header(s, rfc_headers[i][0], rfc_headers[i][1]);
	sign_header(s, "Received", "from somewhere");
	ck_assert_int_eq(sign_body(s, rfc_body, split), 0);
	ck_assert_int_eq(sign_body(s, rfc_body + split, strlen(rfc_body) - split), 0);
	return s;
}

static void check_folding(const char *value)
{
	ck_assert_ptr_null(strchr(value, '\r'));
	size_t col = strlen("DKIM-Signature: ");
	for (const char *p = value; *p; p++) {
		if (*p == '\n') {
			ck_assert_int_eq(p[1], '\t');
			col = 0;
			continue;
		}
		col++;
		ck_assert_msg(col <= 78, "line too long in %s", value);
	}
	ck_assert_ptr_null(strstr(value, "l="));
}

static void sign_and_verify(EVP_PKEY *key, const char *alg)
{
	struct sign *s = rfc_signer(17);
	struct sign_params p = { "football.example.com", "sel1", key, 1528637909, 0 };
	char *value = NULL;
	ck_assert_int_eq(sign_make(s, &p, &value), 0);
	check_folding(value);
	char *want = NULL;
	ck_assert_int_gt(asprintf(&want,
	                          "v=1; a=%s; c=relaxed/relaxed; d=football.example.com; "
	                          "s=sel1; t=1528637909;",
	                          alg),
	                 0);
	struct buf unfolded;
	buf_init(&unfolded);
	canon_header_relaxed(&unfolded, "x", value);
	for (char *c = strstr(unfolded.data, "h="); *c != ';'; c++)
		if (c[0] == ':' && c[1] == ' ')
			memmove(c + 1, c + 2, strlen(c + 2) + 1);
	ck_assert_msg(strncmp(unfolded.data + 2, want, strlen(want)) == 0, "%s", unfolded.data);
	ck_assert_ptr_nonnull(strstr(unfolded.data,
	                             " h=from:from:reply-to:subject:subject:date:date:to:to:cc:"
	                             "message-id:message-id:mime-version:content-type:"
	                             "content-transfer-encoding; "
	                             "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b="));
	ck_assert_ptr_null(strstr(unfolded.data, "x="));

	/* the verifier's computation, built independently of headers_select() */
	struct buf block;
	buf_init(&block);
	static const int order[] = { 0, 2, 3, 1, 4 };
	for (size_t i = 0; i < 5; i++) {
		canon_header_relaxed(&block, rfc_headers[order[i]][0], rfc_headers[order[i]][1]);
		buf_puts(&block, "\r\n");
	}
	char *nob = strip_b(value);
	canon_header_relaxed(&block, "DKIM-Signature", nob);
	char *b = b_value(value);
	ck_assert_int_eq(verify(key, block.data, block.len, b), 1);
	block.data[block.len - 3] ^= 1;
	ck_assert_int_ne(verify(key, block.data, block.len, b), 1);

	/* a second selector on the same message gets its own, valid signature */
	struct sign_params p2 = { "football.example.com", "sel2", key, 1528637909, 1529242709 };
	char *value2 = NULL;
	ck_assert_int_eq(sign_make(s, &p2, &value2), 0);
	ck_assert_ptr_nonnull(strstr(value2, "x=1529242709;"));
	ck_assert_ptr_nonnull(strstr(value2, "s=sel2;"));
	check_folding(value2);

	free(value2);
	free(b);
	free(nob);
	free(want);
	buf_fini(&block);
	buf_fini(&unfolded);
	free(value);
	sign_free(s);
}

START_TEST(sign_ed25519_verifies)
{
	EVP_PKEY *k = rfc_ed_key();
	sign_and_verify(k, "ed25519-sha256");
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(sign_rsa_verifies)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ck_assert_ptr_nonnull(k);
	sign_and_verify(k, "rsa-sha256");
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(sign_body_split_anywhere_same_bh)
{
	EVP_PKEY *k = rfc_ed_key();
	struct sign_params p = { "football.example.com", "s", k, 1, 0 };
	char *first = NULL;
	for (size_t split = 0; split <= strlen(rfc_body); split++) {
		struct sign *s = rfc_signer(split);
		char *v = NULL;
		ck_assert_int_eq(sign_make(s, &p, &v), 0);
		if (!first)
			first = v;
		else {
			ck_assert_str_eq(v, first);
			free(v);
		}
		sign_free(s);
	}
	free(first);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(sign_rejects_other_keys)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_assert_ptr_nonnull(k);
	struct sign *s = rfc_signer(0);
	struct sign_params p = { "d", "s", k, 1, 0 };
	char *v = (char *)1;
	ck_assert_int_eq(sign_make(s, &p, &v), -EINVAL);
	ck_assert_ptr_null(v);
	ck_assert_ptr_null(sign_algorithm(k));
	sign_free(s);
	EVP_PKEY_free(k);
}
END_TEST

static void select_of(const char *const (*h)[2], size_t n, struct buf *hlist, struct buf *block)
{
	struct headers *hs = headers_new();
	for (size_t i = 0; i < n; i++)
		headers_add(hs, h[i][0], h[i][1]);
	headers_select(hs, hlist, block);
	headers_free(hs);
}

START_TEST(headers_bottom_up_and_oversigned)
{
	static const char *const h[][2] = {
		{ "Received", "by a" },
		{ "TO", "first@x" },
		{ "from", "A <a@example.org>" },
		{ "To", "second@x" },
		{ "Subject", "a folded\n  subject line" },
		{ "DKIM-Signature", "v=1; old" },
		{ "List-Id", "<l.example.org>" },
		{ "X-Mailer", "junk" },
		{ "Content-ID", "<c@x>" },
	};
	struct buf hl, bl;
	buf_init(&hl);
	buf_init(&bl);
	select_of(h, sizeof(h) / sizeof(h[0]), &hl, &bl);
	ck_assert_str_eq(hl.data, "from:from:reply-to:subject:subject:date:to:to:to:cc:list-id:"
	                          "message-id:mime-version:content-type:content-transfer-encoding:"
	                          "content-id");
	ck_assert_str_eq(bl.data, "from:A <a@example.org>\r\nsubject:a folded subject line\r\n"
	                          "to:second@x\r\nto:first@x\r\nlist-id:<l.example.org>\r\n"
	                          "content-id:<c@x>\r\n");
	ck_assert_ptr_null(strstr(hl.data, "dkim"));
	buf_fini(&hl);
	buf_fini(&bl);
}
END_TEST

START_TEST(headers_many_unrelated)
{
	struct headers *hs = headers_new();
	for (int i = 0; i < 1000; i++)
		headers_add(hs, "X-Junk", "\xff\xfe value");
	headers_add(hs, "From", "a@Example.ORG");
	struct buf reason, hl, bl;
	buf_init(&reason);
	buf_init(&hl);
	buf_init(&bl);
	char *d = NULL;
	ck_assert_int_eq(headers_from_domain(hs, &d, &reason), 0);
	ck_assert_str_eq(d, "example.org");
	headers_select(hs, &hl, &bl);
	ck_assert_str_eq(bl.data, "from:a@Example.ORG\r\n");
	free(d);
	headers_free(hs);
	buf_fini(&reason);
	buf_fini(&hl);
	buf_fini(&bl);
}
END_TEST

START_TEST(headers_signed_set_bounded)
{
	struct headers *hs = headers_new();
	headers_add(hs, "From", "a@example.org");
	for (int i = 0; i < 300; i++)
		headers_add(hs, "To", "x@example.net");
	struct buf reason;
	buf_init(&reason);
	char *d = NULL;
	ck_assert_int_eq(headers_from_domain(hs, &d, &reason), HEADERS_UNSIGNABLE);
	ck_assert_ptr_null(d);
	ck_assert_str_eq(reason.data,
	                 "301 header fields of the signed set (at most 256 are signed)");
	headers_free(hs);
	buf_fini(&reason);
	/* exactly the limit still signs */
	hs = headers_new();
	headers_add(hs, "From", "a@example.org");
	for (int i = 0; i < HEADERS_SIGNED_MAX - 1; i++)
		headers_add(hs, "Cc", "x@example.net");
	buf_init(&reason);
	ck_assert_int_eq(headers_from_domain(hs, &d, &reason), 0);
	free(d);
	headers_free(hs);
	buf_fini(&reason);
}
END_TEST

START_TEST(headers_from_count_reasons)
{
	struct buf reason;
	buf_init(&reason);
	char *d = (char *)1;
	struct headers *hs = headers_new();
	headers_add(hs, "To", "x@y");
	ck_assert_int_eq(headers_from_domain(hs, &d, &reason), HEADERS_UNSIGNABLE);
	ck_assert_str_eq(reason.data, "no From header");
	ck_assert_ptr_null(d);
	headers_add(hs, "From", "a@example.org");
	headers_add(hs, "FROM", "b@example.org");
	buf_reset(&reason);
	ck_assert_int_eq(headers_from_domain(hs, &d, &reason), HEADERS_UNSIGNABLE);
	ck_assert_str_eq(reason.data, "2 From headers");
	headers_free(hs);

	struct sign *s = sign_new();
	sign_header(s, "From", "undisclosed-recipients:;");
	buf_reset(&reason);
	ck_assert_int_eq(sign_from_domain(s, &d, &reason), SIGN_UNSIGNABLE);
	ck_assert_str_eq(reason.data, "From header has no address");
	sign_free(s);
	buf_fini(&reason);
}
END_TEST

static const struct {
	const char *value;
	const char *domain; /* NULL: unusable */
} from_cases[] = {
	{ "joe@football.example.com", "football.example.com" },
	{ "Joe SixPack <joe@Football.Example.COM>", "football.example.com" },
	{ "\"Joe <x@evil.example>, Q\" <joe@example.org>", "example.org" },
	{ "\"quoted@local\"@example.org", "example.org" },
	{ "joe@example.org (comment <x@evil.example>)", "example.org" },
	{ "(c (nested) x@evil.example) Joe\n <joe@example.org>", "example.org" },
	{ "<@route.example,@r2.example:joe@example.org>", "example.org" },
	{ "joe@example.org.", "example.org" },
	{ "a@example.org, B <b@EXAMPLE.org>", "example.org" },
	{ "Team: a@example.org, b@example.org;", "example.org" },
	{ "Team: a@example.org;, c@example.org", "example.org" },
	{ "=?UTF-8?Q?J=C3=B6e?= <joe@sub.example.org>", "sub.example.org" },
	{ "joe @ example . org", "example.org" },
	{ "", NULL },
	{ "joe", NULL },
	{ "<joe>", NULL },
	{ "@example.org", NULL },
	{ "joe@", NULL },
	{ "joe@[192.0.2.1]", NULL },
	{ "joe@exa mple.org", NULL },
	{ "joe@-bad.example", NULL },
	{ "joe@bad..example", NULL },
	{ "joe@ex\xc3\xa4mple.org", NULL },
	{ "a@example.org, b@example.net", NULL },
	{ "Joe <joe@example.org", NULL },
	{ "Joe joe@example.org>", NULL },
	{ "\"unterminated <joe@example.org>", NULL },
	{ "(unterminated joe@example.org", NULL },
	{ "undisclosed-recipients:;", NULL },
	{ "Team: a@example.org", NULL },
	{ "<<joe@example.org>>", NULL },
	{ "Joe <joe@example.org> trailing", NULL },
};

START_TEST(from_domain_cases)
{
	for (size_t i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++) {
		char *d = NULL;
		struct buf why;
		buf_init(&why);
		int r = from_domain(from_cases[i].value, &d, &why);
		if (from_cases[i].domain) {
			ck_assert_msg(r == 0, "case %zu (%s): %s", i, from_cases[i].value,
			              buf_cstr(&why));
			ck_assert_str_eq(d, from_cases[i].domain);
			ck_assert_uint_eq(why.len, 0);
		} else {
			ck_assert_msg(r == FROM_UNUSABLE, "case %zu (%s) gave %s", i,
			              from_cases[i].value, d);
			ck_assert_ptr_null(d);
			ck_assert_uint_gt(why.len, 0);
			ck_assert_ptr_null(strchr(buf_cstr(&why), '\n'));
		}
		free(d);
		ck_assert_int_eq(from_domain(from_cases[i].value, &d, NULL), r);
		free(d);
		buf_fini(&why);
	}
}
END_TEST

CHECK_MAIN("dkim_sign", rfc8463_vector_ed25519_exact, rfc8463_vector_rsa_verifies,
           sign_ed25519_verifies, sign_rsa_verifies, sign_body_split_anywhere_same_bh,
           sign_rejects_other_keys, headers_bottom_up_and_oversigned, headers_many_unrelated,
           headers_signed_set_bounded, headers_from_count_reasons, from_domain_cases)
