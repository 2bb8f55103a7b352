/* commands: milter-av's admin subcommands (milter-av(8)):
 *   status  the daemon probed on its socket (as the invoking user, before the privilege
 *           drop: the socket's group is the MTA's), then every backend asked now, the
 *           counters and the backend health the daemons wrote to the store
 *   check   as the service user (root drops to `user`/`group` first, as the daemon
 *           does): the listen directories, the config, every clamd backend's version,
 *           the store; creates nothing (no socket, no store directory); every problem
 *           on its own line
 * Exit codes: 0; 1 (status: the daemon does not answer or a backend is down); 64 usage;
 * 69 a backend or the store does not answer (check); 78 config error. Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>

#include "av.h"
#include "log.h"
#include "milter_probe.h"
#include "store.h"

static int av_print_hash(const char *field, long long value, void *arg)
{
	printf("  %-40s %lld\n", field, value);
	return 0;
}

static void av_cmd_print_store(struct store *st, const struct av_conf *c)
{
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
		snprintf(key, sizeof(key), "pw:av:backend:%s", clamd_pool_endpoint(c->pool, i));
		if (store_get(st, key, &v, &len) == 0)
			printf("  %-40s %s\n", clamd_pool_endpoint(c->pool, i), v);
		else
			printf("  %-40s (no report)\n", clamd_pool_endpoint(c->pool, i));
		free(v);
	}
}

static int av_cmd_status(struct daemon *d, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: milter-av status\n");
		return DAEMON_EXIT_USAGE;
	}
	struct daemon_conf *dc = daemon_conf_get(d);
	const struct av_conf *c = dc->priv;
	struct store *st = daemon_store(d);
	int rc = milter_probe_status_print(d, st);
	printf("backends (checked now):\n");
	for (size_t i = 0; i < clamd_pool_size(c->pool); i++) {
		char v[CLAMD_VERSION_MAX];
		int r = clamd_pool_version(c->pool, i, v, sizeof(v));
		if (r == 0)
			printf("  %-40s %s\n", clamd_pool_endpoint(c->pool, i), v);
		else
			printf("  %-40s DOWN (%s)\n", clamd_pool_endpoint(c->pool, i),
			       clamd_strerror(r));
		if (r != 0 && rc == DAEMON_EXIT_OK)
			rc = 1;
	}
	if (st)
		av_cmd_print_store(st, c);
	else
		printf("store: unavailable\n");
	daemon_conf_put(dc);
	return rc;
}

static int av_cmd_check(struct daemon *d, int argc, char **argv)
{
	struct daemon_check ck = { 0 };
	struct buf err;
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: milter-av check\n");
		return DAEMON_EXIT_USAGE;
	}
	if (daemon_check_begin(d, &ck) < 0)
		return daemon_check_end(d, &ck);
	struct daemon_conf *dc = daemon_conf_get(d);
	buf_init(&err);
	struct av_conf *c = av_conf_build(dc->cfg, &err);
	if (!c)
		daemon_check_problem(&ck, DAEMON_EXIT_CONFIG, "%s: %s", cfg_path(dc->cfg),
		                     buf_cstr(&err));
	for (size_t i = 0; c && i < clamd_pool_size(c->pool); i++) {
		char v[CLAMD_VERSION_MAX];
		int r = clamd_pool_version(c->pool, i, v, sizeof(v));
		if (r == 0)
			printf("clamd %s: %s\n", clamd_pool_endpoint(c->pool, i), v);
		else
			daemon_check_problem(&ck, DAEMON_EXIT_UNAVAIL,
			                     "clamd %s: not answering: %s",
			                     clamd_pool_endpoint(c->pool, i), clamd_strerror(r));
	}
	buf_fini(&err);
	av_conf_free(c);
	daemon_conf_put(dc);
	daemon_check_store(d, &ck);
	return daemon_check_end(d, &ck);
}

const struct daemon_cmd av_commands[] = {
	{ "status", "",
	  "daemon probe, backends (checked now), counters and health from the store "
	  "(exit 1: the daemon does not answer or a backend is down)",
	  av_cmd_status, DAEMON_NEEDS_CONF | DAEMON_NEEDS_STORE, milter_probe_status_before },
	{ "check", "", "as the service user: reach the store and every backend; create nothing",
	  av_cmd_check, 0, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL },
};
