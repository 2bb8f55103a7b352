/* arc: Authenticated Received Chain, RFC 8617.
 *
 * Collect (5.2 steps 1-2): every ARC-Seal, ARC-Message-Signature and
 * ARC-Authentication-Results field by its i=; instances 1..n must each have exactly
 * one of the three, n <= 50, or the chain is broken (cv=fail). Validate (steps 3-7):
 * AS(n) cv=fail ends the chain; AS(1) must say cv=none and every later AS cv=pass;
 * AMS(n) must verify (as a DKIM signature over its h=, verify.c) and every AS(i)
 * over the sets 1..i, relaxed, in instance order AAR, AMS, AS, its own b= emptied
 * (5.1.1). Seal (5.1.2): the next set, its AS over all sets, or only its own when
 * cv=fail; a chain that already ended or has 50 sets is not extended. Signing goes
 * through sign.c. Pure but for the key lookup callback; one chain per message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "arc.h"
#include "headers.h"
#include "sign.h"
#include "xalloc.h"

enum arc_field {
	ARC_AAR,
	ARC_AMS,
	ARC_AS,
	ARC_NONE,
};

static const char *const arc_names[] = { "ARC-Authentication-Results", "ARC-Message-Signature",
	                                 "ARC-Seal" };

static enum arc_field arc_field_of(const char *name)
{
	size_t len = strcspn(name, " \t");
	for (int k = 0; k < 3; k++)
		if (strlen(arc_names[k]) == len && strncasecmp(arc_names[k], name, len) == 0)
			return (enum arc_field)k;
	return ARC_NONE;
}

static size_t *set_slot(struct arc_set *s, enum arc_field k)
{
	return k == ARC_AAR ? &s->aar : k == ARC_AMS ? &s->ams : &s->as;
}

int arc_aar_instance(const char *value)
{
	const char *p = value + strspn(value, " \t\r\n");
	if (*p != 'i')
		return 0;
	p++;
	p += strspn(p, " \t\r\n");
	if (*p++ != '=')
		return 0;
	p += strspn(p, " \t\r\n");
	size_t digits = strspn(p, "0123456789");
	if (digits == 0 || digits > 3)
		return 0;
	int i = atoi(p);
	p += digits;
	p += strspn(p, " \t\r\n");
	return *p == ';' && i >= 1 && i <= SIG_ARC_MAX + 1 ? i : 0;
}

static void chain_break(struct arc_chain *c, const char *why, int i)
{
	if (!c->broken)
		buf_add_line(&c->why, why, i);
	c->broken = true;
}

void arc_collect(struct arc_chain *c, const struct fields *f, struct bodyhash *bh)
{
	buf_init(&c->why);
	c->body = -ENOENT;
	c->ams_parsed = -EINVAL;
	for (int i = 0; i < SIG_ARC_MAX + 2; i++)
		c->set[i] = (struct arc_set){ FIELDS_MAX, FIELDS_MAX, FIELDS_MAX };
	size_t nf = fields_count(f);
	for (size_t i = 0; i < nf; i++) {
		enum arc_field k = arc_field_of(fields_name(f, i));
		if (k == ARC_NONE)
			continue;
		const char *v = fields_value(f, i);
		int inst = k == ARC_AAR ? arc_aar_instance(v) : sig_instance(v);
		if (inst == 0) {
			chain_break(c, "an ARC field without a valid i=", 0);
			continue;
		}
		if (inst > SIG_ARC_MAX) {
			chain_break(c, "more than %d ARC sets", SIG_ARC_MAX);
			c->ended = true;
			continue;
		}
		size_t *slot = set_slot(&c->set[inst], k);
		if (*slot != FIELDS_MAX)
			chain_break(c, "ARC set %d has a field twice", inst);
		*slot = i;
		if (inst > c->n)
			c->n = inst;
	}
	for (int i = 1; i <= c->n; i++) {
		const struct arc_set *s = &c->set[i];
		if (s->aar == FIELDS_MAX || s->ams == FIELDS_MAX || s->as == FIELDS_MAX)
			chain_break(c, "ARC set %d is incomplete", i);
	}
	if (c->n == 0 || c->broken)
		return;
	c->ams_parsed = sig_parse(&c->ams, SIG_AMS, fields_value(f, c->set[c->n].ams), &c->why);
	if (c->ams_parsed == 0)
		c->body = bodyhash_want(bh, c->ams.bcanon, c->ams.l);
	else
		sig_fini(&c->ams);
}

/* AS(i)'s signed data: sets 1..i relaxed, AS(i) last with b= empty and no CRLF. */
static void seal_block(const struct arc_chain *c, const struct fields *f, int upto,
                       const struct sig *as, struct buf *block)
{
	for (int j = 1; j <= upto; j++) {
		const struct arc_set *s = &c->set[j];
		size_t idx[3] = { s->aar, s->ams, s->as };
		for (int k = 0; k < 3; k++) {
			if (j == upto && k == ARC_AS)
				break;
			canon_header_relaxed(block, arc_names[k], fields_value(f, idx[k]));
			buf_append(block, "\r\n", 2);
		}
	}
	verify_self(as, fields_value(f, c->set[upto].as), block);
}

