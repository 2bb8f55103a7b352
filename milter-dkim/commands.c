/* commands: milter-dkim's admin subcommands (milter-dkim(8)):
 *   keygen [DOMAIN]     check the whole config, then create missing keys (never for a
 *                       sign = no selector), print what was made
 *   check               as the service user: load every key, check the directories,
 *                       reach the store; create nothing; every problem on its own line
 *   dns [DOMAIN]        zone-file TXT lines for every selector to publish
 *   check-dns [DOMAIN]  look every selector up now, print a table (with whether each
 *                       answer was DNSSEC-validated), store results
 *   status              the resolver, and the live state of every selector, from the store
 * Exit codes: 0, 1 (check-dns: a sign = yes selector fails the gate), 64 usage,
 * 69 DNS or the store unreachable, 78 config error. Run as root they first drop to the
 * daemon's user, so created keys and store files belong to it: each command's entry
 * in dkim_commands says what the skeleton prepares (dns, check-dns and status get the
 * config built by dkim_build(), which loads keys and creates none for a command).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dkim.h"
#include "dns.h"
#include "log.h"
#include "milter_probe.h"
#include "stats.h"
#include "store.h"
#include "xalloc.h"

/* dkim_cmd_problems() - log each line of @err (dkim_conf_build()'s problems),
 * prefixed with the config file. Return how many. */
static unsigned dkim_cmd_problems(const struct cfg *cfg, const struct buf *err)
{
	unsigned n = 0;
	for (const char *p = buf_cstr(err); *p; n++) {
		size_t len = strcspn(p, "\n");
		log_errx("%s: %.*s", cfg_path(cfg), (int)len, p);
		p += len + (p[len] == '\n');
	}
	return n;
}

/* dkim_cmd_conf() - the built snapshot (DAEMON_NEEDS_CONF) with the gate table filled
 * from the store (DAEMON_NEEDS_STORE). Put it with daemon_conf_put(). */
static struct daemon_conf *dkim_cmd_conf(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	struct store *st = daemon_store(d);
	selector_table_add_selectors(dnspass_table(), dc->priv, st, time(NULL));
	if (st)
		selector_table_flush(dnspass_table(), st);
	return dc;
}

/* dkim_cmd_phase() - a selector's state from the gate table (@s) and its phase. */
static enum selector_phase dkim_cmd_phase(const struct dkim_conf *c,
                                          const struct dkim_selector *sel, time_t now,
                                          struct selector_state *s, time_t *until)
{
	selector_table_state(dnspass_table(), sel, s);
	return selector_policy_phase(&sel->sc, s, now, (time_t)(c->retire_grace_ms / 1000), until);
}

static bool dkim_cmd_wants(const struct dkim_domain *dom, const char *only)
{
	return !only || strcasecmp(only, dom->section) == 0 || strcasecmp(only, dom->d) == 0;
}

/* dkim_cmd_seen_before() - a domain section before @di has the same d= and selector. */
static bool dkim_cmd_seen_before(const struct dkim_conf *c, size_t di,
                                 const struct dkim_selector *sel)
{
	for (size_t i = 0; i < di; i++)
		for (size_t j = 0; j < c->dom[i].nsel; j++)
			if (strcmp(c->dom[i].sel[j].state_key, sel->state_key) == 0)
				return true;
	return false;
}

static int dkim_cmd_args(int argc, char **argv, const char **only)
{
	if (argc > 2) {
		fprintf(stderr, "usage: milter-dkim %s [DOMAIN]\n", argv[0]);
		return -EINVAL;
	}
	*only = argc == 2 ? argv[1] : NULL;
	return 0;
}

