/* Unit tests for milter-dkim's ARC core (arc.c through auth.c): chains sealed by
 * dkimpy validate as dkimpy says (pass for one and two hops; fail after a body
 * change or a changed seal); sets sealed by us validate with dkimpy's
 * dkim.arc_verify (dkim_dkimpy_verify.py --arc): one hop on a dkimpy chain, and a three-hop
 * run (origin signs, two forwarders seal) built the way Postfix inserts fields; a
 * body changed between hops is sealed cv=fail and the chain is not extended after
 * that; a chain is not extended past 50 sets. dkimpy vectors are made at test time
 * (dkim_vectors.py); without dkimpy those parts are skipped with a line saying so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "check_common.h"
#include "dkim_testmsg.h"
#include "keys.h"
#include "sign.h"

/* Write "Name: value" (LF folds as CRLF) the way Postfix stores an inserted field. */
static void put_field(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s: ", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			fputc('\r', f);
		fputc(*p, f);
	}
	fputs("\r\n", f);
}

/* @dir/@out.eml = the new set on top of @m (AS, AMS, AAR, then the old message). */
static void write_sealed(const char *dir, const char *out, const struct testmsg *m,
                         const struct arc_new_set *s)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.eml", dir, out);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	put_field(f, "ARC-Seal", s->as);
	put_field(f, "ARC-Message-Signature", s->ams);
	put_field(f, "ARC-Authentication-Results", s->aar);
	for (size_t i = 0; i < m->n; i++)
		fprintf(f, "%s:%s\r\n", m->name[i], m->value[i]);
	fputs("\r\n", f);
	fwrite(m->body, 1, m->body_len, f);
	fclose(f);
}

/* @dir/@out.eml = @dir/@in.eml with the first @from in the body replaced by @to. */
static void copy_edited(const char *dir, const char *in, const char *out, const char *from,
                        const char *to)
{
	struct testmsg m;
	testmsg_load(&m, dir, in);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.eml", dir, out);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	char *at = strstr(m.body, from);
	ck_assert_ptr_nonnull(at);
	fwrite(m.raw, 1, (size_t)(at - m.raw), f);
	fputs(to, f);
	fputs(at + strlen(from), f);
	fclose(f);
	testmsg_free(&m);
}

static const char *dkimpy_cv(const char *dir, const char *name, const char *zone)
{
	static char line[512];
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "/usr/bin/python3 %s/tests/unit/dkim_dkimpy_verify.py --arc %s/%s.eml %s",
	         getenv("POSTWARDEN_SOURCE"), dir, name, zone);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static void zone_add(const char *zone, const char *sel, const char *domain, EVP_PKEY *key)
{
	struct buf rec;
	buf_init(&rec);
	ck_assert_int_eq(keys_dns_record(key, &rec), 0);
	FILE *f = fopen(zone, "a");
	fprintf(f, "%s._domainkey.%s %s\n", sel, domain, rec.data);
	fclose(f);
	buf_fini(&rec);
}

/* One forwarder: verify @in, seal with @key, write @out; returns the cv it saw. */
static enum sig_cv hop(const char *dir, const char *in, const char *out, const char *zone,
                       EVP_PKEY *key, const char *sel, const char *domain, int *sealed)
{
	struct testmsg m;
	testmsg_load(&m, dir, in);
	struct auth *a = testmsg_auth(&m, true);
	struct verify_keys keys = { testmsg_lookup, (void *)zone };
	auth_run(a, &keys, time(NULL));
	enum sig_cv cv = auth_arc(a)->cv;
	char results[128];
	snprintf(results, sizeof(results), "arc=%s", sig_cv_name(cv));
	struct arc_seal_params p = { domain, sel, key, time(NULL), "mx.test", results };
	struct arc_new_set s;
	struct buf why;
	buf_init(&why);
	*sealed = auth_seal(a, &p, &s, &why);
	ck_assert_int_ge(*sealed, 0);
	if (*sealed == 0) {
		ck_assert_int_eq(s.instance, auth_arc(a)->n + 1);
		write_sealed(dir, out, &m, &s);
		arc_new_set_fini(&s);
	}
	buf_fini(&why);
	auth_free(a);
	testmsg_free(&m);
	return cv;
}

