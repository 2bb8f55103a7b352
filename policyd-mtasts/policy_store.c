/* policy_store: the copy of a domain's MTA-STS policy in the store, so that a fleet sharing
 * a store fetches each policy once and a restart starts warm (doc/store-schema.md).
 *
 * pw:mtasts:policy:<domain> = {"id","fetched","mode","max_age","mx":[...]}, living until
 * max_age after the fetch. Read back, the fields are written as a policy text and parsed by
 * sts_policy_parse(), so a copy another host (or a damaged store) wrote passes the same
 * checks as a fetched policy; one that does not parse, or has expired, is ignored.
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
	json_t *mx = json_array();
	for (size_t i = 0; i < r->policy.n_mx; i++)
		json_array_append_new(mx, json_string(r->policy.mx[i]));
	json_t *o = json_pack("{s:s,s:I,s:s,s:I,s:o}", "id", r->id, "fetched",
	                      (json_int_t)r->fetched_s, "mode", sts_mode_name(r->policy.mode),
	                      "max_age", (json_int_t)r->policy.max_age, "mx", mx);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	policy_store_key(domain, key, sizeof(key));
	int rc = store_set(st, key, text, strlen(text), (unsigned)left);
	free(text);
	return rc;
}

/* The policy text for the fields of @o, into @b. Return 0 or -EINVAL. */
static int policy_store_text(json_t *o, struct buf *b)
{
	const char *mode = json_string_value(json_object_get(o, "mode"));
	json_t *age = json_object_get(o, "max_age"), *mx = json_object_get(o, "mx");
	size_t i;
	json_t *v;

	if (!mode || !json_is_integer(age) || !json_is_array(mx))
		return -EINVAL;
	buf_printf(b, "version: STSv1\nmode: %s\nmax_age: %lld\n", mode,
	           (long long)json_integer_value(age));
	json_array_foreach (mx, i, v) {
		if (!json_is_string(v))
			return -EINVAL;
		buf_printf(b, "mx: %s\n", json_string_value(v));
	}
	return 0;
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
	json_t *fetched = json_object_get(o, "fetched");
	struct buf text, err;
	struct sts_policy p;

	buf_init(&text);
	buf_init(&err);
	memset(&p, 0, sizeof(p));
	rc = -EINVAL;
	if (id && strlen(id) <= STS_ID_MAX && json_is_integer(fetched) &&
	    policy_store_text(o, &text) == 0 &&
	    sts_policy_parse(text.data, text.len, &p, &err) == 0) {
		if (r->have_policy)
			sts_policy_fini(&r->policy);
		r->policy = p;
		r->have_policy = true;
		strcpy(r->id, id);
		r->fetched_s = json_integer_value(fetched);
		rc = 0;
	}
	buf_fini(&text);
	buf_fini(&err);
	json_decref(o);
	return rc;
}
