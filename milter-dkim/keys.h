/* keys: DKIM private keys on disk and their DNS TXT records. */
#ifndef POSTWARDEN_DKIM_KEYS_H
#define POSTWARDEN_DKIM_KEYS_H

#include <stdbool.h>

#include <openssl/evp.h>

#include "buf.h"

#define KEYS_RSA_MIN_BITS 1024
#define KEYS_RSA_MAX_BITS 4096

enum keys_type {
	KEYS_RSA,
	KEYS_ED25519,
};

/* keys_txt_check() outcomes (all >= 0). */
enum keys_txt_result {
	KEYS_TXT_MATCH = 0,  /* p= is this key */
	KEYS_TXT_MISMATCH,   /* p= is another key */
	KEYS_TXT_REVOKED,    /* empty p= */
	KEYS_TXT_WRONG_TYPE, /* k=, h= or s= excludes this key */
	KEYS_TXT_MALFORMED,  /* not a DKIM key record */
};

/**
 * keys_load() - load a PEM private key (RSA 1024..4096 bits, or Ed25519).
 * @spec: a path, or "credential:<name>" for $CREDENTIALS_DIRECTORY/<name>
 * @allow_group_readable: accept a group-readable file
 * @key: receives the key (caller frees with EVP_PKEY_free)
 * @err: on failure, gets one line naming the file (never key material); may be NULL
 *
 * A file that is not regular, readable by others, or by its group unless
 * @allow_group_readable, is refused (checked with fstat on the opened file).
 *
 * Return: 0; -EPERM for the mode, -EINVAL for a bad or unsupported key,
 * -ENOENT and other -errno from open/read.
 */
int keys_load(const char *spec, bool allow_group_readable, EVP_PKEY **key, struct buf *err);

/**
 * keys_generate() - make a new key and write it as PEM (PKCS#8), mode 0600.
 * @path: the file to create; an existing file is never replaced
 * @type: KEYS_RSA or KEYS_ED25519
 * @bits: RSA size, 1024..4096 (ignored for Ed25519)
 * @key: if not NULL, receives the key (caller frees)
 * @err: on failure, gets one line naming the file; may be NULL
 *
 * Written to a temporary file in the same directory (O_EXCL, 0600 whatever the
 * umask, fsync), then renamed without replacing: the key appears whole or not at all.
 *
 * Return: 0, -EEXIST when @path exists, -EINVAL for bad @bits, other -errno.
 */
int keys_generate(const char *path, enum keys_type type, int bits, EVP_PKEY **key, struct buf *err);

/**
 * keys_describe() - "rsa-2048" / "ed25519", for logs and tables (no key material).
 * @key: key
 * @out: receives the text
 */
void keys_describe(const EVP_PKEY *key, struct buf *out);

/**
 * keys_dns_record() - the TXT record value that publishes @key's public half.
 * @key: RSA or Ed25519 key
 * @out: receives "v=DKIM1; k=rsa; p=<base64 SPKI DER>" or
 *       "v=DKIM1; k=ed25519; p=<base64 raw 32-byte key>" (RFC 8463 4.2)
 *
 * Return: 0, -EINVAL for another key type, -EIO when OpenSSL fails.
 */
int keys_dns_record(EVP_PKEY *key, struct buf *out);

/**
 * keys_txt_quote() - a record as zone-file character-strings of <= 255 bytes.
 * @record: the TXT value
 * @out: receives "\"...\" \"...\"" ('"' and '\\' escaped, never split inside an escape)
 */
void keys_txt_quote(const char *record, struct buf *out);

/**
 * keys_txt_check() - does a published TXT record publish @key?
 * @txt: the record, its character-strings already concatenated
 * @key: the selector's key
 *
 * Parses the tag list (RFC 6376 3.6.1): whitespace around tags and inside p=
 * is ignored; v= if present must be first and DKIM1; k= defaults to rsa.
 *
 * Return: a keys_txt_result.
 */
enum keys_txt_result keys_txt_check(const char *txt, EVP_PKEY *key);

/**
 * keys_txt_parse() - the public key a DKIM key record publishes (RFC 6376 3.6.1, RFC 8463 4.2).
 * @txt: the record, its character-strings already concatenated
 * @pub: receives the key on KEYS_TXT_MATCH (caller frees), else NULL
 * @type: receives KEYS_RSA or KEYS_ED25519 once k= is known, else -1
 *
 * Return: KEYS_TXT_MATCH (a usable key), KEYS_TXT_REVOKED (empty p=),
 * KEYS_TXT_WRONG_TYPE (k= unknown; h= without sha256; s= without email),
 * KEYS_TXT_MALFORMED.
 */
int keys_txt_parse(const char *txt, EVP_PKEY **pub, int *type);

/* keys_txt_result_name() - "matches", "mismatch", "revoked", "wrong type", "malformed". */
const char *keys_txt_result_name(enum keys_txt_result r);

#endif
