/* dane_probe: the DNS lookups behind the DANE decision (RFC 7672 2.2), over common/dns.
 *
 * MX (RFC 7672 2.2.1): secure -> look at the hosts; insecure, bogus or failed -> stop (the
 * decision needs nothing more). NXDOMAIN/NODATA -> the domain is its own host (implicit
 * MX, RFC 5321 5.1), with the denial's security as the MX fact. "." alone is a null MX
 * (RFC 7505): no hosts. Hosts are kept in the resolver's order (preference, then name)
 * and capped at DANE_PROBE_HOSTS_MAX.
 *
 * Hosts (RFC 7672 2.2.2): A and AAAA, the worse verdict of the two counts. Only when both
 * are secure and an address exists is TLSA looked up. If the addresses were reached
 * through a CNAME (the answer's canonical name differs), TLSA is looked up first at
 * _25._tcp.<target>, and at _25._tcp.<host> when the target has none (NXDOMAIN/NODATA);
 * CNAME chains for the TLSA name itself are followed by the resolver.
 *
 * Threads: the caller's, plus one short-lived thread per host beyond the first (joined
 * before return). No store, no logging; @dns is shared and thread safe.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dane_probe.h"

static int fact_rank(enum dane_fact f)
{
	switch (f) {
	case DANE_SECURE:
		return 0;
	case DANE_INSECURE:
		return 1;
	case DANE_FAILED:
		return 2;
	case DANE_BOGUS:
		return 3;
	}
	return 3;
}

static enum dane_fact fact_worst(enum dane_fact a, enum dane_fact b)
{
	return fact_rank(a) >= fact_rank(b) ? a : b;
}

static enum dane_fact fact_of(int rc, const struct dns_result *r)
{
	if (rc < 0 || !r)
		return DANE_FAILED;
	if (rc == DNS_BOGUS || r->sec == DNS_SEC_BOGUS)
		return DANE_BOGUS;
	return r->sec == DNS_SEC_SECURE ? DANE_SECURE : DANE_INSECURE;
}

static bool denied(int rc)
{
	return rc == DNS_NXDOMAIN || rc == DNS_NODATA;
}

/* Same name, ignoring case and a final dot on either side. */
static bool same_name(const char *a, const char *b)
{
	size_t an = strlen(a), bn = strlen(b);

	if (an > 0 && a[an - 1] == '.')
		an--;
	if (bn > 0 && b[bn - 1] == '.')
		bn--;
	return an == bn && strncasecmp(a, b, an) == 0;
}

/* Append @t to @text (DANE_PROBE_TLSA_TEXT bytes) as a line "usage selector mtype HEX", the
 * presentation form of RFC 6698 section 2.2, when it fits. */
static void tlsa_text_add(char *text, const struct dns_tlsa *t)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t used = strlen(text), need = 12 + 2 * t->len + 1;

	if (t->len == 0 || used + need >= DANE_PROBE_TLSA_TEXT)
		return;
	char *p = text + used;
	p += sprintf(p, "%u %u %u ", t->usage, t->selector, t->mtype);
	for (size_t i = 0; i < t->len; i++) {
		*p++ = hex[t->data[i] >> 4];
		*p++ = hex[t->data[i] & 15];
	}
	*p++ = '\n';
	*p = '\0';
}

/* TLSA at _25._tcp.<base> into @h. Return: dns_query()'s return. */
static int tlsa_lookup(struct dns *dns, const char *base, struct dane_host *h)
{
	char qname[DANE_PROBE_NAME_MAX + 16];
	struct dns_result *r = NULL;
	size_t bn = strlen(base);
	int rc;

	if (bn > 0 && base[bn - 1] == '.')
		bn--;
	if (bn >= DANE_PROBE_NAME_MAX) {
		h->tlsa = DANE_FAILED;
		return -EINVAL;
	}
	snprintf(qname, sizeof(qname), "_25._tcp.%.*s", (int)bn, base);
	rc = dns_tlsa(dns, qname, &r);
	h->tlsa = fact_of(rc, r);
	h->tlsa_denied = denied(rc) && h->tlsa == DANE_SECURE;
	h->usable = h->unusable = 0;
	if (h->tlsa_text)
		h->tlsa_text[0] = '\0';
	if (rc == DNS_ANSWER) {
		for (size_t i = 0; i < r->count; i++) {
			const struct dns_tlsa *t = &r->tlsa[i];
			if (dane_tlsa_usable(t->usage, t->selector, t->mtype))
				h->usable++;
			else
				h->unusable++;
			if (h->tlsa_text)
				tlsa_text_add(h->tlsa_text, t);
		}
	}
	dns_result_free(r);
	return rc;
}

