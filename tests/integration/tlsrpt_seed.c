/* tlsrpt_seed: puts test state into a store for tlsrpt-deliver.sh, tlsrpt-transport.sh and
 * the e2e mail path (tests/e2e/mail-path.sh: copy-day):
 *   tlsrpt_seed STORE_URI events DAYS_AGO DOMAIN SUCCESS FAILURE
 *       SUCCESS and FAILURE sessions (STS policy, certificate-expired failures) for DOMAIN,
 *       dated noon UTC DAYS_AGO days ago, counted with tlsrpt's own aggregate.c
 *   tlsrpt_seed STORE_URI dkim DOMAIN SELECTOR
 *       the record milter-dkim keeps for a selector that is published and matches its key
 *       (pw:dkim:sel:DOMAIN:SELECTOR)
 *   tlsrpt_seed STORE_URI lock KEY OWNER   take a store lock for 60 s, as another host would
 *   tlsrpt_seed STORE_URI unlock KEY OWNER release it
 *   tlsrpt_seed STORE_URI get KEY          print a value (exit 1: none)
 *   tlsrpt_seed STORE_URI copy-day FROM TO
 *       copy a day's counts to another day: tlsrpt's pol/det/cnt keys and policyd-mtasts'
 *       seen/fail keys of day FROM, written again under day TO (the cnt hashes added to, the
 *       other keys replaced), so that the sessions of today can be reported for real as a
 *       day that is over (tests/e2e/mail-path.sh); prints how many keys it copied
 * Exit 0, or 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregate.h"
#include "store.h"

static int seed_events(struct store *st, int days_ago, const char *domain, long ok, long bad)
{
	long long t = (long long)time(NULL);
	t = t - t % 86400 + 43200 - (long long)days_ago * 86400;
	struct tlsrpt_agg *a = tlsrpt_agg_new(0);
	struct tlsrpt_event ev = { .time = t, .domain = domain, .n_policies = 1 };
	struct tlsrpt_policy *p = &ev.policies[0];
	char mx[300];
	snprintf(mx, sizeof(mx), "mx1.%s", domain);
	p->type = TLSRPT_POLICY_STS;
	p->n_strings = 3;
	p->strings[0] = "version: STSv1";
	p->strings[1] = "mode: enforce";
	p->strings[2] = "max_age: 86400";
	p->n_mx = 1;
	p->mx[0] = mx;
	for (long i = 0; i < ok + bad; i++) {
		p->success = i < ok;
		p->n_details = p->success ? 0 : 1;
		p->details[0] = (struct tlsrpt_detail){ .result = TLSRPT_CERTIFICATE_EXPIRED,
			                                .sending_ip = "192.0.2.1",
			                                .mx_host = mx,
			                                .receiving_ip = "192.0.2.25" };
		tlsrpt_agg_add(a, &ev);
	}
	struct buf err;
	buf_init(&err);
	int rc = tlsrpt_agg_flush(a, st, &err);
	if (rc < 0)
		fprintf(stderr, "tlsrpt_seed: flush: %s\n", buf_cstr(&err));
	buf_fini(&err);
	tlsrpt_agg_free(a);
	return rc < 0;
}

struct kv {
	char *key, *val;
	size_t len;
};
struct copy {
	struct kv *kv; /* the keys of day FROM, read first, written after the scans */
	size_t n, cap;
};

static int copy_collect(const char *key, const char *val, size_t len, void *arg)
{
	struct copy *c = arg;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->kv = realloc(c->kv, c->cap * sizeof(*c->kv));
		if (!c->kv)
			abort();
	}
	c->kv[c->n].key = strdup(key);
	c->kv[c->n].val = malloc(len + 1);
	if (!c->kv[c->n].key || !c->kv[c->n].val)
		abort();
	memcpy(c->kv[c->n].val, val, len);
	c->kv[c->n].val[len] = 0;
	c->kv[c->n++].len = len;
	return 0;
}

static void copy_free(struct copy *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->kv[i].key);
		free(c->kv[i].val);
	}
	free(c->kv);
}

static int copy_field(const char *field, long long value, void *arg)
{
	char num[32];
	int len = snprintf(num, sizeof(num), "%lld", value);
	return copy_collect(field, num, (size_t)len, arg);
}

