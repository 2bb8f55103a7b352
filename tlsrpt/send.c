/* send: a day's report for one policy domain sent (RFC 8460 sections 3 and 5).
 *
 * A day goes out once it ended TLSRPT_SEND_GRACE_S ago. Per domain: "pw:tlsrpt:sent:<day>:
 * <domain>" present = already sent, nothing done. The _smtp._tls.<domain> TXT lookup
 * (NXDOMAIN, NODATA, no or several TLSRPTv1 records, a malformed one: the domain takes no
 * reports; a failed lookup is a failure); the report built with its kept report-id, gzipped,
 * named; each endpoint tried in the record's order (section 3: a report is delivered once
 * one endpoint took it): mailto: through sendmail (mail.c's message), https: by POST. When
 * one took it the domain is marked sent for TLSRPT_SENT_TTL_S with what was delivered where
 * and what failed.
 * A run (tlsrpt_send_run()) checks first, in this order: the day is over, report_from and
 * contact_info are set, the store shows an active DKIM selector of report_from's domain;
 * then it takes the day's lock for this process ("<gethostname()>:<pid>") for
 * TLSRPT_SEND_LOCK_TTL_S and tries each domain in turn, releasing the lock at the end.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cfg.h"
#include "deliver.h"
#include "dns.h"
#include "fetch.h"
#include "mail.h"
#include "rua.h"
#include "send.h"
#include "store.h"

bool tlsrpt_send_day_closed(const char *day, long long now)
{
	long long begin, end;
	if (tlsrpt_day_bounds(day, &begin, &end) < 0)
		return false;
	return now >= end + 1 + TLSRPT_SEND_GRACE_S;
}

/* The _smtp._tls record of @domain. Return 0, TLSRPT_SEND_NOT_WANTED or -errno. */
static int send_lookup(const struct tlsrpt_sender *s, const char *domain,
                       struct tlsrpt_rua_list *rua, struct buf *what)
{
	char name[300];
	struct dns_result *res = NULL;
	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	int rc = dns_txt(s->dns, name, &res);
	if (rc < 0) {
		buf_printf(what, "%s TXT lookup failed (%s)", name, dns_error_str(rc));
		return rc;
	}
	if (rc == DNS_BOGUS) {
		buf_printf(what, "%s TXT answer is DNSSEC-bogus", name);
		dns_result_free(res);
		return -EPROTO;
	}
	if (rc != DNS_ANSWER) {
		buf_printf(what, "takes no reports (no %s TXT record)", name);
		dns_result_free(res);
		return TLSRPT_SEND_NOT_WANTED;
	}
	const char *rec[64];
	size_t len[64], n = res->count < 64 ? res->count : 64;
	for (size_t i = 0; i < n; i++) {
		rec[i] = res->txt[i].text;
		len[i] = res->txt[i].len;
	}
	struct buf err;
	buf_init(&err);
	rc = tlsrpt_rua_parse(rec, len, n, rua, &err);
	if (rc != 0)
		buf_printf(what, "takes no reports (%s: %s)", name, buf_cstr(&err));
	buf_fini(&err);
	dns_result_free(res);
	return rc == 0 ? 0 : TLSRPT_SEND_NOT_WANTED;
}

