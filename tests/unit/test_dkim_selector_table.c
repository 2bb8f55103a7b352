/* test_dkim_selector_table: milter-dkim's DNS gate table (milter-dkim/selector_table.c)
 * on a memory: store, without DNS: entries start warm from the store, sign = no is
 * noted and written, selector_table_refresh() adopts only newer checks and later
 * signing times, and the table under its lock: signing threads (selector_table_active
 * + selector_table_signed), a flusher (selector_table_refresh + selector_table_flush),
 * another fleet member writing newer checks to the store and a reload adding
 * selectors (the table grows) all at once; no signing time is lost and every
 * selector_table_active() answer is one the table could give. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "check_common.h"
#include "selector_table.h"
#include "store.h"

static struct dkim_selector sels[3] = {
	{ .sc = { .name = "s1", .sign = true }, .name = "s1", .state_key = "example.org/s1" },
	{ .sc = { .name = "s2", .sign = true }, .name = "s2", .state_key = "example.org/s2" },
	{ .sc = { .name = "old", .sign = false }, .name = "old", .state_key = "example.org/old" },
};
static struct dkim_domain dom = {
	.section = "example.org", .d = "example.org", .sel = sels, .nsel = 3
};
static struct dkim_conf conf = { .dom = &dom, .ndom = 1 };

/* A reload's config: 40 selectors of another domain, so the table grows. */
#define BIG_NSEL 40
static struct dkim_selector big_sels[BIG_NSEL];
static char big_names[BIG_NSEL][16], big_keys[BIG_NSEL][40];
static struct dkim_domain big_dom = {
	.section = "big.test", .d = "big.test", .sel = big_sels, .nsel = BIG_NSEL
};
static struct dkim_conf big_conf = { .dom = &big_dom, .ndom = 1 };

static struct store *st;
static struct selector_table *g;

static void setup(void)
{
	for (int i = 0; i < BIG_NSEL; i++) {
		snprintf(big_names[i], sizeof(big_names[i]), "b%02d", i);
		snprintf(big_keys[i], sizeof(big_keys[i]), "big.test/b%02d", i);
		big_sels[i] = (struct dkim_selector){ .sc = { .name = big_names[i], .sign = true },
			                              .name = big_names[i],
			                              .state_key = big_keys[i] };
	}
	st = store_open("memory:");
	ck_assert_ptr_nonnull(st);
	g = selector_table_new();
}

static void teardown(void)
{
	selector_table_free(g);
	store_close(st);
}

static void put(const char *key, const struct selector_state *s)
{
	struct buf b;
	buf_init(&b);
	selector_policy_state_dump(s, &b);
	ck_assert_int_eq(store_set(st, key, b.data, b.len, 0), 0);
	buf_fini(&b);
}

/* get() - the state stored at @key; false when there is none. */
static bool get(const char *key, struct selector_state *s)
{
	char *v = NULL;
	size_t len;
	int r = store_get(st, key, &v, &len);
	ck_assert_msg(r == 0 || r == STORE_NOTFOUND, "store_get %s: %d", key, r);
	if (r != 0)
		return false;
	ck_assert_int_eq(selector_policy_state_load(v, len, s), 0);
	free(v);
	return true;
}

static const struct selector_state published = {
	.checked = true, .published = true, .matches = true, .checked_at = 100
};

START_TEST(attach_starts_warm_and_notes_sign_no)
{
	struct selector_state s;
	size_t idx[3];
	put("pw:dkim:sel:example.org:s1", &published);
	selector_table_add_selectors(g, &conf, st, 1000);
	ck_assert_uint_eq(selector_table_active(g, &dom, idx), 1);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert(selector_table_state(g, &sels[0], &s));
	ck_assert_int_eq(s.checked_at, 100);
	ck_assert(selector_table_state(g, &sels[1], &s));
	ck_assert(!s.checked);
	ck_assert(selector_table_state(g, &sels[2], &s));
	ck_assert_int_eq(s.first_seen_nosign, 1000);
	ck_assert(!selector_table_state(g, &big_sels[0], &s));
	ck_assert(!selector_table_doubtful(g));

	ck_assert_int_eq(selector_table_flush(g, st), 0);
	ck_assert(get("pw:dkim:sel:example.org:old", &s));
	ck_assert_int_eq(s.first_seen_nosign, 1000);
	ck_assert(!get("pw:dkim:sel:example.org:s2", &s)); /* nothing new to write */

	/* attached again (a reload): memory wins over the store, the sign = no date stays */
	struct selector_state other = published;
	other.published = false;
	put("pw:dkim:sel:example.org:s1", &other);
	selector_table_add_selectors(g, &conf, st, 2000);
	ck_assert_uint_eq(selector_table_active(g, &dom, idx), 1);
	ck_assert(selector_table_state(g, &sels[2], &s));
	ck_assert_int_eq(s.first_seen_nosign, 1000);
}
END_TEST