static enum sig_cv validate(struct arc_chain *c, const struct fields *f, struct bodyhash *bh,
                            const struct verify_keys *keys, time_t now)
{
	if (c->broken || (c->n && c->ams_parsed < 0))
		return SIG_CV_FAIL;
	if (c->n == 0)
		return SIG_CV_NONE;
	struct sig *as = xcalloc(SIG_ARC_MAX + 1, sizeof(*as));
	int parsed = 0;
	enum sig_cv cv = SIG_CV_FAIL;
	for (int i = 1; i <= c->n; i++, parsed++) {
		if (sig_parse(&as[i], SIG_AS, fields_value(f, c->set[i].as), &c->why) < 0) {
			sig_fini(&as[i]);
			goto out;
		}
	}
	if (as[c->n].cv == SIG_CV_FAIL) {
		c->ended = true;
		buf_add_line(&c->why, "ARC-Seal i=%d says cv=fail", c->n);
		goto out;
	}
	for (int i = 1; i <= c->n; i++) {
		if (as[i].cv != (i == 1 ? SIG_CV_NONE : SIG_CV_PASS)) {
			buf_add_line(&c->why, "ARC-Seal i=%d has cv=%s", i, sig_cv_name(as[i].cv));
			goto out;
		}
	}
	unsigned char digest[CANON_DIGEST_LEN];
	unsigned long long len = 0;
	if (c->body < 0 || bodyhash_get(bh, c->body, digest, &len) < 0) {
		buf_add_line(&c->why, "no body hash for ARC-Message-Signature i=%d", c->n);
		goto out;
	}
	if (verify_message_sig(&c->ams, fields_value(f, c->set[c->n].ams), f, digest, len, keys,
	                       now, &c->why) != VERIFY_PASS) {
		buf_add_line(&c->why, "ARC-Message-Signature i=%d did not verify", c->n);
		goto out;
	}
	for (int i = c->n; i >= 1; i--) {
		struct buf block;
		buf_init(&block);
		seal_block(c, f, i, &as[i], &block);
		enum verify_result r = verify_block(&as[i], keys, &block, &c->why);
		buf_fini(&block);
		if (r != VERIFY_PASS) {
			buf_add_line(&c->why, "ARC-Seal i=%d did not verify", i);
			goto out;
		}
	}
	cv = SIG_CV_PASS;
out:
	for (int i = 1; i <= parsed; i++)
		sig_fini(&as[i]);
	free(as);
	return cv;
}

void arc_validate(struct arc_chain *c, const struct fields *f, struct bodyhash *bh,
                  const struct verify_keys *keys, time_t now)
{
	c->cv = validate(c, f, bh, keys, now);
}

void arc_fini(struct arc_chain *c)
{
	if (c->ams_parsed == 0)
		sig_fini(&c->ams);
	c->ams_parsed = -EINVAL;
	buf_fini(&c->why);
}

void arc_new_set_fini(struct arc_new_set *s)
{
	free(s->aar);
	free(s->ams);
	free(s->as);
	s->aar = s->ams = s->as = NULL;
}

