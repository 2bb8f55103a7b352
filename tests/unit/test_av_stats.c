/* test_av_stats: milter-av's counters (milter-av/stats.c) flushed to a memory: store:
 * the "pw:av:count" and "pw:av:virus" hashes add up (also from concurrent threads),
 * a flush with nothing pending writes nothing, a virus name with '"' and '\' is one
 * hash field, and the per-backend health JSON parses (jansson) with its members.
 *
 * Tcase "json_escape" holds what the health JSON must carry verbatim: a clamd
 * version and a last error containing '"' and '\' (stats.c writes it with jansson).
 * meson runs that tcase alone as av_stats_json_escape, the others with
 * CK_RUN_CASE=main. */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "av.h"
#include "store.h"

static struct store *st;

static void open_store(void)
{
	st = store_open("memory:");
	ck_assert_ptr_nonnull(st);
}

static void close_store(void)
{
	store_close(st);
	st = NULL;
}

static int get_field_cb(const char *field, long long value, void *arg)
{
	struct {
		const char *field;
		long long value;
		int found, fields;
	} *q = arg;
	q->fields++;
	if (strcmp(field, q->field) == 0) {
		q->value = value;
		q->found = 1;
	}
	return 0;
}

/* hget() - @field of the counter hash @key; -1 when absent. */
static long long hget(const char *key, const char *field)
{
	struct {
		const char *field;
		long long value;
		int found, fields;
	} q = { field, 0, 0, 0 };
	int r = store_hgetall(st, key, get_field_cb, &q);
	ck_assert_msg(r == 0 || r == STORE_NOTFOUND, "hgetall %s: %d", key, r);
	return q.found ? q.value : -1;
}

/* hlen() - number of fields of the counter hash @key (0 when absent). */
static int hlen(const char *key)
{
	struct {
		const char *field;
		long long value;
		int found, fields;
	} q = { "", 0, 0, 0 };
	int r = store_hgetall(st, key, get_field_cb, &q);
	ck_assert_msg(r == 0 || r == STORE_NOTFOUND, "hgetall %s: %d", key, r);
	return q.fields;
}

START_TEST(counters_add_up)
{
	for (int i = 0; i < 3; i++)
		av_stats_count(VERDICT_CLEAN, NULL);
	av_stats_count(VERDICT_INFECTED, "Eicar-Test-Signature");
	av_stats_count(VERDICT_INFECTED, "Eicar-Test-Signature");
	av_stats_count(VERDICT_INFECTED, "Win.Test.Other");
	av_stats_count(VERDICT_OVERSIZE, NULL);
	av_stats_count(VERDICT_ERROR, NULL);
	av_stats_count(VERDICT_ERROR, NULL);
	ck_assert_int_eq(av_stats_flush(st, NULL), 0);
	ck_assert_int_eq(hget("pw:av:count", "scanned"), 9);
	ck_assert_int_eq(hget("pw:av:count", "clean"), 3);
	ck_assert_int_eq(hget("pw:av:count", "infected"), 3);
	ck_assert_int_eq(hget("pw:av:count", "oversize"), 1);
	ck_assert_int_eq(hget("pw:av:count", "errors"), 2);
	ck_assert_int_eq(hget("pw:av:virus", "Eicar-Test-Signature"), 2);
	ck_assert_int_eq(hget("pw:av:virus", "Win.Test.Other"), 1);
	ck_assert_int_eq(hlen("pw:av:virus"), 2);

	/* nothing pending: nothing added */
	ck_assert_int_eq(av_stats_flush(st, NULL), 0);
	ck_assert_int_eq(hget("pw:av:count", "scanned"), 9);
	ck_assert_int_eq(hget("pw:av:virus", "Eicar-Test-Signature"), 2);

	/* the next round adds to what the store holds (another host's flushes too) */
	ck_assert_int_eq(store_hincrby(st, "pw:av:count", "clean", 100, NULL), 0);
	av_stats_count(VERDICT_CLEAN, NULL);
	av_stats_count(VERDICT_INFECTED, "Eicar-Test-Signature");
	ck_assert_int_eq(av_stats_flush(st, NULL), 0);
	ck_assert_int_eq(hget("pw:av:count", "scanned"), 11);
	ck_assert_int_eq(hget("pw:av:count", "clean"), 104);
	ck_assert_int_eq(hget("pw:av:count", "infected"), 4);
	ck_assert_int_eq(hget("pw:av:virus", "Eicar-Test-Signature"), 3);
	ck_assert_int_eq(hget("pw:av:virus", "Win.Test.Other"), 1);
}
END_TEST

