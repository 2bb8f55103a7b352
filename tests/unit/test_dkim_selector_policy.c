/* Unit tests for milter-dkim/selector_policy: the DNS gate policy, retirement phases,
 * state serialization, and [domain] / [*.domain] matching. */
#include <errno.h>
#include <string.h>

#include "check_common.h"
#include "selector_policy.h"

#define DAY 86400

START_TEST(gate_decides_who_signs)
{
	struct selector_conf c[] = {
		{ "2026b", true, false },  /* gated, published + matching */
		{ "2026e", true, false },  /* gated, not published */
		{ "2025a", false, false }, /* sign = no */
		{ "mail", true, true },    /* legacy: never gated */
		{ "wrong", true, false },  /* published, other key */
	};
	struct selector_state st[5] = { 0 };
	ck_assert(selector_policy_gate_update(&st[0], SELECTOR_POLICY_LOOKUP_MATCH, 100));
	ck_assert(selector_policy_gate_update(&st[1], SELECTOR_POLICY_LOOKUP_ABSENT, 100));
	st[2] = st[0];
	ck_assert(selector_policy_gate_update(&st[4], SELECTOR_POLICY_LOOKUP_MISMATCH, 100));
	size_t idx[5];
	size_t n = selector_policy_active(c, st, 5, idx);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 3);
	ck_assert(st[4].published && !st[4].matches && st[4].checked);
	ck_assert(!st[1].published && st[1].checked_at == 100);

	/* DNS failure keeps the last known state */
	ck_assert(!selector_policy_gate_update(&st[0], SELECTOR_POLICY_LOOKUP_FAILED, 200));
	ck_assert(selector_policy_signs(&c[0], &st[0]));
	ck_assert_int_eq(st[0].checked_at, 100);
	/* publication found later opens the gate; withdrawal closes it */
	selector_policy_gate_update(&st[1], SELECTOR_POLICY_LOOKUP_MATCH, 300);
	ck_assert(selector_policy_signs(&c[1], &st[1]));
	/* one negative check only casts doubt (a stale negative cache must not stop it) */
	ck_assert(selector_policy_gate_update(&st[1], SELECTOR_POLICY_LOOKUP_ABSENT, 400));
	ck_assert(selector_policy_signs(&c[1], &st[1]));
	ck_assert_int_eq(st[1].doubted_at, 400);
	/* a match clears the doubt */
	selector_policy_gate_update(&st[1], SELECTOR_POLICY_LOOKUP_MATCH, 410);
	ck_assert_int_eq(st[1].doubted_at, 0);
	ck_assert(selector_policy_signs(&c[1], &st[1]));
	/* two negative checks in a row close it; a mismatch counts as negative */
	selector_policy_gate_update(&st[1], SELECTOR_POLICY_LOOKUP_MISMATCH, 420);
	ck_assert(selector_policy_signs(&c[1], &st[1]));
	ck_assert(selector_policy_gate_update(&st[1], SELECTOR_POLICY_LOOKUP_ABSENT, 480));
	ck_assert(!selector_policy_signs(&c[1], &st[1]));
	ck_assert_int_eq(st[1].doubted_at, 0);
	/* a selector that never passed closes at once (nothing to doubt) */
	ck_assert(selector_policy_gate_update(&st[4], SELECTOR_POLICY_LOOKUP_ABSENT, 500));
	ck_assert(!st[4].published && st[4].doubted_at == 0);
	/* same result again: only checked_at changes */
	struct selector_state copy = st[1];
	ck_assert(selector_policy_gate_update(&st[1], SELECTOR_POLICY_LOOKUP_ABSENT, 480) == false);
	ck_assert_int_eq(memcmp(&copy.checked_at, &st[1].checked_at, sizeof(time_t)), 0);
}
END_TEST

