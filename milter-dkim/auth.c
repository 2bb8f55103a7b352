/* auth: inbound verification of one message.
 *
 * Header fields are kept in order (fields.c). At the end of the headers each
 * DKIM-Signature (RFC 6376 6.1.1) is parsed and asks the body hash set
 * (bodyhash.c) for its canonicalization and l=, so the body is hashed once per
 * distinct pair while it streams. At the end of the message every signature is
 * verified (verify.c), with its key from the caller's lookup, and the ARC chain
 * validated (arc.c), which auth_seal() then extends. Only the topmost
 * AUTH_DKIM_MAX signatures are looked at (bounded DNS and crypto work per
 * message). One object per message; no shared state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "sig.h"
#include "xalloc.h"

struct dkim_slot {
	struct auth_dkim res;
	struct sig sig;
	size_t field; /* index in fields */
	int parsed;   /* 0 or -EINVAL */
	int body;     /* bodyhash slot, or -errno */
};

struct auth {
	struct fields *fields;
	struct bodyhash *bh;
	bool too_many;
	int relaxed; /* bodyhash slot for sealing, or -errno */
	struct dkim_slot dkim[AUTH_DKIM_MAX];
	size_t ndkim;
	struct arc_chain arc;
};

struct auth *auth_new(void)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	a->fields = fields_new();
	a->bh = bodyhash_new();
	a->relaxed = -ENOENT;
	buf_init(&a->arc.why);
	a->arc.ams_parsed = -EINVAL;
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->ndkim; i++) {
		struct dkim_slot *d = &a->dkim[i];
		free(d->res.d);
		free(d->res.s);
		free(d->res.b);
		buf_fini(&d->res.why);
		sig_fini(&d->sig);
	}
	arc_fini(&a->arc);
	fields_free(a->fields);
	bodyhash_free(a->bh);
	free(a);
}

int auth_header(struct auth *a, const char *name, const char *value)
{
	int r = fields_add(a->fields, name, value);
	if (r < 0)
		a->too_many = true;
	return r;
}

static bool name_is(const char *name, const char *want)
{
	size_t n = strlen(want);
	return strncasecmp(name, want, n) == 0 && strspn(name + n, " \t") == strlen(name + n);
}

static char *compact(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	for (; *s; s++)
		if (!strchr(" \t\r\n", *s))
			*o++ = *s;
	*o = '\0';
	return out;
}

static void dkim_prepare(struct auth *a, struct dkim_slot *d, size_t field)
{
	d->field = field;
	buf_init(&d->res.why);
	d->res.result = VERIFY_PERMERROR;
	d->parsed = sig_parse(&d->sig, SIG_DKIM, fields_value(a->fields, field), &d->res.why);
	const char *dv = tags_get(&d->sig.tags, "d"), *sv = tags_get(&d->sig.tags, "s");
	const char *bv = tags_get(&d->sig.tags, "b");
	d->res.d = xstrdup(dv ? dv : "");
	d->res.s = xstrdup(sv ? sv : "");
	d->res.b = compact(bv ? bv : "");
	if (d->parsed < 0)
		return;
	d->res.alg = d->sig.ed25519 ? "ed25519-sha256" : "rsa-sha256";
	d->body = bodyhash_want(a->bh, d->sig.bcanon, d->sig.l);
}

void auth_headers_done(struct auth *a, bool sealing)
{
	size_t n = fields_count(a->fields);
	for (size_t i = 0; i < n && a->ndkim < AUTH_DKIM_MAX; i++)
		if (name_is(fields_name(a->fields, i), "DKIM-Signature"))
			dkim_prepare(a, &a->dkim[a->ndkim++], i);
	buf_fini(&a->arc.why);
	arc_collect(&a->arc, a->fields, a->bh);
	if (sealing)
		a->relaxed = bodyhash_want(a->bh, CANON_RELAXED, -1);
}

int auth_body(struct auth *a, const void *data, size_t len)
{
	return bodyhash_update(a->bh, data, len);
}

static void dkim_run(struct auth *a, struct dkim_slot *d, const struct verify_keys *keys,
                     time_t now)
{
	if (d->parsed < 0)
		return;
	if (a->too_many) {
		buf_add_line(&d->res.why, "more than %d header fields", FIELDS_MAX);
		return;
	}
	unsigned char digest[CANON_DIGEST_LEN];
	unsigned long long len = 0;
	if (d->body < 0 || bodyhash_get(a->bh, d->body, digest, &len) < 0) {
		d->res.result = VERIFY_TEMPERROR;
		buf_add_line(&d->res.why, "body hash unavailable");
		return;
	}
	d->res.result = verify_message_sig(&d->sig, fields_value(a->fields, d->field), a->fields,
	                                   digest, len, keys, now, &d->res.why);
}

void auth_run(struct auth *a, const struct verify_keys *keys, time_t now)
{
	for (size_t i = 0; i < a->ndkim; i++)
		dkim_run(a, &a->dkim[i], keys, now);
	if (a->too_many) {
		a->arc.cv = SIG_CV_FAIL;
		buf_add_line(&a->arc.why, "more than %d header fields", FIELDS_MAX);
		return;
	}
	arc_validate(&a->arc, a->fields, a->bh, keys, now);
}

const struct arc_chain *auth_arc(const struct auth *a)
{
	return &a->arc;
}

int auth_seal(struct auth *a, const struct arc_seal_params *p, struct arc_new_set *out,
              struct buf *why)
{
	unsigned char body[CANON_DIGEST_LEN];
	int r = auth_relaxed_body(a, body);
	if (r < 0)
		return r;
	return arc_seal(&a->arc, a->fields, body, p, out, why);
}

size_t auth_dkim_count(const struct auth *a)
{
	return a->ndkim;
}

const struct auth_dkim *auth_dkim_get(const struct auth *a, size_t i)
{
	return &a->dkim[i].res;
}

const struct fields *auth_fields(const struct auth *a)
{
	return a->fields;
}

int auth_relaxed_body(struct auth *a, unsigned char digest[CANON_DIGEST_LEN])
{
	if (a->relaxed < 0)
		return a->relaxed;
	return bodyhash_get(a->bh, a->relaxed, digest, NULL);
}
