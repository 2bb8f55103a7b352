/* check: milter-av's `check` command (milter-av(8)). As the service user (run as
 * root, it drops to `user`/`group` first, as the daemon does), it checks the
 * listen directories, builds the config, asks every clamd backend for its
 * version and reaches the store; it creates nothing (no socket, no store
 * directory). Every problem is logged on its own line. Exit: 0; 78 a config
 * problem; 69 a backend or the store does not answer. Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>

#include "av.h"
#include "log.h"

int av_cmd_check(struct daemon *d, int argc, char **argv)
{
	struct daemon_check ck = { 0 };
	char *err = NULL;
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: milter-av check\n");
		return DAEMON_EXIT_USAGE;
	}
	if (daemon_check_begin(d, &ck) < 0)
		return daemon_check_end(d, &ck);
	struct daemon_conf *dc = daemon_conf_get(d);
	struct av_conf *c = av_conf_build(dc->cfg, &err);
	if (!c)
		daemon_check_problem(&ck, DAEMON_EXIT_CONFIG, "%s: %s", cfg_path(dc->cfg), err);
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
	free(err);
	av_conf_free(c);
	daemon_conf_put(dc);
	daemon_check_store(d, &ck);
	return daemon_check_end(d, &ck);
}
