/* test_dns: common/dns against a real knotd (signed example.test, unsigned plain.test) behind
 * a validating unbound, both started by tests/integration/dns.sh (tests/harness/dns.sh),
 * which passes DNS_FORWARDER, DNS_TA and DNS_DIR. Checks decoded data and DNSSEC verdicts
 * (secure, insecure, bogus with a wrong trust anchor), NXDOMAIN/NODATA, the timeout against
 * a server that never answers (several threads at once), concurrent lookups on one context,
 * and a record added at runtime becoming visible. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/check_common.h"
#include "buf.h"
#include "dns.h"
#include "xalloc.h"

/* TLSA data published by tests/harness/dns.sh (DNS_TLSA_HASH). */
static const char tlsa_hex[] = "8a1a5fb9f00a4d2a1b5fbd3bf3e5a07f7f6a53d2c0d5b7bd2f6f0c9f1e7c3a21";

static const char *env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && *v, "%s not set: run through tests/integration/dns.sh", name);
	return v;
}

static struct dns *dns_test_new(const char *fwd, const char *ta, int timeout_ms)
{
	struct dns_opts o = {
		.forwarder = fwd, .trust_anchor = ta, .timeout_ms = timeout_ms, .cache_max_ttl = 1
	};
	struct dns *d = dns_new(&o);

	ck_assert_msg(d, "dns_new: %s", strerror(errno));
	return d;
}

static struct dns *dns_default(void)
{
	return dns_test_new(env("DNS_FORWARDER"), env("DNS_TA"), 5000);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(txt_secure)
{
	struct dns *d = dns_default();
	struct dns_result *r;
	int rc = dns_txt(d, "_mta-sts.example.test", &r);

	ck_assert_int_eq(rc, DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_SECURE);
	ck_assert_uint_eq(r->count, 1);
	ck_assert_str_eq(r->txt[0].text, "v=STSv1; id=20240101T000000;");
	ck_assert_uint_eq(r->txt[0].nstrings, 1);
	ck_assert_ptr_null(r->why_bogus);
	dns_result_free(r);

	rc = dns_txt(d, "multi.example.test.", &r);
	ck_assert_int_eq(rc, DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_SECURE);
	ck_assert_str_eq(r->txt[0].text, "part one; part two");
	ck_assert_uint_eq(r->txt[0].nstrings, 2);
	ck_assert_uint_eq(r->txt[0].string_len[0], 9);
	ck_assert_uint_eq(r->txt[0].string_len[1], 9);
	dns_result_free(r);
	dns_free(d);
}
END_TEST

START_TEST(mx_tlsa_addr_secure)
{
	struct dns *d = dns_default();
	struct dns_result *r;
	char hex[2 * 64 + 1] = "";

	ck_assert_int_eq(dns_mx(d, "example.test", &r), DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_SECURE);
	ck_assert_uint_eq(r->count, 1);
	ck_assert_uint_eq(r->mx[0].pref, 10);
	ck_assert_str_eq(r->mx[0].host, "mx.example.test");
	ck_assert_uint_gt(r->ttl, 0);
	dns_result_free(r);

	ck_assert_int_eq(dns_tlsa(d, "_25._tcp.mx.example.test", &r), DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_SECURE);
	ck_assert_uint_eq(r->count, 1);
	ck_assert_uint_eq(r->tlsa[0].usage, 3);
	ck_assert_uint_eq(r->tlsa[0].selector, 1);
	ck_assert_uint_eq(r->tlsa[0].mtype, 1);
	ck_assert_uint_eq(r->tlsa[0].len, 32);
	for (size_t i = 0; i < r->tlsa[0].len; i++)
		snprintf(hex + 2 * i, 3, "%02x", r->tlsa[0].data[i]);
	ck_assert_str_eq(hex, tlsa_hex);
	dns_result_free(r);

	ck_assert_int_eq(dns_a(d, "mx.example.test", &r), DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_SECURE);
	ck_assert_uint_eq(r->count, 1);
	ck_assert_str_eq(r->addr[0], "127.0.0.1");
	dns_result_free(r);

	ck_assert_int_eq(dns_aaaa(d, "mx.example.test", &r), DNS_ANSWER);
	ck_assert_str_eq(r->addr[0], "::1");
	dns_result_free(r);
	dns_free(d);
}
END_TEST

START_TEST(insecure_plain)
{
	struct dns *d = dns_default();
	struct dns_result *r;

	ck_assert_int_eq(dns_txt(d, "_mta-sts.plain.test", &r), DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_INSECURE);
	ck_assert_str_eq(r->txt[0].text, "v=STSv1; id=20240101T000000;");
	dns_result_free(r);

	ck_assert_int_eq(dns_mx(d, "plain.test", &r), DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_INSECURE);
	ck_assert_str_eq(r->mx[0].host, "mx.plain.test");
	dns_result_free(r);

	ck_assert_int_eq(dns_txt(d, "nosuch.plain.test", &r), DNS_NXDOMAIN);
	ck_assert_int_eq(r->sec, DNS_SEC_INSECURE);
	dns_result_free(r);
	dns_free(d);
}
END_TEST

START_TEST(nxdomain_nodata)
{
	struct dns *d = dns_default();
	struct dns_result *r;

	ck_assert_int_eq(dns_txt(d, "nosuch.example.test", &r), DNS_NXDOMAIN);
	ck_assert_int_eq(r->sec, DNS_SEC_SECURE); /* authenticated denial */
	ck_assert_int_eq(r->outcome, DNS_NXDOMAIN);
	ck_assert_uint_eq(r->count, 0);
	ck_assert_int_eq(r->rcode, 3);
	dns_result_free(r);

	ck_assert_int_eq(dns_tlsa(d, "_25._tcp.nosuch.example.test", &r), DNS_NXDOMAIN);
	dns_result_free(r);

	ck_assert_int_eq(dns_txt(d, "mx.example.test", &r), DNS_NODATA);
	ck_assert_int_eq(r->sec, DNS_SEC_SECURE);
	ck_assert_uint_eq(r->count, 0);
	dns_result_free(r);

	ck_assert_int_eq(dns_query(d, "example.test", 99, &r), -EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(dns_txt(d, "", &r), -EINVAL);
	dns_free(d);
}
END_TEST

/* A trust anchor whose DS digest is wrong in one hex digit. */
static char *wrong_ta(void)
{
	FILE *in = fopen(env("DNS_TA"), "r");
	char line[1024], *path;
	FILE *out;
	size_t n;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), in));
	fclose(in);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	ck_assert_uint_gt(n, 10);
	line[n - 1] = line[n - 1] == '0' ? '1' : '0';
	path = xasprintf("%s/wrong.ds", env("DNS_DIR"));
	out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	fprintf(out, "%s\n", line);
	fclose(out);
	return path;
}

