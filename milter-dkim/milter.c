/* milter: milter-dkim's libmilter callbacks, the one file that sees libmilter
 * types.
 *
 * Per connection: the config snapshot it started with and whether the client
 * is trusted (sign_networks, or Postfix's emulated local submission: host
 * "localhost", port 0: doc/protocols.md, "Local submissions"). At MAIL, mail that is neither
 * authenticated ({auth_authen}) nor trusted gets SMFIS_ACCEPT: Postfix sends
 * nothing more of it and nothing is logged. Eligible mail is hashed as it
 * streams; at end of message one DKIM-Signature per active selector is
 * inserted at the top (smfi_insheader index 0, folded with LF+TAB), or one info
 * line says why it went out unsigned. The time each selector signed and per-domain
 * signed/unsigned/failed counts are kept in memory (gate.c, stats.c) for the
 * background thread to write to the store. Stages that never return a verdict are
 * negotiated no-reply (SMFIP_NR_*), never MAIL (doc/protocols.md, "Milter
 * negotiation and no-reply stages").
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <time.h>

#include "dkim.h"
#include "log.h"
#include "milter.h"
#include "sign.h"
#include "stats.h"

struct dkim_session {
	struct milter_session base; /* config snapshot, negotiated steps */
	bool trusted;               /* sign_networks or local submission */
	struct sign *msg;           /* the message being signed, or NULL */
};

static struct dkim_session *dkim_session(SMFICTX *ctx)
{
	return milter_session_get(ctx, sizeof(struct dkim_session));
}

static sfsistat dkim_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                               unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                               unsigned long *pf2, unsigned long *pf3)
{
	return milter_negotiate(ctx, sizeof(struct dkim_session), f0, f1, pf0, pf1, pf2, pf3,
	                        SMFIF_ADDHDRS, SMFIF_ADDHDRS,
	                        SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOUNKNOWN |
	                                SMFIP_NOEOH | SMFIP_NR_CONN | SMFIP_NR_HDR | SMFIP_NR_BODY);
}

static bool dkim_local_submission(const char *host, const struct sockaddr *sa)
{
	if (!host || strcmp(host, "localhost") != 0 || !sa)
		return false;
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_port == 0;
	if (sa->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)sa)->sin6_port == 0;
	return false;
}

static sfsistat dkim_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct dkim_session *s = dkim_session(ctx);
	const struct dkim_conf *c = s->base.conf->priv;
	s->trusted = dkim_local_submission(host, sa) || cidr_list_match(c->sign_networks, sa);
	return milter_continue(s, SMFIP_NR_CONN);
}

static void dkim_message_end(struct dkim_session *s)
{
	sign_free(s->msg);
	s->msg = NULL;
}

