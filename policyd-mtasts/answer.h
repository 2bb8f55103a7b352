/* answer: the data of a socketmap OK reply for smtp_tls_policy_maps, and the
 * classification of the request key. Pure: no I/O, no globals, thread safe. */
#ifndef POSTWARDEN_MTASTS_ANSWER_H
#define POSTWARDEN_MTASTS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "policy.h"

/* The answer format, chosen by the socketmap name: "postfix" (any Postfix; the only one
 * Postfix <= 3.9 accepts) and "postfix-tlsrpt" (Postfix >= 3.10: with TLSRPT attributes). */
enum sts_format {
	STS_FORMAT_POSTFIX,
	STS_FORMAT_TLSRPT,
};

/* Outcomes of sts_key_parse(). */
enum {
	STS_KEY_DOMAIN = 0, /* a domain name: look it up */
	STS_KEY_PARENT = 1, /* ".example.com": Postfix's parent-domain probe, answer NOTFOUND */
	STS_KEY_OTHER = 2,  /* [host]:port, IP literal, single label, ...: answer NOTFOUND */
};

/**
 * sts_format_from_name() - socketmap name (@name, @len bytes) to answer format.
 * Return: 0, or -EINVAL for an unknown name.
 */
int sts_format_from_name(const char *name, size_t len, enum sts_format *out);

/* sts_format_name() - "postfix" or "postfix-tlsrpt". */
const char *sts_format_name(enum sts_format fmt);

/**
 * sts_answer_policy() - append the OK data for an enforce policy to @out.
 * @fmt: the answer format
 * @domain: the policy domain (as sts_key_parse() returns it: LDH, lower-case)
 * @p: the policy; its mode must be enforce
 *
 * STS_FORMAT_POSTFIX: "secure match=<m1>:<m2>... servername=hostname", each "*.d" written
 * ".d" (Postfix takes "*.d" literally; ".d" matches any subdomain of d).
 * STS_FORMAT_TLSRPT adds " policy_type=sts policy_domain=<domain>", one
 * " mx_host_pattern=<mx>" per policy mx as written in the policy, and one
 * " { policy_string = <line> }" per policy line (see answer.c for quoting).
 *
 * Return: 0; -EINVAL (mode not enforce, no mx, or @domain not a plain domain name);
 * -EMSGSIZE when the data would not fit a socketmap reply after "OK " (SOCKETMAP_REPLY_MAX).
 * Nothing is appended on error.
 */
int sts_answer_policy(struct buf *out, enum sts_format fmt, const char *domain,
                      const struct sts_policy *p);

/**
 * sts_answer_dane() - append "dane-only" (@only) or "dane" to @out. The same in both
 * formats: Postfix refuses the TLSRPT attributes with its built-in DANE levels.
 * Return: 0.
 */
int sts_answer_dane(struct buf *out, enum sts_format fmt, const char *domain, bool only);

/**
 * sts_key_parse() - classify a request key.
 * @key: the key as Postfix sent it (@len bytes, not NUL-terminated)
 * @out: on STS_KEY_DOMAIN, the domain, lower-case, without a final dot, NUL-terminated
 *
 * A domain is 2 or more LDH labels (A-labels included) of 1..63 bytes, at most 253 bytes
 * without the final dot, and a last label that is not all digits.
 *
 * Return: STS_KEY_DOMAIN, STS_KEY_PARENT (leading dot) or STS_KEY_OTHER (brackets, ports,
 * IP addresses, single labels, spaces, empty, non-ASCII, ...).
 */
int sts_key_parse(const char *key, size_t len, char out[256]);

#endif