START_TEST(dkimpy_chains_validate)
{
	char zone[512];
	const char *dir = testmsg_vectors(zone);
	if (!dir)
		return;
	static const struct {
		const char *name;
		enum sig_cv want;
		int n;
	} cases[] = {
		{ "rsa_relaxed_simple", SIG_CV_NONE, 0 },
		{ "arc_one", SIG_CV_PASS, 1 },
		{ "arc_two", SIG_CV_PASS, 2 },
		{ "arc_body_changed", SIG_CV_FAIL, 2 },
		{ "arc_seal_changed", SIG_CV_FAIL, 2 },
	};
	struct verify_keys keys = { testmsg_lookup, zone };
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct testmsg m;
		testmsg_load(&m, dir, cases[c].name);
		struct auth *a = testmsg_auth(&m, true);
		auth_run(a, &keys, time(NULL));
		const struct arc_chain *ch = auth_arc(a);
		ck_assert_msg(ch->cv == cases[c].want, "%s: cv=%s (%s)", cases[c].name,
		              sig_cv_name(ch->cv), buf_cstr(&ch->why));
		ck_assert_int_eq(ch->n, cases[c].n);
		const char *theirs = strrchr(testmsg_case(dir, cases[c].name), ' ');
		ck_assert_ptr_nonnull(theirs);
		ck_assert_str_eq(theirs + 1, sig_cv_name(ch->cv));
		auth_free(a);
		testmsg_free(&m);
	}
}
END_TEST

/* We extend dkimpy's two-hop chain; dkimpy validates i=1..3. */
START_TEST(our_seal_on_dkimpy_chain)
{
	char zone[512];
	const char *dir = testmsg_vectors(zone);
	if (!dir)
		return;
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	zone_add(zone, "2026b", "relay.example", rsa);
	int sealed = -1;
	ck_assert_int_eq(
	        hop(dir, "arc_two", "ours_three", zone, rsa, "2026b", "relay.example", &sealed),
	        SIG_CV_PASS);
	ck_assert_int_eq(sealed, 0);
	ck_assert_str_eq(dkimpy_cv(dir, "ours_three", zone), "pass success");
	/* and on a broken chain: sealed cv=fail, which dkimpy reads as the end */
	ck_assert_int_eq(hop(dir, "arc_body_changed", "ours_failed", zone, rsa, "2026b",
	                     "relay.example", &sealed),
	                 SIG_CV_FAIL);
	ck_assert_int_eq(sealed, 0);
	ck_assert_str_eq(dkimpy_cv(dir, "ours_failed", zone),
	                 "ended ARC-Seal[3] reported failure, the chain is terminated");
	/* which we never extend */
	ck_assert_int_eq(hop(dir, "ours_failed", "ours_after_fail", zone, rsa, "2026b",
	                     "relay.example", &sealed),
	                 SIG_CV_FAIL);
	ck_assert_int_eq(sealed, ARC_NOT_SEALED);
	EVP_PKEY_free(rsa);
}
END_TEST

/* Origin signs (dkimpy DKIM), forwarder 1 seals, forwarder 2 seals (both our code,
 * RSA): dkimpy reports cv=pass for i=1..2, and so do we; a body changed after hop 1
 * makes hop 2 seal cv=fail. */
START_TEST(three_hops)
{
	char zone[512];
	const char *dir = testmsg_vectors(zone);
	if (!dir)
		return;
	EVP_PKEY *f1 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *f2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	zone_add(zone, "hop1", "f1.example", f1);
	zone_add(zone, "hop2", "f2.example", f2);
	int sealed = -1;
	/* the origin's message: dkimpy-signed rsa_relaxed_simple (no ARC yet) */
	ck_assert_int_eq(
	        hop(dir, "rsa_relaxed_simple", "hop1", zone, f1, "hop1", "f1.example", &sealed),
	        SIG_CV_NONE);
	ck_assert_int_eq(sealed, 0);
	ck_assert_str_eq(dkimpy_cv(dir, "hop1", zone), "pass success");
	ck_assert_int_eq(hop(dir, "hop1", "hop2", zone, f2, "hop2", "f2.example", &sealed),
	                 SIG_CV_PASS);
	ck_assert_int_eq(sealed, 0);
	ck_assert_str_eq(dkimpy_cv(dir, "hop2", zone), "pass success");
	/* our validator agrees on the final message */
	struct testmsg m;
	testmsg_load(&m, dir, "hop2");
	struct auth *a = testmsg_auth(&m, true);
	struct verify_keys keys = { testmsg_lookup, zone };
	auth_run(a, &keys, time(NULL));
	ck_assert_int_eq(auth_arc(a)->cv, SIG_CV_PASS);
	ck_assert_int_eq(auth_arc(a)->n, 2);
	ck_assert_int_eq(auth_dkim_get(a, 0)->result, VERIFY_PASS);
	auth_free(a);
	testmsg_free(&m);
	/* the body changed in transit after hop 1: hop 2 sees fail and seals cv=fail */
	copy_edited(dir, "hop1", "hop1_edited", "Hello  Bob", "Hello Eve");
	ck_assert_int_eq(
	        hop(dir, "hop1_edited", "hop2_after_edit", zone, f2, "hop2", "f2.example", &sealed),
	        SIG_CV_FAIL);
	ck_assert_int_eq(sealed, 0);
	ck_assert_str_eq(dkimpy_cv(dir, "hop1_edited", zone),
	                 "fail Most recent ARC-Message-Signature did not validate");
	testmsg_load(&m, dir, "hop2_after_edit");
	ck_assert_ptr_nonnull(strstr(m.value[0], "cv=fail"));
	testmsg_free(&m);
	EVP_PKEY_free(f1);
	EVP_PKEY_free(f2);
}
END_TEST

