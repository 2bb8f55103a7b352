/* streamd: a socketmap echo daemon on the skeleton and the stream runner
 * (common/server.c), for tests/integration/server.sh. A request `<name> <key>` is
 * answered `OK <prefix><key>` (prefix from the config, so a reload shows), `NOTFOUND `
 * for the map name "none", and after a pause of N ms for a key `sleep:N` (a request in
 * flight during a stop). A request that is not a netstring, too long or cut short, or a
 * timeout, is logged with the peer and ends the connection. build() refuses the prefix
 * "invalid" (a start that fails after binding). The runner's limits come
 * from the environment, before the skeleton starts: STREAMD_MAX_CONNS,
 * STREAMD_IDLE_MS, STREAMD_IO_MS. Not installed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "server_socketmap.h"
#include "socketmap.h"
#include "xalloc.h"

static const struct cfg_key streamd_keys[] = {
	{ "prefix", CFG_STRING, "", 0, 0, 0, NULL, "text put before the key in OK replies" },
	CFG_KEY_END,
};

static const struct cfg_default streamd_defaults[] = {
	{ "listen", "unix:/run/streamd/streamd.sock" },
	{ "user", "streamd" },
	{ NULL, NULL },
};

static const struct cfg_schema streamd_schema = {
	.base = daemon_keys,
	.base_defaults = streamd_defaults,
	.global = streamd_keys,
};

/* build() refuses one value, so a test can fail a start after the listeners are bound. */
static void *streamd_build(struct daemon *d, const struct cfg *cfg, struct buf *err)
{
	(void)d;
	if (strcmp(cfg_str(cfg, NULL, "prefix"), "invalid") == 0) {
		buf_add_line(err, "prefix: 'invalid' is refused by build()");
		return NULL;
	}
	return xstrdup("built");
}

static void streamd_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* streamd_answer() - the reply to one request payload, appended to @out. */
static void streamd_answer(struct daemon *d, const struct socketmap_request *r, struct buf *out)
{
	struct socketmap_request req = *r;
	if (req.name_len == 4 && memcmp(req.name, "none", 4) == 0) {
		socketmap_reply_notfound(out);
		return;
	}
	if (req.key_len > 6 && memcmp(req.key, "sleep:", 6) == 0) {
		long ms = strtol(req.key + 6, NULL, 10) % 60000;
		log_info("request in flight: sleeping %ld ms", ms);
		streamd_sleep_ms(ms);
	}
	struct daemon_conf *c = daemon_conf_get(d);
	struct buf data;
	buf_init(&data);
	buf_puts(&data, cfg_str(c->cfg, NULL, "prefix"));
	buf_append(&data, req.key, req.key_len);
	daemon_conf_put(c);
	if (socketmap_reply_ok(out, data.data, data.len) < 0)
		socketmap_reply_temp(out, "reply too long");
	buf_fini(&data);
}

static void streamd_conn(struct daemon *d, struct server_conn *c)
{
	server_socketmap_serve(d, c, streamd_answer);
}

static int streamd_env(const char *name)
{
	const char *v = getenv(name);
	return v ? atoi(v) : 0;
}

static struct server_ops streamd_ops = { .conn = streamd_conn };

int main(int argc, char **argv)
{
	streamd_ops.max_conns = streamd_env("STREAMD_MAX_CONNS");
	streamd_ops.idle_timeout_ms = streamd_env("STREAMD_IDLE_MS");
	streamd_ops.io_timeout_ms = streamd_env("STREAMD_IO_MS");
	struct daemon_spec spec = {
		.name = "streamd",
		.summary = "stream runner test daemon (socketmap echo)",
		.config_path = "/etc/postwarden/streamd.conf",
		.schema = &streamd_schema,
		.runner = server_stream_runner(&streamd_ops),
		.build = streamd_build,
		.release = free,
	};
	return daemon_main(&spec, argc, argv);
}
