/* conf: milter-dkim's config table and the snapshot built from it.
 *
 * Sections: "[example.org]" (exact From domain) or "[*.example.org]"
 * (subdomains, signed as d=example.org) with `selectors =`; "[example.org/sel]"
 * for one selector's algorithm, bits, sign and key. A domain without
 * `selectors` uses the default selector "mail" with <keydir>/<domain>.mail.key:
 * an existing key there is the legacy key (never gated); a missing one is
 * generated and gated, and a "<domain>.mail.gated" marker beside it remembers
 * that across restarts. Keys are read once here (start and reload), never per
 * message, and never logged. Runs unprivileged, as every reload does.
 * Section names are DNS names, so they ignore case: two sections that differ
 * only in case are a config error naming both lines (cfg's sections_nocase).
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "dns.h"
#include "xalloc.h"

/* CFG_ENUM choices, in the order cfg_enum() numbers them: on_error as below,
 * algorithm as enum keys_type. */
enum dkim_on_error { DKIM_ON_ERROR_TEMPFAIL, DKIM_ON_ERROR_ACCEPT };

static const struct cfg_key dkim_global_keys[] = {
	{ "keydir", CFG_STRING, "/var/lib/milter-dkim/keys", 0, 0, 0, NULL,
	  "where generated keys live (<domain>.<selector>.key)" },
	{ "sign_networks", CFG_CIDRS, "127.0.0.0/8 ::1", 0, 0, 0, NULL,
	  "clients whose mail is signed without SMTP AUTH" },
	{ "resolver", CFG_STRING, "", 0, 0, 0, NULL,
	  "DNS for the selector gate: empty = resolv.conf, or addr@port" },
	{ "trust_anchor", CFG_STRING, "", 0, 0, 0, NULL,
	  "DNSSEC trust anchor file (DS or DNSKEY records); empty: no validation" },
	{ "dns_timeout", CFG_DURATION, "5s", 0, 500, 60000, NULL,
	  "how long one DNS lookup (selector gate, key record) may take" },
	{ "dns_check_interval", CFG_DURATION, "1h", 0, 1000, 2592000000LL, NULL,
	  "how often selectors' TXT records are checked" },
	{ "retire_grace", CFG_DURATION, "7d", 0, 0, 0, NULL,
	  "how long a sign = no selector stays published after it last signed" },
	{ "on_error", CFG_ENUM, "tempfail", 0, 0, 0, "tempfail|accept",
	  "what a signing failure does to the message" },
	{ "expire", CFG_DURATION, "", 0, 0, 0, NULL, "signature lifetime (x= tag); empty: none" },
	{ "allow_group_readable", CFG_BOOL, "no", 0, 0, 0, NULL,
	  "accept key files readable by their group" },
	{ "verify", CFG_BOOL, "no", 0, 0, 0, NULL,
	  "verify DKIM signatures and ARC chains of every message, add Authentication-Results" },
	{ "authserv_id", CFG_STRING, "", 0, 0, 0, NULL,
	  "authserv-id of Authentication-Results; empty: the host name" },
	{ "trusted_authserv_ids", CFG_LIST, "", 0, 0, 0, NULL,
	  "Authentication-Results ids whose results are carried into the ARC seal" },
	{ "verify_lookups", CFG_INT, "10", 0, 1, 100, NULL,
	  "DNS key lookups one message may cause (cached answers are free)" },
	{ "arc_seal", CFG_ENUM, "relay", 0, 0, 0, "relay|always|no",
	  "add an ARC set: to mail relayed onward, to all mail, or never" },
	{ "arc_domain", CFG_STRING, "", 0, 0, 0, NULL,
	  "d= of ARC sets (a configured domain); empty: no sealing" },
	{ "arc_selector", CFG_STRING, "", 0, 0, 0, NULL,
	  "selector of arc_domain that seals (it must pass the DNS gate)" },
	CFG_KEY_END,
};

static const struct cfg_key dkim_domain_keys[] = {
	{ "selectors", CFG_LIST, "", 0, 0, 0, NULL,
	  "selectors of this domain; empty: the default selector 'mail'" },
	CFG_KEY_END,
};

static const struct cfg_key dkim_selector_keys[] = {
	{ "algorithm", CFG_ENUM, "rsa-sha256", 0, 0, 0, "rsa-sha256|ed25519-sha256",
	  "signing algorithm" },
	{ "bits", CFG_INT, "2048", 0, 1024, 4096, NULL, "RSA key size for a generated key" },
	{ "sign", CFG_BOOL, "yes", 0, 0, 0, NULL,
	  "sign with it (once its DNS record is live); no = retiring" },
	{ "key", CFG_STRING, "", 0, 0, 0, NULL,
	  "key file or credential:NAME; empty: <keydir>/<domain>.<selector>.key" },
	CFG_KEY_END,
};