static void send_unique(char out[33])
{
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 0, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* The domain of address @a, or @a. */
static const char *send_domain_of(const char *a)
{
	const char *at = a ? strrchr(a, '@') : NULL;
	return at ? at + 1 : (a ? a : "");
}

struct send_report {
	char id[320], name[1024];
	struct buf gz;
};

/* One endpoint. Return 0 or -errno with a line in @err. */
static int send_one(const struct tlsrpt_sender *s, const struct tlsrpt_rua *e, const char *day,
                    const char *domain, const struct send_report *r, struct buf *err)
{
	if (e->kind == TLSRPT_RUA_HTTPS)
		return tlsrpt_deliver_https(s->fetch, e->target, r->gz.data, r->gz.len, err);
	char unique[33];
	send_unique(unique);
	struct tlsrpt_mail m = {
		.from = s->report_from,
		.to = e->target,
		.domain = domain,
		.submitter = send_domain_of(s->meta->contact_info),
		.organization = s->meta->organization_name,
		.report_id = r->id,
		.day = day,
		.filename = r->name,
		.gz = r->gz.data,
		.gz_len = r->gz.len,
		.now = s->now,
		.unique = unique,
	};
	struct buf msg;
	buf_init(&msg);
	int rc = tlsrpt_mail_build(&m, &msg, err);
	if (rc == 0)
		rc = tlsrpt_deliver_sendmail(s->sendmail, s->report_from, e->target, msg.data,
		                             msg.len, s->sendmail_timeout_ms, err);
	buf_fini(&msg);
	return rc;
}

/* Build the report. Return 0, TLSRPT_SEND_EMPTY or -errno (reason in @what). */
static int send_build(const struct tlsrpt_sender *s, const char *day, const char *domain,
                      struct send_report *r, struct buf *what)
{
	json_t *rep = NULL;
	struct buf err;
	int rc = tlsrpt_report_id(s->st, day, domain, true, r->id, sizeof(r->id));
	if (rc < 0) {
		buf_printf(what, "report-id not kept: %s", strerror(-rc));
		return rc;
	}
	buf_init(&err);
	rc = tlsrpt_report_build(s->st, day, domain, r->id, s->meta, &rep, &err);
	if (rc < 0)
		buf_printf(what, "report not built: %s", buf_cstr(&err));
	buf_fini(&err);
	if (rc == 1)
		buf_printf(what, "nothing counted that day");
	if (rc != 0)
		return rc == 1 ? TLSRPT_SEND_EMPTY : rc;
	tlsrpt_report_filename(s->meta, domain, day, r->id, r->name, sizeof(r->name));
	rc = tlsrpt_report_gzip(rep, &r->gz);
	json_decref(rep);
	if (rc < 0)
		buf_printf(what, "report not compressed: %s", strerror(-rc));
	return rc;
}

int tlsrpt_send_domain(const struct tlsrpt_sender *s, const char *day, const char *domain,
                       struct buf *what)
{
	char key[STORE_KEY_MAX], *val = NULL;
	size_t vlen;
	snprintf(key, sizeof(key), "pw:tlsrpt:sent:%s:%s", day, domain);
	int rc = store_get(s->st, key, &val, &vlen);
	free(val);
	if (rc == 0) {
		buf_printf(what, "already sent");
		return TLSRPT_SEND_ALREADY;
	}
	if (rc < 0) {
		buf_printf(what, "store: %s", strerror(-rc));
		return rc;
	}
	struct tlsrpt_rua_list rua;
	memset(&rua, 0, sizeof(rua));
	if ((rc = send_lookup(s, domain, &rua, what)) != 0)
		return rc;
	struct send_report r;
	memset(&r, 0, sizeof(r));
	buf_init(&r.gz);
	if ((rc = send_build(s, day, domain, &r, what)) != 0)
		goto out;

	json_t *delivered = json_array(), *failed = json_array();
	for (size_t i = 0; i < rua.n; i++) {
		const struct tlsrpt_rua *e = &rua.v[i];
		char uri[TLSRPT_RUA_LEN_MAX + 8];
		struct buf err;
		snprintf(uri, sizeof(uri), "%s%s", e->kind == TLSRPT_RUA_MAILTO ? "mailto:" : "",
		         e->target);
		buf_init(&err);
		int r1 = send_one(s, e, day, domain, &r, &err);
		buf_printf(what, "%s%s %s", i ? ", " : "", uri, r1 == 0 ? "delivered" : "FAILED");
		if (r1 < 0)
			buf_printf(what, " (%s)", buf_cstr(&err));
		if (r1 == 0)
			json_array_append_new(delivered, json_string(uri));
		else
			json_array_append_new(failed, json_pack("{s:s,s:s}", "rua", uri, "error",
			                                        buf_cstr(&err)));
		buf_fini(&err);
	}
	if (rua.skipped)
		buf_printf(what, "; %zu rua URI%s skipped (not mailto:/https:)", rua.skipped,
		           rua.skipped == 1 ? "" : "s");
	if (json_array_size(delivered) == 0) {
		rc = -EIO;
	} else {
		json_t *o =
		        json_pack("{s:I,s:s,s:s,s:O,s:O}", "at", (json_int_t)s->now, "report-id",
		                  r.id, "file", r.name, "delivered", delivered, "failed", failed);
		char *text = json_dumps(o, JSON_COMPACT);
		rc = text ? store_set(s->st, key, text, strlen(text), TLSRPT_SENT_TTL_S) : -ENOMEM;
		if (rc < 0)
			buf_printf(what,
			           "; NOT marked sent (store: %s): a later run sends it again",
			           strerror(-rc));
		free(text);
		json_decref(o);
	}
	json_decref(delivered);
	json_decref(failed);
out:
	buf_fini(&r.gz);
	tlsrpt_rua_list_free(&rua);
	return rc;
}

/* Lower-case copy of @addr's domain into @out. */
static void send_from_domain(const char *addr, char *out, size_t outsz)
{
	const char *at = strrchr(addr, '@');
	snprintf(out, outsz, "%s", at ? at + 1 : addr);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

/* The checks before anything of @day is sent. Return 0, TLSRPT_RUN_* or -errno (@err). */
static int send_gate(struct store *st, const struct cfg *cfg, const char *day, long long now,
                     struct buf *err)
{
	const char *from = cfg_str(cfg, NULL, "report_from");
	char dom[256], sel[STORE_KEY_MAX];
	if (!tlsrpt_send_day_closed(day, now)) {
		buf_add_line(err,
		             "%s (UTC) is not over yet: its reports go out from %d minutes "
		             "after its end; nothing sent",
		             day, TLSRPT_SEND_GRACE_S / 60);
		return TLSRPT_RUN_OPEN;
	}
	if (!*from || !strchr(from, '@') || !*cfg_str(cfg, NULL, "contact_info")) {
		buf_add_line(err, "report_from and contact_info must be set to send reports");
		return TLSRPT_RUN_CONFIG;
	}
	send_from_domain(from, dom, sizeof(dom));
	int rc = tlsrpt_dkim_selector(st, dom, sel, sizeof(sel));
	if (rc < 0) {
		buf_add_line(err, "store: %s", strerror(-rc));
		return rc;
	}
	if (rc == 1) {
		buf_add_line(err,
		             "no active DKIM selector for %s in the store (milter-dkim signs "
		             "with a selector once it is published and matches its key): "
		             "report mail must be DKIM-signed (RFC 8460 section 3); nothing sent",
		             dom);
		return TLSRPT_RUN_NO_DKIM;
	}
	return 0;
}

/* What a run of the whole day did, for `tlsrpt status` (pw:tlsrpt:run:<day>, JSON):
 * {"at":T,"by":"<host>:<pid>","delivered":N,"already":N,"no_record":N,"failed":{"<domain>":
 * "<what>",...}} or, when it was refused before any domain, {"at":T,"by":...,"refused":"<why>"}.
 * Takes @o. Best effort: a store error here changes nothing of the run. */
static void send_run_record(struct store *st, const char *day, json_t *o)
{
	char key[STORE_KEY_MAX];
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return;
	snprintf(key, sizeof(key), "%s%s", TLSRPT_RUN_PREFIX, day);
	store_set(st, key, text, strlen(text), TLSRPT_RUN_TTL_S);
	free(text);
}

/* The domains to try: @only, or the day's. Return 0 or -errno. */
static int send_domains(struct store *st, const char *day, const char *only, char ***out, size_t *n)
{
	if (!only)
		return tlsrpt_report_domains(st, day, out, n);
	char **d = calloc(2, sizeof(*d));
	if (!d || !(d[0] = strdup(only))) {
		free(d);
		return -ENOMEM;
	}
	*out = d;
	*n = 1;
	return 0;
}

int tlsrpt_send_run(struct store *st, const struct cfg *cfg, const char *day, const char *only,
                    long long now, const atomic_bool *stop, tlsrpt_send_cb cb, void *arg,
                    unsigned *sent, struct buf *err)
{
	char host[300], lock[STORE_KEY_MAX];
	unsigned ok = 0, failed = 0, already = 0, no_record = 0;
	if (sent)
		*sent = 0;
	store_host_name(host, 256);
	/* the process too: the daemon and a `report` command on one host must not both send */
	snprintf(host + strlen(host), sizeof(host) - strlen(host), ":%ld", (long)getpid());
	int rc = send_gate(st, cfg, day, now, err);
	if (rc == TLSRPT_RUN_CONFIG || rc == TLSRPT_RUN_NO_DKIM)
		send_run_record(st, day,
		                json_pack("{s:I,s:s,s:s}", "at", (json_int_t)now, "by", host,
		                          "refused", buf_cstr(err)));
	if (rc)
		return rc;
	snprintf(lock, sizeof(lock), "pw:tlsrpt:lock:report:%s", day);
	rc = store_lock(st, lock, host, TLSRPT_SEND_LOCK_TTL_S);
	if (rc == STORE_EXISTS) {
		char *who = NULL;
		size_t wl = 0;
		store_get(st, lock, &who, &wl);
		buf_add_line(err, "another host or process (%.*s) is sending the reports of %s",
		             who ? (int)(wl > 300 ? 300 : wl) : 1, who ? who : "?", day);
		free(who);
		return TLSRPT_RUN_LOCKED;
	}
	if (rc < 0) {
		buf_add_line(err, "store: the lock of %s: %s", day, strerror(-rc));
		return rc;
	}
	const char *ca = cfg_str(cfg, NULL, "ca_file");
	struct dns_opts dopts = { .forwarder = cfg_str(cfg, NULL, "resolver") };
	struct fetch_opts fopts = { .ca_file = *ca ? ca : NULL };
	struct tlsrpt_report_meta meta = {
		.organization_name = cfg_str(cfg, NULL, "organization_name"),
		.contact_info = cfg_str(cfg, NULL, "contact_info"),
	};
	struct tlsrpt_sender s = {
		.st = st,
		.dns = dns_new(&dopts),
		.fetch = fetch_new(&fopts),
		.meta = &meta,
		.report_from = cfg_str(cfg, NULL, "report_from"),
		.sendmail = cfg_str(cfg, NULL, "sendmail"),
		.now = now,
	};
	char **domains = NULL;
	size_t n = 0;
	if (!s.dns || !s.fetch) {
		rc = errno ? -errno : -EIO;
		buf_add_line(err, "%s: %s", s.dns ? "https client" : "resolver", strerror(-rc));
	} else if ((rc = send_domains(st, day, only, &domains, &n)) < 0) {
		buf_add_line(err, "store: the domains of %s: %s", day, strerror(-rc));
	}
	json_t *failures = json_object();
	for (size_t i = 0; rc == 0 && i < n && !(stop && atomic_load(stop)); i++) {
		struct buf what;
		buf_init(&what);
		int r = tlsrpt_send_domain(&s, day, domains[i], &what);
		if (cb)
			cb(domains[i], r, buf_cstr(&what), arg);
		failed += r < 0;
		ok += r == TLSRPT_SEND_DELIVERED;
		already += r == TLSRPT_SEND_ALREADY;
		no_record += r == TLSRPT_SEND_NOT_WANTED;
		if (r < 0)
			json_object_set_new(failures, domains[i], json_string(buf_cstr(&what)));
		buf_fini(&what);
		if (i + 1 < n && i % 16 == 15)
			store_lock(st, lock, host,
			           TLSRPT_SEND_LOCK_TTL_S); /* a long run keeps it */
	}
	if (rc == 0 && stop && atomic_load(stop) && n)
		failed++; /* stopped before the end: not done */
	if (rc < 0)
		send_run_record(st, day,
		                json_pack("{s:I,s:s,s:s}", "at", (json_int_t)now, "by", host,
		                          "refused", buf_cstr(err)));
	else if (!only)
		send_run_record(st, day,
		                json_pack("{s:I,s:s,s:I,s:I,s:I,s:O}", "at", (json_int_t)now, "by",
		                          host, "delivered", (json_int_t)ok, "already",
		                          (json_int_t)already, "no_record", (json_int_t)no_record,
		                          "failed", failures));
	json_decref(failures);
	tlsrpt_report_domains_free(domains);
	store_unlock(st, lock, host);
	fetch_free(s.fetch);
	dns_free(s.dns);
	if (sent)
		*sent = ok;
	return rc < 0 ? rc : failed ? TLSRPT_RUN_FAILED : TLSRPT_RUN_DONE;
}
