/* dns: lookups with a hard per-lookup timeout, on libunbound, DNSSEC-validated on request.
 *
 * With a trust anchor file (DS or DNSKEY RRs) libunbound validates itself (RFC 4033-4035): a
 * forwarder only has to pass RRSIGs along, and an answer it cannot validate is bogus. Without
 * one there is no validation at all (module-config "iterator", see unbound.conf(5)): any
 * resolver path works, including plain or split-horizon resolvers that drop DNSSEC records.
 *
 * Threads: one ub_ctx, switched to threaded async mode (ub_ctx_async), is shared by all
 * callers. Each lookup is a heap "struct query" submitted with ub_resolve_async(). Callers
 * wait leader/follower style under dns->lock: one of them at a time polls ub_fd() (with the
 * lock dropped) and then runs ub_process() with the lock held, which fills in whichever
 * queries finished and wakes the others through dns->cond. Callbacks therefore only ever run
 * with dns->lock held, so a caller whose deadline passes can ub_cancel() its query without
 * racing its callback; if the cancel fails the query is abandoned and the callback frees it.
 * Nothing blocks longer than the caller's deadline.
 *
 * Ownership: results are built into struct dns_result (dns_rr decoders) and the ub_result is
 * freed at once.
 */
#include "dns.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <unbound.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

enum { RCODE_NOERROR = 0, RCODE_SERVFAIL = 2, RCODE_NXDOMAIN = 3, RCODE_REFUSED = 5 };

struct dns {
	struct ub_ctx *ctx;
	int timeout_ms;
	bool validating; /* a trust anchor is loaded */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* broadcast when queries complete or the poller steps down */
	bool polling;        /* some caller is the poller */
};

struct query {
	bool done;
	bool abandoned; /* the caller gave up; the callback frees */
	int err;        /* UB_* from libunbound */
	struct ub_result *res;
};