START_TEST(bogus_wrong_anchor)
{
	char *ta = wrong_ta();
	struct dns *d = dns_test_new(env("DNS_FORWARDER"), ta, 5000);
	struct dns_result *r;

	ck_assert_int_eq(dns_txt(d, "_mta-sts.example.test", &r), DNS_BOGUS);
	ck_assert_int_eq(r->sec, DNS_SEC_BOGUS);
	ck_assert_int_eq(r->outcome, DNS_BOGUS);
	ck_assert_uint_eq(r->count, 0);
	ck_assert_ptr_nonnull(r->why_bogus);
	fprintf(stderr, "why_bogus: %s\n", r->why_bogus);
	dns_result_free(r);

	/* the wrong anchor only covers example.test */
	ck_assert_int_eq(dns_txt(d, "_mta-sts.plain.test", &r), DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_INSECURE);
	dns_result_free(r);
	dns_free(d);
	free(ta);
}
END_TEST

START_TEST(no_anchor_insecure)
{
	/* an anchor file that exists but holds nothing: everything is insecure */
	char *ta = xasprintf("%s/empty.ds", env("DNS_DIR"));
	FILE *f = fopen(ta, "w");
	struct dns *d;
	struct dns_result *r;

	ck_assert_ptr_nonnull(f);
	fclose(f);
	d = dns_test_new(env("DNS_FORWARDER"), ta, 5000);
	ck_assert_int_eq(dns_txt(d, "_mta-sts.example.test", &r), DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_INSECURE);
	dns_result_free(r);
	dns_free(d);
	free(ta);
}
END_TEST

