/* dnspass: milter-dkim's DNS pass over its selectors and the sharing of the gate
 * table (selector_table.c) through the store: the daemon's started, reloaded and tick hooks.
 * Spec: doc/dkim-rotation.md (a selector signs once its TXT record, RFC 6376
 * section 3.6.2, is published and matches its key).
 * A pass re-checks every selector in DNS every dns_check_interval, after the start and
 * after each reload (before READY=1), and sooner (DKIM_CONFIRM_S) while a signing
 * selector awaits a confirming check; every tick (5 s) takes newer results from the
 * store (other hosts, `check-dns`) and writes its own with the selectors' signing
 * times and the per-domain counters; at stop it writes only.
 * Threads: passes are serialized by a mutex (the tick thread, and the reload path);
 * the gate table is one per process, created on first use, and locks itself.
 * Logs: what operators must act on, here at the boundary; a store outage at most
 * once a minute.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim.h"
#include "dns.h"
#include "log.h"
#include "stats.h"
#include "store.h"

/* A signing selector that one check did not find is looked up again this soon. */
#define DKIM_CONFIRM_S 60

static struct selector_table *dkim_gate_table;
static time_t dkim_next_check;
static long dkim_store_warned;
static pthread_mutex_t dkim_check_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_once_t dkim_gate_once = PTHREAD_ONCE_INIT;

static void dkim_gate_create(void)
{
	dkim_gate_table = selector_table_new();
}

/* The table lives as long as the process: it survives reloads by design. */
struct selector_table *dkim_gate(void)
{
	pthread_once(&dkim_gate_once, dkim_gate_create);
	return dkim_gate_table;
}

/* One DNS pass over every selector; logs what operators must act on. */
static void dkim_check_now(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct dkim_conf *c = dc->priv;
	struct selector_table_row *rows = NULL;
	size_t n = 0;

	pthread_mutex_lock(&dkim_check_lock);
	struct dns *dns = dkim_conf_resolver(c);
	if (!dns) {
		log_warn("DNS gate: cannot set up the resolver");
		goto out;
	}
	int r = selector_table_check(dkim_gate(), c, dns, daemon_store(d), NULL, &rows, &n);
	if (r == -EHOSTUNREACH)
		log_warnx("DNS gate: every lookup failed (%s); keeping the last known state",
		          dns_error_str(rows[0].err));
	for (size_t i = 0; i < n; i++) {
		if (rows[i].err == DNS_BOGUS)
			log_warnx("DNS gate: %s._domainkey.%s: %s; keeping the last known state",
			          rows[i].sel->name, rows[i].dom->d, rows[i].detail);
		else
			log_debug("DNS gate: %s._domainkey.%s: %s%s", rows[i].sel->name,
			          rows[i].dom->d, rows[i].detail,
			          rows[i].passes ? " (signing)" : "");
	}
	for (size_t i = 0; i < c->ndom; i++) {
		size_t idx[DKIM_MAX_SELECTORS];
		if (selector_table_active(dkim_gate(), &c->dom[i], idx) == 0)
			log_warnx("%s: no selector passes the DNS gate: mail from it goes out "
			          "unsigned (see: milter-dkim check-dns %s)",
			          c->dom[i].section, c->dom[i].section);
	}
	time_t wait = (time_t)(c->dns_check_interval_ms / 1000);
	if (selector_table_doubtful(dkim_gate()) && wait > DKIM_CONFIRM_S) {
		log_info("DNS gate: a signing selector was not found; confirming in %ds",
		         DKIM_CONFIRM_S);
		wait = DKIM_CONFIRM_S;
	}
	dkim_next_check = time(NULL) + wait;
out:
	dns_free(dns);
	free(rows);
	pthread_mutex_unlock(&dkim_check_lock);
	daemon_conf_put(dc);
}

/* Share the gate table through the store: take newer results, write ours. A store
 * outage is logged at most once a minute and changes nothing for signing. */
static void dkim_share(struct daemon *d)
{
	struct store *st = daemon_store(d);
	if (!st)
		return;
	int r = selector_table_refresh(dkim_gate(), st);
	if (r > 0)
		log_info("DNS gate: took newer results from the store");
	if (r >= 0)
		r = selector_table_flush(dkim_gate(), st);
	if (r < 0 && log_ratelimit(&dkim_store_warned, 60))
		log_warn_e(r, "store: DNS gate state not shared (signing is not affected)");
	if (r >= 0 && (r = dkim_stats_flush(st)) < 0 && log_ratelimit(&dkim_store_warned, 60))
		log_warn_e(r, "store: counters not written (signing is not affected)");
}

void dnspass_tick(struct daemon *d, bool stopping)
{
	if (stopping) {
		if (daemon_store(d)) {
			selector_table_flush(dkim_gate(), daemon_store(d));
			dkim_stats_flush(daemon_store(d));
		}
		return;
	}
	dkim_share(d);
	if (time(NULL) >= dkim_next_check)
		dkim_check_now(d);
}

void dnspass_started(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	selector_table_add_selectors(dkim_gate(), dc->priv, daemon_store(d), time(NULL));
	daemon_conf_put(dc);
	dkim_check_now(d);
}

void dnspass_reloaded(struct daemon *d)
{
	dkim_check_now(d);
}
