/* arc: RFC 8617 ARC chains: validate the sets a message carries, make the next one. */
#ifndef POSTWARDEN_DKIM_ARC_H
#define POSTWARDEN_DKIM_ARC_H

#include <stdbool.h>
#include <time.h>

#include <openssl/evp.h>

#include "bodyhash.h"
#include "fields.h"
#include "sig.h"
#include "verify.h"

/* arc_seal() outcome: no set added (why in @why). */
#define ARC_NOT_SEALED 1

struct arc_set {
	size_t aar, ams, as; /* field indexes; FIELDS_MAX when missing */
};

/* One message's chain. Zero it, then arc_collect(); arc_fini() at the end. */
struct arc_chain {
	int n;                               /* highest instance (0: no ARC fields) */
	bool broken;                         /* not a well-formed chain: cv=fail */
	struct arc_set set[SIG_ARC_MAX + 2]; /* [1..n] */
	struct sig ams;                      /* AMS(n), parsed at collect */
	int ams_parsed;                      /* 0, or -EINVAL */
	int body;                            /* bodyhash slot of AMS(n), or -errno */
	enum sig_cv cv;                      /* after arc_validate() */
	bool ended;                          /* AS(n) says cv=fail: never extend */
	struct buf why;                      /* reason for fail (and for not sealing) */
};

/**
 * arc_aar_instance() - the i= an ARC-Authentication-Results value starts with
 * ("i=3; authserv-id; ..."), 1..SIG_ARC_MAX+1, or 0 when it has none.
 */
int arc_aar_instance(const char *value);

/**
 * arc_collect() - find the ARC sets of a message (RFC 8617 5.2 steps 1-2) and ask
 * for the body hash AMS(n) needs; after the last header, before the body.
 * @c: zeroed chain
 * @f: the message's fields
 * @bh: the message's body hash set
 */
void arc_collect(struct arc_chain *c, const struct fields *f, struct bodyhash *bh);

/**
 * arc_validate() - the chain validation status (RFC 8617 5.2 steps 3-7): cv of every
 * AS right, the most recent AMS and every AS verify.
 * @c: collected chain, after the whole body
 * @f: fields
 * @bh: body hash set
 * @keys: key source
 * @now: time for x=
 *
 * Sets @c->cv (none: no sets; pass; fail, with @c->why) and @c->ended.
 */
void arc_validate(struct arc_chain *c, const struct fields *f, struct bodyhash *bh,
                  const struct verify_keys *keys, time_t now);

/* arc_fini() - free what arc_collect() made. */
void arc_fini(struct arc_chain *c);

/**
 * struct arc_seal_params - what the next set is made with.
 * @domain, @selector, @key: the sealer's d=, s= and private key (RSA or Ed25519)
 * @t: t=
 * @authserv_id: our authserv-id
 * @results: the results for the AAR ("dkim=pass header.d=...;\n\tarc=pass"), no id
 */
struct arc_seal_params {
	const char *domain;
	const char *selector;
	EVP_PKEY *key;
	time_t t;
	const char *authserv_id;
	const char *results;
};

/* The next set's field values, folded with "\n\t" (insert each at the top: AAR first,
 * then AMS, then AS, so the AS ends on top). */
struct arc_new_set {
	int instance;
	char *aar, *ams, *as;
};

/**
 * arc_seal() - make set n+1 (RFC 8617 5.1): AAR, AMS over the signed header set and
 * the relaxed body hash, AS over every set (cv=none/pass) or only the new one (cv=fail).
 * @c: the validated chain
 * @f: fields (the AMS signs the same header set as a DKIM-Signature, headers.c)
 * @relaxed_body: SHA-256 of the relaxed canonical body
 * @p: parameters
 * @out: receives the values (free with arc_new_set_fini())
 * @why: on ARC_NOT_SEALED, why (chain ended by cv=fail, 50 sets); may be NULL
 *
 * Return: 0, ARC_NOT_SEALED, -EINVAL (key type), -EIO.
 */
int arc_seal(const struct arc_chain *c, const struct fields *f,
             const unsigned char relaxed_body[CANON_DIGEST_LEN], const struct arc_seal_params *p,
             struct arc_new_set *out, struct buf *why);

/* arc_new_set_fini() - free @s's values. */
void arc_new_set_fini(struct arc_new_set *s);

#endif
