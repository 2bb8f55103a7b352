/* test_av_conf: milter-av's config table and snapshot (milter-av/conf.c): the
 * defaults, every value of each enum key mapped to its policy, the clamd list in
 * order, and bad values refused with "file:line" in the message. */
#include <string.h>

#include "av.h"
#include "check_common.h"

/* parse() - @text as "av.conf"; NULL with the message added to @err. */
static struct cfg *parse(const char *text, struct buf *err)
{
	return cfg_parse(&av_schema, text, strlen(text), "av.conf", err);
}

/* build() - parse and build @text; both must succeed. */
static struct av_conf *build(const char *text, struct cfg **cfgp)
{
	struct buf err;
	buf_init(&err);
	*cfgp = parse(text, &err);
	ck_assert_msg(*cfgp != NULL, "parse: %s", buf_cstr(&err));
	struct av_conf *c = av_conf_build(*cfgp, &err);
	ck_assert_msg(c != NULL, "build: %s", buf_cstr(&err));
	return c;
}

/* refused() - @text is refused at parse and the message contains @where and @what. */
static void refused(const char *text, const char *where, const char *what)
{
	struct buf err;
	buf_init(&err);
	struct cfg *cfg = parse(text, &err);
	ck_assert_msg(cfg == NULL, "accepted: %s", text);
	ck_assert_uint_ne(err.len, 0);
	ck_assert_msg(strstr(buf_cstr(&err), where) != NULL, "'%s' does not name %s",
	              buf_cstr(&err), where);
	ck_assert_msg(strstr(buf_cstr(&err), what) != NULL, "'%s' does not mention %s",
	              buf_cstr(&err), what);
	buf_fini(&err);
}

START_TEST(defaults)
{
	struct cfg *cfg;
	struct av_conf *c = build("", &cfg);
	struct clamd_health h[4];
	ck_assert_uint_eq(clamd_pool_health(c->pool, h, 4), 1);
	ck_assert_str_eq(h[0].endpoint, "unix:/run/clamav/clamd.ctl");
	ck_assert(h[0].is_unix);
	ck_assert_int_eq(c->mode, CLAMD_MODE_AUTO);
	ck_assert_uint_eq(c->max_size, 25u * 1024 * 1024);
	ck_assert_int_eq(c->policy.on_virus, VERDICT_VIRUS_REJECT);
	ck_assert_int_eq(c->policy.on_error, VERDICT_ERROR_TEMPFAIL);
	ck_assert_int_eq(c->policy.oversize, VERDICT_OVERSIZE_ACCEPT);
	ck_assert(c->policy.add_header);
	ck_assert(!c->skip_authenticated);
	ck_assert(c->skip_networks == NULL || c->skip_networks->n == 0);
	ck_assert_uint_eq(cfg_duration_ms(cfg, NULL, "timeout"), 60000);
	ck_assert_uint_eq(cfg_duration_ms(cfg, NULL, "backend_retry"), 30000);
	ck_assert_str_eq(cfg_str(cfg, NULL, "user"), "milter-av");
	av_conf_free(c);
	cfg_free(cfg);
}
END_TEST

START_TEST(each_enum_value)
{
	static const struct {
		const char *line;
		int on_virus, on_error, oversize, mode;
	} cases[] = {
		{ "on_virus = reject", VERDICT_VIRUS_REJECT, -1, -1, -1 },
		{ "on_virus = discard", VERDICT_VIRUS_DISCARD, -1, -1, -1 },
		{ "on_virus = quarantine", VERDICT_VIRUS_QUARANTINE, -1, -1, -1 },
		{ "on_virus = tag", VERDICT_VIRUS_TAG, -1, -1, -1 },
		{ "on_error = tempfail", -1, VERDICT_ERROR_TEMPFAIL, -1, -1 },
		{ "on_error = accept", -1, VERDICT_ERROR_ACCEPT, -1, -1 },
		{ "oversize = accept", -1, -1, VERDICT_OVERSIZE_ACCEPT, -1 },
		{ "oversize = tempfail", -1, -1, VERDICT_OVERSIZE_TEMPFAIL, -1 },
		{ "oversize = reject", -1, -1, VERDICT_OVERSIZE_REJECT, -1 },
		{ "fildes = auto", -1, -1, -1, CLAMD_MODE_AUTO },
		{ "fildes = no", -1, -1, -1, CLAMD_MODE_INSTREAM },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128];
		struct cfg *cfg;
		snprintf(text, sizeof(text), "%s\n", cases[i].line);
		struct av_conf *c = build(text, &cfg);
		if (cases[i].on_virus >= 0)
			ck_assert_msg((int)c->policy.on_virus == cases[i].on_virus, "%s",
			              cases[i].line);
		if (cases[i].on_error >= 0)
			ck_assert_msg((int)c->policy.on_error == cases[i].on_error, "%s",
			              cases[i].line);
		if (cases[i].oversize >= 0)
			ck_assert_msg((int)c->policy.oversize == cases[i].oversize, "%s",
			              cases[i].line);
		if (cases[i].mode >= 0)
			ck_assert_msg((int)c->mode == cases[i].mode, "%s", cases[i].line);
		av_conf_free(c);
		cfg_free(cfg);
	}
}
END_TEST

