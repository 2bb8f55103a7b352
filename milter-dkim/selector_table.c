/* selector_table: milter-dkim's DNS gate table (see selector_table.h): the locked table
 * of selector states, with the DNS checks and the store behind it; the policy it applies
 * is selector_policy.c.
 *
 * A mutex guards a small array of (d/selector, state) entries: signing threads
 * read it once per message (selector_table_active) and record when a selector really
 * signed (selector_table_signed); the background thread runs DNS checks (selector_table_check) and
 * writes changed entries to the store (selector_table_flush, every few seconds), so the
 * store is never on the message path. A failed lookup keeps the last known state (RFC-free policy:
 * a DNS outage must not stop signing). States are loaded from the store when an entry is first
 * seen, so a restart or a new fleet member starts warm. Answers are DNSSEC-validated only when the
 * resolver has a trust anchor (as OpenDKIM's TrustAnchorFile, opendkim.conf(5)); a bogus answer is
 * then a failed lookup. Whether DNS is down is decided from dns_query()'s codes.
 */
#include "selector_table.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "store.h"
#include "xalloc.h"

/* After this many lookups in a row time out, DNS counts as down for the rest of the
 * pass: a start or reload (which waits for the pass) is not held up per selector. */
#define SELECTOR_TABLE_MAX_TIMEOUTS 2

struct selector_table_entry {
	char *key; /* "<d>/<selector>" */
	struct selector_state st;
	bool dirty;
	char store_key[STORE_KEY_MAX];
};

struct selector_table {
	pthread_mutex_t lock;
	struct selector_table_entry *e;
	size_t n, cap;
};

struct selector_table *selector_table_new(void)
{
	struct selector_table *g = xcalloc(1, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	return g;
}

void selector_table_free(struct selector_table *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->e[i].key);
	free(g->e);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* selector_table_store_key() - "pw:dkim:sel:<d>:<selector>" into @out. */
static void selector_table_store_key(const struct dkim_selector *sel, char *out, size_t outsz)
{
	char d[256];
	const char *name;
	if (dkim_conf_split(sel->state_key, d, sizeof(d), &name) == 0)
		snprintf(out, outsz, "pw:dkim:sel:%s:%s", d, name);
	else
		snprintf(out, outsz, "pw:dkim:sel:%s", sel->state_key);
}

/* Called with the lock held. */
static struct selector_table_entry *selector_table_find(struct selector_table *g, const char *key)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->e[i].key, key) == 0)
			return &g->e[i];
	return NULL;
}

void selector_table_add_selectors(struct selector_table *g, const struct dkim_conf *c,
                                  struct store *st, time_t now)
{
	for (size_t i = 0; i < c->ndom; i++) {
		for (size_t j = 0; j < c->dom[i].nsel; j++) {
			const struct dkim_selector *sel = &c->dom[i].sel[j];
			struct selector_state loaded = { 0 };
			char skey[STORE_KEY_MAX];
			bool have = false;

			pthread_mutex_lock(&g->lock);
			bool known = selector_table_find(g, sel->state_key) != NULL;
			pthread_mutex_unlock(&g->lock);
			selector_table_store_key(sel, skey, sizeof(skey));
			if (!known && st) {
				char *v = NULL;
				size_t len;
				if (store_get(st, skey, &v, &len) == 0 &&
				    selector_policy_state_load(v, len, &loaded) == 0)
					have = true;
				free(v);
			}
			pthread_mutex_lock(&g->lock);
			struct selector_table_entry *e = selector_table_find(g, sel->state_key);
			if (!e) {
				if (g->n == g->cap) {
					g->cap = g->cap ? g->cap * 2 : 16;
					g->e = xreallocarray(g->e, g->cap, sizeof(*g->e));
				}
				e = &g->e[g->n++];
				memset(e, 0, sizeof(*e));
				e->key = xstrdup(sel->state_key);
				snprintf(e->store_key, sizeof(e->store_key), "%s", skey);
				if (have)
					e->st = loaded;
			}
			if (selector_policy_track_nosign(&sel->sc, &e->st, now) && !sel->sc.sign)
				e->dirty = true;
			pthread_mutex_unlock(&g->lock);
		}
	}
}

