/* milter-av: ClamAV bridge milter (README.md, "milter-av and clamd"). The
 * config table and snapshot live in conf.c, the callbacks in milter.c, the
 * counters in stats.c, the subcommands in commands.c; this file is the daemon
 * spec: the backends asked at start, and the tick that writes counters and
 * backend health to the store every 5 s (and once more at stop).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "av.h"
#include "config.h"
#include "log.h"
#include "milter.h"
#include "store.h"
#include "xalloc.h"

static long av_store_warned;

static void *av_build(struct daemon *d, const struct cfg *cfg, char **err)
{
	return av_conf_build(cfg, err);
}

static void av_release(void *priv)
{
	av_conf_free(priv);
}

static void av_tick(struct daemon *d, bool stopping)
{
	(void)stopping;
	struct store *st = daemon_store(d);
	if (!st)
		return;
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct av_conf *c = dc->priv;
	int r = av_stats_flush(st, c->pool);
	if (r < 0 && log_ratelimit(&av_store_warned, 60))
		log_warn_e(r, "store: counters not written (mail is not affected)");
	daemon_conf_put(dc);
}

/* How long the start waits for the backends' answers, whatever their number and timeout:
 * well inside systemd's start timeout. */
#define AV_START_WAIT_MS 3000

/* The backends asked at start, one thread each; shared by those threads and av_started(),
 * freed by the last one out (a hung backend's thread may outlive the wait). */
struct av_probe_batch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;
	size_t left;
	struct daemon_conf *dc; /* keeps the pool alive */
	int *err;
	char (*ver)[CLAMD_VERSION_MAX];
};

struct av_probe {
	struct av_probe_batch *b;
	size_t idx;
};

static void av_batch_put(struct av_probe_batch *b)
{
	pthread_mutex_lock(&b->lock);
	int refs = --b->refs;
	pthread_mutex_unlock(&b->lock);
	if (refs > 0)
		return;
	daemon_conf_put(b->dc);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b->err);
	free(b->ver);
	free(b);
}

static void av_probe_done(struct av_probe_batch *b, size_t idx, int err, const char *ver)
{
	pthread_mutex_lock(&b->lock);
	b->err[idx] = err;
	snprintf(b->ver[idx], CLAMD_VERSION_MAX, "%s", ver);
	b->left--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	av_batch_put(b);
}

static void *av_probe_main(void *arg)
{
	struct av_probe *p = arg;
	const struct av_conf *c = p->b->dc->priv;
	char v[CLAMD_VERSION_MAX] = "";
	int r = clamd_pool_version(c->pool, p->idx, v, sizeof(v));
	av_probe_done(p->b, p->idx, r, v);
	free(p);
	return NULL;
}

/* Ask every backend at once; wait at most AV_START_WAIT_MS. Return the batch (a reference),
 * err[i] -ETIMEDOUT for a backend still silent at the deadline. */
static struct av_probe_batch *av_probe_all(struct daemon *d)
{
	struct av_probe_batch *b = xcalloc(1, sizeof(*b));
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&b->lock, NULL);
	b->dc = daemon_conf_get(d);
	const struct av_conf *c = b->dc->priv;
	size_t n = clamd_pool_size(c->pool);
	b->err = xcalloc(n, sizeof(*b->err));
	b->ver = xcalloc(n, sizeof(*b->ver));
	b->refs = (int)n + 1;
	b->left = n;
	for (size_t i = 0; i < n; i++) {
		b->err[i] = -ETIMEDOUT;
		struct av_probe *p = xcalloc(1, sizeof(*p));
		*p = (struct av_probe){ .b = b, .idx = i };
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, av_probe_main, p) != 0) {
			free(p);
			av_probe_done(b, i, -EAGAIN, "");
		}
		pthread_attr_destroy(&attr);
	}
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += AV_START_WAIT_MS / 1000;
	pthread_mutex_lock(&b->lock);
	while (b->left > 0 && pthread_cond_timedwait(&b->cond, &b->lock, &until) == 0)
		;
	pthread_mutex_unlock(&b->lock);
	return b;
}

/* av_started() - ask every backend for its version, all at once, for at most
 * AV_START_WAIT_MS. While another answers, one that does not is marked down with its
 * reason (the health the store and `status` show) and logged as failover only, naming
 * the backend that scans the mail. When none answers none is marked down: each message
 * tries them all. */
static void av_started(struct daemon *d)
{
	struct av_probe_batch *b = av_probe_all(d);
	const struct av_conf *c = b->dc->priv;
	size_t n = clamd_pool_size(c->pool);
	int *err = xcalloc(n, sizeof(*err));
	const char *scanner = NULL;
	pthread_mutex_lock(&b->lock);
	memcpy(err, b->err, n * sizeof(*err));
	for (size_t i = 0; i < n; i++) {
		if (err[i] != 0)
			continue;
		log_info("clamd %s: %s", clamd_pool_endpoint(c->pool, i), b->ver[i]);
		if (!scanner)
			scanner = clamd_pool_endpoint(c->pool, i);
	}
	pthread_mutex_unlock(&b->lock);
	for (size_t i = 0; i < n; i++) {
		if (err[i] == 0)
			continue;
		const char *why =
		        err[i] == -ETIMEDOUT ? "no answer at start" : clamd_strerror(err[i]);
		if (scanner) {
			clamd_pool_mark_down(c->pool, i, why);
			log_warnx("clamd %s: not answering (%s): failover only; mail is scanned by "
			          "%s",
			          clamd_pool_endpoint(c->pool, i), why, scanner);
		} else {
			log_warnx("clamd %s: not answering (%s): mail gets on_error = %s until a "
			          "backend answers",
			          clamd_pool_endpoint(c->pool, i), why,
			          cfg_str(b->dc->cfg, NULL, "on_error"));
		}
	}
	free(err);
	av_batch_put(b);
}

int main(int argc, char **argv)
{
	struct daemon_spec spec = {
		.name = "milter-av",
		.summary = "ClamAV bridge milter: streams every message to clamd",
		.config_path = SYSCONFDIR "/postwarden/milter-av.conf",
		.schema = &av_schema,
		.runner = milter_runner_ops(&av_milter_ops),
		.build = av_build,
		.release = av_release,
		.started = av_started,
		.tick = av_tick,
		.tick_ms = 5000,
		.commands = av_commands,
		.extra_help = MILTER_HELP("", "See milter-av(8), milter-av.conf(5)."),
	};
	return daemon_main(&spec, argc, argv);
}
