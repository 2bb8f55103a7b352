/* test_mtasts_dane: policyd-mtasts's dane_probe() and dane_decide() against the test DNS
 * started by tests/integration/mtasts-dane.sh (knotd signing example.test with the
 * domains that script adds, unsigned plain.test, a validating unbound). One test per
 * case: every host with usable TLSA (dane-only), one host without (dane), only unusable
 * TLSA (dane), TLSA securely denied (none), an MX in the unsigned zone (none), an
 * insecure MX RRset (none), implicit MX, null MX, an MX host reached through a CNAME, a
 * host without addresses, bogus answers (a wrong trust anchor) and an unreachable
 * resolver (a port that never answers). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/check_common.h"
#include "buf.h"
#include "dane.h"
#include "dane_probe.h"
#include "dns.h"
#include "xalloc.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && *v, "%s not set: run through tests/integration/mtasts-dane.sh", name);
	return v;
}

static struct dns *dns_make(const char *fwd, const char *ta, int timeout_ms)
{
	struct dns_opts o = {
		.forwarder = fwd, .trust_anchor = ta, .timeout_ms = timeout_ms, .cache_max_ttl = 1
	};
	struct dns *d = dns_new(&o);

	ck_assert_msg(d, "dns_new: %s", strerror(errno));
	return d;
}

/* Probe @domain through the validating resolver; check the verdict in both DANE modes. */
static void probe(const char *domain, struct dane_probe *p, enum dane_verdict only,
                  enum dane_verdict dane)
{
	struct dns *d = dns_make(env("DNS_FORWARDER"), env("DNS_TA"), 5000);
	struct buf why;

	ck_assert_int_eq(dane_probe(d, domain, p), 0);
	buf_init(&why);
	enum dane_verdict v = dane_decide(DANE_MODE_ONLY, &p->facts, &why);
	fprintf(stderr, "%s: %s\n", domain, buf_cstr(&why));
	ck_assert_msg(v == only, "%s: dane-only mode gave %s: %s", domain, dane_verdict_name(v),
	              buf_cstr(&why));
	ck_assert_int_eq(dane_decide(DANE_MODE_DANE, &p->facts, NULL), dane);
	ck_assert_int_eq(dane_decide(DANE_MODE_OFF, &p->facts, NULL), DANE_VERDICT_NONE);
	buf_fini(&why);
	dns_free(d);
}

START_TEST(all_hosts_usable)
{
	struct dane_probe p;

	probe("all.example.test", &p, DANE_VERDICT_ONLY, DANE_VERDICT_DANE);
	ck_assert_int_eq(p.facts.mx, DANE_SECURE);
	ck_assert_uint_eq(p.facts.n_hosts, 2);
	ck_assert_str_eq(p.hosts[0].name, "mx1.all.example.test");
	ck_assert_str_eq(p.hosts[1].name, "mx2.all.example.test");
	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_eq(p.hosts[i].addr, DANE_SECURE);
		ck_assert(!p.hosts[i].addr_none);
		ck_assert_int_eq(p.hosts[i].tlsa, DANE_SECURE);
		ck_assert_uint_eq(p.hosts[i].usable, 1);
		ck_assert_uint_eq(p.hosts[i].unusable, 0);
	}
	ck_assert(!p.implicit_mx && !p.null_mx);
	/* the records as text, for tlsrpt: RFC 6698 presentation form, upper-case hex */
	ck_assert_str_eq(p.hosts[0].tlsa_text,
	                 "3 1 1 8A1A5FB9F00A4D2A1B5FBD3BF3E5A07F7F6A53D2C0D5B7"
	                 "BD2F6F0C9F1E7C3A21\n");
	ck_assert_str_eq(p.hosts[1].tlsa_text,
	                 "2 0 1 8A1A5FB9F00A4D2A1B5FBD3BF3E5A07F7F6A53D2C0D5B7"
	                 "BD2F6F0C9F1E7C3A21\n");
	/* the harness's own domain: mx.example.test with A, AAAA and TLSA 3 1 1 */
	probe("example.test", &p, DANE_VERDICT_ONLY, DANE_VERDICT_DANE);
	ck_assert_uint_eq(p.facts.n_hosts, 1);
}
END_TEST

