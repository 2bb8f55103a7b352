/* seen: policyd-mtasts' per-day policy records, cached (seen.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "aggregate.h"
#include "seen.h"
#include "store.h"
#include "xalloc.h"

static void seen_clear(struct tlsrpt_seen *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->cache[i].key);
		json_decref(c->cache[i].rec);
	}
	c->n = 0;
}

static json_t *seen_record(struct tlsrpt_seen *c, long long t, const char *domain)
{
	char day[11], key[300], skey[STORE_KEY_MAX], *val = NULL;
	size_t len;
	json_t *rec = NULL;

	clock_utc_day(t, day);
	snprintf(key, sizeof(key), "%s:%s", day, domain);
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->cache[i].key, key) == 0)
			return c->cache[i].rec;
	snprintf(skey, sizeof(skey), "pw:mtasts:seen:%s", key);
	if (c->st && store_get(c->st, skey, &val, &len) == 0)
		rec = json_loadb(val, len, 0, NULL);
	free(val);
	if (c->n == TLSRPT_SEEN_CACHE)
		seen_clear(c);
	c->cache[c->n].key = xstrdup(key);
	c->cache[c->n].rec = rec;
	c->n++;
	return rec;
}

/* A DANE record: {"type":"tlsa","hosts":{"<mx host>":["3 1 1 <HEX>",...],...}}. */
static void seen_tlsa(json_t *rec, const char *mx_host, struct tlsrpt_policy *p)
{
	json_t *hosts = json_object_get(rec, "hosts"), *list = NULL, *v;
	const char *h;
	size_t i;

	p->type = TLSRPT_POLICY_TLSA;
	if (!mx_host || !json_is_object(hosts))
		return;
	json_object_foreach(hosts, h, v)
	{
		if (strcasecmp(h, mx_host) == 0)
			list = v;
	}
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v) && p->n_strings < TLSRPT_POLICY_STRINGS_MAX)
			p->strings[p->n_strings++] = json_string_value(v);
	}
}

void tlsrpt_seen_policy(struct tlsrpt_seen *c, long long t, const char *domain, const char *mx_host,
                        struct tlsrpt_policy *p)
{
	json_t *rec = seen_record(c, t, domain);
	json_t *lines = json_object_get(rec, "policy"), *mx = json_object_get(rec, "mx"), *v;
	const char *type = json_string_value(json_object_get(rec, "type"));
	size_t i;

	if (type && strcmp(type, "tlsa") == 0) {
		seen_tlsa(rec, mx_host, p);
		return;
	}
	if (!json_is_array(lines))
		return;
	p->type = TLSRPT_POLICY_STS;
	json_array_foreach(lines, i, v)
	{
		if (json_is_string(v) && p->n_strings < TLSRPT_POLICY_STRINGS_MAX)
			p->strings[p->n_strings++] = json_string_value(v);
	}
	json_array_foreach(mx, i, v)
	{
		if (json_is_string(v) && p->n_mx < TLSRPT_MX_HOSTS_MAX)
			p->mx[p->n_mx++] = json_string_value(v);
	}
}

void tlsrpt_seen_fini(struct tlsrpt_seen *c)
{
	seen_clear(c);
}
