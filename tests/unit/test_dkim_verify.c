/* Unit tests for milter-dkim's verifier: tags (RFC 6376 3.2 tag lists), sig (field
 * checks), fields (h= bottom-up), canon l=, verify and auth. Known answers: the
 * RFC 8463 Appendix A message (both signatures pass, a changed body fails), our own
 * signer's output, and messages signed by dkimpy at test time (dkim_vectors.py: fresh
 * keys each run) whose result must equal dkimpy's own verdict on the same bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "auth.h"
#include "authres.h"
#include "check_common.h"
#include "dkim_testmsg.h"
#include "keys.h"
#include "sign.h"
#include "tags.h"

START_TEST(tags_parse_lists)
{
	struct tags t = { 0 };
	ck_assert_int_eq(
	        tags_parse(&t, " v = 1 ;a=rsa-sha256;\r\n\th=from :\n to; b= ab\r\n cd ;", NULL),
	        0);
	ck_assert_uint_eq(t.n, 4);
	ck_assert_str_eq(tags_get(&t, "v"), "1");
	ck_assert_str_eq(tags_get(&t, "h"), "from :\n to");
	ck_assert_str_eq(tags_get(&t, "b"), "ab\r\n cd");
	ck_assert_ptr_null(tags_get(&t, "V"));
	tags_fini(&t);
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(tags_parse(&t, "a=1; a=2", &err), -EINVAL);
	ck_assert_str_eq(err.data, "tag a repeated");
	tags_fini(&t);
	ck_assert_int_eq(tags_parse(&t, "a=1; junk; b=2", NULL), -EINVAL);
	tags_fini(&t);
	ck_assert_int_eq(tags_parse(&t, "1a=1", NULL), -EINVAL);
	tags_fini(&t);
	ck_assert_int_eq(tags_parse(&t, "", NULL), 0);
	ck_assert_uint_eq(t.n, 0);
	tags_fini(&t);
	ck_assert_int_eq(tags_parse(&t, "a=; ", NULL), 0);
	ck_assert_str_eq(tags_get(&t, "a"), "");
	tags_fini(&t);
	/* RFC 6376 3.2: no empty tag-spec but after the last ';' (the ARC test suite's
	 * as_format_tags_sc, an ARC-Seal with "s=dummy;;", must fail) */
	buf_reset(&err);
	ck_assert_int_eq(tags_parse(&t, "a=;;", &err), -EINVAL);
	ck_assert_str_eq(err.data, "empty tag");
	tags_fini(&t);
	ck_assert_int_eq(tags_parse(&t, "a=1; ;b=2", NULL), -EINVAL);
	tags_fini(&t);
	ck_assert_int_eq(tags_parse(&t, ";a=1", NULL), -EINVAL);
	tags_fini(&t);
	buf_fini(&err);
}
END_TEST

START_TEST(tags_base64_and_strip)
{
	struct buf b;
	buf_init(&b);
	ck_assert(tags_base64("aGVs\r\n bG8=", &b));
	ck_assert_str_eq(b.data, "hello");
	buf_reset(&b);
	ck_assert(!tags_base64("aGVs*bG8=", &b));
	buf_reset(&b);
	ck_assert(!tags_base64("aG=Vs", &b));
	buf_reset(&b);
	tags_strip_b("v=1; bh=abc=;\n b=xyz\n\tmore; s=x", &b);
	ck_assert_str_eq(b.data, "v=1; bh=abc=;\n b=; s=x");
	buf_reset(&b);
	tags_strip_b("a=1; b = long\n value", &b);
	ck_assert_str_eq(b.data, "a=1; b =");
	buf_fini(&b);
	ck_assert(tags_list_has("from : To:subject", ':', "to"));
	ck_assert(!tags_list_has("from:tox", ':', "to"));
}
END_TEST

