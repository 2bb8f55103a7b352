/* policy_store: the copy of a domain's MTA-STS policy in the store, so that a fleet sharing
 * a store fetches each policy once and a restart starts warm (doc/store-schema.md).
 *
 * pw:mtasts:policy:<domain> = {"id","fetched","policy"}: the TXT id, the fetch time (Unix
 * seconds) and the policy's lines as sts_policy_parse() kept them; it lives until max_age
 * after the fetch. Read back, the text is parsed again, so a copy another host (or a
 * damaged store) wrote passes the same checks as a fetched policy; one that does not
 * parse is ignored.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mtasts.h"
#include "store.h"

static void policy_store_key(const char *domain, char *key, size_t n)
{
	snprintf(key, n, "pw:mtasts:policy:%s", domain);
}

int mtasts_store_policy_put(struct store *st, const char *domain, const struct mtasts_result *r)
{
	char key[STORE_KEY_MAX];
	int64_t left = r->fetched_s + (int64_t)r->policy.max_age - (int64_t)time(NULL);

	if (!r->have_policy || left <= 0)
		return 0;
	json_t *o = json_pack("{s:s,s:I,s:s%}", "id", r->id, "fetched", (json_int_t)r->fetched_s,
	                      "policy", r->policy.text ? r->policy.text : "", r->policy.text_len);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	policy_store_key(domain, key, sizeof(key));
	int rc = store_set(st, key, text, strlen(text), (unsigned)left);
	free(text);
	return rc;
}

int mtasts_store_policy_get(struct store *st, const char *domain, struct mtasts_result *r)
{
	char key[STORE_KEY_MAX], *val = NULL;
	size_t len;

	policy_store_key(domain, key, sizeof(key));
	int rc = store_get(st, key, &val, &len);
	if (rc != 0)
		return rc;
	json_t *o = json_loadb(val, len, 0, NULL);
	free(val);
	const char *id = json_string_value(json_object_get(o, "id"));
	json_t *fetched = json_object_get(o, "fetched"), *text = json_object_get(o, "policy");
	struct sts_policy p;

	memset(&p, 0, sizeof(p));
	rc = -EINVAL;
	if (id && strlen(id) <= STS_ID_MAX && json_is_integer(fetched) && json_is_string(text) &&
	    sts_policy_parse(json_string_value(text), json_string_length(text), &p, NULL) == 0) {
		if (r->have_policy)
			sts_policy_fini(&r->policy);
		r->policy = p;
		r->have_policy = true;
		strcpy(r->id, id);
		r->fetched_s = json_integer_value(fetched);
		rc = 0;
	}
	json_decref(o);
	return rc;
}