static int dkim_cmd_keygen(struct daemon *d, int argc, char **argv)
{
	const char *only;
	struct buf made;
	if (dkim_cmd_args(argc, argv, &only) < 0)
		return DAEMON_EXIT_USAGE;
	struct daemon_conf *dc = daemon_conf_get(d);
	struct buf err;
	buf_init(&made);
	buf_init(&err);
	struct dkim_conf *c = dkim_conf_build(dc->cfg, DKIM_KEYS_CREATE, &made, &err);
	if (!c)
		dkim_cmd_problems(dc->cfg, &err);
	buf_fini(&err);
	daemon_conf_put(dc);
	if (!c) {
		buf_fini(&made);
		return DAEMON_EXIT_CONFIG;
	}
	fputs(made.len ? buf_cstr(&made) : "no key was missing\n", stdout);
	for (size_t i = 0; i < c->ndom; i++) {
		if (!dkim_cmd_wants(&c->dom[i], only))
			continue;
		for (size_t j = 0; j < c->dom[i].nsel; j++) {
			struct buf desc;
			buf_init(&desc);
			keys_describe(c->dom[i].sel[j].key, &desc);
			printf("%s/%s: %s %s\n", c->dom[i].section, c->dom[i].sel[j].name,
			       c->dom[i].sel[j].keyspec, buf_cstr(&desc));
			buf_fini(&desc);
		}
	}
	buf_fini(&made);
	dkim_conf_free(c);
	return DAEMON_EXIT_OK;
}

/* dkim_cmd_check() - load every key as the service user, check the listen and key
 * directories and reach the store; create nothing. */
static int dkim_cmd_check(struct daemon *d, int argc, char **argv)
{
	struct daemon_check ck = { 0 };
	struct buf err, missing;
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: milter-dkim check\n");
		return DAEMON_EXIT_USAGE;
	}
	if (daemon_check_begin(d, &ck) < 0)
		return daemon_check_end(d, &ck);
	struct daemon_conf *dc = daemon_conf_get(d);
	buf_init(&err);
	buf_init(&missing);
	struct dkim_conf *c = dkim_conf_build(dc->cfg, DKIM_KEYS_CHECK, &missing, &err);
	unsigned n = dkim_cmd_problems(dc->cfg, &err);
	ck.problems += n;
	if (n)
		ck.rc = DAEMON_EXIT_CONFIG;
	fputs(buf_cstr(&missing), stdout);
	size_t keys = 0;
	for (size_t i = 0; c && i < c->ndom; i++)
		for (size_t j = 0; j < c->dom[i].nsel; j++)
			keys += c->dom[i].sel[j].key != NULL;
	if (c)
		printf("%zu key%s loaded\n", keys, keys == 1 ? "" : "s");
	dkim_conf_free(c);
	buf_fini(&err);
	buf_fini(&missing);
	daemon_conf_put(dc);
	daemon_check_store(d, &ck);
	return daemon_check_end(d, &ck);
}

static void dkim_fmt_time(time_t t, char *out, size_t n)
{
	struct tm tm;
	if (!t) {
		snprintf(out, n, "never");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm);
}

static int dkim_cmd_dns(struct daemon *d, int argc, char **argv)
{
	const char *only;
	if (dkim_cmd_args(argc, argv, &only) < 0)
		return DAEMON_EXIT_USAGE;
	struct daemon_conf *dc = dkim_cmd_conf(d);
	const struct dkim_conf *c = dc->priv;
	time_t now = time(NULL);
	for (size_t i = 0; i < c->ndom; i++) {
		const struct dkim_domain *dom = &c->dom[i];
		if (!dkim_cmd_wants(dom, only))
			continue;
		for (size_t j = 0; j < dom->nsel; j++) {
			const struct dkim_selector *sel = &dom->sel[j];
			struct selector_state s = { 0 };
			struct buf rec, q;
			if (dkim_cmd_seen_before(c, i, sel))
				continue; /* [*.d] and [d] share d=: one record */
			char why[96], until_s[64];
			time_t until;
			enum selector_phase ph = dkim_cmd_phase(c, sel, now, &s, &until);
			buf_init(&rec);
			buf_init(&q);
			keys_dns_record(sel->key, &rec);
			keys_txt_quote(buf_cstr(&rec), &q);
			dkim_fmt_time(until, until_s, sizeof(until_s));
			switch (ph) {
			case SELECTOR_POLICY_SIGNING:
				snprintf(why, sizeof(why), "signing");
				break;
			case SELECTOR_POLICY_AWAITING:
				snprintf(why, sizeof(why), "awaiting publication");
				break;
			case SELECTOR_POLICY_RETIRING:
				snprintf(why, sizeof(why), "retiring until %s", until_s);
				break;
			case SELECTOR_POLICY_REMOVABLE:
				snprintf(why, sizeof(why), "removable: no longer signs");
				break;
			}
			printf("%s%s._domainkey.%s. IN TXT ( %s ) ; %s\n",
			       ph == SELECTOR_POLICY_REMOVABLE ? "; " : "", sel->name, dom->d,
			       buf_cstr(&q), why);
			buf_fini(&rec);
			buf_fini(&q);
		}
	}
	daemon_conf_put(dc);
	return DAEMON_EXIT_OK;
}

