/* Conformance suite for common/store: the same tests run against every backend.
 *
 * STORE_URI picks the backend: "memory:" (default), "lmdb:" (the suite makes a mkdtemp
 * directory, uses "lmdb:DIR?mapsize=64M" and removes it at exit), or any full URI
 * (tests/integration/store-redis.sh passes redis+unix:// and redis:// ones). Keys carry
 * a per-run prefix so two runs against one Redis do not meet. Backend-specific tests
 * (file modes, shared env, several processes) return early where they do not apply.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_common.h"
#include "config.h"
#include "store.h"

static char uri[PATH_MAX + 64];
static char tmpdir[PATH_MAX];
static char run_prefix[64];
static pid_t main_pid;

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX * 2];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR)
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void suite_cleanup(void)
{
	if (getpid() == main_pid && tmpdir[0])
		rm_tree(tmpdir);
}

__attribute__((constructor)) static void suite_setup(void)
{
	const char *u = getenv("STORE_URI");

	main_pid = getpid();
	snprintf(run_prefix, sizeof(run_prefix), "pwtest:%ld:%ld:", (long)main_pid,
	         (long)time(NULL));
	if (!u || !*u)
		u = "memory:";
	if (strcmp(u, "lmdb:") == 0) {
		snprintf(tmpdir, sizeof(tmpdir), "%s/pw-store.XXXXXX",
		         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(1);
		}
		snprintf(uri, sizeof(uri), "lmdb:%s/db?mapsize=64M", tmpdir);
		atexit(suite_cleanup);
	} else {
		snprintf(uri, sizeof(uri), "%s", u);
	}
}

static bool is_backend(const char *name)
{
	return strncmp(uri, name, strlen(name)) == 0;
}

static struct store *open_store(void)
{
	struct store *st = store_open(uri);
	ck_assert_msg(st != NULL, "store_open(%s): %s", uri, strerror(errno));
	return st;
}

/* k("x") -> "<run prefix>x" in a small rotating set of static buffers. */
static const char *k(const char *name)
{
	static _Thread_local char bufs[8][STORE_KEY_MAX + 1];
	static _Thread_local unsigned n;
	char *b = bufs[n++ % 8];
	snprintf(b, STORE_KEY_MAX + 1, "%s%s", run_prefix, name);
	return b;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(get_set_del)
{
	struct store *st = open_store();
	char *v = NULL;
	size_t len = 99;

	ck_assert_str_eq(store_backend(st), is_backend("redis")  ? "redis"
	                                    : is_backend("lmdb") ? "lmdb"
	                                                         : "memory");
	ck_assert_int_eq(store_get(st, k("a"), &v, &len), STORE_NOTFOUND);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(store_set(st, k("a"), "hello", 5, 0), 0);
	ck_assert_int_eq(store_get(st, k("a"), &v, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(v, "hello");
	free(v);
	ck_assert_int_eq(store_set(st, k("a"), "hi", 2, 0), 0);
	ck_assert_int_eq(store_get(st, k("a"), &v, &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_str_eq(v, "hi");
	free(v);
	ck_assert_int_eq(store_set(st, k("empty"), NULL, 0, 0), 0);
	ck_assert_int_eq(store_get(st, k("empty"), &v, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(v, "");
	free(v);
	ck_assert_int_eq(store_del(st, k("a")), 0);
	ck_assert_int_eq(store_del(st, k("a")), STORE_NOTFOUND);
	ck_assert_int_eq(store_get(st, k("a"), &v, &len), STORE_NOTFOUND);
	ck_assert_int_eq(store_sweep(st), 0);
	store_close(st);
}
END_TEST

struct collect {
	char keys[16][128];
	size_t lens[16];
	long long vals[16];
	int n;
	int stop_at; /* return 7 from the callback at this count (0 = never) */
};

static int scan_cb(const char *key, const char *val, size_t len, void *arg)
{
	struct collect *c = arg;
	ck_assert_int_lt(c->n, 16);
	snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", key + strlen(run_prefix));
	c->lens[c->n] = len;
	ck_assert_int_eq(val[len], '\0');
	c->n++;
	return c->n == c->stop_at ? 7 : 0;
}

static int hash_cb(const char *field, long long value, void *arg)
{
	struct collect *c = arg;
	ck_assert_int_lt(c->n, 16);
	snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s", field);
	c->vals[c->n] = value;
	c->n++;
	return c->n == c->stop_at ? 7 : 0;
}

static long long collect_find(const struct collect *c, const char *key)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->keys[i], key) == 0)
			return i;
	return -1;
}

START_TEST(ttl_expiry)
{
	struct store *st = open_store();
	char *v;
	size_t len;
	long long n;
	struct collect c = { 0 };

	ck_assert_int_eq(store_set(st, k("ttl:short"), "x", 1, 1), 0);
	ck_assert_int_eq(store_set(st, k("ttl:forever"), "y", 1, 0), 0);
	ck_assert_int_eq(store_set(st, k("ttl:counter"), "5", 1, 1), 0);
	ck_assert_int_eq(store_incrby(st, k("ttl:counter"), 1, &n), 0);
	ck_assert_int_eq(n, 6);
	ck_assert_int_eq(store_lock(st, k("ttl:lock1"), "A", 1), 0);
	ck_assert_int_eq(store_lock(st, k("ttl:lock2"), "A", 1), 0);
	sleep_ms(600);
	ck_assert_int_eq(store_get(st, k("ttl:short"), &v, &len), 0);
	free(v);
	ck_assert_int_eq(store_lock(st, k("ttl:lock2"), "A", 3), 0); /* renew */
	sleep_ms(650);
	ck_assert_int_eq(store_get(st, k("ttl:short"), &v, &len), STORE_NOTFOUND);
	ck_assert_int_eq(store_get(st, k("ttl:counter"), &v, &len), STORE_NOTFOUND);
	ck_assert_int_eq(store_get(st, k("ttl:forever"), &v, &len), 0);
	free(v);
	ck_assert_int_eq(store_unlock(st, k("ttl:lock1"), "A"), STORE_NOTFOUND);
	ck_assert_int_eq(store_lock(st, k("ttl:lock1"), "B", 5), 0);
	ck_assert_int_eq(store_lock(st, k("ttl:lock2"), "B", 5), STORE_EXISTS);
	ck_assert_int_eq(store_scan(st, k("ttl:"), scan_cb, &c), 0);
	ck_assert_int_eq(c.n, 3); /* forever, lock1, lock2 */
	ck_assert_int_lt(collect_find(&c, "ttl:short"), 0);
	ck_assert_int_ge(collect_find(&c, "ttl:forever"), 0);
	int swept = store_sweep(st);
	if (is_backend("redis"))
		ck_assert_int_eq(swept, 0);
	else
		ck_assert_int_ge(swept, 2); /* short, counter */
	ck_assert_int_eq(store_sweep(st), 0);
	ck_assert_int_eq(store_get(st, k("ttl:forever"), &v, &len), 0);
	free(v);
	store_close(st);
}
END_TEST

START_TEST(incrby)
{
	struct store *st = open_store();
	long long n = 0;
	char *v;
	size_t len;

	ck_assert_int_eq(store_incrby(st, k("c"), 5, &n), 0);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(store_incrby(st, k("c"), -7, &n), 0);
	ck_assert_int_eq(n, -2);
	ck_assert_int_eq(store_incrby(st, k("c"), 2, NULL), 0);
	ck_assert_int_eq(store_get(st, k("c"), &v, &len), 0);
	ck_assert_str_eq(v, "0");
	free(v);
	ck_assert_int_eq(store_set(st, k("c"), "9223372036854775806", 19, 0), 0);
	ck_assert_int_eq(store_incrby(st, k("c"), 1, &n), 0);
	ck_assert_int_eq(n, LLONG_MAX);
	ck_assert_int_eq(store_incrby(st, k("c"), 1, &n), -ERANGE);
	ck_assert_int_eq(store_set(st, k("c"), "abc", 3, 0), 0);
	ck_assert_int_eq(store_incrby(st, k("c"), 1, &n), -EINVAL);
	ck_assert_int_eq(store_set(st, k("c"), "12 ", 3, 0), 0);
	ck_assert_int_eq(store_incrby(st, k("c"), 1, &n), -EINVAL);
	store_close(st);
}
END_TEST

START_TEST(hash)
{
	struct store *st = open_store();
	struct collect c = { 0 };
	long long n = 0;
	char *v;
	size_t len;

	ck_assert_int_eq(store_hgetall(st, k("h"), hash_cb, &c), STORE_NOTFOUND);
	ck_assert_int_eq(store_hincrby(st, k("h"), "scanned", 3, &n), 0);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(store_hincrby(st, k("h"), "scanned", 2, &n), 0);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(store_hincrby(st, k("h"), "infected", -1, NULL), 0);
	ck_assert_int_eq(store_hincrby(st, k("h"), "Eicar-Test-Signature", 1, NULL), 0);
	ck_assert_int_eq(store_hincrby(st, k("hx"), "scanned", 100, NULL), 0);
	ck_assert_int_eq(store_hgetall(st, k("h"), hash_cb, &c), 0);
	ck_assert_int_eq(c.n, 3);
	ck_assert_int_eq(c.vals[collect_find(&c, "scanned")], 5);
	ck_assert_int_eq(c.vals[collect_find(&c, "infected")], -1);
	ck_assert_int_eq(c.vals[collect_find(&c, "Eicar-Test-Signature")], 1);
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	ck_assert_int_eq(store_hgetall(st, k("h"), hash_cb, &c), 7);
	ck_assert_int_eq(c.n, 2);
	/* a hash is not a plain key */
	ck_assert_int_eq(store_get(st, k("h"), &v, &len), STORE_NOTFOUND);
	ck_assert_int_eq(store_del(st, k("h")), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_hgetall(st, k("h"), hash_cb, &c), STORE_NOTFOUND);
	ck_assert_int_eq(store_hgetall(st, k("hx"), hash_cb, &c), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_eq(c.vals[0], 100);
	store_close(st);
}
END_TEST

START_TEST(scan_prefix)
{
	struct store *st = open_store();
	struct collect c = { 0 };
	static const char *const names[] = { "p:a", "p:ab", "p:b", "pq", "p", "o:z", "p;" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_int_eq(store_set(st, k(names[i]), names[i], strlen(names[i]), 0), 0);
	ck_assert_int_eq(store_hincrby(st, k("p:hash"), "f", 1, NULL), 0);
	ck_assert_int_eq(store_scan(st, k("p:"), scan_cb, &c), 0);
	ck_assert_int_eq(c.n, 3);
	ck_assert_int_ge(collect_find(&c, "p:a"), 0);
	ck_assert_int_ge(collect_find(&c, "p:ab"), 0);
	ck_assert_int_ge(collect_find(&c, "p:b"), 0);
	ck_assert_uint_eq(c.lens[collect_find(&c, "p:ab")], 4);

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_scan(st, k("p"), scan_cb, &c), 0);
	ck_assert_int_eq(c.n, 6); /* all but o:z, and not the hash */
	ck_assert_int_lt(collect_find(&c, "p:hash"), 0);

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_scan(st, k("nothing:"), scan_cb, &c), 0);
	ck_assert_int_eq(c.n, 0);

	/* glob characters in the prefix are literal */
	ck_assert_int_eq(store_set(st, k("g*[x]?\\:1"), "1", 1, 0), 0);
	ck_assert_int_eq(store_set(st, k("g*[x]?\\:2"), "2", 1, 0), 0);
	ck_assert_int_eq(store_set(st, k("gA[x]?\\:3"), "3", 1, 0), 0);
	ck_assert_int_eq(store_set(st, k("gAx?\\:4"), "4", 1, 0), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(store_scan(st, k("g*[x]?\\:"), scan_cb, &c), 0);
	ck_assert_int_eq(c.n, 2);

	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	ck_assert_int_eq(store_scan(st, k("p:"), scan_cb, &c), 7);
	ck_assert_int_eq(c.n, 1);
	store_close(st);
}
END_TEST

START_TEST(lock_unlock)
{
	struct store *st = open_store();
	char *v;
	size_t len;

	ck_assert_int_eq(store_lock(st, k("lock"), "host-a", 30), 0);
	ck_assert_int_eq(store_lock(st, k("lock"), "host-a", 30), 0);
	ck_assert_int_eq(store_lock(st, k("lock"), "host-b", 30), STORE_EXISTS);
	ck_assert_int_eq(store_lock(st, k("lock"), "host-", 30), STORE_EXISTS);
	ck_assert_int_eq(store_lock(st, k("lock"), "host-aa", 30), STORE_EXISTS);
	ck_assert_int_eq(store_unlock(st, k("lock"), "host-b"), STORE_NOTFOUND);
	ck_assert_int_eq(store_get(st, k("lock"), &v, &len), 0);
	ck_assert_str_eq(v, "host-a");
	free(v);
	ck_assert_int_eq(store_unlock(st, k("lock"), "host-a"), 0);
	ck_assert_int_eq(store_unlock(st, k("lock"), "host-a"), STORE_NOTFOUND);
	ck_assert_int_eq(store_lock(st, k("lock"), "host-b", 30), 0);
	ck_assert_int_eq(store_lock(st, k("lock"), "host-a", 30), STORE_EXISTS);
	ck_assert_int_eq(store_lock(st, k("lock"), "host-a", 0), -EINVAL);
	ck_assert_int_eq(store_unlock(st, k("lock"), "host-b"), 0);
	store_close(st);
}
END_TEST

START_TEST(binary_values)
{
	struct store *st = open_store();
	unsigned char bin[512];
	struct collect c = { 0 };
	char *v;
	size_t len;

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + 3);
	bin[0] = 0;
	bin[100] = 0;
	ck_assert_int_eq(store_set(st, k("bin"), bin, sizeof(bin), 0), 0);
	ck_assert_int_eq(store_get(st, k("bin"), &v, &len), 0);
	ck_assert_uint_eq(len, sizeof(bin));
	ck_assert_int_eq(memcmp(v, bin, sizeof(bin)), 0);
	ck_assert_int_eq(v[len], '\0');
	free(v);
	ck_assert_int_eq(store_scan(st, k("bin"), scan_cb, &c), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_uint_eq(c.lens[0], sizeof(bin));
	ck_assert_int_eq(store_set(st, k("utf8 key é"), "\xff\xfe", 2, 0), 0);
	ck_assert_int_eq(store_get(st, k("utf8 key é"), &v, &len), 0);
	ck_assert_int_eq(memcmp(v, "\xff\xfe", 3), 0);
	free(v);
	store_close(st);
}
END_TEST

START_TEST(size_limits)
{
	struct store *st = open_store();
	char key[STORE_KEY_MAX + 2];
	char *v;
	size_t len;
	long long n;

	size_t plen = strlen(run_prefix);
	memcpy(key, run_prefix, plen);
	memset(key + plen, 'k', sizeof(key) - plen);
	key[STORE_KEY_MAX] = '\0';
	ck_assert_int_eq(store_set(st, key, "max", 3, 0), 0);
	ck_assert_int_eq(store_get(st, key, &v, &len), 0);
	free(v);
	ck_assert_int_eq(store_del(st, key), 0);
	key[STORE_KEY_MAX] = 'k';
	key[STORE_KEY_MAX + 1] = '\0';
	ck_assert_int_eq(store_set(st, key, "x", 1, 0), -ENAMETOOLONG);
	ck_assert_int_eq(store_get(st, key, &v, &len), -ENAMETOOLONG);
	ck_assert_int_eq(store_del(st, key), -ENAMETOOLONG);
	ck_assert_int_eq(store_incrby(st, key, 1, &n), -ENAMETOOLONG);
	ck_assert_int_eq(store_lock(st, key, "o", 1), -ENAMETOOLONG);
	ck_assert_int_eq(store_hincrby(st, k("h"), key, 1, &n), -ENAMETOOLONG);
	ck_assert_int_eq(store_set(st, "", "x", 1, 0), -EINVAL);
	ck_assert_int_eq(store_set(st, k("bad\nkey"), "x", 1, 0), -EINVAL);
	ck_assert_int_eq(store_hincrby(st, k("h"),
	                               "a\x1f"
	                               "b",
	                               1, &n),
	                 -EINVAL);

	char *big = malloc(STORE_VALUE_MAX + 1);
	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i <= STORE_VALUE_MAX; i++)
		big[i] = (char)('a' + i % 26);
	ck_assert_int_eq(store_set(st, k("big"), big, STORE_VALUE_MAX + 1, 0), -EMSGSIZE);
	ck_assert_int_eq(store_set(st, k("big"), big, STORE_VALUE_MAX, 0), 0);
	ck_assert_int_eq(store_get(st, k("big"), &v, &len), 0);
	ck_assert_uint_eq(len, STORE_VALUE_MAX);
	ck_assert_int_eq(memcmp(v, big, len), 0);
	free(v);
	ck_assert_int_eq(store_del(st, k("big")), 0);
	free(big);
	store_close(st);
}
END_TEST

#define THREADS 16
#define ROUNDS 200

struct worker {
	struct store *st;
	int id;
	int errors;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char own[64], *v;
	size_t len;

	snprintf(own, sizeof(own), "conc:own:%d", w->id);
	for (int i = 0; i < ROUNDS; i++) {
		if (store_incrby(w->st, k("conc:n"), 1, NULL) != 0)
			w->errors++;
		if (i % 4 == 0 && store_hincrby(w->st, k("conc:h"), "f", 2, NULL) != 0)
			w->errors++;
		if (i % 10 == 0) {
			if (store_set(w->st, k(own), own, strlen(own), 0) != 0)
				w->errors++;
			if (store_get(w->st, k(own), &v, &len) != 0 || len != strlen(own))
				w->errors++;
			else
				free(v);
		}
	}
	return NULL;
}

START_TEST(concurrency)
{
	struct store *st = open_store();
	/* two handles (a shared lmdb env, two redis pools); memory: handles are separate stores */
	struct store *st2 = is_backend("memory") ? st : open_store();
	pthread_t t[THREADS];
	struct worker w[THREADS];
	struct collect c = { 0 };
	char *v;
	size_t len;

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .st = i % 2 ? st2 : st, .id = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].errors, 0);
	}
	ck_assert_int_eq(store_get(st, k("conc:n"), &v, &len), 0);
	ck_assert_int_eq(atoll(v), THREADS * ROUNDS);
	free(v);
	ck_assert_int_eq(store_hgetall(st2, k("conc:h"), hash_cb, &c), 0);
	ck_assert_int_eq(c.n, 1);
	ck_assert_int_eq(c.vals[0], THREADS * (ROUNDS / 4) * 2);
	if (st2 != st)
		store_close(st2);
	store_close(st);
}
END_TEST

START_TEST(bad_uris)
{
	static const char *const bad[] = {
		"",
		"bogus:",
		"memory",
		"memory:x",
		"lmdb:",
		"lmdb:/x?mapsize=abc",
		"lmdb:/x?mapsize=0",
		"lmdb:/x?foo=1",
		"lmdb:/x?mapsize=1T",
		"redis://",
		"redis://:6379",
		"redis://h:0",
		"redis://h:99999",
		"redis://h:x",
		"redis://h/abc",
		"redis://h?timeout=0",
		"redis://h?timeout=1h",
		"redis://h?mapsize=1M",
		"redis://[::1",
		"redis+unix://",
		"redis+unix://rel.sock",
		"redis+unix:///s.sock?db=x",
		"redis+unix:///s.sock?nokey",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(store_open(bad[i]) == NULL, "%s opened", bad[i]);
		ck_assert_msg(errno == EINVAL, "%s: errno %d", bad[i], errno);
	}
	errno = 0;
	ck_assert_ptr_null(store_open(NULL));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* A redis store opens with no server and fails fast with a documented errno. */
START_TEST(redis_down)
{
#ifdef HAVE_HIREDIS
	static const char *const uris[] = {
		"redis://127.0.0.1:1/0?timeout=300ms",
		"redis+unix:///nonexistent/pw-store-test.sock?db=1&timeout=300ms",
	};
	static const int want[] = { -ECONNREFUSED, -ENOENT };
	for (int i = 0; i < 2; i++) {
		struct store *st = store_open(uris[i]);
		char *v;
		size_t len;
		ck_assert_msg(st != NULL, "%s: %s", uris[i], strerror(errno));
		ck_assert_str_eq(store_backend(st), "redis");
		for (int j = 0; j < 3; j++) {
			long t0 = now_ms();
			int rc = store_get(st, "pw:test:x", &v, &len);
			ck_assert_int_eq(rc, want[i]);
			ck_assert_int_lt(now_ms() - t0, 300 + 200);
		}
		ck_assert_int_eq(store_incrby(st, "pw:test:x", 1, NULL), want[i]);
		store_close(st);
	}
#else
	errno = 0;
	ck_assert_ptr_null(store_open("redis://127.0.0.1:1"));
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
#endif
}
END_TEST

/* lmdb: files 0660 even under umask 022; directory 0770. */
START_TEST(lmdb_modes)
{
	char dir[PATH_MAX + 16], u[PATH_MAX + 32], f[PATH_MAX + 32];
	struct stat sb;

	if (!is_backend("lmdb") || !tmpdir[0])
		return;
	snprintf(dir, sizeof(dir), "%s/modes", tmpdir);
	snprintf(u, sizeof(u), "lmdb:%s", dir);
	mode_t old = umask(022);
	struct store *st = store_open(u);
	ck_assert_int_eq(umask(old), 022); /* restored by store_open */
	ck_assert_msg(st != NULL, "%s: %s", u, strerror(errno));
	ck_assert_int_eq(store_set(st, "pw:test:m", "1", 1, 0), 0);
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0770);
	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	ck_assert_int_eq(stat(f, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0660);
	snprintf(f, sizeof(f), "%s/lock.mdb", dir);
	ck_assert_int_eq(stat(f, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0660);
	store_close(st);
}
END_TEST

/* Count this process's open descriptors on @dir/data.mdb. */
static int count_data_fds(const char *dir)
{
	char want[PATH_MAX + 32], link[PATH_MAX + 32], p[300];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	snprintf(want, sizeof(want), "%s/data.mdb", dir);
	while (d && (de = readdir(d))) {
		snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
		ssize_t l = readlink(p, link, sizeof(link) - 1);
		if (l > 0) {
			link[l] = '\0';
			n += strcmp(link, want) == 0;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* lmdb: opening the same directory twice shares one environment. */
START_TEST(lmdb_shared_env)
{
	char dir[PATH_MAX + 16];
	char *v;
	size_t len;

	if (!is_backend("lmdb") || !tmpdir[0])
		return;
	snprintf(dir, sizeof(dir), "%s/db", tmpdir);
	struct store *a = open_store();
	int one = count_data_fds(dir);
	ck_assert_int_gt(one, 0);
	struct store *b = open_store();
	ck_assert_int_eq(count_data_fds(dir), one);
	ck_assert_int_eq(store_set(a, k("shared"), "1", 1, 0), 0);
	ck_assert_int_eq(store_get(b, k("shared"), &v, &len), 0);
	free(v);
	store_close(a);
	ck_assert_int_eq(count_data_fds(dir), one);
	ck_assert_int_eq(store_get(b, k("shared"), &v, &len), 0);
	free(v);
	store_close(b);
	ck_assert_int_eq(count_data_fds(dir), 0);
}
END_TEST

/* Several processes on one store: a child writes while the parent writes and reads. */
START_TEST(multi_process)
{
	char *v;
	size_t len;
	long long n;
	int status;

	if (is_backend("memory"))
		return;
	struct store *st = open_store();
	ck_assert_int_eq(store_set(st, k("mp:parent"), "p", 1, 0), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store *cs = store_open(uri);
		int bad = !cs;
		for (int i = 0; cs && i < 300; i++)
			bad |= store_incrby(cs, k("mp:n"), 1, NULL) != 0;
		if (cs) {
			bad |= store_set(cs, k("mp:child"), "c", 1, 0) != 0;
			bad |= store_get(cs, k("mp:parent"), &v, &len) != 0;
		}
		store_close(cs);
		_exit(bad);
	}
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(store_incrby(st, k("mp:n"), 1, NULL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(store_get(st, k("mp:child"), &v, &len), 0);
	ck_assert_str_eq(v, "c");
	free(v);
	ck_assert_int_eq(store_incrby(st, k("mp:n"), 0, &n), 0);
	ck_assert_int_eq(n, 600);
	store_close(st);
}
END_TEST

/* A batch: every kind of write, then a read inside it; @arg: return this after them. */
static int batch_writes(struct store *st, void *arg)
{
	char *v = NULL;
	size_t len;
	ck_assert_int_eq(store_set(st, k("b1"), "one", 3, 0), 0);
	ck_assert_int_eq(store_incrby(st, k("b2"), 3, NULL), 0);
	ck_assert_int_eq(store_hincrby(st, k("b3"), "f", 4, NULL), 0);
	ck_assert_int_eq(store_get(st, k("b1"), &v, &len), 0); /* its own write, before commit */
	ck_assert_str_eq(v, "one");
	free(v);
	return *(int *)arg;
}

static long long hash_f;
static int batch_hash_cb(const char *field, long long value, void *arg)
{
	(void)arg;
	if (strcmp(field, "f") == 0)
		hash_f = value;
	return 0;
}

START_TEST(batch)
{
	struct store *st = open_store();
	char *v = NULL;
	size_t len;
	int ok = 7, bad = -EIO;

	ck_assert_int_eq(store_batch(st, batch_writes, &ok), 7);
	ck_assert_int_eq(store_get(st, k("b1"), &v, &len), 0);
	free(v);
	hash_f = 0;
	ck_assert_int_eq(store_hgetall(st, k("b3"), batch_hash_cb, NULL), 0);
	ck_assert_int_eq(hash_f, 4);
	ck_assert_int_eq(store_del(st, k("b1")), 0);
	ck_assert_int_eq(store_del(st, k("b2")), 0);
	ck_assert_int_eq(store_batch(st, batch_writes, &bad), -EIO);
	if (store_batch_atomic(st)) {
		/* nothing of the failed batch was kept */
		ck_assert_int_eq(store_get(st, k("b1"), &v, &len), STORE_NOTFOUND);
		ck_assert_int_eq(store_get(st, k("b2"), &v, &len), STORE_NOTFOUND);
		hash_f = 0;
		ck_assert_int_eq(store_hgetall(st, k("b3"), batch_hash_cb, NULL), 0);
		ck_assert_int_eq(hash_f, 4);
	} else {
		ck_assert_int_eq(store_get(st, k("b1"), &v, &len), 0);
		free(v);
	}
	ck_assert(store_batch_atomic(st) == is_backend("lmdb:"));
	store_close(st);
}
END_TEST

CHECK_MAIN("store", batch, get_set_del, ttl_expiry, incrby, hash, scan_prefix, lock_unlock,
           binary_values, size_limits, concurrency, bad_uris, redis_down, lmdb_modes,
           lmdb_shared_env, multi_process)