START_TEST(phases_and_retirement)
{
	time_t until;
	struct selector_conf yes = { "a", true, false }, no = { "b", false, false };
	struct selector_state st = { 0 };
	ck_assert_int_eq(selector_policy_phase(&yes, &st, 1000, 7 * DAY, &until),
	                 SELECTOR_POLICY_AWAITING);
	ck_assert_int_eq(until, 0);
	selector_policy_gate_update(&st, SELECTOR_POLICY_LOOKUP_MATCH, 1000);
	ck_assert_int_eq(selector_policy_phase(&yes, &st, 1000, 7 * DAY, &until),
	                 SELECTOR_POLICY_SIGNING);
	/* passing the gate is not signing: only a signed message sets last_signed */
	ck_assert(!selector_policy_track_nosign(&yes, &st, 5000));
	ck_assert_int_eq(st.last_signed, 0);
	ck_assert(selector_policy_signed(&st, 5000));
	ck_assert(!selector_policy_signed(&st, 4000));
	ck_assert_int_eq(st.last_signed, 5000);
	ck_assert_int_eq(st.first_seen_nosign, 0);

	/* switched to sign = no: retires for the grace after it last signed */
	ck_assert(selector_policy_track_nosign(&no, &st, 6000));
	ck_assert_int_eq(st.last_signed, 5000);
	ck_assert_int_eq(st.first_seen_nosign, 6000);
	ck_assert(!selector_policy_track_nosign(&no, &st, 7000));
	ck_assert(!selector_policy_signs(&no, &st));
	ck_assert_int_eq(selector_policy_phase(&no, &st, 7000, 7 * DAY, &until),
	                 SELECTOR_POLICY_RETIRING);
	ck_assert_int_eq(until, 5000 + 7 * DAY);
	ck_assert_int_eq(selector_policy_phase(&no, &st, 5000 + 7 * DAY - 1, 7 * DAY, NULL),
	                 SELECTOR_POLICY_RETIRING);
	ck_assert_int_eq(selector_policy_phase(&no, &st, 5000 + 7 * DAY, 7 * DAY, &until),
	                 SELECTOR_POLICY_REMOVABLE);
	ck_assert_int_eq(until, 0);

	/* never seen signing: counts from first_seen_nosign, or from now */
	struct selector_state fresh = { 0 };
	ck_assert_int_eq(selector_policy_phase(&no, &fresh, 10, DAY, &until),
	                 SELECTOR_POLICY_RETIRING);
	ck_assert_int_eq(until, 10 + DAY);
	selector_policy_track_nosign(&no, &fresh, 10);
	ck_assert_int_eq(selector_policy_phase(&no, &fresh, 10 + DAY, DAY, &until),
	                 SELECTOR_POLICY_REMOVABLE);
	/* back to sign = yes clears first_seen_nosign */
	ck_assert(selector_policy_track_nosign(&yes, &fresh, 20));
	ck_assert_int_eq(fresh.first_seen_nosign, 0);
	ck_assert_int_eq(fresh.last_signed, 0);

	/* legacy signs without any DNS check */
	struct selector_conf legacy = { "mail", true, true };
	struct selector_state none = { 0 };
	ck_assert_int_eq(selector_policy_phase(&legacy, &none, 1, DAY, NULL),
	                 SELECTOR_POLICY_SIGNING);
	ck_assert_str_eq(selector_policy_phase_name(SELECTOR_POLICY_AWAITING),
	                 "awaiting publication");
	ck_assert_str_eq(selector_policy_phase_name(SELECTOR_POLICY_REMOVABLE), "removable");
}
END_TEST