/* dkim_cmd_dnssec() - check-dns's "dnssec" column: was the row's answer validated? */
static const char *dkim_cmd_dnssec(const struct selector_table_row *row)
{
	if (row->err < 0)
		return "-";
	switch (row->sec) {
	case DNS_SEC_SECURE:
		return "validated";
	case DNS_SEC_BOGUS:
		return "bogus";
	default:
		return "not validated";
	}
}

static int dkim_cmd_check_dns(struct daemon *d, int argc, char **argv)
{
	const char *only;
	struct selector_table_row *rows = NULL;
	size_t n = 0;
	int rc = DAEMON_EXIT_OK;
	if (dkim_cmd_args(argc, argv, &only) < 0)
		return DAEMON_EXIT_USAGE;
	struct daemon_conf *dc = dkim_cmd_conf(d);
	const struct dkim_conf *c = dc->priv;
	struct store *st = daemon_store(d);
	struct dns *dns = dkim_conf_resolver(c);
	if (!dns) {
		log_err("cannot set up the resolver");
		rc = DAEMON_EXIT_UNAVAIL;
		goto out;
	}
	int r = selector_table_check(dnspass_table(), c, dns, st, only, &rows, &n);
	if (only && n == 0) {
		fprintf(stderr, "milter-dkim: no [%s] domain in the configuration\n", only);
		rc = DAEMON_EXIT_USAGE;
		goto out;
	}
	printf("%-32s %-12s %-8s %-22s %-14s %s\n", "selector", "sign", "state", "published?",
	       "dnssec", "detail");
	for (size_t i = 0; i < n; i++) {
		char name[300];
		snprintf(name, sizeof(name), "%s._domainkey.%s", rows[i].sel->name, rows[i].dom->d);
		const char *pub =
		        rows[i].lookup == SELECTOR_POLICY_LOOKUP_MATCH      ? "yes, matches key"
		        : rows[i].lookup == SELECTOR_POLICY_LOOKUP_MISMATCH ? "yes, NOT this key"
		        : rows[i].lookup == SELECTOR_POLICY_LOOKUP_ABSENT   ? "no"
		                                                            : "unknown";
		printf("%-32s %-12s %-8s %-22s %-14s %s%s\n", name,
		       rows[i].sel->sc.sign ? (rows[i].sel->sc.legacy ? "yes (legacy)" : "yes")
		                            : "no",
		       rows[i].passes ? "signs" : "-", pub, dkim_cmd_dnssec(&rows[i]),
		       rows[i].detail,
		       rows[i].doubted ? " (signing goes on until a second check agrees)" : "");
		if (rows[i].sel->sc.sign && !rows[i].sel->sc.legacy &&
		    rows[i].lookup != SELECTOR_POLICY_LOOKUP_MATCH && rc == DAEMON_EXIT_OK)
			rc = 1;
	}
	if (r == -EHOSTUNREACH) {
		fprintf(stderr, "milter-dkim: DNS could not be reached (%s)\n",
		        dns_error_str(rows[0].err));
		rc = DAEMON_EXIT_UNAVAIL;
	}
	if (dns_validating(dns))
		printf("DNSSEC: validated (trust_anchor = %s)\n",
		       cfg_str(c->cfg, NULL, "trust_anchor"));
	else
		printf("DNSSEC: not validated (no trust_anchor)\n");
out:
	free(rows);
	dns_free(dns);
	daemon_conf_put(dc);
	return rc;
}

/* status: the daemon probed on its socket first (exit 1 when it does not answer; the
 * rest is printed all the same), the store, the resolver, per domain the message
 * counters, per selector its live state. */
