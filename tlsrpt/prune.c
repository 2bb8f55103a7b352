/* prune: old counters deleted (prune.h). Keys are gathered by a scan first and deleted
 * after it, never inside the scan's callback (one store transaction at a time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "prune.h"
#include "report.h"
#include "store.h"
#include "xalloc.h"

struct prune_keys {
	char **v;
	size_t n, cap;
	const char *before;  /* pw:mtasts:fail: keys of days before this one (YYYY-MM-DD) */
	size_t day_at;       /* offset of the day in the key */
	const char *replace; /* pw:tlsrpt:pol: keys: the key to delete has this prefix instead */
};

static int prune_collect(const char *key, const char *val, size_t len, void *arg)
{
	struct prune_keys *k = arg;
	(void)val;
	(void)len;
	if (k->before &&
	    (strlen(key) < k->day_at + 10 || strncmp(key + k->day_at, k->before, 10) >= 0))
		return 0;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		k->v = xrealloc(k->v, k->cap * sizeof(char *));
	}
	if (k->replace) {
		size_t plen = strlen("pw:tlsrpt:pol:"), rlen = strlen(k->replace);
		char *s = xmalloc(rlen + strlen(key + plen) + 1);
		memcpy(s, k->replace, rlen);
		strcpy(s + rlen, key + plen);
		k->v[k->n++] = s;
	} else {
		k->v[k->n++] = xstrdup(key);
	}
	return 0;
}

/* Delete the gathered keys and free them. Return 0 or the first -errno. */
static int prune_delete(struct store *st, struct prune_keys *k, unsigned long *removed)
{
	int first = 0;
	for (size_t i = 0; i < k->n; i++) {
		int rc = store_del(st, k->v[i]);
		if (rc == 0)
			(*removed)++;
		else if (rc < 0 && first == 0)
			first = rc;
		free(k->v[i]);
	}
	free(k->v);
	k->v = NULL;
	k->n = k->cap = 0;
	return first;
}

int tlsrpt_prune(struct store *st, long long now, unsigned long *removed, struct buf *err)
{
	unsigned long n = 0;
	char before[11], day[11], prefix[64];
	int rc = 0;

	clock_utc_day(now - (long long)TLSRPT_PRUNE_KEEP_DAYS * 86400, before);
	/* session counts: through the policy keys of each day in the window */
	for (int age = TLSRPT_PRUNE_KEEP_DAYS + 1;
	     rc == 0 && age <= TLSRPT_PRUNE_KEEP_DAYS + TLSRPT_PRUNE_WINDOW_DAYS; age++) {
		struct prune_keys k = { .replace = "pw:tlsrpt:cnt:" };
		clock_utc_day(now - (long long)age * 86400, day);
		snprintf(prefix, sizeof(prefix), "pw:tlsrpt:pol:%s:", day);
		rc = store_scan(st, prefix, prune_collect, &k);
		int rd = prune_delete(st, &k, &n);
		if (rc == 0)
			rc = rd;
	}
	/* failed policy fetches: plain keys, every day before the kept ones */
	if (rc == 0) {
		struct prune_keys k = { .before = before,
			                .day_at = strlen(TLSRPT_MTASTS_FAIL_PREFIX) };
		rc = store_scan(st, TLSRPT_MTASTS_FAIL_PREFIX, prune_collect, &k);
		int rd = prune_delete(st, &k, &n);
		if (rc == 0)
			rc = rd;
	}
	if (removed)
		*removed = n;
	if (rc < 0)
		buf_add_line(err, "store: %s", strerror(-rc));
	return rc < 0 ? rc : 0;
}