/* Sealing 50 times with Ed25519 gives a chain that validates at every step; the
 * 51st seal is refused. */
START_TEST(fifty_sets_then_stop)
{
	char dir[] = "/tmp/dkim_arc50.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char zone[600], path[600];
	snprintf(zone, sizeof(zone), "%s/zone", dir);
	fclose(fopen(zone, "w"));
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	zone_add(zone, "s", "relay.example", k);
	snprintf(path, sizeof(path), "%s/m0.eml", dir);
	FILE *f = fopen(path, "wb");
	fputs("From: a@example.org\r\nSubject: loop\r\n\r\nbody\r\n", f);
	fclose(f);
	int sealed = -1;
	for (int i = 0; i <= 50; i++) {
		char in[16], out[16];
		snprintf(in, sizeof(in), "m%d", i);
		snprintf(out, sizeof(out), "m%d", i + 1);
		enum sig_cv cv = hop(dir, in, out, zone, k, "s", "relay.example", &sealed);
		ck_assert_int_eq(cv, i == 0 ? SIG_CV_NONE : SIG_CV_PASS);
		ck_assert_int_eq(sealed, i < 50 ? 0 : ARC_NOT_SEALED);
	}
	EVP_PKEY_free(k);
	for (int i = 0; i <= 50; i++) {
		snprintf(path, sizeof(path), "%s/m%d.eml", dir, i);
		unlink(path);
	}
	unlink(zone);
	rmdir(dir);
}
END_TEST

START_TEST(collect_structure)
{
	ck_assert_int_eq(arc_aar_instance(" i=3; mx.example; dkim=pass"), 3);
	ck_assert_int_eq(arc_aar_instance("i = 12 ;x"), 12);
	ck_assert_int_eq(arc_aar_instance("mx.example; i=3"), 0);
	ck_assert_int_eq(arc_aar_instance("i=3 x;"), 0);
	ck_assert_int_eq(arc_aar_instance("i=52;"), 0);
	const struct {
		const char *fields[4][2];
		const char *why;
	} broken[] = {
		{ { { "ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=x; s=y; b=A" },
		    { "ARC-Message-Signature", "i=1; a=rsa-sha256; d=x; s=y; h=from; bh=A; b=A" },
		    { "From", "a@x" } },
		  "ARC set 1 is incomplete" },
		{ { { "ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=x; s=y; b=A" },
		    { "ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=x; s=z; b=A" },
		    { "ARC-Authentication-Results", "i=1; x; none" } },
		  "ARC set 1 has a field twice" },
		{ { { "ARC-Seal", "a=rsa-sha256; cv=none; d=x; s=y; b=A" } },
		  "an ARC field without a valid i=" },
		{ { { "arc-seal", "i=51; a=rsa-sha256; cv=none; d=x; s=y; b=A" } },
		  "more than 50 ARC sets" },
	};
	for (size_t c = 0; c < sizeof(broken) / sizeof(broken[0]); c++) {
		struct auth *a = auth_new();
		for (int i = 0; i < 4 && broken[c].fields[i][0]; i++)
			auth_header(a, broken[c].fields[i][0], broken[c].fields[i][1]);
		auth_headers_done(a, false);
		struct verify_keys keys = { testmsg_lookup, "/dev/null" };
		auth_run(a, &keys, 0);
		ck_assert_int_eq(auth_arc(a)->cv, SIG_CV_FAIL);
		ck_assert_str_eq(buf_cstr(&auth_arc(a)->why), broken[c].why);
		auth_free(a);
	}
}
END_TEST

CHECK_MAIN("dkim_arc", collect_structure, dkimpy_chains_validate, our_seal_on_dkimpy_chain,
           three_hops, fifty_sets_then_stop)