static int dkim_cmd_status(struct daemon *d, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: milter-dkim status\n");
		return DAEMON_EXIT_USAGE;
	}
	struct daemon_conf *dc = dkim_cmd_conf(d);
	const struct dkim_conf *c = dc->priv;
	struct store *st = daemon_store(d);
	int rc = milter_probe_status_print(d, st);
	time_t now = time(NULL);
	char *probe = NULL;
	size_t plen;
	int pr = st ? store_get(st, "pw:dkim:probe", &probe, &plen) : -ENOENT;
	free(probe);
	if (pr < 0)
		printf("store: %s: UNREACHABLE (%s): the states below are this run's own\n",
		       st ? store_backend(st) : "not open", strerror(-pr));
	else
		printf("store: %s\n", store_backend(st));
	const char *resolver = cfg_str(c->cfg, NULL, "resolver");
	const char *ta = cfg_str(c->cfg, NULL, "trust_anchor");
	printf("dns: %s, %s%s\n", *resolver ? resolver : "resolv.conf",
	       *ta ? "DNSSEC-validated from " : "not DNSSEC-validated (no trust_anchor)", ta);
	for (size_t i = 0; i < c->ndom; i++) {
		const struct dkim_domain *dom = &c->dom[i];
		long long n[DKIM_STATS_N];
		if (pr >= 0 && dkim_stats_read(st, dom->d, n) == 0)
			printf("[%s] d=%s signed=%lld unsigned=%lld failed=%lld\n", dom->section,
			       dom->d, n[DKIM_STATS_SIGNED], n[DKIM_STATS_UNSIGNED],
			       n[DKIM_STATS_FAILED]);
		else
			printf("[%s] d=%s signed=? unsigned=? failed=?\n", dom->section, dom->d);
		for (size_t j = 0; j < dom->nsel; j++) {
			const struct dkim_selector *sel = &dom->sel[j];
			struct selector_state s = { 0 };
			char checked[64], signed_at[64], until_s[64];
			time_t until;
			enum selector_phase ph = dkim_cmd_phase(c, sel, now, &s, &until);
			dkim_fmt_time(s.checked_at, checked, sizeof(checked));
			dkim_fmt_time(s.last_signed, signed_at, sizeof(signed_at));
			dkim_fmt_time(until, until_s, sizeof(until_s));
			printf("  %-16s %-8s %-14s %-21s published=%s matches=%s checked=%s "
			       "last_signed=%s%s%s%s\n",
			       sel->name, sel->type == KEYS_ED25519 ? "ed25519" : "rsa",
			       sel->sc.legacy ? "legacy" : (sel->sc.sign ? "sign=yes" : "sign=no"),
			       selector_policy_phase_name(ph),
			       s.checked ? (s.published ? "yes" : "no") : "?",
			       s.checked ? (s.matches ? "yes" : "no") : "?", checked, signed_at,
			       ph == SELECTOR_POLICY_RETIRING ? " until=" : "",
			       ph == SELECTOR_POLICY_RETIRING ? until_s : "",
			       ph == SELECTOR_POLICY_REMOVABLE ? " (can be removed from DNS)" : "");
		}
	}
	daemon_conf_put(dc);
	return rc;
}

#define DKIM_CMD_LOADED (DAEMON_NEEDS_CONF | DAEMON_NEEDS_STORE)

const struct daemon_cmd dkim_commands[] = {
	{ "keygen", "[DOMAIN]", "create missing keys and print what was made", dkim_cmd_keygen,
	  DAEMON_NEEDS_PRIVS, NULL },
	{ "check", "", "as the service user: load every key, reach the store; create nothing",
	  dkim_cmd_check, 0, NULL },
	{ "dns", "[DOMAIN]", "zone-file TXT records to publish, with why", dkim_cmd_dns,
	  DKIM_CMD_LOADED, NULL },
	{ "check-dns", "[DOMAIN]", "look selectors up now (exit 1: one fails, 69: no DNS)",
	  dkim_cmd_check_dns, DKIM_CMD_LOADED, NULL },
	{ "status", "", "live state of every domain and selector", dkim_cmd_status, DKIM_CMD_LOADED,
	  milter_probe_status_before },
	{ NULL, NULL, NULL, NULL, 0, NULL },
};
