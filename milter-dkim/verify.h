/* verify: check one DKIM-Signature or ARC-Message-Signature / ARC-Seal signature. */
#ifndef POSTWARDEN_DKIM_VERIFY_H
#define POSTWARDEN_DKIM_VERIFY_H

#include <time.h>

#include <openssl/evp.h>

#include "buf.h"
#include "canon.h"
#include "fields.h"
#include "sig.h"

/* Results as RFC 8601 2.7.1 names them. */
enum verify_result {
	VERIFY_PASS,
	VERIFY_FAIL,
	VERIFY_NEUTRAL,
	VERIFY_TEMPERROR,
	VERIFY_PERMERROR,
};

/* verify_keys lookup outcome: no such record (NXDOMAIN, no TXT). */
#define VERIFY_KEY_NONE 1

/**
 * struct verify_keys - where key records come from.
 * @lookup: put the TXT record of @name ("<s>._domainkey.<d>"), character-strings
 *          joined, into @txt; return 0, VERIFY_KEY_NONE, or -errno (a temporary
 *          failure, the lookup budget spent included). A source that keeps records
 *          already parsed may instead, on 0, set *@parsed to a new reference to the
 *          record's key (keys_txt_parse() gave KEYS_TXT_MATCH for it) and leave @txt
 *          empty: parsing a key (d2i_PUBKEY) costs more than verifying with it.
 *          *@parsed is NULL on entry.
 * @arg:    passed to @lookup
 */
struct verify_keys {
	int (*lookup)(void *arg, const char *name, struct buf *txt, EVP_PKEY **parsed);
	void *arg;
};

/* Ed25519 or RSA >= this many bits (RFC 8301 3.2). */
#define VERIFY_RSA_MIN_BITS 1024
/* t= this far in the future still counts as now (clock skew). */
#define VERIFY_CLOCK_SKEW 300

/* verify_result_name() - "pass", "fail", "neutral", "temperror", "permerror". */
const char *verify_result_name(enum verify_result r);

/**
 * verify_key() - fetch and parse the public key of @sig.
 * @sig: a parsed signature
 * @keys: the key source
 * @pub: receives the key on VERIFY_PASS (caller frees)
 * @why: gets one line on any other result; may be NULL
 *
 * Return: VERIFY_PASS, VERIFY_TEMPERROR (lookup failed), VERIFY_PERMERROR (no key,
 * revoked, malformed, wrong algorithm, RSA under VERIFY_RSA_MIN_BITS).
 */
enum verify_result verify_key(const struct sig *sig, const struct verify_keys *keys, EVP_PKEY **pub,
                              struct buf *why);

/**
 * verify_self() - append the signature field itself as it is hashed: in @sig's
 * header canonicalization, b= emptied, no CRLF (RFC 6376 3.7).
 * @sig: the parsed signature
 * @raw: the field value exactly as received
 * @block: receives the bytes
 */
void verify_self(const struct sig *sig, const char *raw, struct buf *block);

/**
 * verify_block() - check b= of @sig over a complete header hash input.
 * @sig: parsed signature
 * @keys: the key source
 * @block: the header hash input (verify_self() last)
 * @why: gets one line unless VERIFY_PASS; may be NULL
 *
 * Return: VERIFY_PASS, VERIFY_FAIL (bad signature), or verify_key()'s errors.
 */
enum verify_result verify_block(const struct sig *sig, const struct verify_keys *keys,
                                const struct buf *block, struct buf *why);

/**
 * verify_body() - compare bh= with the body hash of @sig's canonicalization and l=.
 * @sig: parsed DKIM-Signature or ARC-Message-Signature
 * @digest: SHA-256 of the canonical body, cut to l= when given
 * @body_len: canonical length of the whole body
 * @why: gets one line unless VERIFY_PASS; may be NULL
 *
 * Return: VERIFY_PASS, VERIFY_FAIL (mismatch, or l= beyond the body),
 * VERIFY_PERMERROR (bh= not base64).
 */
enum verify_result verify_body(const struct sig *sig, const unsigned char digest[CANON_DIGEST_LEN],
                               unsigned long long body_len, struct buf *why);

/**
 * verify_message_sig() - verify a DKIM-Signature or ARC-Message-Signature (RFC 6376 6.1).
 * @sig: parsed signature
 * @raw: its field value as received
 * @f: the message's header fields
 * @digest: body hash for @sig (see verify_body())
 * @body_len: canonical body length
 * @keys: key source
 * @now: current time (x=, t=)
 * @why: gets one line unless VERIFY_PASS; may be NULL
 *
 * Return: a verify_result.
 */
enum verify_result verify_message_sig(const struct sig *sig, const char *raw,
                                      const struct fields *f,
                                      const unsigned char digest[CANON_DIGEST_LEN],
                                      unsigned long long body_len, const struct verify_keys *keys,
                                      time_t now, struct buf *why);

#endif
