/* commands: policyd-mtasts' admin subcommands (policyd-mtasts(8)):
 *   query DOMAIN [NAME]  the answer the daemon would give for DOMAIN (map NAME, default
 *           postfix) and how it was reached: DANE verdict, the store's cached policy or
 *           the TXT record and a fetch. Runs the discovery here, with the store's copy of
 *           the policy as the cache; writes a fetched policy back as the daemon would.
 *   status  the counters every running daemon writes to the store (cache size, hit rate,
 *           fetches and their errors), and today's fetch failures
 *   check   as the service user: the listen directories, the config, the resolver, the
 *           Postfix DANE preconditions (unless dane_mode = off), the store; creates nothing
 * Exit codes: 0; 1 (query: discovery failed; status: no daemon reported); 64 usage; 69 the
 * store, the resolver or a DANE precondition fails (check); 78 config error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dns.h"
#include "mtasts.h"
#include "store.h"

static int mtasts_cmd_query(struct daemon *d, int argc, char **argv)
{
	char domain[MTASTS_DOMAIN_MAX];
	enum sts_format fmt = STS_FORMAT_POSTFIX;

	if (argc < 2 || argc > 3 ||
	    (argc == 3 && sts_format_from_name(argv[2], strlen(argv[2]), &fmt) < 0)) {
		fprintf(stderr, "usage: policyd-mtasts query DOMAIN [postfix|postfix-tlsrpt]\n");
		return DAEMON_EXIT_USAGE;
	}
	int k = sts_key_parse(argv[1], strlen(argv[1]), domain);
	if (k != 0) {
		printf("NOTFOUND\n  how: %s: answered at once, no lookup\n",
		       k == 1 ? "a parent-domain probe" : "not a domain name");
		return DAEMON_EXIT_OK;
	}
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct mtasts_conf *c = dc->priv;
	struct store *st = daemon_store(d);
	struct mtasts_result r;
	struct buf out;

	mtasts_result_init(&r);
	buf_init(&out);
	bool cached = st && mtasts_store_policy_get(st, domain, &r) == 0;
	enum dane_mode mode = c->dane_mode;
	if (mode != DANE_MODE_OFF) {
		struct buf why;
		buf_init(&why);
		if (mtasts_danecheck(dc->cfg, &why) < 0) {
			for (char *p = why.data; p && *p; p++)
				*p = *p == '\n' ? ' ' : *p;
			printf("note: DANE answers are off: %s\n", buf_cstr(&why));
			mode = DANE_MODE_OFF;
		}
		buf_fini(&why);
	}
	mtasts_resolve(c, mode, domain, &r);
	int rc = mtasts_answer_text(&r, fmt, domain, &out);
	if (rc > 0)
		printf("OK %s\n", buf_cstr(&out));
	else
		printf("NOTFOUND\n");
	printf("  kind: %s\n  how: %s%s\n", mtasts_kind_name(r.kind),
	       cached ? "store had policy id; " : "", buf_cstr(&r.how));
	if (st && r.fetched_now)
		mtasts_store_policy_put(st, domain, &r);
	int exit = r.kind == MTASTS_FAILED ? 1 : DAEMON_EXIT_OK;
	buf_fini(&out);
	mtasts_result_fini(&r);
	daemon_conf_put(dc);
	return exit;
}

static int mtasts_print_status(const char *key, const char *val, size_t len, void *arg)
{
	int *n = arg;
	json_t *o = json_loadb(val, len, 0, NULL);
	long long q = json_integer_value(json_object_get(o, "queries"));
	long long h = json_integer_value(json_object_get(o, "hits"));

	printf("%s\n  pid %lld, updated %llds ago\n", key + strlen("pw:mtasts:status:"),
	       json_integer_value(json_object_get(o, "pid")),
	       (long long)time(NULL) - json_integer_value(json_object_get(o, "updated")));
	printf("  cache: %lld domains; queries %lld, from memory %lld (%.1f%%), waited %lld, "
	       "gave up %lld\n",
	       json_integer_value(json_object_get(o, "entries")), q, h, q ? 100.0 * h / q : 0.0,
	       json_integer_value(json_object_get(o, "waits")),
	       json_integer_value(json_object_get(o, "timeouts")));
	printf("  policy fetches %lld, failed %lld\n",
	       json_integer_value(json_object_get(o, "fetches")),
	       json_integer_value(json_object_get(o, "fetch_errors")));
	json_decref(o);
	(*n)++;
	return 0;
}

static int mtasts_print_failure(const char *key, const char *val, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	printf("  %s %s\n", key + strlen("pw:mtasts:fail:"), val);
	return 0;
}

static int mtasts_cmd_status(struct daemon *d, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: policyd-mtasts status\n");
		return DAEMON_EXIT_USAGE;
	}
	struct store *st = daemon_store(d);
	if (!st) {
		printf("store: unavailable\n");
		return 1;
	}
	int n = 0;
	printf("daemons (store %s, reports of the last minute):\n", store_backend(st));
	store_scan(st, "pw:mtasts:status:", mtasts_print_status, &n);
	if (n == 0)
		printf("  none: no policyd-mtasts has reported in the last minute\n");
	char day[11], prefix[64];
	clock_utc_day(time(NULL), day);
	snprintf(prefix, sizeof(prefix), "pw:mtasts:fail:%s:", day);
	printf("policy fetch failures today (UTC %s):\n", day);
	store_scan(st, prefix, mtasts_print_failure, NULL);
	return n ? DAEMON_EXIT_OK : 1;
}

/* The resolver answers for the trust anchor's name (the root by default), validated. */
static void mtasts_check_resolver(const struct cfg *cfg, const struct mtasts_conf *c,
                                  struct daemon_check *ck)
{
	char name[256] = ".";
	struct dns_result *res = NULL;