struct host_job {
	struct dns *dns;
	struct dane_host *h;
	pthread_t thread;
	bool started;
};

static void host_lookup(struct dns *dns, struct dane_host *h)
{
	struct dns_result *a = NULL, *aaaa = NULL;
	char canon[DANE_PROBE_NAME_MAX] = "";
	int ra = dns_a(dns, h->name, &a);
	int r6 = dns_aaaa(dns, h->name, &aaaa);

	h->addr = fact_worst(fact_of(ra, a), fact_of(r6, aaaa));
	h->addr_none = denied(ra) && denied(r6);
	h->tlsa = DANE_INSECURE; /* not looked up */
	const struct dns_result *answered = ra == DNS_ANSWER ? a : r6 == DNS_ANSWER ? aaaa : NULL;
	if (answered && answered->canonname && strlen(answered->canonname) < sizeof(canon))
		strcpy(canon, answered->canonname);
	dns_result_free(a);
	dns_result_free(aaaa);
	if (h->addr != DANE_SECURE || h->addr_none)
		return;
	if (canon[0] && !same_name(canon, h->name) && !denied(tlsa_lookup(dns, canon, h)))
		return;
	tlsa_lookup(dns, h->name, h);
}

static void *host_thread(void *arg)
{
	struct host_job *j = arg;

	host_lookup(j->dns, j->h);
	return NULL;
}

static void hosts_lookup(struct dns *dns, struct dane_probe *out)
{
	struct host_job jobs[DANE_PROBE_HOSTS_MAX];
	size_t n = out->facts.n_hosts;

	/* a name too long to keep is not looked up: its facts stay "failed" */
	for (size_t i = 1; i < n; i++) {
		jobs[i] = (struct host_job){ .dns = dns, .h = &out->hosts[i] };
		if (!out->name_cut[i])
			jobs[i].started =
			        pthread_create(&jobs[i].thread, NULL, host_thread, &jobs[i]) == 0;
	}
	if (n > 0 && !out->name_cut[0])
		host_lookup(dns, &out->hosts[0]);
	for (size_t i = 1; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		else if (!out->name_cut[i])
			host_lookup(dns, &out->hosts[i]);
	}
}

static void host_add(struct dane_probe *out, const char *name)
{
	size_t i = out->facts.n_hosts;
	struct dane_host *h = &out->hosts[i];
	size_t n = strlen(name);

	if (i == DANE_PROBE_HOSTS_MAX)
		return;
	memset(h, 0, sizeof(*h));
	h->name = out->names[i];
	h->tlsa_text = out->tlsa_text[i];
	h->addr = DANE_FAILED;
	h->tlsa = DANE_INSECURE;
	if (n < DANE_PROBE_NAME_MAX) {
		memcpy(out->names[i], name, n + 1);
	} else {
		snprintf(out->names[i], DANE_PROBE_NAME_MAX, "%.*s...", DANE_PROBE_NAME_MAX - 4,
		         name);
		out->name_cut[i] = true;
	}
	out->facts.n_hosts++;
}

int dane_probe(struct dns *dns, const char *domain, struct dane_probe *out)
{
	struct dns_result *mx = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->facts.hosts = out->hosts;
	rc = dns_mx(dns, domain, &mx);
	out->facts.mx = fact_of(rc, mx);
	if (rc < 0) {
		out->mx_error = rc;
		return rc;
	}
	if (out->facts.mx != DANE_SECURE) {
		out->mx_total = mx->count;
		dns_result_free(mx);
		return 0;
	}
	if (denied(rc)) {
		out->implicit_mx = true;
		out->mx_total = 1;
		host_add(out, domain);
	} else {
		out->mx_total = mx->count;
		for (size_t i = 0; i < mx->count; i++)
			if (strcmp(mx->mx[i].host, ".") != 0)
				host_add(out, mx->mx[i].host);
		out->null_mx = out->facts.n_hosts == 0;
	}
	dns_result_free(mx);
	hosts_lookup(dns, out);
	return 0;
}