START_TEST(no_trust_anchor_no_validation)
{
	/* no trust anchor configured: nothing is validated, whether or not the path passes
	 * DNSSEC records (the validating unbound, or knotd asked directly) */
	const char *paths[] = { env("DNS_FORWARDER"), env("DNS_AUTH") };
	struct dns_result *r;

	for (size_t i = 0; i < 2; i++) {
		struct dns *d = dns_test_new(paths[i], NULL, 5000);

		ck_assert(!dns_validating(d));
		ck_assert_int_eq(dns_txt(d, "_mta-sts.example.test", &r), DNS_ANSWER);
		ck_assert_int_eq(r->sec, DNS_SEC_INSECURE);
		ck_assert_str_eq(r->txt[0].text, "v=STSv1; id=20240101T000000;");
		dns_result_free(r);
		ck_assert_int_eq(dns_txt(d, "_mta-sts.plain.test", &r), DNS_ANSWER);
		ck_assert_int_eq(r->sec, DNS_SEC_INSECURE);
		dns_result_free(r);
		ck_assert_int_eq(dns_txt(d, "nosuch.example.test", &r), DNS_NXDOMAIN);
		ck_assert_int_eq(r->sec, DNS_SEC_INSECURE);
		dns_result_free(r);
		dns_free(d);
	}
	/* the same knotd path with the anchor validates */
	struct dns *d = dns_test_new(env("DNS_AUTH"), env("DNS_TA"), 5000);
	ck_assert(dns_validating(d));
	ck_assert_int_eq(dns_txt(d, "_mta-sts.example.test", &r), DNS_ANSWER);
	ck_assert_int_eq(r->sec, DNS_SEC_SECURE);
	dns_result_free(r);
	dns_free(d);
}
END_TEST

START_TEST(bad_setup)
{
	struct dns_opts o = { .forwarder = "not an address", .trust_anchor = env("DNS_TA") };

	ck_assert_ptr_null(dns_new(&o));
	ck_assert_int_eq(errno, EINVAL);
	o.forwarder = env("DNS_FORWARDER");
	o.trust_anchor = "/nonexistent/ta.ds";
	ck_assert_ptr_null(dns_new(&o));
	ck_assert_int_eq(errno, ENOENT);
	/* defaults (resolv.conf, no trust anchor) build a context; nothing is looked up */
	if (access("/etc/resolv.conf", R_OK) == 0) {
		struct dns *d = dns_new(NULL);

		ck_assert_msg(d, "dns_new(NULL): %s", strerror(errno));
		dns_free(d);
	}
}
END_TEST

struct blackhole {
	int udp, tcp;
	char fwd[64];
};

/* A UDP socket nobody reads and a TCP listener nobody accepts from, on one port. */
static void blackhole_open(struct blackhole *b)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	b->udp = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(b->udp, 0);
	ck_assert_int_eq(bind(b->udp, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(b->udp, (struct sockaddr *)&a, &len), 0);
	b->tcp = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(b->tcp, 0);
	if (bind(b->tcp, (struct sockaddr *)&a, sizeof(a)) == 0)
		ck_assert_int_eq(listen(b->tcp, 1), 0);
	snprintf(b->fwd, sizeof(b->fwd), "127.0.0.1@%u", ntohs(a.sin_port));
}

struct timed {
	struct dns *d;
	const char *name;
	int rc;
	long long ms;
};

static void *timed_lookup(void *arg)
{
	struct timed *t = arg;
	struct dns_result *r = NULL;
	long long t0 = now_ms();

	t->rc = dns_txt(t->d, t->name, &r);
	t->ms = now_ms() - t0;
	dns_result_free(r);
	return NULL;
}

