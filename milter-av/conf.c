/* conf: milter-av's config table and the snapshot built from it: the clamd
 * backend pool and the verdict policy. Every `clamd` endpoint is parsed as the
 * file is read (the schema's check()), so a bad one is a "file:line" error at
 * load, with -n too. A pool lives with its snapshot, so a reload that changes
 * `clamd =` starts with fresh health. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "av.h"
#include "xalloc.h"

/* Every CFG_ENUM lists its choices in the order of the C enum it is read into
 * with cfg_enum(): verdict_on_virus, verdict_on_error, verdict_on_oversize,
 * clamd_mode. */
static const struct cfg_key av_keys[] = {
	{ "clamd", CFG_LIST, "unix:/run/clamav/clamd.ctl", 0, 0, 0, NULL,
	  "clamd backends in order of preference: unix:/path inet:host:port" },
	{ "on_virus", CFG_ENUM, "reject", 0, 0, 0, "reject|discard|quarantine|tag",
	  "what an infected message gets" },
	{ "on_error", CFG_ENUM, "tempfail", 0, 0, 0, "tempfail|accept",
	  "what a message gets when no clamd answers" },
	{ "max_size", CFG_SIZE, "25M", 0, 1024, 4LL << 30, NULL,
	  "largest message scanned (<= clamd's StreamMaxLength)" },
	{ "oversize", CFG_ENUM, "accept", 0, 0, 0, "accept|tempfail|reject",
	  "what a message larger than max_size (or clamd's limits) gets" },
	{ "timeout", CFG_DURATION, "60s", 0, 100, 3600000, NULL,
	  "limit for each connect, write and reply wait" },
	{ "backend_retry", CFG_DURATION, "30s", 0, 100, 86400000, NULL,
	  "how long a failed backend is skipped" },
	{ "fildes", CFG_ENUM, "auto", 0, 0, 0, "auto|no",
	  "auto: hand a memfd to a local unix clamd; no: always zINSTREAM" },
	{ "add_header", CFG_BOOL, "yes", 0, 0, 0, NULL, "add X-Virus-Scanned to every message" },
	{ "skip_networks", CFG_CIDRS, "", 0, 0, 0, NULL, "clients whose mail is not scanned" },
	{ "skip_authenticated", CFG_BOOL, "no", 0, 0, 0, NULL,
	  "do not scan mail from SMTP AUTH senders" },
	CFG_KEY_END,
};

static int av_check_key(const char *section, const char *key, const char *value, struct buf *err)
{
	if (!section && strcmp(key, "clamd") == 0 && clamd_endpoint_check(value) < 0) {
		buf_add_line(err, "clamd: bad endpoint '%s' (use unix:/path or inet:host:port)",
		             value);
		return -EINVAL;
	}
	return 0;
}

static const struct cfg_default av_daemon_defaults[] = {
	{ "listen", "unix:/var/spool/postfix/milter-av/milter.sock" },
	{ "user", "milter-av" },
	{ NULL, NULL },
};

const struct cfg_schema av_schema = {
	.base = daemon_keys,
	.base_defaults = av_daemon_defaults,
	.global = av_keys,
	.check = av_check_key,
};

struct av_conf *av_conf_build(const struct cfg *cfg, struct buf *err)
{
	size_t n;
	const char *const *ep = cfg_list(cfg, NULL, "clamd", &n);

	if (n == 0) {
		buf_add_line(err, "clamd: at least one backend is needed");
		return NULL;
	}
	struct clamd_pool *pool = clamd_pool_new(ep, n, (int)cfg_duration_ms(cfg, NULL, "timeout"),
	                                         (int)cfg_duration_ms(cfg, NULL, "backend_retry"));
	if (!pool) {
		buf_add_line(err, "clamd: bad endpoint (use unix:/path or inet:host:port)");
		return NULL;
	}
	struct av_conf *c = xcalloc(1, sizeof(*c));
	c->pool = pool;
	c->mode = (enum clamd_mode)cfg_enum(cfg, NULL, "fildes");
	c->max_size = (size_t)cfg_size(cfg, NULL, "max_size");
	c->policy.on_virus = (enum verdict_on_virus)cfg_enum(cfg, NULL, "on_virus");
	c->policy.on_error = (enum verdict_on_error)cfg_enum(cfg, NULL, "on_error");
	c->policy.oversize = (enum verdict_on_oversize)cfg_enum(cfg, NULL, "oversize");
	c->policy.add_header = cfg_bool(cfg, NULL, "add_header");
	c->skip_networks = cfg_cidrs(cfg, NULL, "skip_networks");
	c->skip_authenticated = cfg_bool(cfg, NULL, "skip_authenticated");
	return c;
}

void av_conf_free(struct av_conf *c)
{
	if (!c)
		return;
	clamd_pool_free(c->pool);
	free(c);
}