size_t selector_table_active(struct selector_table *g, const struct dkim_domain *dom, size_t *idx)
{
	size_t k = 0;
	pthread_mutex_lock(&g->lock);
	for (size_t j = 0; j < dom->nsel; j++) {
		struct selector_table_entry *e = selector_table_find(g, dom->sel[j].state_key);
		struct selector_state none = { 0 };
		if (selector_policy_signs(&dom->sel[j].sc, e ? &e->st : &none))
			idx[k++] = j;
	}
	pthread_mutex_unlock(&g->lock);
	return k;
}

void selector_table_signed(struct selector_table *g, const struct dkim_domain *dom,
                           const size_t *idx, size_t n, time_t now)
{
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < n; i++) {
		struct selector_table_entry *e = selector_table_find(g, dom->sel[idx[i]].state_key);
		if (!e)
			continue;
		if (selector_policy_signed(&e->st, now))
			e->dirty = true;
	}
	pthread_mutex_unlock(&g->lock);
}

bool selector_table_state(struct selector_table *g, const struct dkim_selector *sel,
                          struct selector_state *out)
{
	pthread_mutex_lock(&g->lock);
	struct selector_table_entry *e = selector_table_find(g, sel->state_key);
	if (e)
		*out = e->st;
	pthread_mutex_unlock(&g->lock);
	return e != NULL;
}

/* selector_table_lookup() - look @sel up; fill @row's err, sec and detail. */
static enum selector_lookup selector_table_lookup(struct dns *dns, const struct dkim_domain *dom,
                                                  const struct dkim_selector *sel,
                                                  struct selector_table_row *row)
{
	char name[600];
	struct dns_result *res = NULL;
	enum selector_lookup out = SELECTOR_POLICY_LOOKUP_MISMATCH;
	const char *detail = "published, another key";

	snprintf(name, sizeof(name), "%s._domainkey.%s", sel->name, dom->d);
	row->err = dns_txt(dns, name, &res);
	row->sec = DNS_SEC_INSECURE;
	if (row->err < 0) {
		snprintf(row->detail, sizeof(row->detail), "lookup failed: %s",
		         dns_error_str(row->err));
		return SELECTOR_POLICY_LOOKUP_FAILED;
	}
	row->sec = res->sec;
	switch (res->outcome) {
	case DNS_NXDOMAIN:
		detail = "not published (NXDOMAIN)";
		out = SELECTOR_POLICY_LOOKUP_ABSENT;
		break;
	case DNS_NODATA:
		detail = "not published (no TXT)";
		out = SELECTOR_POLICY_LOOKUP_ABSENT;
		break;
	case DNS_BOGUS:
		out = SELECTOR_POLICY_LOOKUP_FAILED;
		break;
	default:
		for (size_t i = 0; i < res->count; i++) {
			enum keys_txt_result k = keys_txt_check(res->txt[i].text, sel->key);
			if (k == KEYS_TXT_MATCH) {
				detail = "published, matches key";
				out = SELECTOR_POLICY_LOOKUP_MATCH;
				break;
			}
			if (k == KEYS_TXT_REVOKED)
				detail = "published, revoked (empty p=)";
			else if (k == KEYS_TXT_WRONG_TYPE)
				detail = "published, wrong key type";
			else if (k == KEYS_TXT_MALFORMED && res->count == 1)
				detail = "published, not a DKIM key record";
		}
	}
	if (res->outcome == DNS_BOGUS)
		snprintf(row->detail, sizeof(row->detail), "DNSSEC bogus: %s",
		         res->why_bogus ? res->why_bogus : "no reason given");
	else
		snprintf(row->detail, sizeof(row->detail), "%s", detail);
	dns_result_free(res);
	return out;
}

