/* Unit test for milter-dkim's ARC validation and sealing (auth.c, arc.c) against the
 * public ARC test suite (tests/data/arc-test-suite: ValiMail's vectors for
 * draft-ietf-dmarc-arc-protocol-18, which became RFC 8617). arc_suite_vectors.py turns
 * the YAML into case files at test time (message with CRLF, the scenario's key
 * records as a zone, the expected result, a fixed time). Validation: every one of the
 * ARC_SUITE_CASES tests is run through the verifier and its cv compared with the
 * suite's. Where RFC 8617 says otherwise than the suite, the case is listed in
 * `differs` with the section, and our (RFC 8617) result is asserted instead; the
 * suite's expectation there must still be the one listed, so the list cannot go
 * stale. Sealing: see suite_sealing. Every case that disagrees is named in the
 * failure message, and the case counts are fixed, so none can vanish. Without
 * /usr/bin/python3 and its yaml module the tests are skipped with a line saying so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "auth.h"
#include "check_common.h"
#include "dkim_testmsg.h"
#include "tags.h"

/* Tests in arc-draft-validation-tests.yml (its 11 scenarios) and in
 * arc-draft-sign-tests.yml (2 scenarios). */
#define ARC_SUITE_CASES 171
#define ARC_SUITE_SIGN_CASES 17

/* Where RFC 8617 says otherwise than the suite: the suite's cv and ours. None of
 * these is a change from draft-18 to RFC 8617 (draft-18 has the same text); they are
 * the suite's (and dkimpy's, which it was checked with) reading against the text. */
static const struct {
	const char *name;
	const char *suite; /* "-": the suite expects an empty result */
	enum sig_cv ours;
} differs[] = {
	/* RFC 8617 5.2 step 2: "If the value of the cv tag on that seal [AS(n)] is fail,
	 * the Chain Validation Status is fail and the algorithm stops here"; the suite
	 * wants no result (dkimpy gives none: "the chain is terminated"). */
	{ "cv_fail_i1_as_cv_fail", "-", SIG_CV_FAIL },
	{ "cv_fail_i2_as2_fail", "-", SIG_CV_FAIL },
	/* RFC 8617 5.2 step 3: no AS may say cv=fail, AS(1) must say none, else fail. */
	{ "cv_fail_i2_as1_fail", "-", SIG_CV_FAIL },
	/* RFC 8617 4.1.2: the AMS has the syntax and semantics of a DKIM-Signature; RFC
	 * 6376 5.4 and 6.1.1: From MUST be signed, an h= without it is PERMFAIL, so AMS(n)
	 * does not validate (5.2 step 4). The suite (and dkimpy) pass an AMS with h= empty. */
	{ "ams_fields_h_empty", "pass", SIG_CV_FAIL },
};

/* @dir (a mkdtemp template) filled by arc_suite_vectors.py @mode from the suite's
 * @yml, or NULL (SKIP line printed) without python3-yaml. */
static const char *suite_dir(char *dir, const char *mode, const char *yml)
{
	const char *src = getenv("POSTWARDEN_SOURCE");
	ck_assert_ptr_nonnull(src);
	if (system("/usr/bin/python3 -c 'import yaml' 2>/dev/null") != 0) {
		printf("SKIP: /usr/bin/python3 with yaml (python3-yaml) is missing\n");
		return NULL;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "/usr/bin/python3 %s/tests/unit/arc_suite_vectors.py %s "
	         "%s/tests/data/arc-test-suite/%s %s",
	         src, mode, src, yml, dir);
	ck_assert_int_eq(system(cmd), 0);
	return dir;
}

/* @dir/cases, its count line read and checked against @want. */
static FILE *cases_open(const char *dir, int want)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/cases", dir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	int count = -1;
	ck_assert_int_eq(fscanf(f, "count %d\n", &count), 1);
	ck_assert_int_eq(count, want);
	return f;
}

