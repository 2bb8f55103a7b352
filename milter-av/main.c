/* milter-av: ClamAV bridge milter (issue 6, ARCHITECTURE.md "Antivirus"). The
 * config table and snapshot live in conf.c, the callbacks in milter.c, the
 * counters in stats.c; this file is the daemon spec, the thread that flushes
 * counters and backend health to the store, and the `status` command.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "av.h"
#include "config.h"
#include "log.h"
#include "milter.h"
#include "milter_probe.h"
#include "privs.h"
#include "store.h"
#include "xalloc.h"

static pthread_t av_thread;
static bool av_thread_running;
static long av_store_warned;

static void *av_build(struct daemon *d, const struct cfg *cfg, char **err)
{
	return av_conf_build(cfg, err);
}

static void av_release(void *priv)
{
	av_conf_free(priv);
}

static void av_flush(struct daemon *d)
{
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

static void *av_thread_main(void *arg)
{
	struct daemon *d = arg;
	while (!daemon_wait_stop(d, 5000))
		av_flush(d);
	av_flush(d);
	return NULL;
}

static void av_started(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct av_conf *c = dc->priv;
	for (size_t i = 0; i < clamd_pool_size(c->pool); i++) {
		char v[CLAMD_VERSION_MAX];
		if (clamd_pool_version(c->pool, i, v, sizeof(v)) == 0)
			log_info("clamd %s: %s", clamd_pool_endpoint(c->pool, i), v);
		else
			log_warnx("clamd %s: not answering (mail gets on_error = %s until it does)",
			          clamd_pool_endpoint(c->pool, i),
			          cfg_str(dc->cfg, NULL, "on_error"));
	}
	daemon_conf_put(dc);
	av_thread_running = pthread_create(&av_thread, NULL, av_thread_main, d) == 0;
}

static void av_stopping(struct daemon *d)
{
	if (av_thread_running) {
		pthread_join(av_thread, NULL);
		av_thread_running = false;
	}
}

static int av_print_hash(const char *field, long long value, void *arg)
{
	printf("  %-40s %lld\n", field, value);
	return 0;
}

/* status: the daemon probed on its socket first (before the privilege drop: the socket's
 * group is the MTA's), then the backends and the store; exit 1 when the daemon does not
 * answer or a backend is down. */
static int av_cmd_status(struct daemon *d, int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: milter-av status\n");
		return DAEMON_EXIT_USAGE;
	}
	struct daemon_conf *dc = daemon_conf_get(d);
	char *err = NULL, listen[512];
	struct listen_spec ls;
	struct milter_probe_result pr;
	int probe = milter_probe_cfg(dc->cfg, MILTER_PROBE_TIMEOUT_MS, listen, sizeof(listen), &ls,
	                             &pr);
	int dr = privs_drop(cfg_str(dc->cfg, NULL, "user"), cfg_str(dc->cfg, NULL, "group"));
	if (dr < 0) {
		log_err_e(dr, "cannot drop privileges to %s", cfg_str(dc->cfg, NULL, "user"));
		daemon_conf_put(dc);
		return DAEMON_EXIT_CONFIG;
	}
	struct av_conf *c = av_conf_build(dc->cfg, &err);
	if (!c) {
		fprintf(stderr, "milter-av: %s: %s\n", cfg_path(dc->cfg), err);
		free(err);
		daemon_conf_put(dc);
		return DAEMON_EXIT_CONFIG;
	}
	struct store *st = daemon_open_store(d);
	struct buf line;
	buf_init(&line);
	int rc = milter_probe_describe(daemon_spec(d)->name, listen, &ls, probe, &pr, st, &line);
	fputs(buf_cstr(&line), stdout);
	buf_fini(&line);
	printf("backends (checked now):\n");
	for (size_t i = 0; i < clamd_pool_size(c->pool); i++) {
		char v[CLAMD_VERSION_MAX];
		int r = clamd_pool_version(c->pool, i, v, sizeof(v));
		printf("  %-40s %s\n", clamd_pool_endpoint(c->pool, i), r == 0 ? v : "DOWN");
		if (r != 0 && rc == DAEMON_EXIT_OK)
			rc = 1;
	}
	if (st) {
		printf("counters (store %s, all hosts sharing it):\n", store_backend(st));
		if (store_hgetall(st, "pw:av:count", av_print_hash, NULL) == STORE_NOTFOUND)
			printf("  (none yet)\n");
		printf("infected, by name:\n");
		if (store_hgetall(st, "pw:av:virus", av_print_hash, NULL) == STORE_NOTFOUND)
			printf("  (none)\n");
		printf("backend health reported by the daemons:\n");
		for (size_t i = 0; i < clamd_pool_size(c->pool); i++) {
			char key[STORE_KEY_MAX], *v = NULL;
			size_t len;
			snprintf(key, sizeof(key), "pw:av:backend:%s",
			         clamd_pool_endpoint(c->pool, i));
			if (store_get(st, key, &v, &len) == 0)
				printf("  %-40s %s\n", clamd_pool_endpoint(c->pool, i), v);
			else
				printf("  %-40s (no report)\n", clamd_pool_endpoint(c->pool, i));
			free(v);
		}
		store_close(st);
	} else {
		printf("store: unavailable\n");
	}
	av_conf_free(c);
	daemon_conf_put(dc);
	return rc;
}

const struct daemon_cmd av_commands[] = {
	{ "status", "",
	  "daemon probe, backends (checked now), counters and health from the store "
	  "(exit 1: the daemon does not answer or a backend is down)",
	  av_cmd_status },
	{ NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	struct daemon_spec spec = {
		.name = "milter-av",
		.summary = "ClamAV bridge milter: streams every message to clamd",
		.config_path = SYSCONFDIR "/postwarden/milter-av.conf",
		.schema = &av_schema,
		.runner = milter_runner(&av_milter_desc),
		.build = av_build,
		.release = av_release,
		.started = av_started,
		.stopping = av_stopping,
		.commands = av_commands,
		.extra_help =
		        "SIGUSR1 reloads the configuration; SIGUSR2 stops once open sessions are\n"
		        "done; SIGTERM stops at once.\n"
		        "See milter-av(8), milter-av.conf(5).",
	};
	return daemon_main(&spec, argc, argv);
}
