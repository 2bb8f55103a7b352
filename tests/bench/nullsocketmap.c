/* nullsocketmap: the ceiling for socketmap benchmarks. A daemon on the skeleton and the
 * stream runner (common/server.c), as policyd-mtasts is, that answers every request with
 * one fixed OK reply (`reply =`, default an MTA-STS policy as policyd-mtasts would give
 * it) and looks nothing up: what smload measures against it is the cost of the runner,
 * the framing and the kernel. Requests are still parsed (socketmap_request_parse()); one
 * that does not parse gets PERM. Config: the skeleton's keys plus `reply`. Not installed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "server_socketmap.h"
#include "socketmap.h"
#include "xalloc.h"

static const struct cfg_key nsm_keys[] = {
	{ "reply", CFG_STRING, "secure match=.example.test servername=hostname", 0, 0, 0, NULL,
	  "data of the OK reply given to every request" },
	CFG_KEY_END,
};

static const struct cfg_default nsm_defaults[] = {
	{ "listen", "unix:/run/nullsocketmap/nullsocketmap.sock" },
	{ "user", "nobody" },
	{ NULL, NULL },
};

static const struct cfg_schema nsm_schema = {
	.base = daemon_keys,
	.base_defaults = nsm_defaults,
	.global = nsm_keys,
};

/* The reply, encoded once per config snapshot by build(). */
static void *nsm_build(struct daemon *d, const struct cfg *cfg, struct buf *err)
{
	(void)d;
	const char *data = cfg_str(cfg, NULL, "reply");
	struct buf *b = xcalloc(1, sizeof(*b));
	buf_init(b);
	if (socketmap_reply_ok(b, data, strlen(data)) < 0) {
		buf_add_line(err, "reply: longer than %d bytes", SOCKETMAP_REPLY_MAX);
		buf_fini(b);
		free(b);
		return NULL;
	}
	return b;
}

static void nsm_release(void *priv)
{
	buf_fini(priv);
	free(priv);
}

/* The fixed reply, already a netstring. */
static void nsm_answer(struct daemon *d, const struct socketmap_request *req, struct buf *out)
{
	(void)req;
	struct daemon_conf *conf = daemon_conf_get(d);
	const struct buf *ok = conf->priv;
	buf_append(out, ok->data, ok->len);
	daemon_conf_put(conf);
}

static void nsm_conn(struct daemon *d, struct server_conn *c)
{
	server_socketmap_serve(d, c, nsm_answer);
}

static const struct server_ops nsm_ops = { .conn = nsm_conn };

int main(int argc, char **argv)
{
	struct daemon_spec spec = {
		.name = "nullsocketmap",
		.summary = "socketmap server answering one fixed OK reply (benchmark ceiling)",
		.config_path = "/etc/postwarden/nullsocketmap.conf",
		.schema = &nsm_schema,
		.runner = server_stream_runner(&nsm_ops),
		.build = nsm_build,
		.release = nsm_release,
	};
	return daemon_main(&spec, argc, argv);
}
