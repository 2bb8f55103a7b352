/* tlsrpt_seed: puts test state into a store for tlsrpt-deliver.sh:
 *   tlsrpt_seed STORE_URI events DAYS_AGO DOMAIN SUCCESS FAILURE
 *       SUCCESS and FAILURE sessions (STS policy, certificate-expired failures) for DOMAIN,
 *       dated noon UTC DAYS_AGO days ago, counted with tlsrpt's own aggregate.c
 *   tlsrpt_seed STORE_URI dkim DOMAIN SELECTOR
 *       the record milter-dkim keeps for a selector that is published and matches its key
 *       (pw:dkim:sel:DOMAIN:SELECTOR)
 *   tlsrpt_seed STORE_URI lock KEY OWNER   take a store lock for 60 s, as another host would
 *   tlsrpt_seed STORE_URI unlock KEY OWNER release it
 *   tlsrpt_seed STORE_URI get KEY          print a value (exit 1: none)
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

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
		        "usage: tlsrpt_seed STORE_URI events DAYS_AGO DOMAIN SUCCESS FAILURE\n"
		        "       tlsrpt_seed STORE_URI dkim DOMAIN SELECTOR\n");
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