static int errno_from_ub(int err)
{
	switch (err) {
	case UB_NOERROR:
		return 0;
	case UB_NOMEM:
		return -ENOMEM;
	case UB_SYNTAX:
		return -EINVAL;
	case UB_READFILE:
		return -ENOENT;
	case UB_SERVFAIL:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

static int ctx_fail(const char *what, const char *arg, int err)
{
	log_debug("dns: %s %s: %s", what, arg ? arg : "", ub_strerror(err));
	return errno_from_ub(err);
}

static int ctx_add_forwarders(struct ub_ctx *ctx, const char *list)
{
	char *copy = xstrdup(list), *save = NULL;
	int rc = 0, err;

	for (char *f = strtok_r(copy, " ,\t", &save); f; f = strtok_r(NULL, " ,\t", &save)) {
		if ((err = ub_ctx_set_fwd(ctx, f))) {
			rc = ctx_fail("forwarder", f, err);
			break;
		}
	}
	free(copy);
	return rc;
}

static int ctx_configure(struct ub_ctx *ctx, const struct dns_opts *o)
{
	const char *ta = o->trust_anchor;
	char num[16];
	int err;

	if ((err = ub_ctx_async(ctx, 1)))
		return ctx_fail("async", NULL, err);
	if (o->forwarder && *o->forwarder) {
		if ((err = ctx_add_forwarders(ctx, o->forwarder)))
			return err;
	} else if ((err = ub_ctx_resolvconf(ctx, NULL))) {
		return ctx_fail("resolvconf", "/etc/resolv.conf", err);
	}
	if (!ta || !*ta) {
		if ((err = ub_ctx_set_option(ctx, "module-config:", "iterator")))
			return ctx_fail("module-config", "iterator", err);
	} else if (access(ta, R_OK) < 0) {
		err = -errno;
		log_debug("dns: trust anchor %s: %s", ta, strerror(-err));
		return err;
	} else if ((err = ub_ctx_add_ta_file(ctx, ta))) {
		return ctx_fail("trust anchor", ta, err);
	}
	if (o->cache_max_ttl > 0) {
		snprintf(num, sizeof(num), "%d", o->cache_max_ttl);
		if ((err = ub_ctx_set_option(ctx, "cache-max-ttl:", num)))
			return ctx_fail("cache-max-ttl", num, err);
	}
	/* Last: removing a zone finalizes the context (libunbound(3), ub_ctx_zone_remove). */
	if ((err = ub_ctx_zone_remove(ctx, "test.")))
		return ctx_fail("zone_remove", "test.", err);
	return 0;
}

struct dns *dns_new(const struct dns_opts *opts)
{
	static const struct dns_opts defaults = { 0 };
	pthread_condattr_t ca;
	struct dns *dns;
	int rc;

	if (!opts)
		opts = &defaults;
	dns = xcalloc(1, sizeof(*dns));
	dns->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DNS_TIMEOUT_MS_DEFAULT;
	dns->validating = opts->trust_anchor && *opts->trust_anchor;
	dns->ctx = ub_ctx_create();
	if (!dns->ctx) {
		free(dns);
		errno = ENOMEM;
		return NULL;
	}
	rc = ctx_configure(dns->ctx, opts);
	if (rc < 0) {
		ub_ctx_delete(dns->ctx);
		free(dns);
		errno = -rc;
		return NULL;
	}
	pthread_mutex_init(&dns->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dns->cond, &ca);
	pthread_condattr_destroy(&ca);
	return dns;
}

void dns_free(struct dns *dns)
{
	if (!dns)
		return;
	ub_ctx_delete(dns->ctx);
	pthread_cond_destroy(&dns->cond);
	pthread_mutex_destroy(&dns->lock);
	free(dns);
}

/* Runs inside ub_process(), i.e. with dns->lock held by the poller. */
static void query_done(void *arg, int err, struct ub_result *res)
{
	struct query *q = arg;

	if (q->abandoned) {
		ub_resolve_free(res);
		free(q);
		return;
	}
	q->err = err;
	q->res = res;
	q->done = true;
}

/* Poll ub_fd for at most @ms, then process answers. Called and returns with dns->lock held. */
static void dns_poll(struct dns *dns, int64_t ms)
{
	struct pollfd pfd = { .fd = ub_fd(dns->ctx), .events = POLLIN };
	int n;

	dns->polling = true;
	pthread_mutex_unlock(&dns->lock);
	n = poll(&pfd, 1, (int)(ms > 1000 ? 1000 : ms));
	pthread_mutex_lock(&dns->lock);
	if (n > 0)
		ub_process(dns->ctx);
	dns->polling = false;
	pthread_cond_broadcast(&dns->cond);
}

/* Wait for @q until @deadline. Called and returns with dns->lock held. */
static int dns_wait(struct dns *dns, struct query *q, int id, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - clock_mono_ms();

		if (q->done)
			return 0;
		if (left <= 0)
			break;
		if (!dns->polling) {
			dns_poll(dns, left);
		} else {
			struct timespec ts = { .tv_sec = deadline / 1000,
				               .tv_nsec = (deadline % 1000) * 1000000 };
			pthread_cond_timedwait(&dns->cond, &dns->lock, &ts);
		}
	}
	if (ub_cancel(dns->ctx, id) != UB_NOERROR)
		q->abandoned = true;
	return -ETIMEDOUT;
}

static int result_fill(struct dns_result *r, const struct ub_result *u)
{
	size_t n = 0;
	int rc = 0;

	while (u->data && u->data[n])
		n++;
	switch (r->type) {
	case DNS_TYPE_TXT:
		r->txt = xcalloc(n, sizeof(*r->txt));
		break;
	case DNS_TYPE_TLSA:
		r->tlsa = xcalloc(n, sizeof(*r->tlsa));
		break;
	case DNS_TYPE_MX:
		r->mx = xcalloc(n, sizeof(*r->mx));
		break;
	default:
		r->addr = xcalloc(n, sizeof(*r->addr));
		break;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const uint8_t *d = (const uint8_t *)u->data[i];
		size_t len = (size_t)u->len[i];
		char a[DNS_ADDR_MAX];

		switch (r->type) {
		case DNS_TYPE_TXT:
			rc = dns_rr_txt(d, len, &r->txt[i]);
			break;
		case DNS_TYPE_TLSA:
			rc = dns_rr_tlsa(d, len, &r->tlsa[i]);
			break;
		case DNS_TYPE_MX:
			rc = dns_rr_mx(d, len, &r->mx[i]);
			break;
		default:
			rc = dns_rr_addr(r->type, d, len, a);
			if (rc == 0)
				r->addr[i] = xstrdup(a);
			break;
		}
		if (rc == 0)
			r->count = i + 1;
	}
	return rc;
}

static int mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp(x->host, y->host);
}

