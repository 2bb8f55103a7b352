/* Unit tests for milter-dkim/conf: the config table and what is built from it:
 * domains and [*.d] sections, selector sections, generated keys and their modes,
 * the legacy default selector and its marker, and the config errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_common.h"
#include "conf.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pwdkimconf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Parse @body after a global part pointing keydir at the temp dir, then build. */
static struct dkim_conf *build(const char *body, struct cfg **cfgp, struct buf *made,
                               struct buf *err)
{
	char text[4096];
	struct buf perr;
	buf_init(&perr);
	snprintf(text, sizeof(text), "listen = unix:/tmp/x.sock\nstore =\nkeydir = %s\n%s", dir,
	         body);
	*cfgp = cfg_parse(&dkim_schema, text, strlen(text), "t.conf", &perr);
	if (!*cfgp) {
		buf_puts(err, buf_cstr(&perr));
		buf_fini(&perr);
		return NULL;
	}
	struct dkim_conf *c = dkim_conf_build(*cfgp, DKIM_KEYS_CREATE, made, err);
	return c;
}

START_TEST(domains_selectors_and_generated_keys)
{
	struct cfg *cfg;
	struct buf made, err;
	buf_init(&made);
	buf_init(&err);
	mkdir_tmp();
	char epath[160];
	snprintf(epath, sizeof(epath), "%s/example.net.e.key", dir);
	ck_assert_int_eq(keys_generate(epath, KEYS_ED25519, 0, NULL, &err), 0);
	struct dkim_conf *c = build("[Example.ORG]\nselectors = a b\n"
	                            "[example.org/b]\nalgorithm = ed25519-sha256\n"
	                            "[*.example.net]\nselectors = e\n[example.net/e]\n"
	                            "algorithm = ed25519-sha256\nsign = no\n",
	                            &cfg, &made, &err);
	ck_assert_msg(c != NULL, "%s", buf_cstr(&err));
	ck_assert_uint_eq(c->ndom, 2);
	ck_assert_str_eq(c->dom[0].section, "example.org");
	ck_assert_str_eq(c->dom[0].d, "example.org");
	ck_assert_uint_eq(c->dom[0].nsel, 2);
	ck_assert_int_eq(c->dom[0].sel[0].type, KEYS_RSA);
	ck_assert_int_eq(c->dom[0].sel[1].type, KEYS_ED25519);
	ck_assert(c->dom[0].sel[0].sc.sign && !c->dom[0].sel[0].sc.legacy);
	ck_assert_str_eq(c->dom[1].section, "*.example.net");
	ck_assert_str_eq(c->dom[1].d, "example.net");
	ck_assert(!c->dom[1].sel[0].sc.sign);
	ck_assert_str_eq(c->dom[1].sel[0].state_key, "example.net/e");
	ck_assert_ptr_nonnull(strstr(made.data, "example.org.a.key (rsa)"));
	ck_assert_ptr_null(strstr(made.data, "example.net.e.key"));
	char path[160];
	struct stat st;
	snprintf(path, sizeof(path), "%s/example.org.b.key", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_uint_eq(c->dns_check_interval_ms, 3600000);
	ck_assert_uint_eq(c->retire_grace_ms, 7ULL * 86400000);
	ck_assert_uint_eq(c->expire_ms, 0);
	ck_assert(!c->on_error_accept);
	dkim_conf_free(c);
	cfg_free(cfg);
	/* a second build loads the same keys and creates nothing */
	buf_reset(&made);
	c = build("[example.org]\nselectors = a b\n[example.org/b]\nalgorithm = ed25519-sha256\n",
	          &cfg, &made, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(made.len, 0);
	dkim_conf_free(c);
	cfg_free(cfg);
	rm_tmp();
	buf_fini(&made);
	buf_fini(&err);
}
END_TEST

START_TEST(legacy_default_selector)
{
	struct cfg *cfg;
	struct buf made, err;
	buf_init(&made);
	buf_init(&err);
	mkdir_tmp();
	char path[160];
	/* an existing key at <keydir>/<domain>.mail.key is the legacy key: never gated */
	snprintf(path, sizeof(path), "%s/old.example.mail.key", dir);
	ck_assert_int_eq(keys_generate(path, KEYS_RSA, 1024, NULL, &err), 0);
	struct dkim_conf *c = build("[old.example]\n[new.example]\n", &cfg, &made, &err);
	ck_assert_msg(c != NULL, "%s", buf_cstr(&err));
	ck_assert_str_eq(c->dom[0].sel[0].name, "mail");
	ck_assert(c->dom[0].sel[0].sc.legacy);
	/* a missing one is generated and gated, and stays gated after a restart */
	ck_assert(!c->dom[1].sel[0].sc.legacy);
	ck_assert(c->dom[1].sel[0].generated);
	dkim_conf_free(c);
	cfg_free(cfg);
	c = build("[old.example]\n[new.example]\n", &cfg, &made, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert(c->dom[0].sel[0].sc.legacy);
	ck_assert(!c->dom[1].sel[0].sc.legacy);
	dkim_conf_free(c);
	cfg_free(cfg);
	rm_tmp();
	buf_fini(&made);
	buf_fini(&err);
}
END_TEST

/* Each config must fail with a message containing @want. */
static void expect_error(const char *body, const char *want)
{
	struct cfg *cfg = NULL;
	struct buf err;
	buf_init(&err);
	struct dkim_conf *c = build(body, &cfg, NULL, &err);
	ck_assert_msg(c == NULL, "built: %s", body);
	ck_assert_msg(strstr(buf_cstr(&err), want), "'%s' not in '%s'", want, buf_cstr(&err));
	cfg_free(cfg);
	buf_fini(&err);
}

START_TEST(config_errors)
{
	mkdir_tmp();
	expect_error("[example.org]\nselectors = a\n[example.org/b]\n",
	             "[example.org/b]: selector not listed in [example.org] selectors");
	expect_error("[example.org/a]\n", "[example.org/a]: no [example.org] section");
	expect_error("[example.org]\nselectors = a a\n", "'a' listed twice");
	expect_error("[example.org]\nselectors = a\n[example.org/a]\nbits = 512\n", "t.conf:");
	expect_error("[exa mple.org]\n", "t.conf:4:");
	expect_error("[example.org]\nselectors = a\n[example.org/a]\nalgorithm = rsa-sha1\n",
	             "t.conf:7: key 'algorithm'");
	expect_error("[example.org]\nselectors = bad/name\n", "bad selector name 'bad/name'");
	/* section names are DNS names: a case-only duplicate names both lines */
	expect_error("[example.org]\nselectors = a\n[Example.ORG]\nselectors = b\n",
	             "t.conf:6: duplicate section [Example.ORG]: same as [example.org] on line 4 "
	             "(section names ignore case)");
	expect_error("[example.org]\nselectors = a\n[example.org/a]\n[EXAMPLE.org/A]\n",
	             "t.conf:7: duplicate section [EXAMPLE.org/A]: same as [example.org/a] on "
	             "line 6 (section names ignore case)");
	expect_error("[*.example.org]\nselectors = a\n[example.org/b]\n",
	             "[example.org/b]: selector not listed in [example.org] selectors");
	expect_error("[example.org]\nselectors = a\n[example.org/a]\nkey = /nonexistent/k.pem\n",
	             "/nonexistent/k.pem");
	/* an existing RSA key under an ed25519 selector */
	struct buf err;
	buf_init(&err);
	char path[160];
	snprintf(path, sizeof(path), "%s/example.org.e.key", dir);
	ck_assert_int_eq(keys_generate(path, KEYS_RSA, 1024, NULL, &err), 0);
	expect_error("[example.org]\nselectors = e\n[example.org/e]\nalgorithm = ed25519-sha256\n",
	             "does not match the key");
	/* a key readable by others is refused, naming the file */
	chmod(path, 0644);
	expect_error("[example.org]\nselectors = e\n", path);
	buf_fini(&err);
	rm_tmp();
}
END_TEST

/* No key file in the temp dir. */
static bool no_key_made(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "ls %s | grep -q .", dir);
	return system(cmd) != 0;
}

START_TEST(refused_config_creates_no_key)
{
	mkdir_tmp();
	/* good selectors before a bad one: the whole config is checked first */
	expect_error("[example.org]\nselectors = a b bad/x\n[example.org/b]\n"
	             "algorithm = ed25519-sha256\n",
	             "bad selector name 'bad/x'");
	ck_assert(no_key_made());
	/* a sign = no selector's key is never created; so nothing else is */
	expect_error("[example.org]\nselectors = a r\n[example.org/r]\nsign = no\n",
	             "sign = no selector is never created");
	ck_assert(no_key_made());
	/* every problem is reported, one per line */
	struct cfg *cfg = NULL;
	struct buf err;
	buf_init(&err);
	ck_assert_ptr_null(build("[example.org]\nselectors = a a\n[example.net]\nselectors = b\n"
	                         "[example.net/b]\nkey = /nonexistent/k.pem\n",
	                         &cfg, NULL, &err));
	ck_assert_msg(strstr(buf_cstr(&err), "listed twice\n") &&
	                      strstr(buf_cstr(&err), "/nonexistent/k.pem"),
	              "%s", buf_cstr(&err));
	ck_assert(no_key_made());
	cfg_free(cfg);
	/* a creation that fails after the check (a name with no room for the temporary
	 * file's suffix): the key made before it is removed again */
	char body[1024], longname[251];
	memset(longname, 'k', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(body, sizeof(body),
	         "[example.org]\nselectors = a z\n[example.org/z]\nkey = %s/%s\n", dir, longname);
	buf_reset(&err);
	ck_assert_ptr_null(build(body, &cfg, NULL, &err));
	ck_assert_msg(strstr(buf_cstr(&err), longname), "%s", buf_cstr(&err));
	ck_assert(no_key_made());
	cfg_free(cfg);
	buf_fini(&err);
	rm_tmp();
}
END_TEST

START_TEST(check_mode_creates_nothing)
{
	mkdir_tmp();
	char text[512];
	struct buf perr;
	buf_init(&perr);
	snprintf(text, sizeof(text),
	         "listen = unix:/tmp/x.sock\nstore =\nkeydir = %s\n[example.org]\nselectors = a\n",
	         dir);
	struct cfg *cfg = cfg_parse(&dkim_schema, text, strlen(text), "t.conf", &perr);
	ck_assert_ptr_nonnull(cfg);
	struct buf made, err;
	buf_init(&made);
	buf_init(&err);
	struct dkim_conf *c = dkim_conf_build(cfg, DKIM_KEYS_CHECK, &made, &err);
	ck_assert_msg(c != NULL, "%s", buf_cstr(&err));
	ck_assert(c->dom[0].sel[0].missing);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&made), "missing "));
	ck_assert(no_key_made());
	dkim_conf_free(c);
	cfg_free(cfg);
	buf_fini(&made);
	buf_fini(&err);
	rm_tmp();
}
END_TEST

