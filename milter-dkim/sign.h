/* sign: DKIM signatures (RFC 6376, RFC 8301, RFC 8463) for one message. */
#ifndef POSTWARDEN_DKIM_SIGN_H
#define POSTWARDEN_DKIM_SIGN_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "buf.h"

/* sign_from_domain() outcome: the message has no signing domain (why added to @err). */
#define SIGN_UNSIGNABLE 1

struct sign;

/* Room for a base64 SHA-256 body hash and its NUL. */
#define SIGN_BH_LEN 45

/* What one DKIM-Signature is made with. */
struct sign_params {
	const char *domain;   /* d= */
	const char *selector; /* s= */
	EVP_PKEY *key;        /* RSA (rsa-sha256) or Ed25519 (ed25519-sha256); shared, read-only */
	time_t t;             /* t= */
	time_t x;             /* x= when > t, else no x= tag */
};

/**
 * sign_new() - start signing one message (relaxed/relaxed, SHA-256).
 *
 * Return: a new signer (free with sign_free()), or NULL with errno set.
 */
struct sign *sign_new(void);

/**
 * sign_new_shared() - start signing one message whose relaxed body hash is computed
 * elsewhere (one hash for signing and verifying): sign_set_body_hash() replaces
 * sign_body(). Never NULL.
 */
struct sign *sign_new_shared(void);

/* sign_set_body_hash() - the SHA-256 of the relaxed canonical body, before sign_make(). */
void sign_set_body_hash(struct sign *s, const unsigned char digest[32]);

/* sign_free() - free @s (NULL is fine). */
void sign_free(struct sign *s);

/**
 * sign_header() - feed the next header field, top to bottom.
 * @s: signer
 * @name: field name
 * @value: field value, folds as "\n"; leading white space or none (the signer
 *         canonicalizes relaxed)
 */
void sign_header(struct sign *s, const char *name, const char *value);

/**
 * sign_body() - feed the next body chunk (split anywhere).
 * @s: signer
 * @data: bytes
 * @len: length
 *
 * Return: 0, or -EIO on a digest failure.
 */
int sign_body(struct sign *s, const void *data, size_t len);

/**
 * sign_from_domain() - the RFC5322.From domain, or why the message cannot be signed.
 * @s: signer, after all headers
 * @domain: receives the domain on success (caller frees), NULL otherwise
 * @err: on SIGN_UNSIGNABLE, gets one line saying why ("no From header", ...); may be NULL
 *
 * Return: 0, or SIGN_UNSIGNABLE.
 */
int sign_from_domain(const struct sign *s, char **domain, struct buf *err);

/**
 * sign_make() - make one DKIM-Signature field value; call once per selector.
 * @s: signer, after the whole body (the body hash is taken on the first call)
 * @p: domain, selector, key and times
 * @value: receives the value (caller frees), folded with "\n\t" (never CR), meant
 *         to be inserted as "DKIM-Signature: " + value at the top of the header
 *
 * The header hash covers exactly that text, relaxed. RSA keys use EVP_DigestSign
 * with SHA-256 (PKCS#1 v1.5); Ed25519 signs the SHA-256 digest (RFC 8463 3).
 *
 * Return: 0, -EINVAL for a key of another type, -EIO when OpenSSL fails.
 */
int sign_make(struct sign *s, const struct sign_params *p, char **value);

/**
 * struct sign_field - one signature field to make (DKIM-Signature, or an ARC field).
 * @name:  the field name, as it will be inserted
 * @tags:  the leading tags, each a complete "t=value;" word, NULL-terminated
 * @hlist: the h= names joined with ':' (or NULL for no h=)
 * @bh:    the base64 body hash (or NULL for no bh=)
 */
struct sign_field {
	const char *name;
	const char *const *tags;
	const char *hlist;
	const char *bh;
};

/**
 * sign_field() - fold @sf's tags, then sign @block followed by the field itself
 * (relaxed, b= empty, no CRLF), and append b=.
 * @sf: the field
 * @key: RSA or Ed25519 private key
 * @block: the header hash input before the field (NULL: none)
 * @value: receives the value folded with "\n\t" (caller frees)
 *
 * Return: 0, -EINVAL for a key of another type, -EIO when OpenSSL fails.
 */
int sign_field(const struct sign_field *sf, EVP_PKEY *key, const struct buf *block, char **value);

/**
 * sign_body_hash() - the base64 relaxed body hash (after the whole body).
 * @s: signer
 * @bh: receives it, NUL-terminated
 *
 * Return: 0, or -EIO.
 */
int sign_body_hash(struct sign *s, char bh[SIGN_BH_LEN]);

/**
 * sign_selected() - the signed header set (headers_select()) of the message.
 * @s: signer, after all headers
 * @hlist: receives the h= list (owned by @s)
 *
 * Return: the relaxed header block (owned by @s).
 */
const struct buf *sign_selected(struct sign *s, const char **hlist);

/**
 * sign_data() - sign a canonical header block and append b= (base64) to @b64.
 * @key: RSA or Ed25519 private key
 * @data: the bytes the header hash is computed over
 * @len: their length
 * @b64: receives the base64 signature
 *
 * Return: 0, -EINVAL for a key of another type, -EIO when OpenSSL fails.
 */
int sign_data(EVP_PKEY *key, const void *data, size_t len, struct buf *b64);

/**
 * sign_verify_data() - check a signature made the way sign_data() makes them.
 * @pub: RSA or Ed25519 public key
 * @data: the canonical header block
 * @len: its length
 * @sig: the decoded b= bytes
 * @siglen: their length
 *
 * Return: 1 when it verifies, 0 when not, -EINVAL for a key of another type, -EIO.
 */
int sign_verify_data(EVP_PKEY *pub, const void *data, size_t len, const void *sig, size_t siglen);

/**
 * sign_algorithm() - the a= name for @key: "rsa-sha256", "ed25519-sha256", or NULL.
 * @key: a private or public key
 */
const char *sign_algorithm(const EVP_PKEY *key);

#endif
