/* testd: the smallest daemon on the shared skeleton and milter runner, used by
 * tests/integration/skeleton.sh to check flags, exit codes, config errors,
 * reload (SIGUSR1 keeps the old config on error), privilege drop, socket mode
 * graceful stop, the periodic tick (its last run logged after the stop) and what a
 * subcommand needs. Each message gets "X-Testd: <greeting>" at end of message,
 * or is rejected when reject_all = yes; its sender is logged at MAIL (to show
 * that a value from the network cannot forge a log line). Not installed. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "milter.h"
#include "xalloc.h"

struct testd_priv {
	char *greeting;
	bool reject_all;
};

static const struct cfg_key testd_keys[] = {
	{ "greeting", CFG_STRING, "hello", 0, 0, 0, NULL, "text of the X-Testd header" },
	{ "reject_all", CFG_BOOL, "no", 0, 0, 0, NULL, "reject every message" },
	{ "delay", CFG_DURATION, "0", 0, 0, 60000, NULL, "sleep this long at end of message" },
	CFG_KEY_END,
};

static const struct cfg_default testd_daemon_defaults[] = {
	{ "listen", "unix:/run/testd/milter.sock" },
	{ "user", "testd" },
	{ NULL, NULL },
};

static const struct cfg_schema testd_schema = {
	.base = daemon_keys,
	.base_defaults = testd_daemon_defaults,
	.global = testd_keys,
};

static void *testd_build(struct daemon *d, const struct cfg *cfg, struct buf *err)
{
	const char *g = cfg_str(cfg, NULL, "greeting");
	if (strcmp(g, "invalid") == 0) {
		buf_add_line(err, "greeting: 'invalid' is refused by build()");
		return NULL;
	}
	struct testd_priv *p = xcalloc(1, sizeof(*p));
	p->greeting = xstrdup(g);
	p->reject_all = cfg_bool(cfg, NULL, "reject_all");
	return p;
}

static void testd_release(void *priv)
{
	struct testd_priv *p = priv;
	free(p->greeting);
	free(p);
}

static sfsistat testd_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct daemon_conf *c = daemon_conf_get(milter_daemon());
	smfi_setpriv(ctx, c);
	milter_session_begin();
	return SMFIS_CONTINUE;
}

/* miltertest (Debian 12) exits silently when a stage was negotiated away with
 * SMFIP_NO*, so testd takes every stage and just continues. */
static sfsistat testd_helo(SMFICTX *ctx, char *helo)
{
	return SMFIS_CONTINUE;
}

static sfsistat testd_argv(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat testd_envfrom(SMFICTX *ctx, char **argv)
{
	log_info("%s: from=%s", milter_queue_id(ctx), argv && argv[0] ? argv[0] : "<>");
	return SMFIS_CONTINUE;
}

static sfsistat testd_header(SMFICTX *ctx, char *name, char *value)
{
	return SMFIS_CONTINUE;
}

static sfsistat testd_eoh(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat testd_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	return SMFIS_CONTINUE;
}

static sfsistat testd_eom(SMFICTX *ctx)
{
	struct daemon_conf *c = smfi_getpriv(ctx);
	struct testd_priv *p = c->priv;
	uint64_t delay = cfg_duration_ms(c->cfg, NULL, "delay");
	if (delay) {
		struct timespec ts = { (time_t)(delay / 1000), (long)(delay % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (p->reject_all) {
		smfi_setreply(ctx, "550", "5.7.1", "testd rejects everything");
		return SMFIS_REJECT;
	}
	smfi_addheader(ctx, "X-Testd", p->greeting);
	log_info("%s: tagged", milter_queue_id(ctx));
	return SMFIS_ACCEPT;
}

static sfsistat testd_close(SMFICTX *ctx)
{
	struct daemon_conf *c = smfi_getpriv(ctx);
	if (c) {
		smfi_setpriv(ctx, NULL);
		daemon_conf_put(c);
		milter_session_end();
	}
	return SMFIS_CONTINUE;
}

static int testd_cmd_echo(struct daemon *d, int argc, char **argv)
{
	struct daemon_conf *c = daemon_conf_get(d);
	printf("greeting=%s args=%d\n", cfg_str(c->cfg, NULL, "greeting"), argc - 1);
	daemon_conf_put(c);
	return argc > 2 ? DAEMON_EXIT_USAGE : DAEMON_EXIT_OK;
}

/* built: needs the config built (so the privilege drop) and prints what build() made. */
static int testd_cmd_built(struct daemon *d, int argc, char **argv)
{
	struct daemon_conf *c = daemon_conf_get(d);
	const struct testd_priv *p = c->priv;
	printf("built greeting=%s uid=%u\n", p->greeting, (unsigned)geteuid());
	daemon_conf_put(c);
	return DAEMON_EXIT_OK;
}

static atomic_uint testd_ticks;

static void testd_tick(struct daemon *d, bool stopping)
{
	if (stopping)
		log_info("last tick, after %u", atomic_load(&testd_ticks));
	else
		atomic_fetch_add(&testd_ticks, 1);
}

static const struct daemon_cmd testd_cmds[] = {
	{ "echo", "[ARG]", "print the greeting", testd_cmd_echo, 0, NULL },
	{ "built", "", "print what build() made, as the service user", testd_cmd_built,
	  DAEMON_NEEDS_CONF, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL },
};

static struct smfiDesc testd_desc = {
	.xxfi_name = "testd",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_connect = testd_connect,
	.xxfi_helo = testd_helo,
	.xxfi_envfrom = testd_envfrom,
	.xxfi_envrcpt = testd_argv,
	.xxfi_header = testd_header,
	.xxfi_eoh = testd_eoh,
	.xxfi_body = testd_body,
	.xxfi_eom = testd_eom,
	.xxfi_close = testd_close,
};

int main(int argc, char **argv)
{
	struct daemon_spec spec = {
		.name = "testd",
		.summary = "skeleton test milter",
		.config_path = "/etc/postwarden/testd.conf",
		.schema = &testd_schema,
		.runner = milter_runner(&testd_desc),
		.build = testd_build,
		.release = testd_release,
		.tick = testd_tick,
		.tick_ms = 100,
		.commands = testd_cmds,
	};
	return daemon_main(&spec, argc, argv);
}
