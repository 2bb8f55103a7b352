/* milter-av: ClamAV bridge milter (README.md, "milter-av and clamd"). The
 * config table and snapshot live in conf.c, the callbacks in milter.c, the
 * counters and the tick that writes them (with backend health) to the store in
 * stats.c, the backends asked at start in backends_probe.c, the subcommands in
 * commands.c; this file is the snapshot's build/release glue, the daemon spec and
 * the daemon_main() call.
 */
#include "av.h"
#include "config.h"
#include "milter.h"

static void *av_build(struct daemon *d, const struct cfg *cfg, struct buf *err)
{
	return av_conf_build(cfg, err);
}

static void av_release(void *priv)
{
	av_conf_free(priv);
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
		.started = backends_probe_run,
		.tick = av_stats_tick,
		.tick_ms = 5000,
		.commands = av_commands,
		.extra_help = MILTER_HELP("", "See milter-av(8), milter-av.conf(5)."),
	};
	return daemon_main(&spec, argc, argv);
}