static void suite_done(const char *dir, const struct buf *report)
{
	fputs(buf_cstr(report), stdout);
	fflush(stdout);
	ck_assert_msg(report->len == 0, "%s", buf_cstr(report));
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The cv of @dir/@msg.eml, keys from @dir/@name.zone. */
static enum sig_cv run_case(const char *dir, const char *name, const char *msg, long long now,
                            struct buf *why)
{
	char zone[512];
	snprintf(zone, sizeof(zone), "%s/%s.zone", dir, name);
	struct testmsg m;
	testmsg_load(&m, dir, msg);
	struct auth *a = testmsg_auth(&m, false);
	struct verify_keys keys = { testmsg_lookup, zone };
	auth_run(a, &keys, (time_t)now);
	const struct arc_chain *ch = auth_arc(a);
	enum sig_cv cv = ch->cv;
	buf_puts(why, buf_cstr(&ch->why));
	auth_free(a);
	testmsg_free(&m);
	return cv;
}

START_TEST(suite_validation)
{
	char tmp[] = "/tmp/dkim_arc_suite.XXXXXX";
	const char *dir = suite_dir(tmp, "validate", "arc-draft-validation-tests.yml");
	if (!dir)
		return;
	FILE *f = cases_open(dir, ARC_SUITE_CASES);
	int ran = 0, failed = 0, differed = 0;
	struct buf report;
	buf_init(&report);
	char name[128], want[16];
	long long now;
	while (fscanf(f, "%127s %15s %lld\n", name, want, &now) == 3) {
		ran++;
		struct buf why;
		buf_init(&why);
		enum sig_cv cv = run_case(dir, name, name, now, &why);
		const char *expect = want;
		for (size_t d = 0; d < sizeof(differs) / sizeof(differs[0]); d++) {
			if (strcmp(differs[d].name, name) != 0)
				continue;
			differed++;
			if (strcmp(differs[d].suite, want) != 0)
				buf_printf(&report,
				           "%s: listed as differing from the suite's cv=%s, "
				           "but the suite says cv=%s\n",
				           name, differs[d].suite, want);
			expect = sig_cv_name(differs[d].ours);
		}
		if (strcmp(sig_cv_name(cv), expect) != 0) {
			failed++;
			buf_printf(&report, "%s: cv=%s, want %s (%s)\n", name, sig_cv_name(cv),
			           expect, buf_cstr(&why));
		}
		buf_fini(&why);
	}
	fclose(f);
	printf("arc test suite: %d cases, %d disagree, %d listed RFC 8617 differences\n", ran,
	       failed, differed);
	ck_assert_int_eq(ran, ARC_SUITE_CASES);
	ck_assert_int_eq(differed, (int)(sizeof(differs) / sizeof(differs[0])));
	suite_done(dir, &report);
	buf_fini(&report);
}
END_TEST

/* Tag @tag of @value is @want, else a report line. */
static void tag_is(struct buf *report, const char *name, const char *field, const char *value,
                   const char *tag, const char *want)
{
	struct tags t = { 0 };
	ck_assert_int_eq(tags_parse(&t, value, NULL), 0);
	const char *got = tags_get(&t, tag);
	if (!got || strcmp(got, want) != 0)
		buf_printf(report, "%s: our %s has %s=%s, want %s\n", name, field, tag,
		           got ? got : "(none)", want);
	tags_fini(&t);
}

static EVP_PKEY *read_key(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(k);
	return k;
}

/* Seal @name as the suite's signer would (its key, t=, authserv-id) and check what
 * does not depend on our field layout against the suite's expected set. */
static void seal_case(const char *dir, const char *name, long long t, const char *srv,
                      const char *d, const char *sel, int inst, const char *cv, const char *alg,
                      const char *bh, struct buf *report)
{
	char zone[512], istr[16], tstr[32];
	snprintf(zone, sizeof(zone), "%s/%s.zone", dir, name);
	snprintf(istr, sizeof(istr), "%d", inst);
	snprintf(tstr, sizeof(tstr), "%lld", t);
	struct testmsg m;
	testmsg_load(&m, dir, name);
	struct auth *a = testmsg_auth(&m, true);
	struct verify_keys keys = { testmsg_lookup, zone };
	auth_run(a, &keys, (time_t)t);
	char results[64];
	snprintf(results, sizeof(results), "arc=%s", sig_cv_name(auth_arc(a)->cv));
	EVP_PKEY *key = read_key(dir, name);
	struct arc_seal_params p = { d, sel, key, (time_t)t, srv, results };
	struct arc_new_set s;
	struct buf why;
	buf_init(&why);
	int r = auth_seal(a, &p, &s, &why);
	if (inst == 0 && r != ARC_NOT_SEALED)
		buf_printf(report, "%s: sealed (%d), the suite adds no set\n", name, r);
	if (inst > 0 && r != 0)
		buf_printf(report, "%s: not sealed (%d: %s)\n", name, r, buf_cstr(&why));
	if (inst > 0 && r == 0) {
		if (s.instance != inst)
			buf_printf(report, "%s: i=%d, want %d\n", name, s.instance, inst);
		const char *as_tags[][2] = { { "i", istr }, { "cv", cv }, { "a", alg },
			                     { "d", d },    { "s", sel }, { "t", tstr } };
		for (size_t k = 0; k < sizeof(as_tags) / sizeof(as_tags[0]); k++)
			tag_is(report, name, "ARC-Seal", s.as, as_tags[k][0], as_tags[k][1]);
		const char *ams_tags[][2] = { { "i", istr },
			                      { "a", alg },
			                      { "bh", bh },
			                      { "d", d },
			                      { "s", sel },
			                      { "t", tstr },
			                      { "c", "relaxed/relaxed" } };
		for (size_t k = 0; k < sizeof(ams_tags) / sizeof(ams_tags[0]); k++)
			tag_is(report, name, "ARC-Message-Signature", s.ams, ams_tags[k][0],
			       ams_tags[k][1]);
		if (arc_aar_instance(s.aar) != inst)
			buf_printf(report, "%s: our AAR has no i=%d\n", name, inst);
		arc_new_set_fini(&s);
	}
	buf_fini(&why);
	EVP_PKEY_free(key);
	auth_free(a);
	testmsg_free(&m);
}

/* The signing vectors: our sealer on each message (the suite's key, t= and
 * authserv-id) adds a set exactly when the suite does, with the suite's i=, cv=, a=,
 * d=, s=, t= and AMS bh=, c=; and the suite's own expected set, put on top of the
 * message, validates (pass; fail where it says cv=fail, RFC 8617 5.2 step 2). The
 * b= values are not compared: they sign the suite's field layout (tags in
 * alphabetical order, its h= list, its AAR made by merging Authentication-Results),
 * which our sealer does not produce (RFC 8617 leaves the layout to the signer). */
START_TEST(suite_sealing)
{
	char tmp[] = "/tmp/dkim_arc_suite.XXXXXX";
	const char *dir = suite_dir(tmp, "sign", "arc-draft-sign-tests.yml");
	if (!dir)
		return;
	FILE *f = cases_open(dir, ARC_SUITE_SIGN_CASES);
	int ran = 0;
	struct buf report;
	buf_init(&report);
	char name[128], srv[128], d[128], sel[64], cv[16], alg[32], bh[128];
	long long t;
	int inst;
	while (fscanf(f, "%127s %lld %127s %127s %63s %d %15s %31s %127s\n", name, &t, srv, d, sel,
	              &inst, cv, alg, bh) == 9) {
		ran++;
		seal_case(dir, name, t, srv, d, sel, inst, cv, alg, bh, &report);
		if (inst == 0)
			continue;
		char set[160];
		snprintf(set, sizeof(set), "%s.set", name);
		struct buf why;
		buf_init(&why);
		enum sig_cv got = run_case(dir, name, set, t, &why);
		enum sig_cv want = strcmp(cv, "fail") == 0 ? SIG_CV_FAIL : SIG_CV_PASS;
		if (got != want)
			buf_printf(&report,
			           "%s: the suite's set validates as cv=%s, want %s (%s)\n", name,
			           sig_cv_name(got), sig_cv_name(want), buf_cstr(&why));
		buf_fini(&why);
	}
	fclose(f);
	printf("arc test suite signing: %d cases\n", ran);
	ck_assert_int_eq(ran, ARC_SUITE_SIGN_CASES);
	suite_done(dir, &report);
	buf_fini(&report);
}
END_TEST

CHECK_MAIN("dkim_arc_suite", suite_validation, suite_sealing)
