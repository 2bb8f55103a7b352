/* milter-dkim: DKIM signing milter with DNS-gated selectors (doc/dkim-rotation.md).
 * The config table lives in conf.c, the
 * callbacks in milter.c, the subcommands in commands.c; this file is the
 * daemon spec plus its tick, which re-checks selectors in DNS every
 * dns_check_interval (and after each reload, before READY=1), and every 5 s takes
 * newer results from the store (other hosts, `check-dns`) and writes its own, with
 * the selectors' signing times and the per-domain counters (at stop: writes only).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dkim.h"
#include "dns.h"
#include "log.h"
#include "milter.h"
#include "stats.h"
#include "store.h"
#include "xalloc.h"

/* A signing selector that one check did not find is looked up again this soon. */
#define DKIM_CONFIRM_S 60

static struct gate *dkim_gate_table;
static time_t dkim_next_check;
static long dkim_store_warned;
static pthread_mutex_t dkim_check_lock = PTHREAD_MUTEX_INITIALIZER;

struct gate *dkim_gate(void)
{
	return dkim_gate_table;
}

/* dkim_build() - serving: create the missing keys, and join the problems on one log
 * line. For a command (dns, check-dns, status): load the keys, create none, one
 * problem per line. */
static void *dkim_build(struct daemon *d, const struct cfg *cfg, char **err)
{
	bool serving = !daemon_command(d);
	struct buf e, made;
	buf_init(&e);
	buf_init(&made);
	struct dkim_conf *c =
	        dkim_conf_build(cfg, serving ? DKIM_KEYS_CREATE : DKIM_KEYS_LOAD, &made, &e);
	if (!c && !serving) {
		*err = buf_steal(&e, NULL);
	} else if (!c) {
		struct buf one;
		buf_init(&one);
		for (const char *p = buf_cstr(&e); *p; p++)
			if (*p == '\n')
				buf_puts(&one, "; ");
			else
				buf_putc(&one, *p);
		*err = buf_steal(&one, NULL);
	} else if (made.len)
		log_notice("%.*s", (int)made.len - 1, made.data);
	buf_fini(&e);
	buf_fini(&made);
	return c;
}

static void dkim_release(void *priv)
{
	dkim_conf_free(priv);
}

/* One DNS pass over every selector; logs what operators must act on. */
static void dkim_check_now(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct dkim_conf *c = dc->priv;
	struct gate_row *rows = NULL;
	size_t n = 0;

	pthread_mutex_lock(&dkim_check_lock);
	struct dns *dns = dkim_conf_resolver(c);
	if (!dns) {
		log_warn("DNS gate: cannot set up the resolver");
		goto out;
	}
	int r = gate_check(dkim_gate_table, c, dns, daemon_store(d), NULL, &rows, &n);
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
		size_t idx[64];
		struct dkim_domain capped = c->dom[i];
		capped.nsel = capped.nsel > 64 ? 64 : capped.nsel;
		if (gate_active(dkim_gate_table, &capped, idx) == 0)
			log_warnx("%s: no selector passes the DNS gate: mail from it goes out "
			          "unsigned (see: milter-dkim check-dns %s)",
			          c->dom[i].section, c->dom[i].section);
	}
	time_t wait = (time_t)(c->dns_check_interval_ms / 1000);
	if (gate_doubtful(dkim_gate_table) && wait > DKIM_CONFIRM_S) {
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
	int r = gate_refresh(dkim_gate_table, st);
	if (r > 0)
		log_info("DNS gate: took newer results from the store");
	if (r >= 0)
		r = gate_flush(dkim_gate_table, st);
	if (r < 0 && log_ratelimit(&dkim_store_warned, 60))
		log_warn_e(r, "store: DNS gate state not shared (signing is not affected)");
	if (r >= 0 && (r = dkim_stats_flush(st)) < 0 && log_ratelimit(&dkim_store_warned, 60))
		log_warn_e(r, "store: counters not written (signing is not affected)");
}

static void dkim_tick(struct daemon *d, bool stopping)
{
	if (stopping) {
		if (daemon_store(d)) {
			gate_flush(dkim_gate_table, daemon_store(d));
			dkim_stats_flush(daemon_store(d));
		}
		return;
	}
	dkim_share(d);
	if (time(NULL) >= dkim_next_check)
		dkim_check_now(d);
}

static void dkim_started(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	gate_attach(dkim_gate_table, dc->priv, daemon_store(d), time(NULL));
	daemon_conf_put(dc);
	dkim_check_now(d);
}

static void dkim_reloaded(struct daemon *d)
{
	dkim_check_now(d);
}

int main(int argc, char **argv)
{
	struct daemon_spec spec = {
		.name = "milter-dkim",
		.summary = "DKIM signing milter with several selectors per domain and DNS-gated "
		           "key rotation",
		.config_path = SYSCONFDIR "/postwarden/milter-dkim.conf",
		.schema = &dkim_schema,
		.runner = milter_runner_ops(&dkim_milter_ops),
		.build = dkim_build,
		.release = dkim_release,
		.started = dkim_started,
		.reloaded = dkim_reloaded,
		.tick = dkim_tick,
		.tick_ms = 5000,
		.commands = dkim_commands,
		.extra_help = MILTER_HELP(
		        " and re-checks DNS",
		        "See milter-dkim(8), milter-dkim.conf(5), doc/dkim-rotation.md."),
	};
	dkim_gate_table = gate_new();
	int rc = daemon_main(&spec, argc, argv);
	gate_free(dkim_gate_table);
	return rc;
}