START_TEST(sig_checks)
{
	struct sig s;
	struct buf err;
	buf_init(&err);
	const char *ok = "v=1; a=rsa-sha256; d=Example.org; s=x; h=From:to; bh=AA==; b=AA==";
	ck_assert_int_eq(sig_parse(&s, SIG_DKIM, ok, NULL), 0);
	ck_assert_int_eq(s.hcanon, CANON_SIMPLE);
	ck_assert_int_eq(s.bcanon, CANON_SIMPLE);
	ck_assert_int_eq(s.l, -1);
	sig_fini(&s);
	const struct {
		enum sig_kind kind;
		const char *value, *why;
	} bad[] = {
		{ SIG_DKIM, "v=1; a=rsa-sha1; d=x; s=x; h=from; bh=A; b=A",
		  "a=rsa-sha1 is not supported" },
		{ SIG_DKIM, "v=1; a=rsa-sha256; d=x; s=x; h=to; bh=A; b=A",
		  "h= does not list From" },
		{ SIG_DKIM, "v=1; a=rsa-sha256; d=x; s=x; h=from; b=A", "no bh= tag" },
		{ SIG_DKIM, "v=2; a=rsa-sha256; d=x; s=x; h=from; bh=A; b=A", "v= is not 1" },
		{ SIG_DKIM, "v=1; a=rsa-sha256; d=x.org; i=a@y.org; s=x; h=from; bh=A; b=A",
		  "i= is not within d=" },
		{ SIG_DKIM, "v=1; a=rsa-sha256; d=x; s=x; h=from; bh=A; b=A; t=20; x=10",
		  "x= is before t=" },
		{ SIG_DKIM, "v=1; a=rsa-sha256; d=x; s=x; h=from; bh=A; b=A; l=-1",
		  "l= is not a number" },
		{ SIG_DKIM, "v=1; a=rsa-sha256; c=loose; d=x; s=x; h=from; bh=A; b=A",
		  "c= is not known" },
		{ SIG_AMS, "i=0; a=rsa-sha256; d=x; s=x; h=from; bh=A; b=A", "i= is not 1..50" },
		{ SIG_AMS, "i=51; a=rsa-sha256; d=x; s=x; h=from; bh=A; b=A", "i= is not 1..50" },
		{ SIG_AMS, "i=1; a=rsa-sha256; d=x; s=x; h=from:arc-seal; bh=A; b=A",
		  "h= lists ARC-Seal" },
		{ SIG_AS, "i=1; a=rsa-sha256; cv=maybe; d=x; s=x; b=A",
		  "cv= is not none, pass or fail" },
		{ SIG_AS, "i=1; a=rsa-sha256; cv=none; d=x; s=x; h=from; b=A",
		  "h= in an ARC-Seal" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		ck_assert_int_eq(sig_parse(&s, bad[i].kind, bad[i].value, &err), -EINVAL);
		ck_assert_str_eq(buf_cstr(&err), bad[i].why);
		sig_fini(&s);
	}
	ck_assert_int_eq(sig_parse(&s, SIG_DKIM,
	                           "v=1; a=ed25519-sha256; c=relaxed; d=x.org; i=a@sub.x.org; s=x; "
	                           "h=from; bh=A; b=A; l=10",
	                           NULL),
	                 0);
	ck_assert(s.ed25519);
	ck_assert_int_eq(s.hcanon, CANON_RELAXED);
	ck_assert_int_eq(s.bcanon, CANON_SIMPLE);
	ck_assert_int_eq(s.l, 10);
	sig_fini(&s);
	ck_assert_int_eq(
	        sig_parse(&s, SIG_AS, "i=3; a=rsa-sha256; cv=pass; d=x; s=y; t=5; b=A", NULL), 0);
	ck_assert_int_eq(s.instance, 3);
	ck_assert_int_eq(s.cv, SIG_CV_PASS);
	ck_assert_int_eq(s.hcanon, CANON_RELAXED);
	sig_fini(&s);
	ck_assert_int_eq(sig_instance(" i = 51 ; a=x"), 51);
	ck_assert_int_eq(sig_instance("i=52"), 0);
	ck_assert_int_eq(sig_instance("a=1"), 0);
	buf_fini(&err);
}
END_TEST

START_TEST(fields_bottom_up)
{
	struct fields *f = fields_new();
	fields_add(f, "Received", " one");
	fields_add(f, "From", " a@x");
	fields_add(f, "Received", " two");
	fields_add(f, "Subject", " s  t ");
	struct buf b;
	buf_init(&b);
	fields_block(f, "received : from:RECEIVED:received:subject:x-none", CANON_RELAXED, &b);
	ck_assert_str_eq(b.data, "received:two\r\nfrom:a@x\r\nreceived:one\r\nsubject:s t\r\n");
	buf_reset(&b);
	fields_block(f, "subject", CANON_SIMPLE, &b);
	ck_assert_str_eq(b.data, "Subject: s  t \r\n");
	buf_reset(&b);
	canon_header(&b, CANON_SIMPLE, "To", " a,\n b,\r\n c");
	ck_assert_str_eq(b.data, "To: a,\r\n b,\r\n c");
	buf_fini(&b);
	fields_free(f);
}
END_TEST

START_TEST(canon_body_length_limit)
{
	const char body[] = "line one  \r\nline two\r\n\r\n";
	struct canon_body *full = canon_body_new(CANON_RELAXED);
	struct canon_body *cut = canon_body_new(CANON_RELAXED);
	canon_body_limit(cut, 9);
	unsigned char a[32], b[32], want[32];
	struct buf copy;
	buf_init(&copy);
	canon_body_copy_to(full, &copy);
	canon_body_update(full, body, sizeof(body) - 1);
	canon_body_update(cut, body, sizeof(body) - 1);
	ck_assert_int_eq(canon_body_final(full, a), 0);
	ck_assert_int_eq(canon_body_final(cut, b), 0);
	ck_assert_str_eq(copy.data, "line one\r\nline two\r\n");
	ck_assert_uint_eq(canon_body_length(full), 20);
	ck_assert_uint_eq(canon_body_length(cut), 20);
	SHA256((const unsigned char *)"line one\r", 9, want);
	ck_assert_mem_eq(b, want, 32);
	ck_assert_mem_ne(a, b, 32);
	canon_body_free(full);
	canon_body_free(cut);
	buf_fini(&copy);
}
END_TEST

static char *write_zone(const char *text)
{
	char *path = strdup("/tmp/dkim_zone.XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static const char rfc8463_msg[] =
        "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
        " d=football.example.com; i=@football.example.com;\r\n"
        " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
        " subject : date : message-id : from : subject : date;\r\n"
        " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
        " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
        " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
        " d=football.example.com; i=@football.example.com;\r\n"
        " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
        " date : message-id : from : subject : date;\r\n"
        " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
        " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
        " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
        " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
        "From: Joe SixPack <joe@football.example.com>\r\n"
        "To: Suzie Q <suzie@shopping.example.net>\r\n"
        "Subject: Is dinner ready?\r\n"
        "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
        "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
        "\r\n"
        "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n\r\n";

static const char rfc8463_zone[] =
        "brisbane._domainkey.football.example.com v=DKIM1; k=ed25519; "
        "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
        "test._domainkey.football.example.com v=DKIM1; k=rsa; "
        "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi"
        "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyV"
        "YLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n";

static void rfc8463_check(const char *msg, enum verify_result want)
{
	char *zone = write_zone(rfc8463_zone);
	char dir[] = "/tmp/dkim_rfc.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/rfc.eml", dir);
	FILE *f = fopen(path, "wb");
	fputs(msg, f);
	fclose(f);
	struct testmsg m;
	testmsg_load(&m, dir, "rfc");
	struct auth *a = testmsg_auth(&m, false);
	struct verify_keys keys = { testmsg_lookup, zone };
	auth_run(a, &keys, 1528637909);
	ck_assert_uint_eq(auth_dkim_count(a), 2);
	for (size_t i = 0; i < 2; i++) {
		const struct auth_dkim *d = auth_dkim_get(a, i);
		ck_assert_msg(d->result == want, "signature %zu: %s (%s)", i,
		              verify_result_name(d->result), buf_cstr(&d->why));
		ck_assert_str_eq(d->d, "football.example.com");
	}
	ck_assert_str_eq(auth_dkim_get(a, 0)->alg, "ed25519-sha256");
	ck_assert_str_eq(auth_dkim_get(a, 1)->s, "test");
	auth_free(a);
	testmsg_free(&m);
	unlink(path);
	rmdir(dir);
	unlink(zone);
	free(zone);
}

START_TEST(rfc8463_vector_verifies)
{
	rfc8463_check(rfc8463_msg, VERIFY_PASS);
	char *changed = strdup(rfc8463_msg);
	memcpy(strstr(changed, "We lost"), "We won!", 7);
	rfc8463_check(changed, VERIFY_FAIL);
	free(changed);
}
END_TEST

/* A verify_keys source with the records already parsed: every name gives the key @arg
 * (a new reference), "tempfail..." gives it too but with -EAGAIN. */
static int parsed_lookup(void *arg, const char *name, struct buf *txt, EVP_PKEY **parsed)
{
	(void)txt;
	ck_assert_ptr_null(*parsed);
	ck_assert_int_eq(EVP_PKEY_up_ref(arg), 1);
	*parsed = arg;
	return strncmp(name, "tempfail", 8) == 0 ? -EAGAIN : 0;
}

/* Our signer's output (RSA, Ed25519, x=) verifies; a lookup failure is temperror. */
START_TEST(own_signatures_verify)
{
	EVP_PKEY *keys[3] = { EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048),
		              EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
		              EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") };
	const char *sels[3] = { "r", "e", "tempfail" };
	struct buf zone;
	buf_init(&zone);
	for (int k = 0; k < 2; k++) {
		buf_printf(&zone, "%s._domainkey.example.org ", sels[k]);
		ck_assert_int_eq(keys_dns_record(keys[k], &zone), 0);
		buf_putc(&zone, '\n');
	}
	char *zpath = write_zone(zone.data);
	const char *hdr[][2] = { { "From", "a@example.org" }, { "Subject", "x\n  y" } };
	const char body[] = "body  \r\n\r\n";
	struct sign *s = sign_new();
	for (int i = 0; i < 2; i++)
		sign_header(s, hdr[i][0], hdr[i][1]);
	sign_body(s, body, sizeof(body) - 1);
	struct auth *a = auth_new();
	char *values[3];
	for (int k = 2; k >= 0; k--) {
		struct sign_params p = { "example.org", sels[k], keys[k], 1000, 5000 };
		ck_assert_int_eq(sign_make(s, &p, &values[k]), 0);
	}
	for (int k = 0; k < 3; k++)
		auth_header(a, "DKIM-Signature", values[k]);
	for (int i = 0; i < 2; i++)
		auth_header(a, hdr[i][0], hdr[i][1]);
	auth_headers_done(a, false);
	auth_body(a, body, sizeof(body) - 1);
	struct verify_keys src = { testmsg_lookup, zpath };
	auth_run(a, &src, 2000);
	ck_assert_uint_eq(auth_dkim_count(a), 3);
	ck_assert_int_eq(auth_dkim_get(a, 0)->result, VERIFY_PASS);
	ck_assert_int_eq(auth_dkim_get(a, 1)->result, VERIFY_PASS);
	ck_assert_int_eq(auth_dkim_get(a, 2)->result, VERIFY_TEMPERROR);
	auth_free(a);
	/* after x= (5000): expired, before any DNS */
	a = auth_new();
	auth_header(a, "DKIM-Signature", values[0]);
	auth_header(a, "From", "a@example.org");
	auth_headers_done(a, false);
	auth_body(a, body, sizeof(body) - 1);
	auth_run(a, &src, 5001);
	ck_assert_int_eq(auth_dkim_get(a, 0)->result, VERIFY_FAIL);
	ck_assert_str_eq(buf_cstr(&auth_dkim_get(a, 0)->why), "signature expired");
	auth_free(a);
	/* a source handing out parsed keys (the daemon's cache): the key is used as given,
	 * one of the wrong type is refused, and one given with a failure is dropped */
	a = auth_new();
	for (int k = 0; k < 3; k++)
		auth_header(a, "DKIM-Signature", values[k]);
	for (int i = 0; i < 2; i++)
		auth_header(a, hdr[i][0], hdr[i][1]);
	auth_headers_done(a, false);
	auth_body(a, body, sizeof(body) - 1);
	struct verify_keys parsed = { parsed_lookup, keys[0] };
	auth_run(a, &parsed, 2000);
	ck_assert_int_eq(auth_dkim_get(a, 0)->result, VERIFY_PASS);
	ck_assert_int_eq(auth_dkim_get(a, 1)->result, VERIFY_PERMERROR);
	ck_assert_str_eq(buf_cstr(&auth_dkim_get(a, 1)->why),
	                 "key e._domainkey.example.org: not for ed25519-sha256");
	ck_assert_int_eq(auth_dkim_get(a, 2)->result, VERIFY_TEMPERROR);
	auth_free(a);
	for (int k = 0; k < 3; k++) {
		free(values[k]);
		EVP_PKEY_free(keys[k]);
	}
	sign_free(s);
	unlink(zpath);
	free(zpath);
	buf_fini(&zone);
}
END_TEST

START_TEST(dkimpy_vectors_agree)
{
	char zone[512];
	const char *dir = testmsg_vectors(zone);
	if (!dir)
		return;
	static const struct {
		const char *name;
		enum verify_result want[2];
		size_t n;
	} cases[] = {
		{ "rsa_relaxed_simple", { VERIFY_PASS }, 1 },
		{ "ed_relaxed_relaxed", { VERIFY_PASS }, 1 },
		{ "rsa_simple_simple", { VERIFY_PASS }, 1 },
		{ "two_signatures", { VERIFY_PASS, VERIFY_PASS }, 2 },
		{ "length_appended", { VERIFY_PASS }, 1 },
		{ "body_changed", { VERIFY_FAIL }, 1 },
		{ "header_changed", { VERIFY_FAIL }, 1 },
		{ "missing_key", { VERIFY_PERMERROR }, 1 },
		{ "bad_key", { VERIFY_PERMERROR }, 1 },
		{ "revoked_key", { VERIFY_PERMERROR }, 1 },
		{ "wrong_key", { VERIFY_FAIL }, 1 },
		{ "expired", { VERIFY_FAIL }, 1 },
	};
	struct verify_keys keys = { testmsg_lookup, zone };
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct testmsg m;
		testmsg_load(&m, dir, cases[c].name);
		struct auth *a = testmsg_auth(&m, false);
		auth_run(a, &keys, time(NULL));
		ck_assert_uint_eq(auth_dkim_count(a), cases[c].n);
		struct buf ours;
		buf_init(&ours);
		for (size_t i = 0; i < cases[c].n; i++) {
			const struct auth_dkim *d = auth_dkim_get(a, i);
			ck_assert_msg(d->result == cases[c].want[i], "%s #%zu: %s (%s)",
			              cases[c].name, i, verify_result_name(d->result),
			              buf_cstr(&d->why));
			buf_printf(&ours, "%s%s", i ? "," : "",
			           d->result == VERIFY_PASS ? "pass" : "fail");
		}
		/* dkimpy's verdict on the same bytes: "pass" or "fail" per signature */
		const char *theirs = testmsg_case(dir, cases[c].name);
		ck_assert_msg(strncmp(theirs, ours.data, ours.len) == 0 && theirs[ours.len] == ' ',
		              "%s: ours %s, dkimpy %s", cases[c].name, ours.data, theirs);
		buf_fini(&ours);
		auth_free(a);
		testmsg_free(&m);
	}
}
END_TEST

/* Authentication-Results: the id of existing fields; our results, values from the
 * message quoted so a forged signature cannot add results. */
START_TEST(authres_read_and_write)
{
	struct buf id;
	buf_init(&id);
	const char *rest = NULL;
	ck_assert_int_eq(authres_id(" (comment (nested)) mx.example.org 1 ; dkim=pass", &id, &rest),
	                 0);
	ck_assert_str_eq(id.data, "mx.example.org");
	ck_assert_str_eq(rest, "dkim=pass");
	buf_reset(&id);
	ck_assert_int_eq(authres_id("mx.example.org; none", &id, &rest), 0);
	ck_assert_str_eq(rest, "none");
	buf_reset(&id);
	ck_assert_int_eq(authres_id("mx.example.org", &id, &rest), 0);
	ck_assert_ptr_null(rest);
	buf_reset(&id);
	ck_assert_int_eq(authres_id("  ; dkim=pass", &id, NULL), -EINVAL);
	ck_assert(authres_id_is("MX.Example.ORG;spf=pass", "mx.example.org"));
	ck_assert(!authres_id_is("mx.example.org.evil; spf=pass", "mx.example.org"));
	buf_fini(&id);

	struct auth *a = auth_new();
	auth_header(a, "DKIM-Signature",
	            " v=1; a=rsa-sha256; d=evil\" dkim=pass (x); s=s1; h=from; bh=AAAA; "
	            "b=abcdefghijkl");
	auth_header(a, "DKIM-Signature", " v=1; a=rsa-sha1; d=example.org; s=s2; h=from; bh=A; b=");
	auth_header(a, "From", " a@example.org");
	auth_headers_done(a, false);
	auth_body(a, "x\r\n", 3);
	struct verify_keys keys = { testmsg_lookup, "/dev/null" };
	auth_run(a, &keys, 0);
	struct buf r;
	buf_init(&r);
	authres_results(&r, a);
	ck_assert_str_eq(
	        r.data,
	        "dkim=permerror reason=\"bh= is not a SHA-256 in base64\" "
	        "header.d=\"evil\\\" dkim=pass (x)\" header.s=s1 header.a=rsa-sha256 "
	        "header.b=abcdefgh;\n\t"
	        "dkim=permerror reason=\"a=rsa-sha1 is not supported\" header.d=example.org "
	        "header.s=s2;\n\tarc=none");
	buf_fini(&r);
	auth_free(a);
	a = auth_new();
	auth_headers_done(a, false);
	auth_run(a, &keys, 0);
	buf_init(&r);
	authres_results(&r, a);
	ck_assert_str_eq(r.data, "dkim=none;\n\tarc=none");
	buf_fini(&r);
	auth_free(a);
}
END_TEST

CHECK_MAIN("dkim_verify", authres_read_and_write, tags_parse_lists, tags_base64_and_strip,
           sig_checks, fields_bottom_up, canon_body_length_limit, rfc8463_vector_verifies,
           own_signatures_verify, dkimpy_vectors_agree)