START_TEST(infected_without_name)
{
	av_stats_count(VERDICT_INFECTED, NULL);
	av_stats_count(VERDICT_INFECTED, "");
	ck_assert_int_eq(av_stats_flush(st, NULL), 0);
	ck_assert_int_eq(hget("pw:av:count", "infected"), 2);
	ck_assert_int_eq(hlen("pw:av:virus"), 0);
}
END_TEST

START_TEST(virus_name_with_quote_and_backslash)
{
	static const char name[] = "Test.\"Quoted\"\\Back\\slash";
	av_stats_count(VERDICT_INFECTED, name);
	ck_assert_int_eq(av_stats_flush(st, NULL), 0);
	ck_assert_int_eq(hget("pw:av:virus", name), 1);
	ck_assert_int_eq(hlen("pw:av:virus"), 1);
}
END_TEST

START_TEST(distinct_names_capped)
{
	for (int i = 0; i < 300; i++) {
		char name[32];
		snprintf(name, sizeof(name), "Test.Virus-%03d", i);
		av_stats_count(VERDICT_INFECTED, name);
	}
	av_stats_count(VERDICT_INFECTED, "Test.Virus-000");
	ck_assert_int_eq(av_stats_flush(st, NULL), 0);
	ck_assert_int_eq(hget("pw:av:count", "infected"), 301);
	ck_assert_int_eq(hlen("pw:av:virus"), 256);
	ck_assert_int_eq(hget("pw:av:virus", "Test.Virus-000"), 2);
	ck_assert_int_eq(hget("pw:av:virus", "Test.Virus-299"), -1);
}
END_TEST

#define COUNTERS_THREADS 4
#define COUNTERS_EACH 20000

static void *count_thread(void *arg)
{
	int t = (int)(long)arg;
	for (int i = 0; i < COUNTERS_EACH; i++) {
		if (i % 2)
			av_stats_count(VERDICT_CLEAN, NULL);
		else
			av_stats_count(VERDICT_INFECTED, t % 2 ? "Odd" : "Even");
	}
	return NULL;
}

static atomic_int counting;

static void *flush_thread(void *arg)
{
	(void)arg;
	while (counting)
		ck_assert_int_eq(av_stats_flush(st, NULL), 0);
	return NULL;
}

START_TEST(concurrent_counts_not_lost)
{
	pthread_t th[COUNTERS_THREADS], fl;
	counting = 1;
	ck_assert_int_eq(pthread_create(&fl, NULL, flush_thread, NULL), 0);
	for (long t = 0; t < COUNTERS_THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, count_thread, (void *)t), 0);
	for (int t = 0; t < COUNTERS_THREADS; t++)
		pthread_join(th[t], NULL);
	counting = 0;
	pthread_join(fl, NULL);
	ck_assert_int_eq(av_stats_flush(st, NULL), 0);
	long long total = (long long)COUNTERS_THREADS * COUNTERS_EACH;
	ck_assert_int_eq(hget("pw:av:count", "scanned"), total);
	ck_assert_int_eq(hget("pw:av:count", "clean"), total / 2);
	ck_assert_int_eq(hget("pw:av:count", "infected"), total / 2);
	ck_assert_int_eq(hget("pw:av:virus", "Odd"), total / 4);
	ck_assert_int_eq(hget("pw:av:virus", "Even"), total / 4);
}
END_TEST

/* backend_json() - the parsed health object of @endpoint (caller json_decref()s). */
static json_t *backend_json(const char *endpoint)
{
	char key[STORE_KEY_MAX], *v = NULL;
	size_t len;
	json_error_t jerr;
	snprintf(key, sizeof(key), "pw:av:backend:%s", endpoint);
	ck_assert_int_eq(store_get(st, key, &v, &len), 0);
	json_t *o = json_loadb(v, len, 0, &jerr);
	ck_assert_msg(o != NULL, "not JSON (%s): %.*s", jerr.text, (int)len, v);
	ck_assert(json_is_object(o));
	free(v);
	return o;
}

