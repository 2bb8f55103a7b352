/* sig: parse signature fields: DKIM-Signature (RFC 6376 3.5, 6.1.1),
 * ARC-Message-Signature and ARC-Seal (RFC 8617 4.1.2, 4.1.3, 5.2).
 *
 * A parsed signature keeps the tag list and points into it; everything a
 * verifier must refuse before any DNS or crypto work is refused here, with the
 * reason in @err (it becomes the permerror reason of Authentication-Results).
 * Pure; no shared state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sig.h"

static const char *const required[][8] = {
	[SIG_DKIM] = { "v", "a", "b", "bh", "d", "h", "s", NULL },
	[SIG_AMS] = { "i", "a", "b", "bh", "d", "h", "s", NULL },
	[SIG_AS] = { "i", "a", "b", "cv", "d", "s", NULL },
};

const char *sig_field_name(enum sig_kind kind)
{
	switch (kind) {
	case SIG_DKIM:
		return "DKIM-Signature";
	case SIG_AMS:
		return "ARC-Message-Signature";
	case SIG_AS:
		return "ARC-Seal";
	}
	return "?";
}

const char *sig_cv_name(enum sig_cv cv)
{
	return cv == SIG_CV_PASS ? "pass" : cv == SIG_CV_FAIL ? "fail" : "none";
}

/* A decimal number of at most 12 digits (RFC 6376: 1*12DIGIT for l=, t=, x=). */
static int number(const char *v, long long *out)
{
	size_t n = strlen(v);
	if (n == 0 || n > 12 || strspn(v, "0123456789") != n)
		return -EINVAL;
	*out = strtoll(v, NULL, 10);
	return 0;
}

static int canon_mode_of(const char *v, size_t len, enum canon_mode *mode)
{
	if (len == 6 && strncmp(v, "simple", 6) == 0)
		*mode = CANON_SIMPLE;
	else if (len == 7 && strncmp(v, "relaxed", 7) == 0)
		*mode = CANON_RELAXED;
	else
		return -EINVAL;
	return 0;
}

static int parse_c(struct sig *sig, const char *c)
{
	sig->hcanon = sig->kind == SIG_DKIM ? CANON_SIMPLE : CANON_RELAXED;
	sig->bcanon = sig->hcanon;
	if (sig->kind == SIG_AS)
		return 0;
	if (!c)
		return 0;
	const char *slash = strchr(c, '/');
	if (canon_mode_of(c, slash ? (size_t)(slash - c) : strlen(c), &sig->hcanon) < 0)
		return -EINVAL;
	sig->bcanon = CANON_SIMPLE;
	if (slash && canon_mode_of(slash + 1, strlen(slash + 1), &sig->bcanon) < 0)
		return -EINVAL;
	return 0;
}

static bool domain_within(const char *sub, const char *d)
{
	size_t a = strlen(sub), b = strlen(d);
	if (a < b || strcasecmp(sub + a - b, d) != 0)
		return false;
	return a == b || sub[a - b - 1] == '.';
}

static int check_dkim(struct sig *sig, struct buf *err)
{
	if (strcmp(tags_get(&sig->tags, "v"), "1") != 0) {
		buf_add_line(err, "v= is not 1");
		return -EINVAL;
	}
	const char *q = tags_get(&sig->tags, "q");
	if (q && !tags_list_has(q, ':', "dns/txt")) {
		buf_add_line(err, "q= has no dns/txt");
		return -EINVAL;
	}
	sig->auid = tags_get(&sig->tags, "i");
	if (sig->auid) {
		const char *at = strrchr(sig->auid, '@');
		if (!at || !domain_within(at + 1, sig->d)) {
			buf_add_line(err, "i= is not within d=");
			return -EINVAL;
		}
	}
	return 0;
}