static sfsistat dkim_envfrom(SMFICTX *ctx, char **argv)
{
	struct dkim_session *s = dkim_session(ctx);
	dkim_message_end(s);
	if (!s->trusted && !milter_macro(ctx, "{auth_authen}"))
		return SMFIS_ACCEPT;
	s->msg = sign_new();
	if (!s->msg) {
		log_warn("%s: cannot start signing", milter_queue_id(ctx));
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat dkim_header(SMFICTX *ctx, char *name, char *value)
{
	struct dkim_session *s = smfi_getpriv(ctx);
	if (s && s->msg)
		sign_header(s->msg, name, value);
	return milter_continue(s, SMFIP_NR_HDR);
}

static sfsistat dkim_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct dkim_session *s = smfi_getpriv(ctx);
	if (s && s->msg && sign_body(s->msg, chunk, len) < 0) {
		/* a digest failure: end of message reports it */
		sign_free(s->msg);
		s->msg = NULL;
	}
	return milter_continue(s, SMFIP_NR_BODY);
}

static sfsistat dkim_fail(SMFICTX *ctx, const struct dkim_conf *c, const char *qid,
                          const char *what)
{
	if (c->on_error_accept) {
		log_warnx("%s: not signed: %s (on_error = accept)", qid, what);
		return SMFIS_ACCEPT;
	}
	log_warnx("%s: signing failed: %s: tempfail (on_error = tempfail)", qid, what);
	smfi_setreply(ctx, "451", "4.7.1", "DKIM signing failed, try again later");
	return SMFIS_TEMPFAIL;
}

static sfsistat dkim_eom(SMFICTX *ctx)
{
	struct dkim_session *s = smfi_getpriv(ctx);
	if (!s || !s->base.conf)
		return SMFIS_ACCEPT;
	const struct dkim_conf *c = s->base.conf->priv;
	const char *qid = milter_queue_id(ctx);
	sfsistat rc = SMFIS_ACCEPT;
	char *from = NULL;
	struct buf reason;
	buf_init(&reason);

	if (!s->msg) {
		rc = dkim_fail(ctx, c, qid, "message digest failed");
		goto out;
	}
	if (sign_from_domain(s->msg, &from, &reason) != 0) {
		log_info("%s: not signed: %s", qid, buf_cstr(&reason));
		goto out;
	}
	size_t di;
	const char *d;
	if (selectors_match_domain(c->sections, c->ndom, from, &di, &d) != 0) {
		log_info("%s: not signed: From domain %s not configured", qid, from);
		goto out;
	}
	const struct dkim_domain *dom = &c->dom[di];
	size_t idx[64], n = dom->nsel > 64 ? 64 : dom->nsel;
	struct dkim_domain capped = *dom;
	capped.nsel = n;
	size_t k = gate_active(dkim_gate(), &capped, idx);
	if (k == 0) {
		log_info("%s: not signed: no selector published for %s", qid, dom->d);
		dkim_stats_count(dom->d, DKIM_STATS_UNSIGNED);
		goto out;
	}
	time_t now = time(NULL);
	struct buf done;
	buf_init(&done);
	for (size_t i = 0; i < k; i++) {
		const struct dkim_selector *sel = &dom->sel[idx[i]];
		struct sign_params p = {
			.domain = dom->d,
			.selector = sel->name,
			.key = sel->key,
			.t = now,
			.x = c->expire_ms ? now + (time_t)((c->expire_ms + 999) / 1000) : 0,
		};
		char *value = NULL;
		int r = sign_make(s->msg, &p, &value);
		if (r < 0 || smfi_insheader(ctx, 0, "DKIM-Signature", value) != MI_SUCCESS) {
			free(value);
			buf_fini(&done);
			dkim_stats_count(dom->d, DKIM_STATS_FAILED);
			rc = dkim_fail(ctx, c, qid,
			               r < 0 ? "signature" : "cannot insert the header");
			goto out;
		}
		free(value);
		buf_printf(&done, "%s%s (%s)", i ? ", " : "", sel->name,
		           sel->type == KEYS_ED25519 ? "ed25519-sha256" : "rsa-sha256");
	}
	gate_signed(dkim_gate(), dom, idx, k, now);
	dkim_stats_count(dom->d, DKIM_STATS_SIGNED);
	log_info("%s: signed d=%s s=%s", qid, dom->d, buf_cstr(&done));
	buf_fini(&done);
out:
	free(from);
	buf_fini(&reason);
	dkim_message_end(s);
	/* libmilter's worker threads are never joined, and one that signed holds OpenSSL's
	 * per-thread state (the random generators RSA blinding draws from) until it ends, or
	 * forever at exit: free it here (measured: no visible cost next to one RSA-2048
	 * signature, ~320 us either way). */
	OPENSSL_thread_stop();
	return rc;
}

static sfsistat dkim_abort(SMFICTX *ctx)
{
	struct dkim_session *s = smfi_getpriv(ctx);
	if (s)
		dkim_message_end(s);
	return SMFIS_CONTINUE;
}

static void dkim_session_fini(void *session)
{
	dkim_message_end(session);
}

static sfsistat dkim_close(SMFICTX *ctx)
{
	milter_session_close(ctx, dkim_session_fini);
	return SMFIS_CONTINUE;
}

struct smfiDesc dkim_milter_desc = {
	.xxfi_name = "milter-dkim",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_connect = dkim_connect,
	.xxfi_envfrom = dkim_envfrom,
	.xxfi_header = dkim_header,
	.xxfi_body = dkim_body,
	.xxfi_eom = dkim_eom,
	.xxfi_abort = dkim_abort,
	.xxfi_close = dkim_close,
	.xxfi_negotiate = dkim_negotiate,
};