/* KEY is "pw:<daemon>:<kind>:<FROM>:<rest>": the same key of day TO in OUT */
static void copy_key(const char *key, const char *to, char *out, size_t outsz)
{
	const char *p = key;
	for (int i = 0; i < 3 && p; i++)
		p = strchr(p + 1, ':');
	snprintf(out, outsz, "%.*s%s%s", (int)(p - key + 1), key, to, p + 11);
}

static int copy_day(struct store *st, const char *from, const char *to)
{
	static const char *const prefixes[] = { "pw:tlsrpt:pol:", "pw:tlsrpt:det:",
		                                "pw:mtasts:seen:", "pw:mtasts:fail:" };
	struct copy c = { 0 };
	long copied = 0;
	int rc = 0;
	if (strlen(from) != 10 || strlen(to) != 10) {
		fprintf(stderr, "tlsrpt_seed: copy-day: days are YYYY-MM-DD\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]) && rc == 0; i++) {
		char p[64];
		snprintf(p, sizeof(p), "%s%s:", prefixes[i], from);
		rc = store_scan(st, p, copy_collect, &c);
	}
	for (size_t i = 0; i < c.n && rc == 0; i++) {
		char nk[STORE_KEY_MAX + 1];
		copy_key(c.kv[i].key, to, nk, sizeof(nk));
		rc = store_set(st, nk, c.kv[i].val, c.kv[i].len, 0);
		copied += rc == 0;
		if (rc == 0 && strncmp(c.kv[i].key, "pw:tlsrpt:pol:", 14) == 0) {
			char ck[STORE_KEY_MAX + 1], nck[STORE_KEY_MAX + 1];
			snprintf(ck, sizeof(ck), "pw:tlsrpt:cnt:%s", c.kv[i].key + 14);
			copy_key(ck, to, nck, sizeof(nck));
			struct copy f = { 0 };
			rc = store_hgetall(st, ck, copy_field, &f);
			for (size_t j = 0; j < f.n && rc == 0; j++)
				rc = store_hincrby(st, nck, f.kv[j].key,
				                   strtoll(f.kv[j].val, NULL, 10), NULL);
			copied += rc == 0;
			copy_free(&f);
		}
	}
	copy_free(&c);
	if (rc != 0) {
		fprintf(stderr, "tlsrpt_seed: copy-day: store error %d\n", rc);
		return 1;
	}
	printf("%ld\n", copied);
	return copied == 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
		        "usage: tlsrpt_seed STORE_URI events DAYS_AGO DOMAIN SUCCESS FAILURE\n"
		        "       tlsrpt_seed STORE_URI dkim DOMAIN SELECTOR\n"
		        "       tlsrpt_seed STORE_URI copy-day FROM TO\n");
		return 1;
	}
	struct store *st = store_open(argv[1]);
	if (!st) {
		perror(argv[1]);
		return 1;
	}
	int rc = 1;
	if (strcmp(argv[2], "events") == 0 && argc == 7) {
		rc = seed_events(st, atoi(argv[3]), argv[4], atol(argv[5]), atol(argv[6]));
	} else if (strcmp(argv[2], "dkim") == 0 && argc == 5) {
		char key[STORE_KEY_MAX], val[256];
		snprintf(key, sizeof(key), "pw:dkim:sel:%s:%s", argv[3], argv[4]);
		snprintf(val, sizeof(val),
		         "{\"checked\":true,\"checked_at\":%lld,\"doubted_at\":0,"
		         "\"first_seen_nosign\":0,\"last_signed\":0,\"matches\":true,"
		         "\"published\":true}",
		         (long long)time(NULL));
		rc = store_set(st, key, val, strlen(val), 0) != 0;
	} else if (strcmp(argv[2], "lock") == 0 && argc == 5) {
		rc = store_lock(st, argv[3], argv[4], 60) != 0;
	} else if (strcmp(argv[2], "unlock") == 0 && argc == 5) {
		rc = store_unlock(st, argv[3], argv[4]) != 0;
	} else if (strcmp(argv[2], "copy-day") == 0 && argc == 5) {
		rc = copy_day(st, argv[3], argv[4]);
	} else if (strcmp(argv[2], "get") == 0 && argc == 4) {
		char *v = NULL;
		size_t n;
		rc = store_get(st, argv[3], &v, &n) != 0;
		if (!rc)
			printf("%.*s\n", (int)n, v);
		free(v);
	} else {
		fprintf(stderr, "tlsrpt_seed: bad arguments\n");
	}
	store_close(st);
	return rc;
}