/* More than DKIM_MAX_SELECTORS selectors in one domain: refused with file:line, the
 * section and the limit; exactly the limit builds. */
START_TEST(selector_limit)
{
	mkdir_tmp();
	char body[2048];
	size_t at = (size_t)snprintf(body, sizeof(body), "[example.org]\nselectors =");
	for (int i = 0; i < DKIM_MAX_SELECTORS; i++)
		at += (size_t)snprintf(body + at, sizeof(body) - at, " s%d", i);
	char text[4096];
	snprintf(text, sizeof(text), "listen = unix:/tmp/x.sock\nstore =\nkeydir = %s\n%s\n", dir,
	         body);
	struct buf perr;
	buf_init(&perr);
	struct cfg *cfg = cfg_parse(&dkim_schema, text, strlen(text), "t.conf", &perr);
	ck_assert_msg(cfg != NULL, "%s", buf_cstr(&perr));
	struct buf err;
	buf_init(&err);
	struct dkim_conf *c = dkim_conf_build(cfg, DKIM_KEYS_CHECK, NULL, &err);
	ck_assert_msg(c != NULL, "%s", buf_cstr(&err));
	ck_assert_uint_eq(c->dom[0].nsel, DKIM_MAX_SELECTORS);
	dkim_conf_free(c);
	cfg_free(cfg);
	buf_fini(&err);

	snprintf(body + at, sizeof(body) - at, " one-too-many\n");
	char want[128];
	snprintf(want, sizeof(want),
	         "t.conf:5: [example.org] selectors: %d listed, the limit is DKIM_MAX_SELECTORS "
	         "(%d per domain)",
	         DKIM_MAX_SELECTORS + 1, DKIM_MAX_SELECTORS);
	expect_error(body, want);
	rm_tmp();
}
END_TEST

