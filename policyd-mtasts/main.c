/* policyd-mtasts: MTA-STS (RFC 8461) policies for Postfix's smtp_tls_policy_maps, DANE
 * first (README.md, "policyd-mtasts"). The config table and snapshot are in conf.c, the
 * socketmap handler in service.c, the answer cache and its workers in cache.c, the
 * discovery in resolve.c, the subcommands in commands.c; this file is the snapshot's
 * build/release glue, the daemon spec and the daemon_main() call.
 */
#include "config.h"
#include "mtasts.h"
#include "server.h"

static void *mtasts_build(struct daemon *d, const struct cfg *cfg, struct buf *err)
{
	(void)d;
	return mtasts_conf_build(cfg, err);
}

static void mtasts_release(void *priv)
{
	mtasts_conf_free(priv);
}

static void mtasts_started(struct daemon *d)
{
	mtasts_dane_checked(d);
	mtasts_cache_start(d);
}

static void mtasts_reloaded(struct daemon *d)
{
	mtasts_dane_checked(d);
	mtasts_cache_invalidate();
}

int main(int argc, char **argv)
{
	struct daemon_spec spec = {
		.name = "policyd-mtasts",
		.summary = "MTA-STS policies for Postfix's smtp_tls_policy_maps, DANE first",
		.config_path = SYSCONFDIR "/postwarden/policyd-mtasts.conf",
		.schema = &mtasts_schema,
		.runner = server_stream_runner(&mtasts_server_ops),
		.build = mtasts_build,
		.release = mtasts_release,
		.started = mtasts_started,
		.reloaded = mtasts_reloaded,
		.tick = mtasts_cache_tick,
		.tick_ms = 5000,
		.commands = mtasts_commands,
		.extra_help =
		        "SIGHUP or SIGUSR1 reloads the configuration; SIGTERM stops once the\n"
		        "queries being answered are done.\n"
		        "In main.cf: smtp_tls_policy_maps = socketmap:unix:private/mtasts:postfix\n"
		        "See policyd-mtasts(8), policyd-mtasts.conf(5).\n",
	};
	return daemon_main(&spec, argc, argv);
}
