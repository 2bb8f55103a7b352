/* keylookup: the verifier's DNS (RFC 6376 3.6.2.2: the TXT record at
 * <s>._domainkey.<d>; several records: the first is used).
 *
 * One resolver (common/dns.h, libunbound) for the process, made on first use
 * from the message's configuration (resolver, trust_anchor, dns_timeout). The first
 * DNS lookup under a configuration that changed one of them (a reload) replaces it and empties the
 * cache; the old one is freed by its last user. Answers are cached for their TTL, between 60 s and
 * 1 h, names without a record for 5 min; failures are not cached. A cached record that is a usable
 * key is kept parsed too, and handed out as a new reference (EVP_PKEYs are shared read-only between
 * threads): decoding an RSA key costs more than verifying a signature with it. Each message has a
 * budget of DNS lookups (verify_lookups), so a message carrying many signatures cannot make many
 * queries. Threads: libmilter's, one per connection; the cache and the resolver's creation are
 * under one mutex, the lookups themselves run unlocked (the resolver is thread safe; each lookup
 * holds a use count on it).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "dns.h"
#include "keylookup.h"
#include "keys.h"
#include "verify.h"
#include "xalloc.h"

#define KEYLOOKUP_TTL_MIN 60
#define KEYLOOKUP_TTL_MAX 3600
#define KEYLOOKUP_NONE_TTL 300

struct cache_entry {
	char *name;
	char *txt;     /* NULL: no record */
	EVP_PKEY *pub; /* txt parsed, when it is a usable key; else NULL */
	time_t expires;
};

/* A resolver and the settings it was made from. */
struct resolver {
	struct dns *dns;
	char *forwarder;    /* resolver =, or NULL */
	char *trust_anchor; /* trust_anchor =, or NULL */
	uint64_t timeout;   /* dns_timeout =, ms */
	int users;          /* lookups running on it */
	bool retired;       /* replaced: the last user frees it */
};

static pthread_mutex_t keylookup_lock = PTHREAD_MUTEX_INITIALIZER;
static struct resolver *keylookup_res;
static struct cache_entry keylookup_cache[KEYLOOKUP_CACHE];
static size_t keylookup_next;

/* 1: found in the cache (0 or VERIFY_KEY_NONE in *r; the key in *pub, or the record in
 * txt), 0: not cached. */
