/* milter: milter-dkim's libmilter callbacks, the one file that sees libmilter
 * types.
 *
 * Per connection: the config snapshot it started with and whether the client
 * is trusted (sign_networks, or Postfix's emulated local submission: host
 * "localhost", port 0: doc/protocols.md, "Local submissions"). At MAIL, mail that is neither
 * authenticated ({auth_authen}) nor trusted gets SMFIS_ACCEPT: Postfix sends
 * nothing more of it and nothing is logged, unless verify = yes: then every
 * message is verified and maybe ARC-sealed (inbound.c; RCPT gives {rcpt_mailer}).
 * Eligible mail is hashed as it
 * streams; at end of message one DKIM-Signature per active selector is
 * inserted at the top (smfi_insheader index 0, folded with LF+TAB), or one info
 * line says why it went out unsigned. The time each selector signed and per-domain
 * signed/unsigned/failed counts are kept in memory (selector_table.c, stats.c) for the
 * background thread to write to the store. Stages that never return a verdict are
 * negotiated no-reply (SMFIP_NR_*), never MAIL (doc/protocols.md, "Milter
 * negotiation and no-reply stages"). Header values come with the space after the
 * colon (SMFIP_HDR_LEADSPC, so that simple header canonicalization verifies), and the
 * headers inserted get one (milter_insheader()).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <time.h>

#include "dkim.h"
#include "inbound.h"
#include "log.h"
#include "milter.h"
#include "sign.h"
#include "stats.h"

struct dkim_session {
	struct milter_session base; /* config snapshot, negotiated steps */
	bool trusted;               /* sign_networks or local submission */
	bool signing;               /* the message is to be signed */
	struct sign *msg;           /* the message being signed, or NULL after a digest failure */
	struct inbound *in;         /* the message being verified (verify = yes), or NULL */
};

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
	struct dkim_session *s = milter_session(ctx);
	const struct dkim_conf *c = s->base.conf->priv;
	s->trusted = dkim_local_submission(host, sa) || cidr_list_match(c->sign_networks, sa);
	return milter_continue(s, SMFIP_NR_CONN);
}

static void dkim_message_end(void *session)
{
	struct dkim_session *s = session;
	sign_free(s->msg);
	s->msg = NULL;
	s->signing = false;
	inbound_free(s->in);
	s->in = NULL;
}

static sfsistat dkim_envfrom(SMFICTX *ctx, char **argv)
{
	struct dkim_session *s = milter_message_begin(ctx);
	s->in = inbound_new(s->base.conf->priv);
	if (!s->trusted && !milter_macro(ctx, "{auth_authen}"))
		return s->in ? SMFIS_CONTINUE : SMFIS_ACCEPT;
	s->signing = true;
	s->msg = s->in ? sign_new_shared() : sign_new();
	if (!s->msg) {
		log_warn("%s: cannot start signing", milter_queue_id(ctx));
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat dkim_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)argv;
	struct dkim_session *s = milter_session(ctx);
	inbound_rcpt(s->in, milter_macro(ctx, "{rcpt_mailer}"));
	return milter_continue(s, SMFIP_NR_RCPT);
}

static void dkim_header(void *session, const char *name, const char *value)
{
	struct dkim_session *s = session;
	char *tofree;
	const char *raw = milter_header_raw(s, value, &tofree);
	if (s->msg)
		sign_header(s->msg, name, raw);
	inbound_header(s->in, name, raw);
	free(tofree);
}

static void dkim_body(void *session, const unsigned char *chunk, size_t len)
{
	struct dkim_session *s = session;
	inbound_body(s->in, chunk, len);
	if (s->msg && !s->in && sign_body(s->msg, chunk, len) < 0) {
		/* a digest failure: end of message reports it */
		sign_free(s->msg);
		s->msg = NULL;
	}
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

static sfsistat dkim_eom(SMFICTX *ctx, void *session, const char *qid)
{
	struct dkim_session *s = session;
	const struct dkim_conf *c = s->base.conf->priv;
	sfsistat rc = SMFIS_ACCEPT;
	char *from = NULL;
	struct buf reason;
	buf_init(&reason);

	inbound_eom(s->in, ctx, c, qid);
	if (!s->signing)
		goto out;
	unsigned char bh[32];
	if (s->msg && s->in) {
		if (inbound_body_hash(s->in, bh) == 0) {
			sign_set_body_hash(s->msg, bh);
		} else {
			sign_free(s->msg);
			s->msg = NULL;
		}
	}
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
	if (selector_policy_match_domain(c->sections, c->ndom, from, &di, &d) != 0) {
		log_info("%s: not signed: From domain %s not configured", qid, from);
		goto out;
	}
	const struct dkim_domain *dom = &c->dom[di];
	size_t idx[DKIM_MAX_SELECTORS];
	size_t k = selector_table_active(dnspass_table(), dom, idx);
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
		if (r < 0 || milter_insheader(ctx, 0, "DKIM-Signature", value) != MI_SUCCESS) {
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
	selector_table_signed(dnspass_table(), dom, idx, k, now);
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

const struct milter_ops dkim_milter_ops = {
	.name = "milter-dkim",
	.session_size = sizeof(struct dkim_session),
	.need = SMFIF_ADDHDRS,
	.actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.steps = SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_NOEOH | SMFIP_NR_CONN |
	         SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC,
	.message_end = dkim_message_end,
	.connect = dkim_connect,
	.envfrom = dkim_envfrom,
	.envrcpt = dkim_envrcpt,
	.header = dkim_header,
	.body = dkim_body,
	.eom = dkim_eom,
};