START_TEST(timeout_blackhole)
{
	struct blackhole b;
	struct timed t[4];
	pthread_t th[4];
	struct dns *d;
	char names[4][64];

	blackhole_open(&b);
	d = dns_test_new(b.fwd, env("DNS_TA"), 800);
	for (int i = 0; i < 4; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d.example.test", i);
		t[i] = (struct timed){ .d = d, .name = names[i] };
		ck_assert_int_eq(pthread_create(&th[i], NULL, timed_lookup, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		fprintf(stderr, "blackhole lookup %d: rc=%d in %lld ms\n", i, t[i].rc, t[i].ms);
		ck_assert_int_eq(t[i].rc, -ETIMEDOUT);
		ck_assert_int_ge(t[i].ms, 700);
		ck_assert_int_le(t[i].ms, 800 + 700);
	}
	dns_free(d);
	close(b.udp);
	close(b.tcp);
}
END_TEST

START_TEST(timeout_dead_port)
{
	struct blackhole b;
	struct timed t = { 0 };
	char fwd[64];

	blackhole_open(&b);
	snprintf(fwd, sizeof(fwd), "%s", b.fwd);
	close(b.udp);
	close(b.tcp); /* now nothing listens there */
	t.d = dns_test_new(fwd, env("DNS_TA"), 1000);
	t.name = "dead.example.test";
	timed_lookup(&t);
	fprintf(stderr, "dead port lookup: rc=%d in %lld ms\n", t.rc, t.ms);
	ck_assert_msg(t.rc == -ETIMEDOUT || t.rc == -EAGAIN, "rc=%d", t.rc);
	ck_assert_int_le(t.ms, 1000 + 700);
	dns_free(t.d);
}
END_TEST

struct worker {
	struct dns *d;
	int id;
	int bad;
};

static void *concurrent_worker(void *arg)
{
	struct worker *w = arg;
	static const char *const names[] = { "_mta-sts.example.test", "_mta-sts.plain.test",
		                             "nosuch.example.test", "multi.example.test" };
	static const int expect[] = { DNS_ANSWER, DNS_ANSWER, DNS_NXDOMAIN, DNS_ANSWER };

	for (int i = 0; i < 25; i++) {
		int k = (w->id + i) % 4;
		struct dns_result *r = NULL;
		int rc = dns_txt(w->d, names[k], &r);

		if (rc != expect[k] || (k != 1 && r->sec != DNS_SEC_SECURE))
			w->bad++;
		dns_result_free(r);
	}
	return NULL;
}

START_TEST(concurrent)
{
	struct dns *d = dns_default();
	struct worker w[8];
	pthread_t th[8];
	long long t0 = now_ms();

	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ .d = d, .id = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, concurrent_worker, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].bad, 0);
	}
	fprintf(stderr, "200 concurrent lookups in %lld ms\n", now_ms() - t0);
	dns_free(d);
}
END_TEST

static void harness(const char *verb, const char *a1, const char *a2)
{
	char *cmd = xasprintf("bash \"%s/dns.sh\" %s \"%s\" '%s' %s", env("POSTWARDEN_HARNESS"),
	                      verb, env("DNS_DIR"), a1, a2 ? a2 : "");

	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	free(cmd);
}

/* Look up TXT @name until its text is @want (NULL: until NXDOMAIN), at most 10 s. */
static void wait_txt(struct dns *d, const char *name, const char *want)
{
	long long end = now_ms() + 10000;
	int rc;

	for (;;) {
		struct dns_result *r = NULL;
		bool ok;

		rc = dns_txt(d, name, &r);
		ok = want ? rc == DNS_ANSWER && r->sec == DNS_SEC_SECURE &&
		                     strcmp(r->txt[0].text, want) == 0
		          : rc == DNS_NXDOMAIN;
		dns_result_free(r);
		if (ok)
			return;
		ck_assert_msg(now_ms() < end, "%s never became %s (rc=%d)", name,
		              want ? want : "NXDOMAIN", rc);
		usleep(200 * 1000);
	}
}

START_TEST(runtime_record)
{
	struct dns *d = dns_default();

	wait_txt(d, "rt.example.test", NULL);
	harness("add", "rt.example.test 1 TXT \"first\"", NULL);
	wait_txt(d, "rt.example.test", "first");
	harness("del", "rt.example.test", "TXT");
	harness("add", "rt.example.test 1 TXT \"second\" \" value\"", NULL);
	wait_txt(d, "rt.example.test", "second value");
	dns_free(d);
}
END_TEST

CHECK_MAIN("dns", txt_secure, mx_tlsa_addr_secure, insecure_plain, nxdomain_nodata,
           bogus_wrong_anchor, no_anchor_insecure, no_trust_anchor_no_validation, bad_setup,
           timeout_blackhole, timeout_dead_port, concurrent, runtime_record)
