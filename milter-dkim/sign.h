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

/* sign_free() - free @s (NULL is fine). */
void sign_free(struct sign *s);

/**
 * sign_header() - feed the next header field, top to bottom.
 * @s: signer
 * @name: field name
 * @value: field value as Postfix gives it (no leading space, folds as "\n")
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
 * sign_algorithm() - the a= name for @key: "rsa-sha256", "ed25519-sha256", or NULL.
 * @key: a private or public key
 */
const char *sign_algorithm(const EVP_PKEY *key);

#endif