START_TEST(signed_then_flushed)
{
	struct selector_state s;
	size_t idx[3];
	put("pw:dkim:sel:example.org:s1", &published);
	selector_table_add_selectors(g, &conf, st, 1000);
	size_t n = selector_table_active(g, &dom, idx);
	selector_table_signed(g, &dom, idx, n, 1500);
	selector_table_signed(g, &dom, idx, n, 1400); /* older: ignored */
	ck_assert(selector_table_state(g, &sels[0], &s));
	ck_assert_int_eq(s.last_signed, 1500);
	ck_assert_int_eq(selector_table_flush(g, st), 0);
	ck_assert(get("pw:dkim:sel:example.org:s1", &s));
	ck_assert_int_eq(s.last_signed, 1500);
	ck_assert(s.published && s.matches);
	ck_assert_int_eq(s.checked_at, 100);
}
END_TEST

START_TEST(refresh_takes_only_newer)
{
	struct selector_state s, in = published;
	selector_table_add_selectors(g, &conf, st, 1000);
	in.checked_at = 200;
	put("pw:dkim:sel:example.org:s1", &in);
	ck_assert_int_eq(selector_table_refresh(g, st), 1);
	ck_assert(selector_table_state(g, &sels[0], &s));
	ck_assert(s.published && s.matches);
	ck_assert_int_eq(s.checked_at, 200);

	/* an older check is not taken; a later signing time is, without a check change */
	in.published = in.matches = false;
	in.checked_at = 150;
	in.last_signed = 900;
	put("pw:dkim:sel:example.org:s1", &in);
	ck_assert_int_eq(selector_table_refresh(g, st), 0);
	ck_assert(selector_table_state(g, &sels[0], &s));
	ck_assert(s.published && s.matches);
	ck_assert_int_eq(s.checked_at, 200);
	ck_assert_int_eq(s.last_signed, 900);

	/* a newer negative check from elsewhere stops the selector here too */
	in.checked_at = 300;
	put("pw:dkim:sel:example.org:s1", &in);
	ck_assert_int_eq(selector_table_refresh(g, st), 1);
	size_t idx[3];
	ck_assert_uint_eq(selector_table_active(g, &dom, idx), 0);
}
END_TEST

#define SIGNERS 4
#define SIGNS 4000
#define FLEET_CHECKS 1000
#define BASE ((time_t)1000000)

static atomic_int running;

struct signer {
	int t;
	long active_s2;
	const char *bad; /* what went wrong, or NULL */
};

static void *signer_thread(void *arg)
{
	struct signer *s = arg;
	for (int i = 0; i < SIGNS && !s->bad; i++) {
		size_t idx[3];
		size_t n = selector_table_active(g, &dom, idx);
		if (n < 1 || n > 2 || idx[0] != 0)
			s->bad = "s1 missing or a selector out of place";
		else if (n == 2 && idx[1] != 1)
			s->bad = "the sign = no selector signs";
		s->active_s2 += n == 2;
		selector_table_signed(g, &dom, idx, n, BASE + (time_t)i * SIGNERS + s->t);
	}
	return NULL;
}

static void *flusher_thread(void *arg)
{
	atomic_long *rounds = arg;
	while (running) {
		if (selector_table_refresh(g, st) < 0 || selector_table_flush(g, st) < 0)
			break;
		atomic_fetch_add(rounds, 1);
	}
	return NULL;
}

/* Another host: newer checks of s2, published and withdrawn in turn. */
static void *fleet_thread(void *arg)
{
	(void)arg;
	for (int k = 1; k <= FLEET_CHECKS; k++) {
		struct selector_state s = { .checked = true,
			                    .published = k % 2,
			                    .matches = k % 2,
			                    .checked_at = BASE + k };
		struct buf b;
		buf_init(&b);
		selector_policy_state_dump(&s, &b);
		store_set(st, "pw:dkim:sel:example.org:s2", b.data, b.len, 0);
		buf_fini(&b);
	}
	return NULL;
}

