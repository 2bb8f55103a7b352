/* keylookup: the verifier's DNS (RFC 6376 3.6.2.2: the TXT record at
 * <s>._domainkey.<d>; several records: the first is used).
 *
 * One resolver (common/dns.h, libunbound) for the process, made on first use
 * from the configuration then current (resolver, trust_anchor: a change needs a
 * restart to reach verification). Answers are cached for their TTL, between 60 s
 * and 1 h, names without a record for 5 min; failures are not cached. A cached
 * record that is a usable key is kept parsed too, and handed out as a new reference
 * (EVP_PKEYs are shared read-only between threads): decoding an RSA key costs more
 * than verifying a signature with it. Each
 * message has a budget of DNS lookups (verify_lookups), so a message carrying
 * many signatures cannot make many queries. Threads: libmilter's, one per
 * connection; the cache and the resolver's creation are under one mutex, the
 * lookups themselves run unlocked (the resolver is thread safe).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static pthread_mutex_t keylookup_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dns *keylookup_dns;
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

static void cache_put(const char *name, const char *txt, time_t expires)
{
	EVP_PKEY *pub = NULL;
	int type;
	if (txt && keys_txt_parse(txt, &pub, &type) != KEYS_TXT_MATCH) {
		EVP_PKEY_free(pub);
		pub = NULL;
	}
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

static struct dns *resolver(const struct dkim_conf *c)
{
	pthread_mutex_lock(&keylookup_lock);
	if (!keylookup_dns)
		keylookup_dns = dkim_conf_resolver(c);
	struct dns *d = keylookup_dns;
	pthread_mutex_unlock(&keylookup_lock);
	return d;
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
	struct dns *dns = resolver(m->conf);
	if (!dns)
		return -ENOMEM;
	struct dns_result *res = NULL;
	r = dns_txt(dns, name, &res);
	if (r == DNS_ANSWER && res->count > 0) {
		const struct dns_txt *t = &res->txt[0];
		buf_append(txt, t->text, t->len);
		time_t ttl = res->ttl < KEYLOOKUP_TTL_MIN   ? KEYLOOKUP_TTL_MIN
		             : res->ttl > KEYLOOKUP_TTL_MAX ? KEYLOOKUP_TTL_MAX
		                                            : (time_t)res->ttl;
		cache_put(name, buf_cstr(txt), now + ttl);
		r = 0;
	} else if (r == DNS_NXDOMAIN || r == DNS_NODATA) {
		cache_put(name, NULL, now + KEYLOOKUP_NONE_TTL);
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
	dns_free(keylookup_dns);
	keylookup_dns = NULL;
	for (size_t i = 0; i < KEYLOOKUP_CACHE; i++) {
		free(keylookup_cache[i].name);
		free(keylookup_cache[i].txt);
		EVP_PKEY_free(keylookup_cache[i].pub);
		keylookup_cache[i] = (struct cache_entry){ 0 };
	}
	pthread_mutex_unlock(&keylookup_lock);
}
