/* sign: build DKIM-Signature fields for one message.
 *
 * RFC 6376 3.5 (tags), 3.7 (hash computation), 5.4 (h=), RFC 8301 (rsa-sha256
 * only), RFC 8463 (ed25519-sha256: Ed25519 over the SHA-256 of the header
 * block). relaxed/relaxed; never l=. The value is folded with "\n\t" (Postfix
 * splits an inserted value on LF only: doc/protocols.md, "Header fields
 * as Postfix passes them") and the hash covers exactly that text in relaxed form, b= empty, without
 * trailing CRLF. The body hash is shared by every selector; each sign_make() call uses its own
 * OpenSSL contexts, so EVP_PKEYs may be shared read-only between threads.
 * A struct sign belongs to one message (one thread at a time).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "canon.h"
#include "headers.h"
#include "sign.h"
#include "xalloc.h"

#define SIGN_LINE 76

struct sign {
	struct headers *headers;
	struct canon_body *body;
	bool body_done;
	char bh[SIGN_BH_LEN];
	bool selected;
	struct buf hlist;
	struct buf hblock;
};

struct fold {
	struct buf *b;
	size_t col;
};

struct sign *sign_new(void)
{
	struct canon_body *body = canon_body_new(CANON_RELAXED);
	if (!body)
		return NULL;
	struct sign *s = xcalloc(1, sizeof(*s));
	s->headers = headers_new();
	s->body = body;
	buf_init(&s->hlist);
	buf_init(&s->hblock);
	return s;
}

struct sign *sign_new_shared(void)
{
	struct sign *s = xcalloc(1, sizeof(*s));
	s->headers = headers_new();
	buf_init(&s->hlist);
	buf_init(&s->hblock);
	return s;
}

void sign_set_body_hash(struct sign *s, const unsigned char digest[CANON_DIGEST_LEN])
{
	EVP_EncodeBlock((unsigned char *)s->bh, digest, CANON_DIGEST_LEN);
	s->body_done = true;
}

void sign_free(struct sign *s)
{
	if (!s)
		return;
	headers_free(s->headers);
	canon_body_free(s->body);
	buf_fini(&s->hlist);
	buf_fini(&s->hblock);
	free(s);
}

void sign_header(struct sign *s, const char *name, const char *value)
{
	headers_add(s->headers, name, value);
}

int sign_body(struct sign *s, const void *data, size_t len)
{
	if (s->body_done || !s->body)
		return -EINVAL;
	return canon_body_update(s->body, data, len);
}

int sign_from_domain(const struct sign *s, char **domain, struct buf *err)
{
	return headers_from_domain(s->headers, domain, err) ? SIGN_UNSIGNABLE : 0;
}

const char *sign_algorithm(const EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		return "rsa-sha256";
	case EVP_PKEY_ED25519:
		return "ed25519-sha256";
	default:
		return NULL;
	}
}

/* Ed25519 signs and verifies the SHA-256 of the data (RFC 8463 3); RSA the data. */
static const void *signing_input(EVP_PKEY *key, const void *data, size_t *len,
                                 unsigned char digest[SHA256_DIGEST_LENGTH])
{
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519)
		return data;
	SHA256(data, *len, digest);
	*len = SHA256_DIGEST_LENGTH;
	return digest;
}

