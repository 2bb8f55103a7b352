/* tlsrpt: TLS-RPT (RFC 8460) collection for Postfix: libtlsrpt datagrams from Postfix >= 3.10
 * on a unix datagram socket, and Postfix 3.7-3.9 mail logs, followed as they grow
 * (`logfile =`: a file or the journal) or read once through `ingest-log`; counters per UTC
 * day, policy domain and policy in the store, so a fleet adds into one place; the daily
 * reports sent to each policy domain's rua. The config table is in conf.c, the collector
 * in collector.c, the log follower in follow.c, the counters in aggregate.c, the reports
 * in report.c, their sending in send.c, deliver.c and reporter.c (the daily run), the
 * subcommands in commands.c; this file is the daemon spec and the daemon_main() call.
 */
#include "config.h"
#include "tlsrpt.h"

static void *tlsrpt_build(struct daemon *d, const struct cfg *cfg, struct buf *err)
{
	(void)d;
	return tlsrpt_conf_build(cfg, err);
}

static void tlsrpt_release(void *priv)
{
	tlsrpt_conf_free(priv);
}

int main(int argc, char **argv)
{
	struct daemon_spec spec = {
		.name = "tlsrpt",
		.summary = "TLS-RPT (RFC 8460) collector and reporter for Postfix",
		.config_path = SYSCONFDIR "/postwarden/tlsrpt.conf",
		.schema = &tlsrpt_schema,
		.runner = server_dgram_runner(&tlsrpt_dgram_ops),
		.build = tlsrpt_build,
		.release = tlsrpt_release,
		.started = tlsrpt_started,
		.reloaded = tlsrpt_reloaded,
		.tick = tlsrpt_tick,
		.tick_ms = 5000,
		.commands = tlsrpt_commands,
		.extra_help =
		        "SIGHUP or SIGUSR1 reloads the configuration; SIGTERM stops once every\n"
		        "datagram received is counted and in the store.\n"
		        "In main.cf (Postfix >= 3.10): smtp_tlsrpt_enable = yes,\n"
		        "smtp_tlsrpt_socket_name = run/tlsrpt/tlsrpt.sock\n"
		        "Postfix 3.7-3.9: logfile = /var/log/mail.log (followed like tail -F),\n"
		        "journal or journal:NAMESPACE (the logfile key is read at start only).\n",
	};
	return daemon_main(&spec, argc, argv);
}
