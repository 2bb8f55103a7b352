/* sig: one DKIM-Signature, ARC-Message-Signature or ARC-Seal field, parsed. */
#ifndef POSTWARDEN_DKIM_SIG_H
#define POSTWARDEN_DKIM_SIG_H

#include <stdbool.h>

#include "buf.h"
#include "canon.h"
#include "tags.h"

/* ARC instances run 1..SIG_ARC_MAX (RFC 8617 4.2.1). */
#define SIG_ARC_MAX 50

enum sig_kind {
	SIG_DKIM, /* DKIM-Signature (RFC 6376 3.5) */
	SIG_AMS,  /* ARC-Message-Signature (RFC 8617 4.1.2) */
	SIG_AS,   /* ARC-Seal (RFC 8617 4.1.3) */
};

enum sig_cv {
	SIG_CV_NONE,
	SIG_CV_PASS,
	SIG_CV_FAIL,
};

struct sig {
	enum sig_kind kind;
	struct tags tags;
	const char *d, *s; /* signing domain, selector */
	const char *hlist; /* h= (NULL for an ARC-Seal) */
	const char *bh;    /* bh= (NULL for an ARC-Seal) */
	const char *b;     /* b= */
	bool ed25519;      /* a=ed25519-sha256, else rsa-sha256 */
	enum canon_mode hcanon, bcanon;
	long long l;      /* l=, or -1 */
	long long t, x;   /* t=, x=, or -1 */
	int instance;     /* ARC i= (1..SIG_ARC_MAX), 0 for DKIM */
	enum sig_cv cv;   /* ARC-Seal cv= */
	const char *auid; /* DKIM i= (default "@" + d=, then NULL) */
};

/**
 * sig_parse() - parse and check one signature field value.
 * @sig: receives the fields (sig_fini() afterwards, also on failure)
 * @kind: which field it is
 * @value: the field value as received
 * @err: gets one line on failure (the reason a result is permerror); may be NULL
 *
 * Required tags, syntax and the RFC's MUSTs: v=1 (DKIM), a= rsa-sha256 or
 * ed25519-sha256 (RFC 8301: no rsa-sha1), h= listing From (DKIM, AMS) and no
 * ARC-Seal (AMS), no h= (AS), i= within d= (DKIM), i= 1..50 (ARC), cv= (AS),
 * c= known, x= not before t=, q= dns/txt when given.
 *
 * Return: 0 or -EINVAL.
 */
int sig_parse(struct sig *sig, enum sig_kind kind, const char *value, struct buf *err);

/* sig_fini() - free what sig_parse() made. */
void sig_fini(struct sig *sig);

/* sig_field_name() - "DKIM-Signature", "ARC-Message-Signature" or "ARC-Seal". */
const char *sig_field_name(enum sig_kind kind);

/* sig_cv_name() - "none", "pass", "fail". */
const char *sig_cv_name(enum sig_cv cv);

/**
 * sig_instance() - the i= of an ARC field value without a full parse, or 0 when
 * it has none that is valid (1..SIG_ARC_MAX+1 are returned as found, so a 51st
 * instance can be told apart from a missing one).
 */
int sig_instance(const char *value);

#endif
