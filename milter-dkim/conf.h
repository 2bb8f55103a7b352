/* conf: milter-dkim's configuration snapshot: the key table for the config
 * file and what is built from it (domains, selectors, loaded keys). */
#ifndef POSTWARDEN_DKIM_CONF_H
#define POSTWARDEN_DKIM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "buf.h"
#include "cfg.h"
#include "cidr.h"
#include "keys.h"
#include "selector_policy.h"

#define DKIM_DEFAULT_SELECTOR "mail"

/* At most this many selectors in one domain's `selectors =` list; a config with more
 * is refused (the signing path keeps a domain's active selectors on the stack). */
#define DKIM_MAX_SELECTORS 64

struct dkim_selector {
	struct selector_conf sc; /* name, sign, legacy (sc.name points to name) */
	char *name;
	char *keyspec; /* path or credential:<name> */
	enum keys_type type;
	int bits;
	EVP_PKEY *key;   /* loaded once; shared read-only by signing threads */
	bool generated;  /* created by this build */
	bool missing;    /* DKIM_KEYS_CHECK: no key yet; keygen would create it (key NULL) */
	char *state_key; /* "<d>/<selector>": the gate table's key */
};

struct dkim_domain {
	char *section; /* "example.org" or "*.example.org" */
	const char *d; /* d= (points into section) */
	struct dkim_selector *sel;
	size_t nsel;
	bool is_default; /* no `selectors =`: the default selector "mail" */
};

/* arc_seal: which mail gets an ARC set (cfg_enum order). */
enum dkim_arc_seal {
	DKIM_ARC_RELAY,  /* a recipient is not delivered here ({rcpt_mailer}) */
	DKIM_ARC_ALWAYS, /* every message */
	DKIM_ARC_NO,
};

struct dkim_conf {
	const struct cfg *cfg;
	struct dkim_domain *dom;
	size_t ndom;
	const char **sections; /* dom[i].section, for selector_policy_match_domain() */
	const struct cidr_list *sign_networks;
	uint64_t dns_check_interval_ms;
	uint64_t retire_grace_ms;
	uint64_t expire_ms; /* 0: no x= */
	bool on_error_accept;
	bool verify;                    /* DKIM/ARC verification, Authentication-Results */
	int verify_lookups;             /* DNS key lookups per message */
	char *authserv_id;              /* ours: authserv_id, or the host name */
	const char *const *trusted_ids; /* trusted_authserv_ids */
	size_t ntrusted;
	enum dkim_arc_seal arc_seal;
	const struct dkim_domain *arc_dom; /* arc_domain, NULL: no sealing */
	size_t arc_sel;                    /* arc_selector's index in arc_dom->sel */
};

extern const struct cfg_schema dkim_schema;

/* What dkim_conf_build() does about keys. */
enum dkim_keys {
	DKIM_KEYS_LOAD,   /* every key must exist (dns, status, check-dns) */
	DKIM_KEYS_CHECK,  /* load the keys that exist, create none (check) */
	DKIM_KEYS_CREATE, /* the whole config is checked first, then missing keys made */
};

/**
 * dkim_conf_build() - domains and selectors from @cfg, keys loaded.
 * @mode: DKIM_KEYS_CREATE generates the missing key of each sign = yes selector
 *        (never one of a sign = no selector), only once the whole config passed;
 *        if a generation fails, the keys made by this call are removed again.
 *        DKIM_KEYS_CHECK loads what exists and leaves a missing key NULL (->missing).
 * @made: if not NULL, receives one line per generated key ("created PATH (TYPE)"),
 *        or with DKIM_KEYS_CHECK per missing one ("missing PATH (TYPE): ...")
 * @err: on failure, gets every problem found, one line each (buf.h), each naming
 *       the file or section; may be NULL
 * Return: the snapshot (free with dkim_conf_free()), or NULL.
 */
struct dkim_conf *dkim_conf_build(const struct cfg *cfg, enum dkim_keys mode, struct buf *made,
                                  struct buf *err);
void dkim_conf_free(struct dkim_conf *c);

struct dns;
/* dkim_conf_resolver() - a resolver for the DNS gate as `resolver =`,
 * `trust_anchor =` and `dns_timeout =` say. Return it (free with dns_free()), or NULL. */
struct dns *dkim_conf_resolver(const struct dkim_conf *c);

/* dkim_conf_split() outcome: @name has no '/' (a domain section). */
#define DKIM_CONF_NO_SELECTOR 1

/**
 * dkim_conf_split() - split a "[domain/selector]" section name (or a selector's
 * state_key, "<d>/<selector>") at its first '/'.
 * @name: the name
 * @dom: receives the domain part, NUL-terminated
 * @domsz: room in @dom (256 holds any DNS name)
 * @sel: receives the selector part (points into @name)
 * Return: 0; DKIM_CONF_NO_SELECTOR when @name has no '/'; -ENAMETOOLONG when the
 * domain part does not fit @dom.
 */
int dkim_conf_split(const char *name, char *dom, size_t domsz, const char **sel);

/* dkim_conf_domain() - the domain whose section is named @section, or NULL. */
const struct dkim_domain *dkim_conf_domain(const struct dkim_conf *c, const char *section);

#endif
