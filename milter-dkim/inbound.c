/* inbound: verification (RFC 6376, RFC 8617 5.2) and ARC sealing (RFC 8617 5.1)
 * at the milter.
 *
 * The body is hashed once per canonicalization (the relaxed hash also serves the
 * signer, sign_new_shared()). Every header field goes to the verifier as it followed
 * the colon (milter.c negotiates SMFIP_HDR_LEADSPC: simple header canonicalization
 * needs every byte). Fields named
 * Authentication-Results that claim our authserv-id are forged (RFC 8601 5) and
 * deleted at end of message (highest index first, so the others keep theirs);
 * those of a trusted_authserv_ids id are carried into the ARC-Authentication-Results.
 * At end of message the signatures are verified with keys from keylookup.c (cache,
 * per-message budget), one Authentication-Results is inserted at the top, and
 * when a recipient is relayed ({rcpt_mailer} not local, or arc_seal = always) the
 * next ARC set is inserted above it, sealed by arc_selector of arc_domain once
 * that selector passes the DNS gate; otherwise one info line says why not.
 * One object per message, used by one libmilter thread.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "authres.h"
#include "dkim.h"
#include "inbound.h"
#include "keylookup.h"
#include "log.h"
#include "milter.h"
#include "xalloc.h"

/* At most this many forged Authentication-Results fields are deleted. */
#define INBOUND_FORGED_MAX 32

struct inbound {
	struct auth *auth;
	bool headers_done;
	bool relay;
	int ar_count;
	int forged[INBOUND_FORGED_MAX];
	int nforged;
	struct buf carried;
	const struct dkim_conf *conf;
};

static bool inbound_sealing(const struct dkim_conf *c)
{
	return c->arc_seal != DKIM_ARC_NO && c->arc_dom;
}

struct inbound *inbound_new(const struct dkim_conf *c)
{
	if (!c->verify)
		return NULL;
	struct inbound *in = xcalloc(1, sizeof(*in));
	in->auth = auth_new();
	in->conf = c;
	buf_init(&in->carried);
	return in;
}

void inbound_free(struct inbound *in)
{
	if (!in)
		return;
	auth_free(in->auth);
	buf_fini(&in->carried);
	free(in);
}

void inbound_rcpt(struct inbound *in, const char *mailer)
{
	static const char *const local[] = { "local", "virtual", "lmtp", "error", "discard" };
	if (!in || !mailer)
		return;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strcasecmp(mailer, local[i]) == 0)
			return;
	in->relay = true;
}

static void inbound_trusted(struct inbound *in, const char *value)
{
	struct buf id;
	buf_init(&id);
	const char *rest = NULL;
	if (authres_id(value, &id, &rest) == 0 && rest && *rest) {
		for (size_t i = 0; i < in->conf->ntrusted; i++) {
			if (strcasecmp(id.data, in->conf->trusted_ids[i]) != 0)
				continue;
			buf_puts(&in->carried, ";\n\t");
			for (const char *p = rest; *p; p++)
				if (*p != '\r')
					buf_putc(&in->carried, *p == '\n' ? ' ' : *p);
			break;
		}
	}
	buf_fini(&id);
}

void inbound_header(struct inbound *in, const char *name, const char *value)
{
	if (!in)
		return;
	if (strcasecmp(name, "Authentication-Results") == 0) {
		in->ar_count++;
		if (authres_id_is(value, in->conf->authserv_id)) {
			if (in->nforged < INBOUND_FORGED_MAX)
				in->forged[in->nforged++] = in->ar_count;
		} else {
			inbound_trusted(in, value);
		}
	}
	auth_header(in->auth, name, value);
}

static void inbound_headers_done(struct inbound *in)
{
	if (in->headers_done)
		return;
	in->headers_done = true;
	auth_headers_done(in->auth, true);
}

int inbound_body_hash(struct inbound *in, unsigned char digest[32])
{
	inbound_headers_done(in);
	return auth_relaxed_body(in->auth, digest);
}

void inbound_body(struct inbound *in, const unsigned char *chunk, size_t len)
{
	if (!in)
		return;
	inbound_headers_done(in);
	auth_body(in->auth, chunk, len);
}

