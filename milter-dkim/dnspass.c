/* dnspass: milter-dkim's DNS pass over its selectors and the sharing of the gate table
 * (selector_table.c) through the store: the daemon's started, reloaded and tick hooks.
 * Spec: doc/dkim-rotation.md (a selector signs once its TXT record, RFC 6376
 * section 3.6.2, is published and matches its key).
 * A pass re-checks every selector in DNS every dns_check_interval, after the start and
 * after each reload (before READY=1), and sooner (DNSPASS_CONFIRM_S) while a signing
 * selector awaits a confirming check; every tick (5 s) takes newer results from the
 * store (other hosts, `check-dns`) and writes its own with the selectors' signing
 * times and the per-domain counters; at stop it writes only.
 * Threads: passes are serialized by a mutex (the tick and the started/reloaded hooks);
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
#define DNSPASS_CONFIRM_S 60

static struct selector_table *dnspass_table_ptr;
static time_t dnspass_next_check;
static long dnspass_store_warned;
static pthread_mutex_t dnspass_check_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_once_t dnspass_table_once = PTHREAD_ONCE_INIT;

static void dnspass_table_create(void)
{
	dnspass_table_ptr = selector_table_new();
}

/* The table lives as long as the process: it survives reloads by design. */
struct selector_table *dnspass_table(void)
{
	pthread_once(&dnspass_table_once, dnspass_table_create);
	return dnspass_table_ptr;
}

/* One DNS pass over every selector; logs what operators must act on. */
static void dnspass_check_now(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct dkim_conf *c = dc->priv;
	struct selector_table_row *rows = NULL;
	size_t n = 0;

	pthread_mutex_lock(&dnspass_check_lock);
	struct dns *dns = dkim_conf_resolver(c);
	if (!dns) {
		log_warn("DNS gate: cannot set up the resolver");
		goto out;
	}
	int r = selector_table_check(dnspass_table(), c, dns, daemon_store(d), NULL, &rows, &n);
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
		if (selector_table_active(dnspass_table(), &c->dom[i], idx) == 0)
			log_warnx("%s: no selector passes the DNS gate: mail from it goes out "
			          "unsigned (see: milter-dkim check-dns %s)",
			          c->dom[i].section, c->dom[i].section);
	}
	time_t wait = (time_t)(c->dns_check_interval_ms / 1000);
	if (selector_table_doubtful(dnspass_table()) && wait > DNSPASS_CONFIRM_S) {
		log_info("DNS gate: a signing selector was not found; confirming in %ds",
		         DNSPASS_CONFIRM_S);
		wait = DNSPASS_CONFIRM_S;
	}
	dnspass_next_check = time(NULL) + wait;
out:
	dns_free(dns);
	free(rows);
	pthread_mutex_unlock(&dnspass_check_lock);
	daemon_conf_put(dc);
}

/* Share the gate table through the store: take newer results, write ours. A store
 * outage is logged at most once a minute and changes nothing for signing. */
static void dnspass_share(struct daemon *d)
{
	struct store *st = daemon_store(d);
	if (!st)
		return;
	int r = selector_table_refresh(dnspass_table(), st);
	if (r > 0)
		log_info("DNS gate: took newer results from the store");
	if (r >= 0)
		r = selector_table_flush(dnspass_table(), st);
	if (r < 0 && log_ratelimit(&dnspass_store_warned, 60))
		log_warn_e(r, "store: DNS gate state not shared (signing is not affected)");
	if (r >= 0 && (r = dkim_stats_flush(st)) < 0 && log_ratelimit(&dnspass_store_warned, 60))
		log_warn_e(r, "store: counters not written (signing is not affected)");
}

void dnspass_tick(struct daemon *d, bool stopping)
{
	if (stopping) {
		if (daemon_store(d)) {
			selector_table_flush(dnspass_table(), daemon_store(d));
			dkim_stats_flush(daemon_store(d));
		}
		return;
	}
	dnspass_share(d);
	if (time(NULL) >= dnspass_next_check)
		dnspass_check_now(d);
}

void dnspass_started(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	selector_table_add_selectors(dnspass_table(), dc->priv, daemon_store(d), time(NULL));
	daemon_conf_put(dc);
	dnspass_check_now(d);
}

void dnspass_reloaded(struct daemon *d)
{
	dnspass_check_now(d);
}
