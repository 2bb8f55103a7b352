/* record: what policyd-mtasts leaves in the store for tlsrpt's daily reports
 * (doc/store-schema.md), per UTC day and policy domain:
 *   pw:mtasts:fail:<day>:<domain>:<result-type>   counter of failed policy fetches, by
 *       RFC 8460 result type (sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid)
 *   pw:mtasts:seen:<day>:<domain>                 the policy in force that day, 8 days:
 *       MTA-STS (any mode, testing included):
 *         {"type":"sts","id","mode","max_age","mx":[...],"policy":[lines]}
 *       DANE (the answer was dane or dane-only), the TLSA records of each MX host that has
 *       them, in RFC 6698 presentation form:
 *         {"type":"tlsa","mode":"dane-only","hosts":{"<mx host>":["3 1 1 <HEX>",...],...}}
 * Both are plain keys, so tlsrpt finds a day's domains with one prefix scan.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "mtasts.h"
#include "store.h"

#define MTASTS_SEEN_TTL_S (8 * 86400)

int mtasts_record_failure(struct store *st, const char *domain, const char *fail_type,
                          int64_t now_s)
{
	char key[STORE_KEY_MAX], day[11];

	clock_utc_day(now_s, day);
	snprintf(key, sizeof(key), "pw:mtasts:fail:%s:%s:%s", day, domain, fail_type);
	return store_incrby(st, key, 1, NULL);
}

/* Store @o (taken) as pw:mtasts:seen:<day>:<domain>. */
static int record_seen(struct store *st, const char *domain, json_t *o, int64_t now_s)
{
	char key[STORE_KEY_MAX], day[11];
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (!text)
		return -ENOMEM;
	clock_utc_day(now_s, day);
	snprintf(key, sizeof(key), "pw:mtasts:seen:%s:%s", day, domain);
	int rc = store_set(st, key, text, strlen(text), MTASTS_SEEN_TTL_S);
	free(text);
	return rc;
}

int mtasts_record_policy(struct store *st, const char *domain, const struct mtasts_result *r,
                         int64_t now_s)
{
	const struct sts_policy *p = &r->policy;

	json_t *mx = json_array(), *lines = json_array();
	for (size_t i = 0; i < p->n_mx; i++)
		json_array_append_new(mx, json_string(p->mx[i]));
	for (const char *l = p->text; l && *l;) {
		size_t n = strcspn(l, "\n");
		json_array_append_new(lines, json_stringn(l, n));
		l += n + (l[n] == '\n');
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "type", "sts", "id", r->id, "mode",
	                      sts_mode_name(p->mode), "max_age", (json_int_t)p->max_age, "mx", mx,
	                      "policy", lines);
	return record_seen(st, domain, o, now_s);
}

int mtasts_record_dane(struct store *st, const char *domain, const struct mtasts_result *r,
                       int64_t now_s)
{
	json_t *hosts = json_object();
	const char *l = buf_cstr(&r->dane_tlsa);

	/* lines "host usage selector mtype HEX", a host's records together */
	for (size_t n; *l; l += n + (l[n] == '\n')) {
		n = strcspn(l, "\n");
		const char *sp = memchr(l, ' ', n);
		if (!sp || sp == l)
			continue;
		char host[256];
		size_t hn = (size_t)(sp - l) < sizeof(host) ? (size_t)(sp - l) : sizeof(host) - 1;
		for (size_t i = 0; i < hn; i++)
			host[i] = (char)tolower((unsigned char)l[i]);
		host[hn] = '\0';
		json_t *list = json_object_get(hosts, host);
		if (!list) {
			list = json_array();
			json_object_set_new(hosts, host, list);
		}
		json_array_append_new(list, json_stringn(sp + 1, n - (size_t)(sp + 1 - l)));
	}
	json_t *o = json_pack("{s:s,s:s,s:o}", "type", "tlsa", "mode",
	                      r->kind == MTASTS_DANE_ONLY ? "dane-only" : "dane", "hosts", hosts);
	return record_seen(st, domain, o, now_s);
}