	mtasts_anchor_name(cfg, name, sizeof(name));
	int rc = dns_query(c->dns, name, DNS_TYPE_MX, &res);
	if (rc < 0)
		daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL, "resolver: no answer for %s MX (%s)",
		                     name, dns_error_str(rc));
	else if (rc == DNS_BOGUS)
		daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL,
		                     "resolver: DNSSEC bogus for %s (wrong trust anchor?): %s",
		                     name, res->why_bogus ? res->why_bogus : "no reason given");
	else
		printf("resolver: answers for %s (%s)\n", name,
		       res->sec == DNS_SEC_SECURE ? "validated"
		                                  : "NOT validated: check trust_anchor");
	dns_result_free(res);
}

static int mtasts_cmd_check(struct daemon *d, int argc, char **argv)
{
	struct daemon_check ck = { 0 };
	struct buf err;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: policyd-mtasts check\n");
		return DAEMON_EXIT_USAGE;
	}
	if (daemon_check_begin(d, &ck) < 0)
		return daemon_check_end(d, &ck);
	buf_init(&err);
	struct daemon_conf *dc = daemon_conf_get(d);
	struct mtasts_conf *c = mtasts_conf_build(dc->cfg, &err);
	if (!c)
		daemon_check_problem(&ck, DAEMON_EXIT_CONFIG, "%s: %s", cfg_path(dc->cfg),
		                     buf_cstr(&err));
	if (c)
		mtasts_check_resolver(dc->cfg, c, &ck);
	if (c && c->dane_mode != DANE_MODE_OFF) {
		buf_reset(&err);
		if (mtasts_danecheck(dc->cfg, &err) < 0) {
			char *line = err.data;
			while (line && *line) {
				char *nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				daemon_check_problem(&ck, DAEMON_EXIT_UNAVAIL, "DANE: %s", line);
				line = nl ? nl + 1 : NULL;
			}
		} else {
			printf("DANE: Postfix applies it (smtp_dns_support_level = dnssec, "
			       "resolver "
			       "sets AD)\n");
		}
	}
	mtasts_conf_free(c);
	buf_fini(&err);
	daemon_conf_put(dc);
	daemon_check_store(d, &ck);
	return daemon_check_end(d, &ck);
}

const struct daemon_cmd mtasts_commands[] = {
	{ "query", "DOMAIN [postfix|postfix-tlsrpt]",
	  "the answer for DOMAIN and how it was reached (DANE, cache, fetch)", mtasts_cmd_query,
	  DAEMON_NEEDS_CONF | DAEMON_NEEDS_STORE, NULL },
	{ "status", "", "cache size, hit rate and fetch errors of the running daemons",
	  mtasts_cmd_status, DAEMON_NEEDS_STORE, NULL },
	{ "check", "",
	  "as the service user: config, resolver, Postfix DANE settings, store; create nothing",
	  mtasts_cmd_check, 0, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL },
};
