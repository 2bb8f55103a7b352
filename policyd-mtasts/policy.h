/* policy: MTA-STS (RFC 8461) TXT records and policy bodies, parsed and matched. Pure: no
 * I/O, no globals, thread safe. Error text goes to a `struct buf *err`, one line per
 * problem, appended. */
#ifndef POSTWARDEN_MTASTS_POLICY_H
#define POSTWARDEN_MTASTS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define STS_ID_MAX 32              /* id= is 1..32 ALPHA / DIGIT (RFC 8461 3.1) */
#define STS_MAX_AGE_MAX 31557600u  /* max_age is clamped to this (RFC 8461 3.2) */
#define STS_POLICY_MAX (64 * 1024) /* longest policy body accepted (RFC 8461 3.3) */
#define STS_MX_MAX 64              /* more mx lines than this: the policy is invalid */
#define STS_NAME_MAX 253           /* longest domain name or mx pattern, without a final dot */

enum sts_mode {
	STS_MODE_NONE,
	STS_MODE_TESTING,
	STS_MODE_ENFORCE,
};

struct sts_policy {
	enum sts_mode mode;
	uint32_t max_age; /* seconds, already clamped to STS_MAX_AGE_MAX */
	size_t n_mx;
	char *mx[STS_MX_MAX]; /* owned, lower-case, "*.d" or "d", in policy order */
	/* owned: the policy's lines as fetched, each ending in "\n" (CR and trailing
	 * whitespace removed, empty lines dropped); parsing it again gives the same policy.
	 * The TLSRPT answer reports these lines as policy_string (RFC 8460 4.4). */
	char *text;
	size_t text_len;
};

/**
 * sts_txt_pick() - find the MTA-STS record among the TXT records of _mta-sts.<domain>.
 * @txt: the records, each with its strings already concatenated (RFC 8461 3.1)
 * @len: their lengths (a record may contain NUL bytes: it is then invalid)
 * @n: number of records
 * @id: set to the id= value, NUL-terminated, on 0
 * @err: on -EINVAL, one line per problem is appended
 *
 * Records that do not start with "v=STSv1;" are discarded; if not exactly one is left,
 * or it does not follow the RFC 8461 3.1 grammar, the domain has no policy.
 *
 * Return: 0 found; 1 no record starts with "v=STSv1;"; -EINVAL several, or invalid.
 */
int sts_txt_pick(const char *const *txt, const size_t *len, size_t n, char id[STS_ID_MAX + 1],
                 struct buf *err);

/**
 * sts_policy_parse() - parse a policy body (RFC 8461 3.2).
 * @body: the body as fetched; need not be NUL-terminated
 * @len: its length; more than STS_POLICY_MAX is invalid
 * @p: filled on 0 (free with sts_policy_fini()); left empty (zeroed) on error
 * @err: on -EINVAL, one line per problem is appended
 *
 * Lines end in LF or CRLF; each is "key: value" with optional whitespace after the colon
 * and at the end of the line. version (STSv1), mode and max_age are required, mx at least
 * once unless the mode is none; for those keys the first occurrence wins; other keys are
 * extensions and ignored. Empty lines are skipped (the grammar has none; they are common
 * and harmless). Non-ASCII bytes are allowed only in extension values, and there only as
 * well-formed UTF-8 (the grammar's sts-policy-ext-value); NUL and other control bytes are
 * invalid everywhere.
 *
 * Return: 0, or -EINVAL.
 */
int sts_policy_parse(const char *body, size_t len, struct sts_policy *p, struct buf *err);

/* sts_policy_fini() - free what @p owns and zero it. Safe on a zeroed or finished policy. */
void sts_policy_fini(struct sts_policy *p);

/**
 * sts_policy_copy() - deep copy of @src into @dst (which is overwritten, not freed).
 * Return: 0.
 */
int sts_policy_copy(struct sts_policy *dst, const struct sts_policy *src);

/**
 * sts_content_type_ok() - the Content-Type of a policy response is text/plain
 * (RFC 8461 3.2): compared without case, parameters (";...") ignored, surrounding
 * whitespace allowed. NULL is false.
 */
bool sts_content_type_ok(const char *ct);

/**
 * sts_mx_match() - does MX host name @host match policy mx @pattern (RFC 8461 4.1)?
 * "*.example.com" matches exactly one more left-most label ("mail.example.com", not
 * "example.com" nor "a.b.example.com"); other patterns match the name itself. Both
 * compared without case; a final dot on @host is ignored.
 */
bool sts_mx_match(const char *pattern, const char *host);

/* sts_mode_name() - "none", "testing", "enforce" ("?" for other values). */
const char *sts_mode_name(enum sts_mode m);

/**
 * sts_mode_from_name() - the reverse of sts_mode_name() (exact, lower-case).
 * Return: 0, or -EINVAL.
 */
int sts_mode_from_name(const char *name, enum sts_mode *out);

#endif
