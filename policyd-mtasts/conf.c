/* conf: policyd-mtasts' config table and the snapshot built from it: the resolver
 * (libunbound, DNSSEC-validating from `trust_anchor`, or the system root key) and the
 * HTTPS client for policies. Timeouts derive from `fetch_timeout`, the longest a cold
 * lookup waits: each DNS lookup gets a quarter of it (at most 5 s) and the whole HTTPS
 * fetch three quarters, so a worker's discovery usually ends before its waiter gives up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "fetch.h"
#include "mtasts.h"
#include "xalloc.h"

/* dane_mode's choices are in the order of enum dane_mode read by cfg_enum(). */
static const struct cfg_key mtasts_keys[] = {
	{ "resolver", CFG_STRING, "", 0, 0, 0, NULL,
	  "DNS forwarders addr[@port]; empty: the nameservers of /etc/resolv.conf" },
	{ "trust_anchor", CFG_STRING, "", 0, 0, 0, NULL,
	  "DNSSEC trust anchors (DS or DNSKEY lines); empty: " MTASTS_ROOT_KEY },
	{ "ca_file", CFG_STRING, "", 0, 0, 0, NULL,
	  "CA certificates for policy hosts (PEM); empty: the system CA store" },
	{ "connect_to", CFG_STRING, "", 0, 0, 0, NULL,
	  "tests only: HOST:PORT every policy fetch connects to" },
	{ "dane_mode", CFG_ENUM, "dane-only", 0, 0, 0, "off|dane|dane-only",
	  "answer for domains with DNSSEC-secure TLSA records: dane-only | dane | off" },
	{ "fetch_timeout", CFG_DURATION, "10s", 0, 1000, 120000, NULL,
	  "the longest a lookup waits for DNS and the policy fetch" },
	{ "negative_ttl", CFG_DURATION, "10m", 0, 1000, 86400000, NULL,
	  "how long a domain without a policy is remembered" },
	CFG_KEY_END,
};

static int mtasts_check_key(const char *section, const char *key, const char *value,
                            struct buf *err)
{
	if (!section && strcmp(key, "connect_to") == 0) {
		const char *colon = strrchr(value, ':');
		if (!colon || colon == value || !colon[1] ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
			buf_add_line(err, "connect_to: expected HOST:PORT, got '%s'", value);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct cfg_default mtasts_daemon_defaults[] = {
	{ "listen", "unix:/var/spool/postfix/private/mtasts" },
	{ "user", "policyd-mtasts" },
	{ NULL, NULL },
};

const struct cfg_schema mtasts_schema = {
	.base = daemon_keys,
	.base_defaults = mtasts_daemon_defaults,
	.global = mtasts_keys,
	.check = mtasts_check_key,
};

static struct dns *mtasts_conf_dns(const struct cfg *cfg, int timeout_ms, struct buf *err)
{
	const char *ta = cfg_str(cfg, NULL, "trust_anchor");
	struct dns_opts o = {
		.forwarder = cfg_str(cfg, NULL, "resolver"),
		.trust_anchor = *ta ? ta : MTASTS_ROOT_KEY,
		.timeout_ms = timeout_ms,
		.cache_max_ttl = 3600,
	};
	struct dns *dns = dns_new(&o);
	if (!dns)
		buf_add_line(err,
		             "resolver: cannot set up DNS (forwarder '%s', trust anchor %s): %s",
		             o.forwarder, o.trust_anchor, strerror(errno));
	return dns;
}

struct mtasts_conf *mtasts_conf_build(const struct cfg *cfg, struct buf *err)
{
	struct mtasts_conf *c = xcalloc(1, sizeof(*c));
	c->dane_mode = (enum dane_mode)cfg_enum(cfg, NULL, "dane_mode");
	c->fetch_timeout_ms = (int)cfg_duration_ms(cfg, NULL, "fetch_timeout");
	c->negative_ttl_s = (int)(cfg_duration_ms(cfg, NULL, "negative_ttl") / 1000);
	int dns_ms = c->fetch_timeout_ms / 4;
	c->dns = mtasts_conf_dns(cfg, dns_ms > 5000 ? 5000 : dns_ms, err);

	const char *ct = cfg_str(cfg, NULL, "connect_to");
	char *connect = NULL;
	if (*ct)
		connect = xasprintf("::%s", ct); /* any host, any port -> HOST:PORT */
	const char *ca = cfg_str(cfg, NULL, "ca_file");
	struct fetch_opts fo = {
		.ca_file = *ca ? ca : NULL,
		.connect_to = connect,
		.connect_timeout_ms = c->fetch_timeout_ms / 2,
		.timeout_ms = c->fetch_timeout_ms * 3 / 4,
		.max_size = STS_POLICY_MAX,
	};
	c->fetch = fetch_new(&fo);
	c->connect_to = connect;
	if (!c->fetch)
		buf_add_line(err, "cannot set up the HTTPS client (libcurl)");
	if (!c->dns || !c->fetch) {
		mtasts_conf_free(c);
		return NULL;
	}
	return c;
}

void mtasts_conf_free(struct mtasts_conf *c)
{
	if (!c)
		return;
	dns_free(c->dns);
	fetch_free(c->fetch);
	free(c->connect_to);
	free(c);
}