/* The selector that seals, when it passes the DNS gate. */
static const struct dkim_selector *inbound_sealer(const struct dkim_conf *c)
{
	size_t idx[DKIM_MAX_SELECTORS];
	size_t k = selector_table_active(dnspass_table(), c->arc_dom, idx);
	for (size_t i = 0; i < k; i++)
		if (idx[i] == c->arc_sel)
			return &c->arc_dom->sel[c->arc_sel];
	return NULL;
}

static void inbound_seal(struct inbound *in, SMFICTX *ctx, const char *qid, const char *results)
{
	const struct dkim_conf *c = in->conf;
	const struct dkim_selector *sel = inbound_sealer(c);
	if (!sel) {
		log_info("%s: not sealed: ARC selector %s of %s does not sign (not published?)",
		         qid, c->arc_dom->sel[c->arc_sel].name, c->arc_dom->d);
		return;
	}
	struct buf aar, why;
	buf_init(&aar);
	buf_init(&why);
	buf_puts(&aar, results);
	buf_append(&aar, in->carried.data ? in->carried.data : "", in->carried.len);
	struct arc_seal_params p = { c->arc_dom->d, sel->name,      sel->key,
		                     time(NULL),    c->authserv_id, buf_cstr(&aar) };
	struct arc_new_set set;
	int r = auth_seal(in->auth, &p, &set, &why);
	if (r == ARC_NOT_SEALED) {
		log_info("%s: not sealed: %s", qid, buf_cstr(&why));
	} else if (r < 0) {
		log_warnx("%s: not sealed: the ARC set could not be made", qid);
	} else if (milter_insheader(ctx, 0, "ARC-Authentication-Results", set.aar) != MI_SUCCESS ||
	           milter_insheader(ctx, 0, "ARC-Message-Signature", set.ams) != MI_SUCCESS ||
	           milter_insheader(ctx, 0, "ARC-Seal", set.as) != MI_SUCCESS) {
		log_warnx("%s: not sealed: cannot insert the ARC set", qid);
	} else {
		log_info("%s: sealed i=%d cv=%s d=%s s=%s", qid, set.instance,
		         sig_cv_name(auth_arc(in->auth)->cv), c->arc_dom->d, sel->name);
	}
	if (r == 0)
		arc_new_set_fini(&set);
	buf_fini(&aar);
	buf_fini(&why);
}

void inbound_eom(struct inbound *in, SMFICTX *ctx, const struct dkim_conf *c, const char *qid)
{
	if (!in)
		return;
	inbound_headers_done(in);
	struct keylookup_msg km = { c, c->verify_lookups, 0 };
	struct verify_keys keys = { keylookup_txt, &km };
	auth_run(in->auth, &keys, time(NULL));
	for (int i = in->nforged; i-- > 0;)
		if (smfi_chgheader(ctx, "Authentication-Results", in->forged[i], NULL) !=
		    MI_SUCCESS)
			log_warnx("%s: cannot delete a forged Authentication-Results", qid);
	struct buf res, ar;
	buf_init(&res);
	buf_init(&ar);
	authres_results(&res, in->auth);
	buf_printf(&ar, "%s;\n\t%s", c->authserv_id, buf_cstr(&res));
	if (milter_insheader(ctx, 0, "Authentication-Results", ar.data) != MI_SUCCESS)
		log_warnx("%s: cannot insert Authentication-Results", qid);
	char *line = xstrdup(buf_cstr(&res)), *o = line;
	for (const char *p = line; *p; p++)
		if (*p != '\t')
			*o++ = *p == '\n' ? ' ' : *p;
	*o = '\0';
	log_info("%s: verified: %s (%d DNS lookups)%s", qid, line, km.used,
	         in->nforged ? ", forged Authentication-Results deleted" : "");
	free(line);
	if (inbound_sealing(c) && (c->arc_seal == DKIM_ARC_ALWAYS || in->relay))
		inbound_seal(in, ctx, qid, buf_cstr(&res));
	else if (inbound_sealing(c))
		log_info("%s: not sealed: no recipient relayed", qid);
	buf_fini(&res);
	buf_fini(&ar);
}