int selector_table_check(struct selector_table *g, const struct dkim_conf *c, struct dns *dns,
                         struct store *st, const char *only, struct selector_table_row **rows,
                         size_t *nrows)
{
	size_t total = 0, k = 0, down = 0, timeouts = 0;
	time_t now = time(NULL);

	for (size_t i = 0; i < c->ndom; i++)
		total += c->dom[i].nsel;
	struct selector_table_row *out = xcalloc(total ? total : 1, sizeof(*out));
	selector_table_add_selectors(g, c, st, now);
	for (size_t i = 0; i < c->ndom; i++) {
		const struct dkim_domain *dom = &c->dom[i];
		if (only && strcasecmp(only, dom->section) != 0 && strcasecmp(only, dom->d) != 0)
			continue;
		for (size_t j = 0; j < dom->nsel; j++) {
			const struct dkim_selector *sel = &dom->sel[j];
			struct selector_table_row *row = &out[k++];
			row->dom = dom;
			row->sel = sel;
			if (timeouts >= SELECTOR_TABLE_MAX_TIMEOUTS) {
				row->lookup = SELECTOR_POLICY_LOOKUP_FAILED;
				row->err = -ETIMEDOUT;
				snprintf(row->detail, sizeof(row->detail),
				         "not looked up: DNS is not answering (timeout)");
			} else {
				row->lookup = selector_table_lookup(dns, dom, sel, row);
				timeouts = row->err == -ETIMEDOUT ? timeouts + 1 : 0;
			}
			down += dns_error_unreachable(row->err);
			pthread_mutex_lock(&g->lock);
			struct selector_table_entry *e = selector_table_find(g, sel->state_key);
			if (e) {
				e->dirty |= selector_policy_gate_update(&e->st, row->lookup, now);
				row->passes = selector_policy_signs(&sel->sc, &e->st);
				row->doubted = e->st.doubted_at != 0;
			}
			pthread_mutex_unlock(&g->lock);
		}
	}
	if (st)
		selector_table_flush(g, st);
	if (rows) {
		*rows = out;
		*nrows = k;
	} else {
		free(out);
	}
	return k && down == k ? -EHOSTUNREACH : (int)k;
}

int selector_table_refresh(struct selector_table *g, struct store *st)
{
	int changed = 0;
	pthread_mutex_lock(&g->lock);
	size_t n = g->n;
	pthread_mutex_unlock(&g->lock);
	for (size_t i = 0; i < n; i++) {
		char key[STORE_KEY_MAX], *v = NULL;
		size_t len;
		struct selector_state in;
		pthread_mutex_lock(&g->lock);
		snprintf(key, sizeof(key), "%s", g->e[i].store_key);
		pthread_mutex_unlock(&g->lock);
		int r = store_get(st, key, &v, &len);
		if (r < 0)
			return r;
		if (r == 0 && selector_policy_state_load(v, len, &in) == 0) {
			pthread_mutex_lock(&g->lock);
			struct selector_state *mine = &g->e[i].st;
			if (in.checked && in.checked_at > mine->checked_at) {
				mine->checked = true;
				mine->published = in.published;
				mine->matches = in.matches;
				mine->checked_at = in.checked_at;
				mine->doubted_at = in.doubted_at;
				changed++;
			}
			if (in.last_signed > mine->last_signed)
				mine->last_signed = in.last_signed;
			pthread_mutex_unlock(&g->lock);
		}
		free(v);
	}
	return changed;
}

bool selector_table_doubtful(struct selector_table *g)
{
	bool any = false;
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->n && !any; i++)
		any = g->e[i].st.doubted_at != 0;
	pthread_mutex_unlock(&g->lock);
	return any;
}

int selector_table_flush(struct selector_table *g, struct store *st)
{
	int rc = 0;
	struct buf b;
	buf_init(&b);
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->n; i++) {
		struct selector_table_entry *e = &g->e[i];
		if (!e->dirty)
			continue;
		buf_reset(&b);
		selector_policy_state_dump(&e->st, &b);
		char key[STORE_KEY_MAX];
		snprintf(key, sizeof(key), "%s", e->store_key);
		time_t signed_at = e->st.last_signed;
		pthread_mutex_unlock(&g->lock);
		int r = store_set(st, key, b.data, b.len, 0);
		pthread_mutex_lock(&g->lock);
		if (r == 0) {
			e = &g->e[i];
			e->dirty = e->st.last_signed != signed_at; /* signed again meanwhile */
		} else {
			rc = r;
			break;
		}
	}
	pthread_mutex_unlock(&g->lock);
	buf_fini(&b);
	return rc;
}
