/* keylookup: DKIM key records for the verifier (verify_keys), from DNS through one
 * resolver per process, with a shared cache and a per-message lookup budget. */
#ifndef POSTWARDEN_DKIM_KEYLOOKUP_H
#define POSTWARDEN_DKIM_KEYLOOKUP_H

#include <openssl/evp.h>

#include "buf.h"
#include "conf.h"

/* Entries in the process-wide cache of key records. */
#define KEYLOOKUP_CACHE 512

/* One message's lookups: @conf for the resolver, @left DNS lookups allowed. */
struct keylookup_msg {
	const struct dkim_conf *conf;
	int left;
	int used;
};

/**
 * keylookup_txt() - a struct verify_keys lookup: the TXT record of @name.
 * @arg: a struct keylookup_msg
 * @name: "<s>._domainkey.<d>"
 * @txt: receives the record (its character-strings joined)
 * @parsed: receives a new reference to the key when the record is a usable key (it is
 *          parsed once, when cached; a cached one then leaves @txt empty)
 *
 * A cached answer costs nothing; a DNS lookup costs one of @arg's budget.
 * Return: 0, VERIFY_KEY_NONE (NXDOMAIN, no TXT), -EDQUOT (budget spent), or
 * -errno (resolver failure, DNSSEC bogus).
 */
int keylookup_txt(void *arg, const char *name, struct buf *txt, EVP_PKEY **parsed);

/* keylookup_fini() - free the resolver and the cache (at exit). */
void keylookup_fini(void);

#endif
