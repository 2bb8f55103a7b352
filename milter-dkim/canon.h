/* canon: DKIM canonicalization (RFC 6376 3.4): relaxed header fields, and a
 * streaming body canonicalizer (relaxed or simple) that feeds SHA-256. */
#ifndef POSTWARDEN_DKIM_CANON_H
#define POSTWARDEN_DKIM_CANON_H

#include <stddef.h>

#include "buf.h"

#define CANON_DIGEST_LEN 32

enum canon_mode {
	CANON_RELAXED,
	CANON_SIMPLE,
};

struct canon_body;

/**
 * canon_header_relaxed() - append the relaxed form of one header field to @out.
 * @out: receives "name:value" (no CRLF)
 * @name: field name, as Postfix gives it
 * @value: field value; folds may be "\n" (Postfix) or "\r\n"; both are removed
 *
 * The name is lower-cased, every CR LF / bare LF is deleted, WSP runs become one
 * SP, and WSP at the start and the end of the value is deleted (RFC 6376 3.4.2).
 */
void canon_header_relaxed(struct buf *out, const char *name, const char *value);

/**
 * canon_header() - append one header field in @mode's form (no CRLF).
 * @out: receives the field
 * @mode: CANON_RELAXED (canon_header_relaxed()) or CANON_SIMPLE: "name:value"
 *        byte for byte, a bare LF fold written as CRLF (RFC 6376 3.4.1)
 * @name: field name
 * @value: field value; for simple, exactly as received (leading space included)
 */
void canon_header(struct buf *out, enum canon_mode mode, const char *name, const char *value);

/**
 * canon_body_new() - start a body hash.
 * @mode: CANON_RELAXED or CANON_SIMPLE
 *
 * Return: a new object (free with canon_body_free()), or NULL with errno set
 * when the SHA-256 context cannot be created.
 */
struct canon_body *canon_body_new(enum canon_mode mode);

/**
 * canon_body_copy_to() - also append the canonical bytes to @copy (tests, fuzzing).
 * @cb: body canonicalizer
 * @copy: buffer owned by the caller, alive until canon_body_final(); NULL stops copying
 */
void canon_body_copy_to(struct canon_body *cb, struct buf *copy);

/**
 * canon_body_limit() - hash only the first @limit canonical bytes (DKIM l=).
 * @cb: body canonicalizer, before the first update
 * @limit: byte count; bytes past it are counted (canon_body_length()) but not hashed
 */
void canon_body_limit(struct canon_body *cb, unsigned long long limit);

/* canon_body_length() - canonical bytes produced so far (after final: the whole body). */
unsigned long long canon_body_length(const struct canon_body *cb);

/**
 * canon_body_update() - feed the next chunk of the body.
 * @cb: body canonicalizer
 * @data: bytes of the body; a chunk may end anywhere, even between CR and LF
 * @len: number of bytes
 *
 * Lines may end in CRLF or in a bare LF (taken as CRLF). Memory use is constant:
 * only counts of pending empty lines and pending whitespace are kept.
 *
 * Return: 0, or -EIO when the digest update fails.
 */
int canon_body_update(struct canon_body *cb, const void *data, size_t len);

/**
 * canon_body_final() - end the body and get its SHA-256.
 * @cb: body canonicalizer; no further updates after this
 * @digest: receives CANON_DIGEST_LEN bytes
 *
 * Return: 0, or -EIO when the digest fails.
 */
int canon_body_final(struct canon_body *cb, unsigned char digest[CANON_DIGEST_LEN]);

/* canon_body_free() - free @cb (NULL is fine). */
void canon_body_free(struct canon_body *cb);

#endif
