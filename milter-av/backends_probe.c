/* backends_probe: milter-av's start-time check of its clamd backends (the daemon's
 * `started` hook). Every backend of the pool is asked for its zVERSION at once, one
 * detached thread each, and the start waits at most AV_START_WAIT_MS for the answers.
 * A backend that does not answer while another does is marked down in the pool with
 * its reason; when none answers none is marked down and each message tries them all.
 * Spec: clamd(8), zVERSION; doc/protocols.md, "clamd commands and streams".
 * Threads: the probe threads and the starting thread share one refcounted batch; the
 * last one out frees it and drops its reference on the config snapshot (which keeps
 * the pool alive), so a hung backend's thread may safely outlive the wait.
 * Logs: one line per backend, here at the boundary.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "av.h"
#include "log.h"
#include "xalloc.h"

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

/* backends_probe_run() - ask every backend for its version, all at once, for at most
 * AV_START_WAIT_MS. While another answers, one that does not is marked down with its
 * reason (the health the store and `status` show) and logged as failover only, naming
 * the backend that scans the mail. When none answers none is marked down: each message
 * tries them all. */
void backends_probe_run(struct daemon *d)
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