START_TEST(state_roundtrip)
{
	struct selector_state st = { true, true, false, 1750000000, 1760000000, 0, 0 }, back;
	struct buf b;
	buf_init(&b);
	selector_policy_state_dump(&st, &b);
	ck_assert_str_eq(b.data,
	                 "{\"checked\":true,\"checked_at\":1750000000,\"doubted_at\":0,"
	                 "\"first_seen_nosign\":0,\"last_signed\":1760000000,\"matches\":false,"
	                 "\"published\":true}");
	ck_assert_int_eq(selector_policy_state_load(b.data, b.len, &back), 0);
	ck_assert(back.checked && back.published && !back.matches);
	ck_assert_int_eq(back.checked_at, 1750000000);
	ck_assert_int_eq(back.last_signed, 1760000000);
	ck_assert_int_eq(back.first_seen_nosign, 0);
	/* missing and unknown members */
	const char *partial = "{\"published\":true,\"future\":[1,2]}";
	ck_assert_int_eq(selector_policy_state_load(partial, strlen(partial), &back), 0);
	ck_assert(back.published && !back.checked && back.checked_at == 0);
	static const char *const bad[] = {
		"",
		"[]",
		"{",
		"{\"published\":1}",
		"{\"checked_at\":-5}",
		"{\"checked_at\":\"x\"}",
		"{\"matches\":true,\"matches\":false}",
		"null",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		back.published = true;
		ck_assert_msg(selector_policy_state_load(bad[i], strlen(bad[i]), &back) == -EINVAL,
		              "%s", bad[i]);
		ck_assert(!back.published);
	}
	buf_fini(&b);
}
END_TEST

START_TEST(domain_matching)
{
	const char *const s[] = { "*.example.org", "example.org", "*.deep.example.org",
		                  "Other.Example", "*.org" };
	size_t i;
	const char *d;
	ck_assert_int_eq(selector_policy_match_domain(s, 5, "example.org", &i, &d), 0);
	ck_assert_uint_eq(i, 1);
	ck_assert_str_eq(d, "example.org");
	ck_assert_int_eq(selector_policy_match_domain(s, 5, "a.example.org", &i, &d), 0);
	ck_assert_uint_eq(i, 0);
	ck_assert_str_eq(d, "example.org");
	ck_assert_int_eq(selector_policy_match_domain(s, 5, "x.deep.example.org", &i, &d), 0);
	ck_assert_uint_eq(i, 2);
	ck_assert_str_eq(d, "deep.example.org");
	/* deep.example.org itself: only the *.example.org wildcard covers it */
	ck_assert_int_eq(selector_policy_match_domain(s, 5, "deep.example.org", &i, &d), 0);
	ck_assert_uint_eq(i, 0);
	ck_assert_int_eq(selector_policy_match_domain(s, 5, "other.example", &i, &d), 0);
	ck_assert_uint_eq(i, 3);
	ck_assert_int_eq(selector_policy_match_domain(s, 5, "x.other.example", &i, &d),
	                 SELECTOR_POLICY_NO_DOMAIN);
	ck_assert_int_eq(selector_policy_match_domain(s, 5, "badexample.org", &i, &d), 0);
	ck_assert_uint_eq(i, 4); /* only *.org */
	ck_assert_int_eq(selector_policy_match_domain(s, 4, "badexample.org", &i, &d),
	                 SELECTOR_POLICY_NO_DOMAIN);
	ck_assert_int_eq(selector_policy_match_domain(s, 4, "org", &i, &d),
	                 SELECTOR_POLICY_NO_DOMAIN);
	ck_assert_int_eq(selector_policy_match_domain(s, 0, "example.org", &i, &d),
	                 SELECTOR_POLICY_NO_DOMAIN);
	/* order does not matter: exact wins even when listed after wildcards */
	const char *const s2[] = { "*.a.b", "*.b", "x.a.b" };
	ck_assert_int_eq(selector_policy_match_domain(s2, 3, "x.a.b", &i, &d), 0);
	ck_assert_uint_eq(i, 2);
	ck_assert_int_eq(selector_policy_match_domain(s2, 3, "y.a.b", &i, &d), 0);
	ck_assert_uint_eq(i, 0);
}
END_TEST

CHECK_MAIN("dkim_selector_policy", gate_decides_who_signs, phases_and_retirement, state_roundtrip,
           domain_matching)
