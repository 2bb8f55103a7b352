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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "dns.h"
#include "xalloc.h"

static const struct cfg_key dkim_global_keys[] = {
	DAEMON_KEYS("unix:/var/spool/postfix/milter-dkim/milter.sock", "milter-dkim"),
	{ "keydir", CFG_STRING, "/var/lib/milter-dkim/keys", 0, 0, 0, NULL,
	  "where generated keys live (<domain>.<selector>.key)" },
	{ "sign_networks", CFG_CIDRS, "127.0.0.0/8 ::1", 0, 0, 0, NULL,
	  "clients whose mail is signed without SMTP AUTH" },
	{ "resolver", CFG_STRING, "", 0, 0, 0, NULL,
	  "DNS for the selector gate: empty = resolv.conf, or addr@port" },
	{ "trust_anchor", CFG_STRING, "", 0, 0, 0, NULL,
	  "DNSSEC trust anchor file (DS or DNSKEY records); empty: no validation" },
	{ "dns_check_interval", CFG_DURATION, "1h", 0, 1000, 2592000000LL, NULL,
	  "how often selectors' TXT records are checked" },
	{ "retire_grace", CFG_DURATION, "7d", 0, 0, 0, NULL,
	  "how long a sign = no selector stays published after it last signed" },
	{ "on_error", CFG_ENUM, "tempfail", 0, 0, 0, "tempfail|accept",
	  "what a signing failure does to the message" },
	{ "expire", CFG_DURATION, "", 0, 0, 0, NULL, "signature lifetime (x= tag); empty: none" },
	{ "allow_group_readable", CFG_BOOL, "no", 0, 0, 0, NULL,
	  "accept key files readable by their group" },
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

static const struct cfg_key *dkim_section_keys(const char *name)
{
	const char *slash = strchr(name, '/');
	if (!slash)
		return dkim_valid_domain(name) ? dkim_domain_keys : NULL;
	char dom[256];
	size_t n = (size_t)(slash - name);
	if (n >= sizeof(dom))
		return NULL;
	memcpy(dom, name, n);
	dom[n] = '\0';
	return dkim_valid_domain(dom) && dkim_valid_selector(slash + 1) ? dkim_selector_keys : NULL;
}

const struct cfg_schema dkim_schema = {
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
	free(c);
}

struct dns *dkim_conf_resolver(const struct dkim_conf *c)
{
	struct dns_opts o = {
		.forwarder = cfg_str(c->cfg, NULL, "resolver"),
		.trust_anchor = cfg_str(c->cfg, NULL, "trust_anchor"),
		.timeout_ms = 5000,
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

/* The selector's key: load it, or generate it when it is one of ours and missing. */
static int dkim_selector_key(const struct cfg *cfg, struct dkim_domain *dom,
                             struct dkim_selector *s, bool is_default, bool create,
                             struct buf *made, struct buf *err)
{
	bool agr = cfg_bool(cfg, NULL, "allow_group_readable");
	bool ours = strncmp(s->keyspec, "credential:", 11) != 0;
	char *marker = xasprintf("%s/%s.%s.gated", cfg_str(cfg, NULL, "keydir"), dom->d, s->name);
	int r = 0;

	if (ours && create && !dkim_file_exists(s->keyspec)) {
		r = keys_generate(s->keyspec, s->type, s->bits, &s->key, err);
		if (r < 0 && r != -EEXIST)
			goto out;
		if (r == 0) {
			s->generated = true;
			if (made)
				buf_printf(made, "created %s (%s)\n", s->keyspec,
				           s->type == KEYS_ED25519 ? "ed25519" : "rsa");
			if (is_default) {
				int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
				if (fd >= 0)
					close(fd);
			}
		}
	}
	if (!s->key && (r = keys_load(s->keyspec, agr, &s->key, err)) < 0)
		goto out;
	s->sc.legacy = is_default && !dkim_file_exists(marker) && !s->generated;
	r = 0;
out:
	free(marker);
	return r;
}

static int dkim_domain_build(const struct cfg *cfg, struct dkim_domain *dom, bool create,
                             struct buf *made, struct buf *err)
{
	size_t n;
	const char *const *names = cfg_list(cfg, dkim_section(cfg, dom->section), "selectors", &n);
	bool is_default = n == 0;
	static const char *const def[] = { DKIM_DEFAULT_SELECTOR, NULL };
	if (is_default) {
		names = def;
		n = 1;
	}
	dom->sel = xcalloc(n, sizeof(*dom->sel));
	for (size_t j = 0; j < n; j++) {
		struct dkim_selector *s = &dom->sel[j];
		char sect[600];
		dom->nsel = j + 1;
		if (!dkim_valid_selector(names[j])) {
			buf_printf(err, "[%s] selectors: bad selector name '%s'", dom->section,
			           names[j]);
			return -EINVAL;
		}
		for (size_t k = 0; k < j; k++)
			if (strcmp(dom->sel[k].name, names[j]) == 0) {
				buf_printf(err, "[%s] selectors: '%s' listed twice", dom->section,
				           names[j]);
				return -EINVAL;
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
		const char *alg = has ? cfg_str(cfg, sect, "algorithm") : "rsa-sha256";
		const char *key = has ? cfg_str(cfg, sect, "key") : "";
		s->type = strcmp(alg, "ed25519-sha256") == 0 ? KEYS_ED25519 : KEYS_RSA;
		s->bits = has ? (int)cfg_int(cfg, sect, "bits") : 2048;
		s->sc.sign = has ? cfg_bool(cfg, sect, "sign") : true;
		s->keyspec = *key ? xstrdup(key)
		                  : xasprintf("%s/%s.%s.key", cfg_str(cfg, NULL, "keydir"), dom->d,
		                              s->name);
		int r = dkim_selector_key(cfg, dom, s, is_default, create, made, err);
		if (r < 0)
			return r;
		if ((s->type == KEYS_ED25519) !=
		    (EVP_PKEY_get_base_id(s->key) == EVP_PKEY_ED25519)) {
			buf_printf(err, "[%s]: algorithm %s does not match the key in %s", sect,
			           alg, s->keyspec);
			return -EINVAL;
		}
	}
	return 0;
}

struct dkim_conf *dkim_conf_build(const struct cfg *cfg, bool create, struct buf *made,
                                  struct buf *err)
{
	struct dkim_conf *c = xcalloc(1, sizeof(*c));
	size_t ns = cfg_section_count(cfg);

	c->cfg = cfg;
	c->sign_networks = cfg_cidrs(cfg, NULL, "sign_networks");
	c->dns_check_interval_ms = cfg_duration_ms(cfg, NULL, "dns_check_interval");
	c->retire_grace_ms = cfg_duration_ms(cfg, NULL, "retire_grace");
	c->expire_ms = cfg_duration_ms(cfg, NULL, "expire");
	c->on_error_accept = strcmp(cfg_str(cfg, NULL, "on_error"), "accept") == 0;
	c->dom = xcalloc(ns ? ns : 1, sizeof(*c->dom));
	c->sections = xcalloc(ns ? ns : 1, sizeof(*c->sections));

	for (size_t i = 0; i < ns; i++) {
		const char *name = cfg_section_name(cfg, i);
		if (strchr(name, '/')) {
			char dom[256];
			size_t n = (size_t)(strchr(name, '/') - name);
			snprintf(dom, sizeof(dom), "%.*s", (int)n, name);
			char wild[260];
			snprintf(wild, sizeof(wild), "*.%s", dom);
			if (!dkim_section(cfg, dom) && !dkim_section(cfg, wild)) {
				buf_printf(err, "[%s]: no [%s] section for this selector", name,
				           dom);
				goto fail;
			}
			continue;
		}
		struct dkim_domain *d = &c->dom[c->ndom++];
		d->section = xstrdup(name);
		for (char *p = d->section; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		d->d = strncmp(d->section, "*.", 2) == 0 ? d->section + 2 : d->section;
		c->sections[c->ndom - 1] = d->section;
		if (dkim_domain_build(cfg, d, create, made, err) < 0)
			goto fail;
	}
	/* a selector section must be listed by its domain */
	for (size_t i = 0; i < ns; i++) {
		const char *name = cfg_section_name(cfg, i);
		const char *slash = strchr(name, '/');
		if (!slash)
			continue;
		char dom[256];
		snprintf(dom, sizeof(dom), "%.*s", (int)(slash - name), name);
		char wild[260];
		snprintf(wild, sizeof(wild), "*.%s", dom);
		bool listed = false;
		for (int k = 0; k < 2; k++) {
			const struct dkim_domain *d = dkim_conf_domain(c, k ? wild : dom);
			for (size_t j = 0; d && j < d->nsel; j++)
				listed |= strcmp(d->sel[j].name, slash + 1) == 0;
		}
		if (!listed) {
			buf_printf(err, "[%s]: selector not listed in [%s] selectors", name, dom);
			goto fail;
		}
	}
	return c;
fail:
	dkim_conf_free(c);
	return NULL;
}