static const EVP_MD *signing_md(EVP_PKEY *key)
{
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

int sign_data(EVP_PKEY *key, const void *data, size_t len, struct buf *b64)
{
	if (!sign_algorithm(key))
		return -EINVAL;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	int ret = -EIO;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	data = signing_input(key, data, &len, digest);
	if (EVP_DigestSignInit(ctx, NULL, signing_md(key), NULL, key) != 1)
		goto out;
	if (EVP_DigestSign(ctx, NULL, &siglen, data, len) != 1)
		goto out;
	sig = xmalloc(siglen);
	if (EVP_DigestSign(ctx, sig, &siglen, data, len) != 1)
		goto out;
	size_t at = b64->len;
	buf_reserve(b64, EVP_ENCODE_LENGTH(siglen) + 1);
	int n = EVP_EncodeBlock((unsigned char *)b64->data + at, sig, (int)siglen);
	b64->len = at + (size_t)n;
	b64->data[b64->len] = '\0';
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(sig);
	return ret;
}

int sign_verify_data(EVP_PKEY *pub, const void *data, size_t len, const void *sig, size_t siglen)
{
	if (!sign_algorithm(pub))
		return -EINVAL;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	data = signing_input(pub, data, &len, digest);
	int ret = -EIO;
	if (EVP_DigestVerifyInit(ctx, NULL, signing_md(pub), NULL, pub) == 1)
		ret = EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ret;
}

static void fold_word(struct fold *f, const char *w, bool space)
{
	size_t len = strlen(w);
	if (f->col > 8 && f->col + space + len > SIGN_LINE) {
		buf_puts(f->b, "\n\t");
		f->col = 8;
	} else if (space) {
		buf_putc(f->b, ' ');
		f->col++;
	}
	buf_puts(f->b, w);
	f->col += len;
}

static void fold_tag(struct fold *f, const char *fmt, const char *arg)
{
	char *w = xasprintf(fmt, arg);
	fold_word(f, w, f->b->len > 0);
	free(w);
}

static void fold_hlist(struct fold *f, const char *hlist)
{
	char *copy = xstrdup(hlist);
	bool first = true;
	for (char *save = NULL, *name = strtok_r(copy, ":", &save); name;
	     name = strtok_r(NULL, ":", &save)) {
		bool last = save == NULL || *save == '\0';
		char *w = xasprintf("%s%s%s", first ? "h=" : "", name, last ? ";" : ":");
		fold_word(f, w, first);
		free(w);
		first = false;
	}
	free(copy);
}

static void fold_b64(struct fold *f, const char *b64)
{
	size_t len = strlen(b64);
	while (len) {
		if (f->col + 8 > SIGN_LINE) {
			buf_puts(f->b, "\n\t");
			f->col = 8;
		}
		size_t n = SIGN_LINE - f->col;
		if (n > len)
			n = len;
		buf_append(f->b, b64, n);
		f->col += n;
		b64 += n;
		len -= n;
	}
}

static int body_hash(struct sign *s)
{
	if (s->body_done)
		return 0;
	if (!s->body)
		return -EINVAL;
	unsigned char digest[CANON_DIGEST_LEN];
	int r = canon_body_final(s->body, digest);
	if (r < 0)
		return r;
	EVP_EncodeBlock((unsigned char *)s->bh, digest, CANON_DIGEST_LEN);
	s->body_done = true;
	return 0;
}

int sign_field(const struct sign_field *sf, EVP_PKEY *key, const struct buf *block, char **value)
{
	*value = NULL;
	struct buf v, data, b64;
	buf_init(&v);
	buf_init(&data);
	buf_init(&b64);
	struct fold f = { &v, strlen(sf->name) + 2 };
	for (const char *const *t = sf->tags; *t; t++)
		fold_tag(&f, "%s", *t);
	if (sf->hlist)
		fold_hlist(&f, sf->hlist);
	if (sf->bh)
		fold_tag(&f, "bh=%s;", sf->bh);
	fold_tag(&f, "b=", NULL);

	if (block)
		buf_append(&data, block->data ? block->data : "", block->len);
	canon_header_relaxed(&data, sf->name, buf_cstr(&v));
	int r = sign_data(key, data.data, data.len, &b64);
	if (r == 0) {
		fold_b64(&f, buf_cstr(&b64));
		*value = buf_steal(&v, NULL);
	}
	buf_fini(&b64);
	buf_fini(&data);
	buf_fini(&v);
	return r;
}

int sign_body_hash(struct sign *s, char bh[SIGN_BH_LEN])
{
	int r = body_hash(s);
	if (r == 0)
		memcpy(bh, s->bh, SIGN_BH_LEN);
	return r;
}

const struct buf *sign_selected(struct sign *s, const char **hlist)
{
	if (!s->selected) {
		headers_select(s->headers, &s->hlist, &s->hblock);
		s->selected = true;
	}
	*hlist = buf_cstr(&s->hlist);
	return &s->hblock;
}

int sign_make(struct sign *s, const struct sign_params *p, char **value)
{
	*value = NULL;
	const char *alg = sign_algorithm(p->key);
	if (!alg)
		return -EINVAL;
	int r = body_hash(s);
	if (r < 0)
		return r;
	const char *hlist;
	const struct buf *block = sign_selected(s, &hlist);
	char *tags[8] = { NULL };
	size_t n = 0;
	tags[n++] = xstrdup("v=1;");
	tags[n++] = xasprintf("a=%s;", alg);
	tags[n++] = xstrdup("c=relaxed/relaxed;");
	tags[n++] = xasprintf("d=%s;", p->domain);
	tags[n++] = xasprintf("s=%s;", p->selector);
	tags[n++] = xasprintf("t=%lld;", (long long)p->t);
	if (p->x > p->t)
		tags[n++] = xasprintf("x=%lld;", (long long)p->x);
	struct sign_field sf = { "DKIM-Signature", (const char *const *)tags, hlist, s->bh };
	r = sign_field(&sf, p->key, block, value);
	for (size_t i = 0; i < n; i++)
		free(tags[i]);
	return r;
}