static void *reload_thread(void *arg)
{
	(void)arg;
	selector_table_add_selectors(g, &big_conf, st, BASE);
	for (int i = 0; i < 200; i++)
		selector_table_add_selectors(g, &conf, st, BASE + i);
	return NULL;
}

START_TEST(concurrent_no_lost_update)
{
	struct selector_state s;
	struct signer sg[SIGNERS];
	pthread_t th[SIGNERS], fl, fleet, rl;
	atomic_long rounds = 0;

	put("pw:dkim:sel:example.org:s1", &published);
	selector_table_add_selectors(g, &conf, st, BASE);
	running = 1;
	ck_assert_int_eq(pthread_create(&fl, NULL, flusher_thread, &rounds), 0);
	/* on a loaded machine the signers could be done before the flusher first runs:
	 * start them once it has flushed (it goes on flushing while they sign) */
	for (int i = 0; i < 10000 && atomic_load(&rounds) == 0; i++)
		usleep(1000);
	ck_assert_int_eq(pthread_create(&fleet, NULL, fleet_thread, NULL), 0);
	ck_assert_int_eq(pthread_create(&rl, NULL, reload_thread, NULL), 0);
	for (int t = 0; t < SIGNERS; t++) {
		sg[t] = (struct signer){ .t = t };
		ck_assert_int_eq(pthread_create(&th[t], NULL, signer_thread, &sg[t]), 0);
	}
	for (int t = 0; t < SIGNERS; t++)
		pthread_join(th[t], NULL);
	pthread_join(fleet, NULL);
	pthread_join(rl, NULL);
	running = 0;
	pthread_join(fl, NULL);
	for (int t = 0; t < SIGNERS; t++)
		ck_assert_msg(sg[t].bad == NULL, "signer %d: %s", t, sg[t].bad);
	ck_assert_int_gt(atomic_load(&rounds), 0);

	ck_assert_int_ge(selector_table_refresh(g, st), 0);
	ck_assert_int_eq(selector_table_flush(g, st), 0);
	time_t last = BASE + (time_t)(SIGNS - 1) * SIGNERS + (SIGNERS - 1);
	ck_assert(selector_table_state(g, &sels[0], &s));
	ck_assert_int_eq(s.last_signed, last);
	ck_assert(get("pw:dkim:sel:example.org:s1", &s));
	ck_assert_int_eq(s.last_signed, last);
	ck_assert(s.published && s.matches);

	/* s2: the table and the store agree on one of the fleet's checks. Not always its
	 * last: a check written between selector_table_flush()'s copy and its store_set() is
	 * overwritten (the store has no compare-and-set), and selector_table_refresh() then finds
	 * nothing newer. */
	struct selector_state mine;
	ck_assert(selector_table_state(g, &sels[1], &mine));
	ck_assert(get("pw:dkim:sel:example.org:s2", &s));
	ck_assert_int_eq(s.checked_at, mine.checked_at);
	ck_assert_int_eq(s.published, mine.published);
	ck_assert_int_eq(s.matches, mine.matches);
	ck_assert_int_ge(mine.checked_at, BASE + 1);
	ck_assert_int_le(mine.checked_at, BASE + FLEET_CHECKS);
	ck_assert_int_eq(mine.published, (mine.checked_at - BASE) % 2);
	if (mine.checked_at != BASE + FLEET_CHECKS)
		fprintf(stderr,
		        "dkim_selector_table: the fleet's last check was overwritten (%lld < "
		        "%lld)\n",
		        (long long)mine.checked_at, (long long)(BASE + FLEET_CHECKS));

	/* the reload's selectors are all there, once each */
	size_t bidx[BIG_NSEL];
	ck_assert_uint_eq(selector_table_active(g, &big_dom, bidx), 0);
	for (int i = 0; i < BIG_NSEL; i++)
		ck_assert(selector_table_state(g, &big_sels[i], &s));
}
END_TEST

int main(void)
{
	Suite *su = suite_create("dkim_selector_table");
	TCase *tc = tcase_create("main");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, attach_starts_warm_and_notes_sign_no);
	tcase_add_test(tc, signed_then_flushed);
	tcase_add_test(tc, refresh_takes_only_newer);
	tcase_add_test(tc, concurrent_no_lost_update);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
