/* record: what policyd-mtasts leaves in the store for tlsrpt's daily reports
 * (doc/store-schema.md), per UTC day and policy domain:
 *   pw:mtasts:fail:<day>:<domain>:<result-type>   counter of failed policy fetches, by
 *       RFC 8460 result type (sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid)
 *   pw:mtasts:seen:<day>:<domain>                 the policy in force that day (any mode,
 *       testing included): {"id","mode","max_age","mx":[...],"policy":[lines]}, 8 days
 * Both are plain keys, so tlsrpt finds a day's domains with one prefix scan.
 */
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

int mtasts_record_policy(struct store *st, const char *domain, const struct mtasts_result *r,
                         int64_t now_s)
{
	char key[STORE_KEY_MAX], day[11];
	const struct sts_policy *p = &r->policy;

	json_t *mx = json_array(), *lines = json_array();
	for (size_t i = 0; i < p->n_mx; i++)
		json_array_append_new(mx, json_string(p->mx[i]));
	for (const char *l = p->text; l && *l;) {
		size_t n = strcspn(l, "\n");
		json_array_append_new(lines, json_stringn(l, n));
		l += n + (l[n] == '\n');
	}
	json_t *o = json_pack("{s:s,s:s,s:I,s:o,s:o}", "id", r->id, "mode", sts_mode_name(p->mode),
	                      "max_age", (json_int_t)p->max_age, "mx", mx, "policy", lines);
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