START_TEST(one_host_without_tlsa)
{
	struct dane_probe p;

	probe("some.example.test", &p, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	ck_assert_uint_eq(p.hosts[0].usable, 1);
	ck_assert_int_eq(p.hosts[1].tlsa, DANE_SECURE);
	ck_assert(p.hosts[1].tlsa_denied);
	ck_assert_str_eq(p.hosts[1].tlsa_text, "");
}
END_TEST

START_TEST(only_unusable_tlsa)
{
	struct dane_probe p;

	probe("unusable.example.test", &p, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	ck_assert_uint_eq(p.hosts[0].usable, 0);
	ck_assert_uint_eq(p.hosts[0].unusable, 2);
	/* unusable records are kept in the text too (RFC 8460: the policy is the TLSA RRset) */
	ck_assert_ptr_nonnull(strstr(p.hosts[0].tlsa_text, "0 0 1 8A1A5FB9"));
	ck_assert_ptr_nonnull(strstr(p.hosts[0].tlsa_text, "1 1 1 8A1A5FB9"));
}
END_TEST

START_TEST(tlsa_denied)
{
	struct dane_probe p;

	probe("nodane.example.test", &p, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	ck_assert_uint_eq(p.facts.n_hosts, 2);
	ck_assert(p.hosts[0].tlsa_denied && p.hosts[1].tlsa_denied);
}
END_TEST

START_TEST(mx_in_unsigned_zone)
{
	struct dane_probe p;

	/* mx.plain.test has a TLSA record, but in an unsigned zone */
	probe("toplain.example.test", &p, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	ck_assert_int_eq(p.facts.mx, DANE_SECURE);
	ck_assert_int_eq(p.hosts[0].addr, DANE_INSECURE);
	/* with a second, DANE host: dane */
	probe("mixed.example.test", &p, DANE_VERDICT_DANE, DANE_VERDICT_DANE);
	ck_assert_uint_eq(p.facts.n_hosts, 2);
}
END_TEST

START_TEST(insecure_mx)
{
	struct dane_probe p;

	probe("plain.test", &p, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	ck_assert_int_eq(p.facts.mx, DANE_INSECURE);
	ck_assert_uint_eq(p.facts.n_hosts, 0); /* not looked at */
	ck_assert_uint_eq(p.mx_total, 1);
}
END_TEST

START_TEST(implicit_mx)
{
	struct dane_probe p;

	probe("implicit.example.test", &p, DANE_VERDICT_ONLY, DANE_VERDICT_DANE);
	ck_assert(p.implicit_mx);
	ck_assert_int_eq(p.facts.mx, DANE_SECURE); /* the secure NODATA */
	ck_assert_uint_eq(p.facts.n_hosts, 1);
	ck_assert_str_eq(p.hosts[0].name, "implicit.example.test");
	probe("implicit-nodane.example.test", &p, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	ck_assert(p.implicit_mx);
	/* a name that does not exist: secure NXDOMAIN, no address either */
	probe("nosuch.example.test", &p, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	ck_assert(p.implicit_mx);
	ck_assert(p.hosts[0].addr_none);
}
END_TEST

START_TEST(null_mx)
{
	struct dane_probe p;

	probe("nullmx.example.test", &p, DANE_VERDICT_NONE, DANE_VERDICT_NONE);
	ck_assert(p.null_mx);
	ck_assert_uint_eq(p.facts.n_hosts, 0);
	ck_assert_uint_eq(p.mx_total, 1);
}
END_TEST

START_TEST(cname_target_tlsa)
{
	struct dane_probe p;

	/* RFC 7672 2.2.2: TLSA at the CNAME target's name */
	probe("cname.example.test", &p, DANE_VERDICT_ONLY, DANE_VERDICT_DANE);
	ck_assert_str_eq(p.hosts[0].name, "alias.cname.example.test");
	ck_assert_uint_eq(p.hosts[0].usable, 1);
}
END_TEST

START_TEST(host_without_address)
{
	struct dane_probe p;

	probe("noaddr.example.test", &p, DANE_VERDICT_ONLY, DANE_VERDICT_DANE);
	ck_assert(p.hosts[1].addr_none);
}
END_TEST

START_TEST(bogus)
{
	/* example.test's DS with its last digit changed: every example.test answer is bogus */
	char *ta = xasprintf("%s/wrong.ds", env("DNS_DIR"));
	FILE *in = fopen(env("DNS_TA"), "r"), *out = fopen(ta, "w");
	char line[1024];
	struct dane_probe p;

	ck_assert(in && out && fgets(line, sizeof(line), in));
	size_t n = strcspn(line, "\r\n");
	ck_assert_uint_gt(n, 0);
	line[n - 1] = line[n - 1] == '0' ? '1' : '0';
	line[n] = '\0';
	fprintf(out, "%s\n", line);
	fclose(in);
	fclose(out);
	struct dns *d = dns_make(env("DNS_FORWARDER"), ta, 5000);
	ck_assert_int_eq(dane_probe(d, "all.example.test", &p), 0);
	ck_assert_int_eq(p.facts.mx, DANE_BOGUS);
	ck_assert_int_eq(dane_decide(DANE_MODE_ONLY, &p.facts, NULL), DANE_VERDICT_DANE);
	ck_assert_int_eq(dane_decide(DANE_MODE_DANE, &p.facts, NULL), DANE_VERDICT_DANE);
	/* plain.test is outside the (wrong) anchor: still insecure, not bogus */
	ck_assert_int_eq(dane_probe(d, "plain.test", &p), 0);
	ck_assert_int_eq(p.facts.mx, DANE_INSECURE);
	dns_free(d);
	free(ta);
}
END_TEST

START_TEST(resolver_unreachable)
{
	/* a UDP port nobody reads (bound here, never read) and a short timeout */
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	char fwd[64];
	struct dane_probe p;
	struct timespec t0, t1;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%u", ntohs(a.sin_port));
	struct dns *d = dns_make(fwd, env("DNS_TA"), 500);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = dane_probe(d, "all.example.test", &p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	fprintf(stderr, "unreachable resolver: rc=%d (%s) in %ld ms\n", rc, dns_error_str(rc), ms);
	ck_assert_int_lt(rc, 0);
	ck_assert(dns_error_unreachable(rc));
	ck_assert_int_eq(p.mx_error, rc);
	ck_assert_int_eq(p.facts.mx, DANE_FAILED);
	ck_assert_int_eq(dane_decide(DANE_MODE_ONLY, &p.facts, NULL), DANE_VERDICT_DANE);
	ck_assert_int_lt(ms, 5000);
	dns_free(d);
	close(fd);
}
END_TEST

CHECK_MAIN("mtasts_dane_dns", all_hosts_usable, one_host_without_tlsa, only_unusable_tlsa,
           tlsa_denied, mx_in_unsigned_zone, insecure_mx, implicit_mx, null_mx, cname_target_tlsa,
           host_without_address, bogus, resolver_unreachable)