/* verify / ARC keys: defaults, the sealing selector found, and its errors. */
START_TEST(verify_and_arc_keys)
{
	mkdir_tmp();
	struct cfg *cfg = NULL;
	struct buf err;
	buf_init(&err);
	struct dkim_conf *c = build("[example.org]\nselectors = a\n", &cfg, NULL, &err);
	ck_assert_msg(c != NULL, "%s", buf_cstr(&err));
	ck_assert(!c->verify);
	ck_assert_int_eq(c->arc_seal, DKIM_ARC_RELAY);
	ck_assert_ptr_null(c->arc_dom);
	ck_assert_int_eq(c->verify_lookups, 10);
	ck_assert_uint_eq(c->ntrusted, 0);
	ck_assert_str_ne(c->authserv_id, "");
	dkim_conf_free(c);
	cfg_free(cfg);
	c = build("verify = yes\nauthserv_id = mx.example.org\ntrusted_authserv_ids = a.example "
	          "b.example\narc_seal = always\narc_domain = example.org\narc_selector = b\n"
	          "verify_lookups = 3\n[example.org]\nselectors = a b\n",
	          &cfg, NULL, &err);
	ck_assert_msg(c != NULL, "%s", buf_cstr(&err));
	ck_assert(c->verify);
	ck_assert_str_eq(c->authserv_id, "mx.example.org");
	ck_assert_uint_eq(c->ntrusted, 2);
	ck_assert_str_eq(c->trusted_ids[1], "b.example");
	ck_assert_int_eq(c->arc_seal, DKIM_ARC_ALWAYS);
	ck_assert_ptr_nonnull(c->arc_dom);
	ck_assert_str_eq(c->arc_dom->d, "example.org");
	ck_assert_str_eq(c->arc_dom->sel[c->arc_sel].name, "b");
	ck_assert_int_eq(c->verify_lookups, 3);
	dkim_conf_free(c);
	cfg_free(cfg);
	expect_error("arc_domain = example.net\narc_selector = a\n[example.org]\nselectors = a\n",
	             "t.conf:4: arc_domain example.net: no [example.net] section");
	expect_error("arc_domain = example.org\narc_selector = z\n[example.org]\nselectors = a\n",
	             "t.conf:5: arc_selector 'z' is not a selector of [example.org]");
	expect_error("arc_seal = sometimes\n", "t.conf:4: key 'arc_seal'");
	buf_fini(&err);
	rm_tmp();
}
END_TEST

CHECK_MAIN("dkim_conf", domains_selectors_and_generated_keys, legacy_default_selector,
           config_errors, refused_config_creates_no_key, check_mode_creates_nothing, selector_limit,
           verify_and_arc_keys)
