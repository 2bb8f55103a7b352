/* milter: milter-av's libmilter callbacks, the one file that sees libmilter
 * types (the milter protocol: libmilter's callbacks, negotiated no-reply steps).
 *
 * Per message: at MAIL, mail from skip_networks (or authenticated senders with
 * skip_authenticated) gets SMFIS_ACCEPT and nothing more; otherwise a clamd
 * scan starts and headers (rebuilt as "Name: value" CRLF) and body chunks are
 * streamed to it as they arrive (zINSTREAM, or a memfd handed over with FILDES
 * at the end for a local clamd). Headers and body are negotiated no-reply: the
 * verdict comes at end of message, where verdict_decide() maps the result and
 * the configuration to reject / discard / quarantine (HOLD) / tag / tempfail.
 * Every line about a message starts with its queue id; every infected message
 * is logged with virus name and sender (log.c escapes such network values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "av.h"
#include "clock.h"
#include "log.h"
#include "milter.h"
#include "xalloc.h"

struct av_session {
	struct milter_session base; /* config snapshot, negotiated steps */
	bool skip_client;           /* skip_networks */
	struct clamd_scan *scan;
	char *sender;
	int64_t started_ms; /* clock_mono_ms() at MAIL */
};

static void av_message_end(void *session)
{
	struct av_session *s = session;
	clamd_scan_free(s->scan);
	s->scan = NULL;
	free(s->sender);
	s->sender = NULL;
}

static sfsistat av_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct av_session *s = milter_session(ctx);
	const struct av_conf *c = s->base.conf->priv;
	s->skip_client = cidr_list_match(c->skip_networks, sa);
	return milter_continue(s, SMFIP_NR_CONN);
}

static sfsistat av_envfrom(SMFICTX *ctx, char **argv)
{
	struct av_session *s = milter_message_begin(ctx);
	const struct av_conf *c = s->base.conf->priv;
	if (s->skip_client || (c->skip_authenticated && milter_macro(ctx, "{auth_authen}")))
		return SMFIS_ACCEPT;
	s->sender = xstrdup(argv && argv[0] ? argv[0] : "<>");
	s->started_ms = clock_mono_ms();
	s->scan = clamd_scan_begin(c->pool, c->mode, c->max_size);
	if (!s->scan)
		log_warn("%s: cannot start a scan (memfd)", milter_queue_id(ctx));
	return SMFIS_CONTINUE;
}

static void av_header(void *session, const char *name, const char *value)
{
	struct av_session *s = session;
	if (s->scan)
		clamd_scan_header(s->scan, name, value);
}

static void av_eoh(void *session)
{
	struct av_session *s = session;
	if (s->scan)
		clamd_scan_eoh(s->scan);
}

static void av_body(void *session, const unsigned char *chunk, size_t len)
{
	struct av_session *s = session;
	if (s->scan)
		clamd_scan_write(s->scan, chunk, len);
}

static void av_log(const char *qid, const struct av_session *s, const struct clamd_result *res,
                   const struct verdict_decision *dec)
{
	const char *act = verdict_action_name(dec->action);
	const char *be = res->backend ? res->backend : "none";
	char fo[32] = "";
	if (res->failovers)
		snprintf(fo, sizeof(fo), " failovers=%u", res->failovers);
	switch (res->status) {
	case VERDICT_INFECTED:
		log_notice("%s: infected: %s from=%s action=%s backend=%s%s%s", qid, res->detail,
		           s->sender, act, be, res->fildes ? " (fildes)" : "", fo);
		break;
	case VERDICT_OVERSIZE:
		log_notice("%s: not scanned: oversize (%zu bytes%s%s) action=%s", qid, res->size,
		           res->detail[0] ? ", " : "", res->detail, act);
		break;
	case VERDICT_ERROR:
		log_warnx("%s: scan failed: %s action=%s", qid, res->detail, act);
		break;
	default:
		log_info("%s: clean backend=%s%s%s size=%zu time=%ldms", qid, be,
		         res->fildes ? " (fildes)" : "", fo, res->size,
		         (long)(clock_mono_ms() - s->started_ms));
	}
}

static sfsistat av_eom(SMFICTX *ctx, void *session, const char *qid)
{
	struct av_session *s = session;
	const struct av_conf *c = s->base.conf->priv;
	struct clamd_result res = { .status = VERDICT_ERROR };
	struct verdict_reply rep;
	struct verdict_decision dec;
	sfsistat rc = SMFIS_ACCEPT;

	if (s->scan)
		clamd_scan_end(s->scan, &res);
	else
		snprintf(res.detail, sizeof(res.detail), "could not start a scan");
	rep.status = res.status;
	memcpy(rep.detail, res.detail, sizeof(rep.detail));
	verdict_decide(&c->policy, &rep, res.version, &dec);
	av_log(qid, s, &res, &dec);
	av_stats_count(res.status, res.detail);

	if (dec.scanned_header[0])
		smfi_addheader(ctx, "X-Virus-Scanned", dec.scanned_header);
	if (dec.virus_header[0])
		smfi_addheader(ctx, "X-Virus", dec.virus_header);
	switch (dec.action) {
	case VERDICT_REJECT:
		smfi_setreply(ctx, dec.rcode, dec.xcode, dec.text);
		rc = SMFIS_REJECT;
		break;
	case VERDICT_TEMPFAIL:
		smfi_setreply(ctx, dec.rcode, dec.xcode, dec.text);
		rc = SMFIS_TEMPFAIL;
		break;
	case VERDICT_DISCARD:
		rc = SMFIS_DISCARD;
		break;
	case VERDICT_QUARANTINE:
		if (smfi_quarantine(ctx, dec.text[0] ? dec.text : "virus found") != MI_SUCCESS)
			log_warnx("%s: quarantine refused by the MTA", qid);
		rc = SMFIS_ACCEPT;
		break;
	default:
		rc = SMFIS_ACCEPT;
	}
	av_message_end(s);
	return rc;
}

const struct milter_ops av_milter_ops = {
	.name = "milter-av",
	.session_size = sizeof(struct av_session),
	.need = SMFIF_ADDHDRS,
	.actions = SMFIF_ADDHDRS | SMFIF_QUARANTINE,
	.steps = SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_NR_CONN |
	         SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY,
	.message_end = av_message_end,
	.connect = av_connect,
	.envfrom = av_envfrom,
	.header = av_header,
	.eoh = av_eoh,
	.body = av_body,
	.eom = av_eom,
};