static int cache_get(const char *name, struct buf *txt, EVP_PKEY **pub, int *r, time_t now)
{
	int found = 0;
	pthread_mutex_lock(&keylookup_lock);
	for (size_t i = 0; i < KEYLOOKUP_CACHE; i++) {
		struct cache_entry *e = &keylookup_cache[i];
		if (e->name && e->expires > now && strcmp(e->name, name) == 0) {
			if (e->pub && EVP_PKEY_up_ref(e->pub) == 1)
				*pub = e->pub;
			else if (e->txt)
				buf_puts(txt, e->txt);
			*r = e->txt ? 0 : VERIFY_KEY_NONE;
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&keylookup_lock);
	return found;
}

/* Cache @name's record @txt (NULL: none) until @expires, parsed when it is a usable key;
 * that key also goes to *@parsed as a new reference (NULL: not wanted). */
static void cache_put(const char *name, const char *txt, time_t expires, EVP_PKEY **parsed)
{
	EVP_PKEY *pub = NULL;
	int type;
	if (txt && keys_txt_parse(txt, &pub, &type) != KEYS_TXT_MATCH) {
		EVP_PKEY_free(pub);
		pub = NULL;
	}
	if (pub && parsed && EVP_PKEY_up_ref(pub) == 1)
		*parsed = pub;
	pthread_mutex_lock(&keylookup_lock);
	struct cache_entry *e = &keylookup_cache[keylookup_next];
	keylookup_next = (keylookup_next + 1) % KEYLOOKUP_CACHE;
	free(e->name);
	free(e->txt);
	EVP_PKEY_free(e->pub);
	e->name = xstrdup(name);
	e->txt = txt ? xstrdup(txt) : NULL;
	e->pub = pub;
	e->expires = expires;
	pthread_mutex_unlock(&keylookup_lock);
}

static void resolver_free(struct resolver *r)
{
	dns_free(r->dns);
	free(r->forwarder);
	free(r->trust_anchor);
	free(r);
}

static void cache_clear_locked(void)
{
	for (size_t i = 0; i < KEYLOOKUP_CACHE; i++) {
		free(keylookup_cache[i].name);
		free(keylookup_cache[i].txt);
		EVP_PKEY_free(keylookup_cache[i].pub);
		keylookup_cache[i] = (struct cache_entry){ 0 };
	}
}

/* Drop the current resolver (its last user frees it) and the answers it gave. */
static void resolver_retire_locked(void)
{
	struct resolver *r = keylookup_res;
	if (r) {
		r->retired = true;
		if (r->users == 0)
			resolver_free(r);
		keylookup_res = NULL;
	}
	cache_clear_locked();
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The resolver for @c's settings, with a use count taken (resolver_put()), or NULL. */
static struct resolver *resolver_get(const struct dkim_conf *c)
{
	const char *fw = cfg_str(c->cfg, NULL, "resolver");
	const char *ta = cfg_str(c->cfg, NULL, "trust_anchor");
	uint64_t timeout = cfg_duration_ms(c->cfg, NULL, "dns_timeout");
	pthread_mutex_lock(&keylookup_lock);
	struct resolver *r = keylookup_res;
	if (r && (!same(r->forwarder, fw) || !same(r->trust_anchor, ta) || r->timeout != timeout)) {
		resolver_retire_locked();
		r = NULL;
	}
	if (!r) {
		struct dns *dns = dkim_conf_resolver(c);
		if (dns) {
			r = xcalloc(1, sizeof(*r));
			r->dns = dns;
			r->forwarder = fw ? xstrdup(fw) : NULL;
			r->trust_anchor = ta ? xstrdup(ta) : NULL;
			r->timeout = timeout;
			keylookup_res = r;
		}
	}
	if (r)
		r->users++;
	pthread_mutex_unlock(&keylookup_lock);
	return r;
}

static void resolver_put(struct resolver *r)
{
	pthread_mutex_lock(&keylookup_lock);
	if (--r->users == 0 && r->retired)
		resolver_free(r);
	pthread_mutex_unlock(&keylookup_lock);
}

int keylookup_txt(void *arg, const char *name, struct buf *txt, EVP_PKEY **parsed)
{
	struct keylookup_msg *m = arg;
	time_t now = time(NULL);
	int r;
	if (cache_get(name, txt, parsed, &r, now))
		return r;
	if (m->left <= 0)
		return -EDQUOT;
	m->left--;
	m->used++;
	struct resolver *rs = resolver_get(m->conf);
	if (!rs)
		return -ENOMEM;
	struct dns_result *res = NULL;
	r = dns_txt(rs->dns, name, &res);
	resolver_put(rs);
	if (r == DNS_ANSWER && res->count > 0) {
		const struct dns_txt *t = &res->txt[0];
		buf_append(txt, t->text, t->len);
		time_t ttl = res->ttl < KEYLOOKUP_TTL_MIN   ? KEYLOOKUP_TTL_MIN
		             : res->ttl > KEYLOOKUP_TTL_MAX ? KEYLOOKUP_TTL_MAX
		                                            : (time_t)res->ttl;
		cache_put(name, buf_cstr(txt), now + ttl, parsed);
		r = 0;
	} else if (r == DNS_NXDOMAIN || r == DNS_NODATA) {
		cache_put(name, NULL, now + KEYLOOKUP_NONE_TTL, NULL);
		r = VERIFY_KEY_NONE;
	} else if (r >= 0) {
		r = -EIO; /* DNSSEC bogus */
	}
	dns_result_free(res);
	return r;
}

void keylookup_fini(void)
{
	pthread_mutex_lock(&keylookup_lock);
	resolver_retire_locked();
	pthread_mutex_unlock(&keylookup_lock);
}