static int check_arc(struct sig *sig, struct buf *err)
{
	long long i = 0;
	if (number(tags_get(&sig->tags, "i"), &i) < 0 || i < 1 || i > SIG_ARC_MAX) {
		buf_add_line(err, "i= is not 1..%d", SIG_ARC_MAX);
		return -EINVAL;
	}
	sig->instance = (int)i;
	if (sig->kind == SIG_AS) {
		const char *cv = tags_get(&sig->tags, "cv");
		if (strcmp(cv, "none") == 0)
			sig->cv = SIG_CV_NONE;
		else if (strcmp(cv, "pass") == 0)
			sig->cv = SIG_CV_PASS;
		else if (strcmp(cv, "fail") == 0)
			sig->cv = SIG_CV_FAIL;
		else {
			buf_add_line(err, "cv= is not none, pass or fail");
			return -EINVAL;
		}
		if (tags_get(&sig->tags, "h")) {
			buf_add_line(err, "h= in an ARC-Seal");
			return -EINVAL;
		}
	} else if (tags_list_has(sig->hlist, ':', "arc-seal")) {
		buf_add_line(err, "h= lists ARC-Seal");
		return -EINVAL;
	}
	return 0;
}

static int check_times(struct sig *sig, struct buf *err)
{
	const char *names[3] = { "l", "t", "x" };
	long long *dest[3] = { &sig->l, &sig->t, &sig->x };
	for (int k = 0; k < 3; k++) {
		*dest[k] = -1;
		const char *v = tags_get(&sig->tags, names[k]);
		if (v && number(v, dest[k]) < 0) {
			buf_add_line(err, "%s= is not a number", names[k]);
			return -EINVAL;
		}
	}
	if (sig->x >= 0 && sig->t >= 0 && sig->x < sig->t) {
		buf_add_line(err, "x= is before t=");
		return -EINVAL;
	}
	return 0;
}

int sig_parse(struct sig *sig, enum sig_kind kind, const char *value, struct buf *err)
{
	memset(sig, 0, sizeof(*sig));
	sig->kind = kind;
	if (tags_parse(&sig->tags, value, err) < 0)
		return -EINVAL;
	for (const char *const *r = required[kind]; *r; r++) {
		if (!tags_get(&sig->tags, *r)) {
			buf_add_line(err, "no %s= tag", *r);
			return -EINVAL;
		}
	}
	sig->d = tags_get(&sig->tags, "d");
	sig->s = tags_get(&sig->tags, "s");
	sig->b = tags_get(&sig->tags, "b");
	sig->bh = tags_get(&sig->tags, "bh");
	sig->hlist = kind == SIG_AS ? NULL : tags_get(&sig->tags, "h");
	const char *a = tags_get(&sig->tags, "a");
	if (strcmp(a, "ed25519-sha256") == 0)
		sig->ed25519 = true;
	else if (strcmp(a, "rsa-sha256") != 0) {
		buf_add_line(err, "a=%s is not supported", a);
		return -EINVAL;
	}
	if (!*sig->d || !*sig->s) {
		buf_add_line(err, "empty d= or s=");
		return -EINVAL;
	}
	if (parse_c(sig, tags_get(&sig->tags, "c")) < 0) {
		buf_add_line(err, "c= is not known");
		return -EINVAL;
	}
	if (sig->hlist && !tags_list_has(sig->hlist, ':', "from")) {
		buf_add_line(err, "h= does not list From");
		return -EINVAL;
	}
	if (check_times(sig, err) < 0)
		return -EINVAL;
	if (kind == SIG_DKIM)
		return check_dkim(sig, err);
	return check_arc(sig, err);
}

void sig_fini(struct sig *sig)
{
	tags_fini(&sig->tags);
}

int sig_instance(const char *value)
{
	struct tags t = { 0 };
	int i = 0;
	if (tags_parse(&t, value, NULL) == 0) {
		const char *v = tags_get(&t, "i");
		long long n = 0;
		if (v && number(v, &n) == 0 && n >= 1 && n <= SIG_ARC_MAX + 1)
			i = (int)n;
	}
	tags_fini(&t);
	return i;
}