/* Classify a finished lookup; on success *out owns the decoded records. */
static int result_build(int type, const struct ub_result *u, struct dns_result **out)
{
	struct dns_result *r;
	int rc;

	if (!u->bogus && !u->havedata && u->rcode == RCODE_SERVFAIL)
		return -EAGAIN;
	if (!u->bogus && !u->havedata && u->rcode == RCODE_REFUSED)
		return -ECONNREFUSED;
	if (!u->bogus && !u->havedata && u->rcode != RCODE_NOERROR && u->rcode != RCODE_NXDOMAIN)
		return -EIO;
	r = xcalloc(1, sizeof(*r));
	r->type = type;
	r->rcode = u->rcode;
	r->sec = u->secure ? DNS_SEC_SECURE : u->bogus ? DNS_SEC_BOGUS : DNS_SEC_INSECURE;
	r->why_bogus = u->bogus && u->why_bogus ? xstrdup(u->why_bogus) : NULL;
	r->canonname = u->canonname ? xstrdup(u->canonname) : NULL;
	if (u->bogus) {
		r->outcome = DNS_BOGUS;
	} else if (u->havedata) {
		r->outcome = DNS_ANSWER;
		r->ttl = u->ttl > 0 ? (uint32_t)u->ttl : 0;
		rc = result_fill(r, u);
		if (rc < 0) {
			dns_result_free(r);
			return rc;
		}
		if (type == DNS_TYPE_MX)
			qsort(r->mx, r->count, sizeof(*r->mx), mx_cmp);
	} else {
		r->outcome = u->nxdomain ? DNS_NXDOMAIN : DNS_NODATA;
	}
	*out = r;
	return r->outcome;
}

int dns_query(struct dns *dns, const char *name, int type, struct dns_result **out)
{
	struct query *q;
	int id = 0, err, rc;

	*out = NULL;
	if (!name || !*name || strlen(name) > 254)
		return -EINVAL;
	if (type != DNS_TYPE_TXT && type != DNS_TYPE_TLSA && type != DNS_TYPE_MX &&
	    type != DNS_TYPE_A && type != DNS_TYPE_AAAA)
		return -EINVAL;
	q = xcalloc(1, sizeof(*q));
	int64_t deadline = clock_mono_ms() + dns->timeout_ms;

	pthread_mutex_lock(&dns->lock);
	err = ub_resolve_async(dns->ctx, name, type, 1 /* IN */, q, query_done, &id);
	if (err) {
		pthread_mutex_unlock(&dns->lock);
		free(q);
		return errno_from_ub(err);
	}
	rc = dns_wait(dns, q, id, deadline);
	bool abandoned = q->abandoned;
	pthread_mutex_unlock(&dns->lock);
	if (rc < 0) {
		if (!abandoned)
			free(q);
		return rc;
	}
	if (q->err)
		rc = errno_from_ub(q->err);
	else if (!q->res)
		rc = -EIO;
	else
		rc = result_build(type, q->res, out);
	ub_resolve_free(q->res);
	free(q);
	return rc;
}

int dns_txt(struct dns *dns, const char *name, struct dns_result **out)
{
	return dns_query(dns, name, DNS_TYPE_TXT, out);
}

int dns_tlsa(struct dns *dns, const char *name, struct dns_result **out)
{
	return dns_query(dns, name, DNS_TYPE_TLSA, out);
}

int dns_mx(struct dns *dns, const char *name, struct dns_result **out)
{
	return dns_query(dns, name, DNS_TYPE_MX, out);
}

int dns_a(struct dns *dns, const char *name, struct dns_result **out)
{
	return dns_query(dns, name, DNS_TYPE_A, out);
}

int dns_aaaa(struct dns *dns, const char *name, struct dns_result **out)
{
	return dns_query(dns, name, DNS_TYPE_AAAA, out);
}

void dns_result_free(struct dns_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++) {
		if (r->txt)
			dns_txt_fini(&r->txt[i]);
		if (r->tlsa)
			dns_tlsa_fini(&r->tlsa[i]);
		if (r->mx)
			dns_mx_fini(&r->mx[i]);
		if (r->addr)
			free(r->addr[i]);
	}
	free(r->txt);
	free(r->tlsa);
	free(r->mx);
	free(r->addr);
	free(r->why_bogus);
	free(r->canonname);
	free(r);
}

bool dns_validating(const struct dns *dns)
{
	return dns->validating;
}

const char *dns_error_str(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "timeout";
	case -EAGAIN:
		return "SERVFAIL";
	case -ECONNREFUSED:
		return "REFUSED";
	case -EIO:
		return "resolver error";
	case -EBADMSG:
		return "undecodable record";
	case -EINVAL:
		return "invalid query";
	case -ENOMEM:
		return "out of memory";
	default:
		return "error";
	}
}

bool dns_error_unreachable(int err)
{
	return err == -ETIMEDOUT || err == -EAGAIN || err == -ECONNREFUSED || err == -EIO;
}