START_TEST(values_and_backend_order)
{
	struct cfg *cfg;
	struct av_conf *c = build("clamd = inet:127.0.0.1:3310 unix:/tmp/c.sock\n"
	                          "max_size = 2M\n"
	                          "add_header = no\n"
	                          "skip_authenticated = yes\n"
	                          "skip_networks = 192.0.2.0/24, 2001:db8::/32\n",
	                          &cfg);
	struct clamd_health h[4];
	ck_assert_uint_eq(clamd_pool_health(c->pool, h, 4), 2);
	ck_assert_str_eq(h[0].endpoint, "inet:127.0.0.1:3310");
	ck_assert(!h[0].is_unix);
	ck_assert_str_eq(h[1].endpoint, "unix:/tmp/c.sock");
	ck_assert_uint_eq(c->max_size, 2u * 1024 * 1024);
	ck_assert(!c->policy.add_header);
	ck_assert(c->skip_authenticated);
	ck_assert_ptr_nonnull(c->skip_networks);
	ck_assert_uint_eq(c->skip_networks->n, 2);
	ck_assert(cidr_list_match_str(c->skip_networks, "192.0.2.7"));
	ck_assert(!cidr_list_match_str(c->skip_networks, "198.51.100.7"));
	av_conf_free(c);
	cfg_free(cfg);
}
END_TEST

START_TEST(bad_values_name_file_and_line)
{
	refused("# comment\n\non_virus = bogus\n", "av.conf:3", "on_virus");
	refused("on_error = reject\n", "av.conf:1", "on_error");
	refused("add_header = yes\noversize = drop\n", "av.conf:2", "oversize");
	refused("fildes = yes\n", "av.conf:1", "fildes");
	refused("\nclamd = unix:/ok.sock tcp:host\n", "av.conf:2", "tcp:host");
	refused("max_size = 512\n", "av.conf:1", "max_size");
	refused("max_size = lots\n", "av.conf:1", "max_size");
	refused("timeout = 0\n", "av.conf:1", "timeout");
	refused("backend_retry = 2d\n", "av.conf:1", "backend_retry");
	refused("add_header = perhaps\n", "av.conf:1", "add_header");
	refused("skip_networks = 192.0.2.1/24\n", "av.conf:1", "skip_networks");
	refused("\n\n\n\nno_such_key = 1\n", "av.conf:5", "no_such_key");
}
END_TEST

/* `clamd =` passes the parse (an empty list) and is refused by av_conf_build(), whose
 * message has no file:line: the check is at build time. */
START_TEST(no_backend_refused_at_build)
{
	struct buf err;
	buf_init(&err);
	struct cfg *cfg = parse("clamd =\n", &err);
	ck_assert_msg(cfg != NULL, "parse: %s", buf_cstr(&err));
	struct av_conf *c = av_conf_build(cfg, &err);
	ck_assert_ptr_null(c);
	ck_assert_uint_ne(err.len, 0);
	ck_assert_str_eq(buf_cstr(&err), "clamd: at least one backend is needed");
	buf_fini(&err);
	cfg_free(cfg);
}
END_TEST

CHECK_MAIN("av_conf", defaults, each_enum_value, values_and_backend_order,
           bad_values_name_file_and_line, no_backend_refused_at_build)