START_TEST(backend_health_json)
{
	static const char *const ep[] = { "unix:/nonexistent/clamd.sock", "inet:127.0.0.1:1" };
	struct clamd_pool *pool = clamd_pool_new(ep, 2, 1000, 60000);
	ck_assert_ptr_nonnull(pool);
	clamd_pool_mark_down(pool, 1, "connection refused");
	time_t before = time(NULL);
	ck_assert_int_eq(av_stats_flush(st, pool), 0);

	json_t *a = backend_json(ep[0]);
	ck_assert(json_is_true(json_object_get(a, "up")));
	ck_assert_int_eq(json_integer_value(json_object_get(a, "scans")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(a, "failures")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(a, "version")), "");
	ck_assert_str_eq(json_string_value(json_object_get(a, "last_error")), "");
	ck_assert_int_ge(json_integer_value(json_object_get(a, "updated")), before);
	json_decref(a);

	json_t *b = backend_json(ep[1]);
	ck_assert(json_is_false(json_object_get(b, "up")));
	ck_assert_int_eq(json_integer_value(json_object_get(b, "failures")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(b, "infected")), 0);
	ck_assert_str_eq(json_string_value(json_object_get(b, "last_error")), "connection refused");
	json_decref(b);
	clamd_pool_free(pool);
}
END_TEST

/* A fake clamd on a unix socket in a temp dir: answers one zVERSION with @reply. */
struct fake_clamd {
	char dir[64], path[96];
	int fd;
	const char *reply;
	pthread_t th;
};

static void *fake_clamd_serve(void *arg)
{
	struct fake_clamd *f = arg;
	int c = accept(f->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	char buf[64];
	ssize_t n;
	size_t got = 0;
	while (got < sizeof("zVERSION") && (n = read(c, buf, sizeof(buf))) > 0)
		got += (size_t)n;
	ssize_t w = write(c, f->reply, strlen(f->reply) + 1);
	(void)w;
	close(c);
	return NULL;
}

static void fake_clamd_start(struct fake_clamd *f, const char *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(f->dir, sizeof(f->dir), "/tmp/pwavstats.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/clamd.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(f->fd, 0);
	ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(f->fd, 4), 0);
	f->reply = reply;
	ck_assert_int_eq(pthread_create(&f->th, NULL, fake_clamd_serve, f), 0);
}

static void fake_clamd_stop(struct fake_clamd *f)
{
	pthread_join(f->th, NULL);
	close(f->fd);
	unlink(f->path);
	rmdir(f->dir);
}

START_TEST(json_escape_version_and_error)
{
	static const char err[] = "clamd said \"no\" \\ bye";
	struct fake_clamd f;
	fake_clamd_start(&f, "ClamAV 1.4.6 \"q\" \\x/27000/Tue Dec  1 09:00:00 2026");
	char ep[160], v[CLAMD_VERSION_MAX];
	snprintf(ep, sizeof(ep), "unix:%s", f.path);
	const char *eps[] = { ep, "inet:127.0.0.1:1" };
	struct clamd_pool *pool = clamd_pool_new(eps, 2, 2000, 60000);
	ck_assert_ptr_nonnull(pool);
	ck_assert_int_eq(clamd_pool_version(pool, 0, v, sizeof(v)), 0);
	fake_clamd_stop(&f);
	ck_assert_str_eq(v, "ClamAV 1.4.6 \"q\" \\x");
	clamd_pool_mark_down(pool, 1, err);
	ck_assert_int_eq(av_stats_flush(st, pool), 0);

	json_t *a = backend_json(ep);
	ck_assert_str_eq(json_string_value(json_object_get(a, "version")), v);
	json_decref(a);
	json_t *b = backend_json(eps[1]);
	ck_assert_str_eq(json_string_value(json_object_get(b, "last_error")), err);
	json_decref(b);
	clamd_pool_free(pool);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("av_stats");
	TCase *tc = tcase_create("main");
	tcase_add_checked_fixture(tc, open_store, close_store);
	tcase_add_test(tc, counters_add_up);
	tcase_add_test(tc, infected_without_name);
	tcase_add_test(tc, virus_name_with_quote_and_backslash);
	tcase_add_test(tc, distinct_names_capped);
	tcase_add_test(tc, concurrent_counts_not_lost);
	tcase_add_test(tc, backend_health_json);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	TCase *esc = tcase_create("json_escape");
	tcase_add_checked_fixture(esc, open_store, close_store);
	tcase_add_test(esc, json_escape_version_and_error);
	tcase_set_timeout(esc, 60);
	suite_add_tcase(s, esc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
