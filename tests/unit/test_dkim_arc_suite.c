/* Unit test for milter-dkim's ARC validation (auth.c, arc.c) against the public ARC
 * test suite (tests/data/arc-test-suite: ValiMail's validation vectors for
 * draft-ietf-dmarc-arc-protocol-18, which became RFC 8617). arc_suite_vectors.py turns
 * the YAML into case files at test time (message with CRLF, the scenario's key
 * records as a zone, the expected cv, a fixed time); every one of the ARC_SUITE_CASES
 * tests is run through the verifier and its cv compared with the suite's. Where RFC
 * 8617 says otherwise than the suite, the case is listed in `differs` with the
 * section, and our (RFC 8617) result is asserted instead; the suite's expectation
 * there must still be the one listed, so the list cannot go stale. Every case that
 * disagrees is named in the failure message. Without /usr/bin/python3 and its yaml
 * module the test is skipped with a line saying so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "check_common.h"
#include "dkim_testmsg.h"

/* Tests in arc-draft-validation-tests.yml (its 11 scenarios). */
#define ARC_SUITE_CASES 171

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

/* The suite's vectors as case files in a fresh temp dir, or NULL (SKIP line printed). */
static const char *suite_dir(void)
{
	static char dir[] = "/tmp/dkim_arc_suite.XXXXXX";
	const char *src = getenv("POSTWARDEN_SOURCE");
	ck_assert_ptr_nonnull(src);
	if (system("/usr/bin/python3 -c 'import yaml' 2>/dev/null") != 0) {
		printf("SKIP: /usr/bin/python3 with yaml (python3-yaml) is missing\n");
		return NULL;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "/usr/bin/python3 %s/tests/unit/arc_suite_vectors.py "
	         "%s/tests/data/arc-test-suite/arc-draft-validation-tests.yml %s",
	         src, src, dir);
	ck_assert_int_eq(system(cmd), 0);
	return dir;
}

static enum sig_cv run_case(const char *dir, const char *name, long long now, struct buf *why)
{
	char zone[512];
	snprintf(zone, sizeof(zone), "%s/%s.zone", dir, name);
	struct testmsg m;
	testmsg_load(&m, dir, name);
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
	const char *dir = suite_dir();
	if (!dir)
		return;
	char path[512];
	snprintf(path, sizeof(path), "%s/cases", dir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	int count = -1, ran = 0, failed = 0, differed = 0;
	ck_assert_int_eq(fscanf(f, "count %d\n", &count), 1);
	ck_assert_int_eq(count, ARC_SUITE_CASES);
	struct buf report;
	buf_init(&report);
	char name[128], want[16];
	long long now;
	while (fscanf(f, "%127s %15s %lld\n", name, want, &now) == 3) {
		ran++;
		struct buf why;
		buf_init(&why);
		enum sig_cv cv = run_case(dir, name, now, &why);
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
			buf_printf(&report, "%s: cv=%s, want %s (%s)\n", name, sig_cv_name(cv), expect,
			           buf_cstr(&why));
		}
		buf_fini(&why);
	}
	fclose(f);
	printf("arc test suite: %d cases, %d disagree, %d listed RFC 8617 differences\n", ran,
	       failed, differed);
	fputs(buf_cstr(&report), stdout);
	fflush(stdout);
	ck_assert_int_eq(ran, ARC_SUITE_CASES);
	ck_assert_int_eq(differed, (int)(sizeof(differs) / sizeof(differs[0])));
	ck_assert_msg(report.len == 0, "%s", buf_cstr(&report));
	buf_fini(&report);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

CHECK_MAIN("dkim_arc_suite", suite_validation)