static int seal_ams(const struct fields *f, const unsigned char body[CANON_DIGEST_LEN],
                    const struct arc_seal_params *p, int inst, char **value)
{
	struct headers *h = headers_new();
	size_t nf = fields_count(f);
	for (size_t i = 0; i < nf; i++)
		headers_add(h, fields_name(f, i), fields_value(f, i));
	struct buf hlist, block;
	buf_init(&hlist);
	buf_init(&block);
	headers_select(h, &hlist, &block);
	char bh[SIGN_BH_LEN];
	EVP_EncodeBlock((unsigned char *)bh, body, CANON_DIGEST_LEN);
	char *tags[7] = {
		xasprintf("i=%d;", inst),
		xasprintf("a=%s;", sign_algorithm(p->key)),
		xstrdup("c=relaxed/relaxed;"),
		xasprintf("d=%s;", p->domain),
		xasprintf("s=%s;", p->selector),
		xasprintf("t=%lld;", (long long)p->t),
		NULL,
	};
	struct sign_field sf = { "ARC-Message-Signature", (const char *const *)tags,
		                 buf_cstr(&hlist), bh };
	int r = sign_field(&sf, p->key, &block, value);
	for (int k = 0; tags[k]; k++)
		free(tags[k]);
	buf_fini(&hlist);
	buf_fini(&block);
	headers_free(h);
	return r;
}

static int seal_as(const struct arc_chain *c, const struct fields *f,
                   const struct arc_seal_params *p, const struct arc_new_set *set, char **value)
{
	struct buf block;
	buf_init(&block);
	if (c->cv != SIG_CV_FAIL) {
		for (int j = 1; j <= c->n; j++) {
			const struct arc_set *s = &c->set[j];
			size_t idx[3] = { s->aar, s->ams, s->as };
			for (int k = 0; k < 3; k++) {
				canon_header_relaxed(&block, arc_names[k], fields_value(f, idx[k]));
				buf_append(&block, "\r\n", 2);
			}
		}
	}
	canon_header_relaxed(&block, arc_names[ARC_AAR], set->aar);
	buf_append(&block, "\r\n", 2);
	canon_header_relaxed(&block, arc_names[ARC_AMS], set->ams);
	buf_append(&block, "\r\n", 2);
	char *tags[7] = {
		xasprintf("i=%d;", set->instance),
		xasprintf("a=%s;", sign_algorithm(p->key)),
		xasprintf("t=%lld;", (long long)p->t),
		xasprintf("cv=%s;", sig_cv_name(c->cv)),
		xasprintf("d=%s;", p->domain),
		xasprintf("s=%s;", p->selector),
		NULL,
	};
	struct sign_field sf = { "ARC-Seal", (const char *const *)tags, NULL, NULL };
	int r = sign_field(&sf, p->key, &block, value);
	for (int k = 0; tags[k]; k++)
		free(tags[k]);
	buf_fini(&block);
	return r;
}

int arc_seal(const struct arc_chain *c, const struct fields *f,
             const unsigned char relaxed_body[CANON_DIGEST_LEN], const struct arc_seal_params *p,
             struct arc_new_set *out, struct buf *why)
{
	memset(out, 0, sizeof(*out));
	if (c->ended && c->n <= SIG_ARC_MAX && !c->broken) {
		buf_add_line(why, "the ARC chain ended with cv=fail at i=%d", c->n);
		return ARC_NOT_SEALED;
	}
	if (c->ended || c->n >= SIG_ARC_MAX) {
		buf_add_line(why, "the ARC chain has %d or more sets", SIG_ARC_MAX);
		return ARC_NOT_SEALED;
	}
	if (!sign_algorithm(p->key))
		return -EINVAL;
	out->instance = c->n + 1;
	out->aar = xasprintf("i=%d; %s;\n\t%s", out->instance, p->authserv_id, p->results);
	int r = seal_ams(f, relaxed_body, p, out->instance, &out->ams);
	if (r == 0)
		r = seal_as(c, f, p, out, &out->as);
	if (r < 0)
		arc_new_set_fini(out);
	return r;
}