/* A DNS name (labels of letters, digits, '-', '_'), optionally behind "*.". */
static bool dkim_valid_domain(const char *s)
{
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	size_t n = strlen(s), label = 0;
	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*s) || *s == '-' || *s == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static bool dkim_valid_selector(const char *s)
{
	return *s && strlen(s) <= 63 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
	               strlen(s) &&
	       s[0] != '.';
}

int dkim_conf_split(const char *name, char *dom, size_t domsz, const char **sel)
{
	const char *slash = strchr(name, '/');
	if (!slash)
		return DKIM_CONF_NO_SELECTOR;
	size_t n = (size_t)(slash - name);
	if (n >= domsz)
		return -ENAMETOOLONG;
	memcpy(dom, name, n);
	dom[n] = '\0';
	*sel = slash + 1;
	return 0;
}

static const struct cfg_key *dkim_section_keys(const char *name)
{
	char dom[256];
	const char *sel;
	int r = dkim_conf_split(name, dom, sizeof(dom), &sel);
	if (r == DKIM_CONF_NO_SELECTOR)
		return dkim_valid_domain(name) ? dkim_domain_keys : NULL;
	if (r < 0)
		return NULL;
	return dkim_valid_domain(dom) && dkim_valid_selector(sel) ? dkim_selector_keys : NULL;
}

static const struct cfg_default dkim_daemon_defaults[] = {
	{ "listen", "unix:/var/spool/postfix/milter-dkim/milter.sock" },
	{ "user", "milter-dkim" },
	{ NULL, NULL },
};

const struct cfg_schema dkim_schema = {
	.base = daemon_keys,
	.base_defaults = dkim_daemon_defaults,
	.global = dkim_global_keys,
	.section_keys = dkim_section_keys,
	.sections_nocase = true,
};

static void dkim_selector_fini(struct dkim_selector *s)
{
	free(s->name);
	free(s->keyspec);
	free(s->state_key);
	EVP_PKEY_free(s->key);
}

void dkim_conf_free(struct dkim_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ndom; i++) {
		for (size_t j = 0; j < c->dom[i].nsel; j++)
			dkim_selector_fini(&c->dom[i].sel[j]);
		free(c->dom[i].sel);
		free(c->dom[i].section);
	}
	free(c->dom);
	free(c->sections);
	free(c->authserv_id);
	free(c);
}

struct dns *dkim_conf_resolver(const struct dkim_conf *c)
{
	struct dns_opts o = {
		.forwarder = cfg_str(c->cfg, NULL, "resolver"),
		.trust_anchor = cfg_str(c->cfg, NULL, "trust_anchor"),
		.timeout_ms = (int)cfg_duration_ms(c->cfg, NULL, "dns_timeout"),
		.cache_max_ttl = 60,
	};
	return dns_new(&o);
}

const struct dkim_domain *dkim_conf_domain(const struct dkim_conf *c, const char *section)
{
	for (size_t i = 0; i < c->ndom; i++)
		if (strcasecmp(c->dom[i].section, section) == 0)
			return &c->dom[i];
	return NULL;
}

/* dkim_section() - the section whose name is @name in any case (DNS names are
 * case-insensitive), as written in the file; NULL when there is none. */
static const char *dkim_section(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg_section_count(cfg); i++)
		if (strcasecmp(cfg_section_name(cfg, i), name) == 0)
			return cfg_section_name(cfg, i);
	return NULL;
}

static bool dkim_file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* dkim_file_missing() - @path surely does not exist (not merely unreadable). */
static bool dkim_file_missing(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 && errno == ENOENT;
}

