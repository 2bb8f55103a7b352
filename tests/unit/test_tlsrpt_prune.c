/* test_tlsrpt_prune: old counters deleted (tlsrpt/prune.c) in a memory: store: the session
 * counts (hash pw:tlsrpt:cnt:) of days 33 to 39 days old are deleted through their policy
 * keys, those of the 32 days kept and of today stay; policyd-mtasts' failed-fetch counters
 * older than 32 days are deleted whatever their age, the others stay; nothing else is
 * touched; a second run deletes nothing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "clock.h"
#include "prune.h"
#include "store.h"

#define NOW 1764849600LL /* 2025-12-04 12:00:00 UTC */

static void day_key(char *out, size_t n, const char *fmt, int age)
{
	char day[11];
	clock_utc_day(NOW - (long long)age * 86400, day);
	snprintf(out, n, fmt, day);
}

static void put_day(struct store *st, int age)
{
	char key[128];
	day_key(key, sizeof(key), "pw:tlsrpt:pol:%s:a.test:00000000000000aa", age);
	ck_assert_int_eq(store_set(st, key, "{}", 2, 0), 0);
	day_key(key, sizeof(key), "pw:tlsrpt:cnt:%s:a.test:00000000000000aa", age);
	ck_assert_int_eq(store_hincrby(st, key, "success", 1, NULL), 0);
	day_key(key, sizeof(key), "pw:mtasts:fail:%s:a.test:sts-policy-fetch-error", age);
	ck_assert_int_eq(store_incrby(st, key, 1, NULL), 0);
}

static int count_field(const char *field, long long v, void *arg)
{
	(void)field;
	*(long long *)arg += v;
	return 0;
}

static bool has_cnt(struct store *st, int age)
{
	char key[128];
	long long n = 0;
	day_key(key, sizeof(key), "pw:tlsrpt:cnt:%s:a.test:00000000000000aa", age);
	return store_hgetall(st, key, count_field, &n) == 0 && n == 1;
}

static bool has_fail(struct store *st, int age)
{
	char key[128], *v = NULL;
	size_t len;
	day_key(key, sizeof(key), "pw:mtasts:fail:%s:a.test:sts-policy-fetch-error", age);
	int rc = store_get(st, key, &v, &len);
	free(v);
	return rc == 0;
}

START_TEST(test_prune)
{
	struct store *st = store_open("memory:");
	static const int ages[] = { 0, 1, 32, 33, 36, 39, 45 };
	for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++)
		put_day(st, ages[i]);
	ck_assert_int_eq(store_set(st, "pw:other:key", "x", 1, 0), 0);

	unsigned long removed = 0;
	ck_assert_int_eq(tlsrpt_prune(st, NOW, &removed, NULL), 0);
	/* counts of 33, 36, 39 days; fetch failures of 33, 36, 39, 45 days */
	ck_assert_uint_eq(removed, 7);
	ck_assert(has_cnt(st, 0) && has_cnt(st, 1) && has_cnt(st, 32));
	ck_assert(!has_cnt(st, 33) && !has_cnt(st, 36) && !has_cnt(st, 39));
	ck_assert(has_cnt(st, 45)); /* outside the window: its policy key is gone in real life */
	ck_assert(has_fail(st, 0) && has_fail(st, 1) && has_fail(st, 32));
	ck_assert(!has_fail(st, 33) && !has_fail(st, 36) && !has_fail(st, 39) && !has_fail(st, 45));
	char *v = NULL;
	size_t len;
	ck_assert_int_eq(store_get(st, "pw:other:key", &v, &len), 0);
	free(v);
	char key[128];
	day_key(key, sizeof(key), "pw:tlsrpt:pol:%s:a.test:00000000000000aa", 33);
	ck_assert_int_eq(store_get(st, key, &v, &len), 0); /* policy keys expire by themselves */
	free(v);

	ck_assert_int_eq(tlsrpt_prune(st, NOW, &removed, NULL), 0);
	ck_assert_uint_eq(removed, 0);
	store_close(st);
}
END_TEST

CHECK_MAIN("tlsrpt_prune", test_prune)
