/* milter-dkim: DKIM signing milter with DNS-gated selectors (doc/dkim-rotation.md).
 * The config table lives in conf.c, the callbacks in milter.c, the subcommands in
 * commands.c, the DNS pass and the store sharing of the gate table (the started,
 * reloaded and tick hooks) in dnspass.c; this file is the snapshot's build/release
 * glue, the daemon spec and the daemon_main() call.
 */
#include "config.h"
#include "dkim.h"
#include "log.h"
#include "milter.h"

/* dkim_build() - serving: create the missing keys, and join the problems on one log
 * line. For a command (dns, check-dns, status): load the keys, create none, one
 * problem per line. */
static void *dkim_build(struct daemon *d, const struct cfg *cfg, struct buf *err)
{
	bool serving = !daemon_command(d);
	struct buf e, made;
	buf_init(&e);
	buf_init(&made);
	struct dkim_conf *c =
	        dkim_conf_build(cfg, serving ? DKIM_KEYS_CREATE : DKIM_KEYS_LOAD, &made, &e);
	if (!c && !serving) {
		buf_add_line(err, "%s", buf_cstr(&e));
	} else if (!c) {
		struct buf one;
		buf_init(&one);
		for (const char *p = buf_cstr(&e); *p; p++)
			if (*p == '\n')
				buf_puts(&one, "; ");
			else
				buf_putc(&one, *p);
		buf_add_line(err, "%s", buf_cstr(&one));
		buf_fini(&one);
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
		.started = dnspass_started,
		.reloaded = dnspass_reloaded,
		.tick = dnspass_tick,
		.tick_ms = 5000,
		.commands = dkim_commands,
		.extra_help = MILTER_HELP(
		        " and re-checks DNS",
		        "See milter-dkim(8), milter-dkim.conf(5), doc/dkim-rotation.md."),
	};
	return daemon_main(&spec, argc, argv);
}