/* dkim_problem() - buf_add_line() to @err, the line cut at 1023 bytes. */
static void dkim_problem(struct buf *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void dkim_problem(struct buf *err, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_add_line(err, "%s", line);
}

static bool dkim_ours(const struct dkim_selector *s)
{
	return strncmp(s->keyspec, "credential:", 11) != 0;
}

/* The selector's key: load it when it exists; when it is missing, say whether it
 * may be generated (s->missing) or why not. Creates nothing. */
static int dkim_selector_key(const struct cfg *cfg, const char *sect, struct dkim_selector *s,
                             enum dkim_keys mode, struct buf *err)
{
	bool agr = cfg_bool(cfg, NULL, "allow_group_readable");
	struct buf e;
	char dir[4096];
	int r = 0;

	if (dkim_ours(s) && mode != DKIM_KEYS_LOAD && dkim_file_missing(s->keyspec)) {
		if (!s->sc.sign) {
			dkim_problem(err,
			             "[%s]: key file %s does not exist (the key of a sign = no "
			             "selector is never created)",
			             sect, s->keyspec);
			return -ENOENT;
		}
		snprintf(dir, sizeof(dir), "%s", s->keyspec);
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		if (access(slash ? dir : ".", W_OK | X_OK) < 0) {
			r = -errno;
			dkim_problem(err, "[%s]: key file %s cannot be created in %s: %s", sect,
			             s->keyspec, slash ? dir : ".", strerror(-r));
			return r;
		}
		s->missing = true;
		return 0;
	}
	buf_init(&e);
	r = keys_load(s->keyspec, agr, &s->key, &e);
	if (r == -EACCES && dkim_ours(s)) {
		struct passwd pwd, *pw = NULL;
		char pwbuf[1024];
		getpwuid_r(geteuid(), &pwd, pwbuf, sizeof(pwbuf), &pw);
		const char *user = pw ? pw->pw_name : "the service user";
		buf_printf(&e, " (as user %s): chown %s %s; chmod 0600 %s", user, user, s->keyspec,
		           s->keyspec);
	}
	if (r < 0)
		dkim_problem(err, "%s", buf_cstr(&e));
	else if ((s->type == KEYS_ED25519) != (EVP_PKEY_get_base_id(s->key) == EVP_PKEY_ED25519)) {
		dkim_problem(err, "[%s]: algorithm %s does not match the key in %s", sect,
		             s->type == KEYS_ED25519 ? "ed25519-sha256" : "rsa-sha256", s->keyspec);
		r = -EINVAL;
	}
	buf_fini(&e);
	return r;
}

static int dkim_domain_build(const struct cfg *cfg, struct dkim_domain *dom, enum dkim_keys mode,
                             struct buf *err)
{
	size_t n;
	const char *const *names = cfg_list(cfg, dkim_section(cfg, dom->section), "selectors", &n);
	static const char *const def[] = { DKIM_DEFAULT_SELECTOR, NULL };
	int rc = 0;
	if (n > DKIM_MAX_SELECTORS) {
		const char *sect = dkim_section(cfg, dom->section);
		dkim_problem(err,
		             "%s:%u: [%s] selectors: %zu listed, the limit is DKIM_MAX_SELECTORS "
		             "(%d per domain)",
		             cfg_path(cfg), cfg_line(cfg, sect, "selectors"), dom->section, n,
		             DKIM_MAX_SELECTORS);
		return -EINVAL;
	}
	dom->is_default = n == 0;
	if (dom->is_default) {
		names = def;
		n = 1;
	}
	dom->sel = xcalloc(n, sizeof(*dom->sel));
	dom->nsel = n;
	for (size_t j = 0; j < n; j++) {
		struct dkim_selector *s = &dom->sel[j];
		char sect[600];
		bool twice = false;
		if (!dkim_valid_selector(names[j])) {
			dkim_problem(err, "[%s] selectors: bad selector name '%s'", dom->section,
			             names[j]);
			rc = -EINVAL;
			continue;
		}
		for (size_t k = 0; k < j; k++)
			twice |= dom->sel[k].name && strcmp(dom->sel[k].name, names[j]) == 0;
		if (twice) {
			dkim_problem(err, "[%s] selectors: '%s' listed twice", dom->section,
			             names[j]);
			rc = -EINVAL;
			continue;
		}
		s->name = xstrdup(names[j]);
		s->sc.name = s->name;
		s->state_key = xasprintf("%s/%s", dom->d, s->name);
		snprintf(sect, sizeof(sect), "%s/%s", dom->section, s->name);
		const char *written = dkim_section(cfg, sect);
		if (!written && dom->d != dom->section) {
			/* [*.d]'s selectors live under d: [d/sel] serves both */
			snprintf(sect, sizeof(sect), "%s/%s", dom->d, s->name);
			written = dkim_section(cfg, sect);
		}
		bool has = written != NULL;
		if (has)
			snprintf(sect, sizeof(sect), "%s", written);
		const char *key = has ? cfg_str(cfg, sect, "key") : "";
		s->type = has ? (enum keys_type)cfg_enum(cfg, sect, "algorithm") : KEYS_RSA;
		s->bits = has ? (int)cfg_int(cfg, sect, "bits") : 2048;
		s->sc.sign = has ? cfg_bool(cfg, sect, "sign") : true;
		s->keyspec = *key ? xstrdup(key)
		                  : xasprintf("%s/%s.%s.key", cfg_str(cfg, NULL, "keydir"), dom->d,
		                              s->name);
		int r = dkim_selector_key(cfg, sect, s, mode, err);
		if (r < 0)
			rc = r;
	}
	return rc;
}

static char *dkim_marker(const struct cfg *cfg, const struct dkim_domain *dom,
                         const struct dkim_selector *s)
{
	return xasprintf("%s/%s.%s.gated", cfg_str(cfg, NULL, "keydir"), dom->d, s->name);
}

/* dkim_generate() - create every missing key of @c; on any failure remove the keys
 * (and markers) made here, so a refused config leaves nothing new behind. */
static int dkim_generate(struct dkim_conf *c, struct buf *made, struct buf *err)
{
	int r = 0;
	for (size_t i = 0; i < c->ndom && r == 0; i++) {
		struct dkim_domain *dom = &c->dom[i];
		for (size_t j = 0; j < dom->nsel && r == 0; j++) {
			struct dkim_selector *s = &dom->sel[j];
			struct buf e;
			if (!s->missing)
				continue;
			buf_init(&e);
			r = keys_generate(s->keyspec, s->type, s->bits, &s->key, &e);
			if (r == -EEXIST) { /* [d] and [*.d] share d=, so its key files */
				buf_reset(&e);
				r = keys_load(s->keyspec,
				              cfg_bool(c->cfg, NULL, "allow_group_readable"),
				              &s->key, &e);
				if (r < 0)
					dkim_problem(err, "%s", buf_cstr(&e));
				else
					s->missing = false;
				buf_fini(&e);
				continue;
			}
			if (r < 0) {
				dkim_problem(err, "%s", buf_cstr(&e));
			} else {
				s->generated = true;
				s->missing = false;
			}
			buf_fini(&e);
			if (r == 0 && dom->is_default) {
				char *marker = dkim_marker(c->cfg, dom, s);
				int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
				if (fd >= 0)
					close(fd);
				free(marker);
			}
		}
	}
	for (size_t i = 0; i < c->ndom && r < 0; i++)
		for (size_t j = 0; j < c->dom[i].nsel; j++) {
			struct dkim_selector *s = &c->dom[i].sel[j];
			if (!s->generated)
				continue;
			unlink(s->keyspec);
			if (c->dom[i].is_default) {
				char *marker = dkim_marker(c->cfg, &c->dom[i], s);
				unlink(marker);
				free(marker);
			}
		}
	if (r == 0 && made)
		for (size_t i = 0; i < c->ndom; i++)
			for (size_t j = 0; j < c->dom[i].nsel; j++)
				if (c->dom[i].sel[j].generated)
					buf_printf(made, "created %s (%s)\n",
					           c->dom[i].sel[j].keyspec,
					           c->dom[i].sel[j].type == KEYS_ED25519 ? "ed25519"
					                                                 : "rsa");
	return r;
}

/* authserv_id, or the host name when empty. */
static char *dkim_authserv_id(const struct cfg *cfg)
{
	const char *id = cfg_str(cfg, NULL, "authserv_id");
	char host[256] = "localhost";
	if (!*id && gethostname(host, sizeof(host) - 1) == 0)
		host[sizeof(host) - 1] = '\0';
	return xstrdup(*id ? id : host);
}

/* arc_domain must be a domain section and arc_selector one of its selectors. */
static int dkim_arc_build(struct dkim_conf *c, struct buf *err)
{
	const char *d = cfg_str(c->cfg, NULL, "arc_domain");
	const char *sel = cfg_str(c->cfg, NULL, "arc_selector");
	if (!*d)
		return 0;
	const struct dkim_domain *dom = dkim_conf_domain(c, d);
	for (size_t j = 0; dom && j < dom->nsel; j++) {
		if (dom->sel[j].name && strcmp(dom->sel[j].name, sel) == 0) {
			c->arc_dom = dom;
			c->arc_sel = j;
			return 0;
		}
	}
	if (!dom)
		dkim_problem(err, "%s:%u: arc_domain %s: no [%s] section", cfg_path(c->cfg),
		             cfg_line(c->cfg, NULL, "arc_domain"), d, d);
	else
		dkim_problem(err, "%s:%u: arc_selector '%s' is not a selector of [%s]",
		             cfg_path(c->cfg), cfg_line(c->cfg, NULL, "arc_selector"), sel, d);
	return -EINVAL;
}

struct dkim_conf *dkim_conf_build(const struct cfg *cfg, enum dkim_keys mode, struct buf *made,
                                  struct buf *err)
{
	struct dkim_conf *c = xcalloc(1, sizeof(*c));
	size_t ns = cfg_section_count(cfg);
	bool bad = false;

	c->cfg = cfg;
	c->sign_networks = cfg_cidrs(cfg, NULL, "sign_networks");
	c->dns_check_interval_ms = cfg_duration_ms(cfg, NULL, "dns_check_interval");
	c->retire_grace_ms = cfg_duration_ms(cfg, NULL, "retire_grace");
	c->expire_ms = cfg_duration_ms(cfg, NULL, "expire");
	c->on_error_accept = cfg_enum(cfg, NULL, "on_error") == DKIM_ON_ERROR_ACCEPT;
	c->verify = cfg_bool(cfg, NULL, "verify");
	c->verify_lookups = (int)cfg_int(cfg, NULL, "verify_lookups");
	c->arc_seal = (enum dkim_arc_seal)cfg_enum(cfg, NULL, "arc_seal");
	c->trusted_ids = cfg_list(cfg, NULL, "trusted_authserv_ids", &c->ntrusted);
	c->authserv_id = dkim_authserv_id(cfg);
	c->dom = xcalloc(ns ? ns : 1, sizeof(*c->dom));
	c->sections = xcalloc(ns ? ns : 1, sizeof(*c->sections));

	for (size_t i = 0; i < ns; i++) {
		const char *name = cfg_section_name(cfg, i);
		char dom[256];
		const char *sel;
		int split = dkim_conf_split(name, dom, sizeof(dom), &sel);
		if (split < 0)
			continue; /* the schema refused it already */
		if (split == 0) {
			char wild[260];
			snprintf(wild, sizeof(wild), "*.%s", dom);
			if (!dkim_section(cfg, dom) && !dkim_section(cfg, wild)) {
				dkim_problem(err, "[%s]: no [%s] section for this selector", name,
				             dom);
				bad = true;
			}
			continue;
		}
		struct dkim_domain *d = &c->dom[c->ndom++];
		d->section = xstrdup(name);
		for (char *p = d->section; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		d->d = strncmp(d->section, "*.", 2) == 0 ? d->section + 2 : d->section;
		c->sections[c->ndom - 1] = d->section;
		if (dkim_domain_build(cfg, d, mode, err) < 0)
			bad = true;
	}
	/* a selector section must be listed by its domain */
	for (size_t i = 0; i < ns; i++) {
		const char *name = cfg_section_name(cfg, i);
		char dom[256];
		const char *sel;
		if (dkim_conf_split(name, dom, sizeof(dom), &sel) != 0)
			continue;
		char wild[260];
		snprintf(wild, sizeof(wild), "*.%s", dom);
		bool listed = false;
		for (int k = 0; k < 2; k++) {
			const struct dkim_domain *d = dkim_conf_domain(c, k ? wild : dom);
			for (size_t j = 0; d && j < d->nsel; j++)
				listed |= d->sel[j].name && strcmp(d->sel[j].name, sel) == 0;
		}
		if (!listed && (dkim_section(cfg, dom) || dkim_section(cfg, wild))) {
			dkim_problem(err, "[%s]: selector not listed in [%s] selectors", name, dom);
			bad = true;
		}
	}
	if (dkim_arc_build(c, err) < 0)
		bad = true;
	if (bad || (mode == DKIM_KEYS_CREATE && dkim_generate(c, made, err) < 0))
		goto fail;
	for (size_t i = 0; i < c->ndom; i++)
		for (size_t j = 0; j < c->dom[i].nsel; j++) {
			struct dkim_selector *s = &c->dom[i].sel[j];
			char *marker = dkim_marker(cfg, &c->dom[i], s);
			s->sc.legacy = c->dom[i].is_default && !dkim_file_exists(marker) &&
			               !s->generated && !s->missing;
			if (s->missing && made)
				buf_printf(made,
				           "missing %s (%s): `keygen` or the daemon at start "
				           "creates it\n",
				           s->keyspec, s->type == KEYS_ED25519 ? "ed25519" : "rsa");
			free(marker);
		}
	return c;
fail:
	dkim_conf_free(c);
	return NULL;
}
