/* verify: DKIM signature verification, RFC 6376 section 6.1, RFC 8301, RFC 8463;
 * the same steps serve ARC-Message-Signature and ARC-Seal (RFC 8617 5.2).
 *
 * Order of checks: expiry (x=) and t= first (no DNS), then the body hash, then the
 * key (<s>._domainkey.<d> TXT through the caller's lookup: the daemon counts a
 * per-message budget and caches), then b= over the header hash input. The header
 * hash input is built by fields.c (h= bottom-up), canon.c and tags.c (b= emptied);
 * the crypto is sign.c's (Ed25519 over the SHA-256). Pure but for the lookup
 * callback; no shared state.
 */
#include <errno.h>
#include <string.h>

#include "keys.h"
#include "sign.h"
#include "tags.h"
#include "verify.h"

const char *verify_result_name(enum verify_result r)
{
	switch (r) {
	case VERIFY_PASS:
		return "pass";
	case VERIFY_FAIL:
		return "fail";
	case VERIFY_NEUTRAL:
		return "neutral";
	case VERIFY_TEMPERROR:
		return "temperror";
	case VERIFY_PERMERROR:
		return "permerror";
	}
	return "?";
}

enum verify_result verify_key(const struct sig *sig, const struct verify_keys *keys, EVP_PKEY **pub,
                              struct buf *why)
{
	enum verify_result res = VERIFY_PERMERROR;
	struct buf name, txt;
	buf_init(&name);
	buf_init(&txt);
	*pub = NULL;
	buf_printf(&name, "%s._domainkey.%s", sig->s, sig->d);
	int r = keys->lookup(keys->arg, buf_cstr(&name), &txt, pub);
	if (r != 0 && *pub) { /* a source breaking its contract: drop the key */
		EVP_PKEY_free(*pub);
		*pub = NULL;
	}
	if (r < 0) {
		buf_add_line(why, "key lookup %s failed", buf_cstr(&name));
		res = VERIFY_TEMPERROR;
		goto out;
	}
	if (r == VERIFY_KEY_NONE) {
		buf_add_line(why, "no key at %s", buf_cstr(&name));
		goto out;
	}
	int type = -1;
	enum keys_txt_result k = KEYS_TXT_MATCH;
	if (*pub)
		type = EVP_PKEY_get_base_id(*pub) == EVP_PKEY_ED25519 ? KEYS_ED25519 : KEYS_RSA;
	else
		k = (enum keys_txt_result)keys_txt_parse(buf_cstr(&txt), pub, &type);
	if (k != KEYS_TXT_MATCH) {
		buf_add_line(why, "key %s: %s", buf_cstr(&name), keys_txt_result_name(k));
		goto out;
	}
	if ((type == KEYS_ED25519) != sig->ed25519) {
		buf_add_line(why, "key %s: not for %s", buf_cstr(&name),
		             sig->ed25519 ? "ed25519-sha256" : "rsa-sha256");
		goto out;
	}
	if (type == KEYS_RSA && EVP_PKEY_get_bits(*pub) < VERIFY_RSA_MIN_BITS) {
		buf_add_line(why, "key %s: %d bits", buf_cstr(&name), EVP_PKEY_get_bits(*pub));
		goto out;
	}
	res = VERIFY_PASS;
out:
	if (res != VERIFY_PASS) {
		EVP_PKEY_free(*pub);
		*pub = NULL;
	}
	buf_fini(&name);
	buf_fini(&txt);
	return res;
}

void verify_self(const struct sig *sig, const char *raw, struct buf *block)
{
	struct buf stripped;
	buf_init(&stripped);
	tags_strip_b(raw, &stripped);
	canon_header(block, sig->hcanon, sig_field_name(sig->kind), buf_cstr(&stripped));
	buf_fini(&stripped);
}

enum verify_result verify_block(const struct sig *sig, const struct verify_keys *keys,
                                const struct buf *block, struct buf *why)
{
	struct buf b;
	buf_init(&b);
	EVP_PKEY *pub = NULL;
	enum verify_result res = VERIFY_PERMERROR;
	if (!tags_base64(sig->b, &b) || b.len == 0) {
		buf_add_line(why, "b= is not base64");
		goto out;
	}
	res = verify_key(sig, keys, &pub, why);
	if (res != VERIFY_PASS)
		goto out;
	int r = sign_verify_data(pub, block->data ? block->data : "", block->len, b.data, b.len);
	if (r != 1) {
		buf_add_line(why, "signature did not verify");
		res = VERIFY_FAIL;
	}
out:
	EVP_PKEY_free(pub);
	buf_fini(&b);
	return res;
}

enum verify_result verify_body(const struct sig *sig, const unsigned char digest[CANON_DIGEST_LEN],
                               unsigned long long body_len, struct buf *why)
{
	struct buf bh;
	buf_init(&bh);
	enum verify_result res = VERIFY_PERMERROR;
	if (!tags_base64(sig->bh, &bh) || bh.len != CANON_DIGEST_LEN) {
		buf_add_line(why, "bh= is not a SHA-256 in base64");
		goto out;
	}
	res = VERIFY_FAIL;
	if (sig->l >= 0 && (unsigned long long)sig->l > body_len) {
		buf_add_line(why, "l= is longer than the body");
		goto out;
	}
	if (memcmp(bh.data, digest, CANON_DIGEST_LEN) != 0) {
		buf_add_line(why, "body hash mismatch");
		goto out;
	}
	res = VERIFY_PASS;
out:
	buf_fini(&bh);
	return res;
}

enum verify_result verify_message_sig(const struct sig *sig, const char *raw,
                                      const struct fields *f,
                                      const unsigned char digest[CANON_DIGEST_LEN],
                                      unsigned long long body_len, const struct verify_keys *keys,
                                      time_t now, struct buf *why)
{
	if (sig->x >= 0 && (long long)now > sig->x) {
		buf_add_line(why, "signature expired");
		return VERIFY_FAIL;
	}
	if (sig->t >= 0 && sig->t > (long long)now + VERIFY_CLOCK_SKEW) {
		buf_add_line(why, "t= in the future");
		return VERIFY_FAIL;
	}
	enum verify_result res = verify_body(sig, digest, body_len, why);
	if (res != VERIFY_PASS)
		return res;
	struct buf block;
	buf_init(&block);
	fields_block(f, sig->hlist, sig->hcanon, &block);
	verify_self(sig, raw, &block);
	res = verify_block(sig, keys, &block, why);
	buf_fini(&block);
	return res;
}
