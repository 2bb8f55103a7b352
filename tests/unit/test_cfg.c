/* Unit tests for common/cfg: every type, defaults, comments, the line limit,
 * every error message (exact "file:line: " prefix), empty values, cfg_print
 * round trip, absent sections, a shared base key table, concurrent readers,
 * programming-error aborts. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "check_common.h"
#include "xalloc.h"

static const struct cfg_key global_keys[] = {
	{ "name", CFG_STRING, "pw", 0, 0, 0, NULL, "instance name" },
	{ "workers", CFG_INT, "4", 0, 1, 64, NULL, "worker threads" },
	{ "debug", CFG_BOOL, "no", 0, 0, 0, NULL, NULL },
	{ "timeout", CFG_DURATION, "30s", 0, 0, 0, NULL, "per request" },
	{ "max_size", CFG_SIZE, "25M", 0, 0, 0, NULL, NULL },
	{ "domains", CFG_LIST, NULL, 0, 0, 0, NULL, NULL },
	{ "networks", CFG_CIDRS, "127.0.0.0/8 ::1", 0, 0, 0, NULL, NULL },
	{ "on_error", CFG_ENUM, "tempfail", 0, 0, 0, "tempfail|accept|reject", NULL },
	{ "socket", CFG_STRING, NULL, CFG_REQUIRED, 0, 0, NULL, "listen socket" },
	{ "opt_int", CFG_INT, NULL, 0, 0, 0, NULL, NULL },
	{ "retry", CFG_DURATION, NULL, 0, 100, 60000, NULL, NULL },
	{ "cache", CFG_SIZE, "", 0, 1024, 4096, NULL, NULL },
	{ "flag", CFG_BOOL, NULL, 0, 0, 0, NULL, NULL },
	{ "mode", CFG_ENUM, NULL, 0, 0, 0, "a|b", NULL },
	{ "note", CFG_STRING, NULL, 0, 0, 0, NULL, NULL },
	CFG_KEY_END,
};

static const struct cfg_key redis_keys[] = {
	{ "url", CFG_STRING, NULL, CFG_REQUIRED, 0, 0, NULL, NULL },
	{ "ttl", CFG_DURATION, "1h", 0, 0, 0, NULL, NULL },
	CFG_KEY_END,
};

static const struct cfg_key domain_keys[] = {
	{ "selector", CFG_STRING, "s1", 0, 0, 0, NULL, NULL },
	{ "sign", CFG_BOOL, "yes", 0, 0, 0, NULL, NULL },
	{ "hosts", CFG_LIST, "a.example b.example", 0, 0, 0, NULL, NULL },
	{ "skip", CFG_CIDRS, NULL, 0, 0, 0, NULL, NULL },
	CFG_KEY_END,
};

static const struct cfg_key *section_keys(const char *name)
{
	if (strcmp(name, "redis") == 0)
		return redis_keys;
	if (strncmp(name, "domain ", 7) == 0)
		return domain_keys;
	return NULL;
}

static const struct cfg_schema schema = { .global = global_keys, .section_keys = section_keys };
static const struct cfg_schema schema_nosect = { .global = global_keys };

/* check(): refuses list words starting with "bad" (own message), note = no
 * (cfg's generic message) and selector = x in a section. */
static int test_check(const char *section, const char *key, const char *value, struct buf *err)
{
	if (!section && strcmp(key, "domains") == 0 && strncmp(value, "bad", 3) == 0) {
		buf_add_line(err, "domains: bad word '%s'", value);
		return -EINVAL;
	}
	if (!section && strcmp(key, "note") == 0 && strcmp(value, "no") == 0)
		return -EINVAL;
	if (section && strcmp(key, "selector") == 0 && strcmp(value, "x") == 0) {
		buf_add_line(err, "[%s] selector: x is refused", section);
		return -EINVAL;
	}
	return 0;
}

static const struct cfg_schema schema_checked = {
	.global = global_keys,
	.section_keys = section_keys,
	.check = test_check,
	.sections_nocase = true,
};

static struct cfg *parse(const char *text, struct buf *err)
{
	return cfg_parse(&schema, text, strlen(text), "t.conf", err);
}

static struct cfg *parse_ok(const char *text)
{
	struct buf err;
	buf_init(&err);
	struct cfg *c = parse(text, &err);
	ck_assert_msg(c != NULL, "parse failed: %s", buf_cstr(&err));
	ck_assert_uint_eq(err.len, 0);
	return c;
}

static void expect_error(const char *text, const char *want)
{
	struct buf err;
	buf_init(&err);
	errno = 0;
	struct cfg *c = parse(text, &err);
	ck_assert_msg(c == NULL, "accepted: %s", text);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_ne(err.len, 0);
	ck_assert_str_eq(buf_cstr(&err), want);
	buf_fini(&err);
}

START_TEST(all_types)
{
	struct cfg *c = parse_ok("socket = unix:/run/x.sock\n"
	                         "name = milter one\n"
	                         "workers = 16\n"
	                         "debug = Yes\n"
	                         "timeout = 250ms\n"
	                         "max_size = 64K\n"
	                         "domains = a.example, b.example  c.example,\n"
	                         "networks = 10.0.0.0/8, 2001:db8::/32\n"
	                         "on_error = accept\n"
	                         "opt_int = -5\n"
	                         "retry = 1m\n"
	                         "cache = 2KB\n");
	size_t n;
	ck_assert_str_eq(cfg_str(c, NULL, "socket"), "unix:/run/x.sock");
	ck_assert_str_eq(cfg_str(c, NULL, "name"), "milter one");
	ck_assert_int_eq(cfg_int(c, NULL, "workers"), 16);
	ck_assert(cfg_bool(c, NULL, "debug"));
	ck_assert_uint_eq(cfg_duration_ms(c, NULL, "timeout"), 250);
	ck_assert_uint_eq(cfg_size(c, NULL, "max_size"), 65536);
	const char *const *w = cfg_list(c, NULL, "domains", &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(w[0], "a.example");
	ck_assert_str_eq(w[1], "b.example");
	ck_assert_str_eq(w[2], "c.example");
	ck_assert_ptr_null(w[3]);
	const struct cidr_list *l = cfg_cidrs(c, NULL, "networks");
	ck_assert_uint_eq(l->n, 2);
	ck_assert(cidr_list_match_str(l, "10.1.1.1"));
	ck_assert(!cidr_list_match_str(l, "127.0.0.1"));
	ck_assert_str_eq(cfg_str(c, NULL, "on_error"), "accept");
	ck_assert_int_eq(cfg_int(c, NULL, "opt_int"), -5);
	ck_assert_uint_eq(cfg_duration_ms(c, NULL, "retry"), 60000);
	ck_assert_uint_eq(cfg_size(c, NULL, "cache"), 2048);
	ck_assert_str_eq(cfg_path(c), "t.conf");
	ck_assert(cfg_is_set(c, NULL, "workers"));
	ck_assert_uint_eq(cfg_line(c, NULL, "workers"), 3);
	ck_assert_uint_eq(cfg_line(c, NULL, "cache"), 12);
	cfg_free(c);
}
END_TEST

START_TEST(defaults)
{
	struct cfg *c = parse_ok("socket = inet:127.0.0.1:1234\n");
	size_t n = 99;

	ck_assert_str_eq(cfg_str(c, NULL, "name"), "pw");
	ck_assert_int_eq(cfg_int(c, NULL, "workers"), 4);
	ck_assert(!cfg_bool(c, NULL, "debug"));
	ck_assert_uint_eq(cfg_duration_ms(c, NULL, "timeout"), 30000);
	ck_assert_uint_eq(cfg_size(c, NULL, "max_size"), 25u * 1024 * 1024);
	const char *const *w = cfg_list(c, NULL, "domains", &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_null(w[0]);
	ck_assert(cfg_cidrs(c, NULL, "networks")->n == 2);
	ck_assert(cfg_cidrs(c, NULL, "networks") != NULL);
	ck_assert(cidr_list_match_str(cfg_cidrs(c, NULL, "networks"), "127.1.2.3"));
	ck_assert_str_eq(cfg_str(c, NULL, "on_error"), "tempfail");
	/* unset without default: "" / 0 / false */
	ck_assert_str_eq(cfg_str(c, NULL, "opt_int"), "");
	ck_assert_int_eq(cfg_int(c, NULL, "opt_int"), 0);
	ck_assert_uint_eq(cfg_duration_ms(c, NULL, "retry"), 0);
	ck_assert_uint_eq(cfg_size(c, NULL, "cache"), 0);
	ck_assert(!cfg_bool(c, NULL, "flag"));
	ck_assert_str_eq(cfg_str(c, NULL, "note"), "");
	ck_assert(!cfg_is_set(c, NULL, "workers"));
	ck_assert_uint_eq(cfg_line(c, NULL, "workers"), 0);
	ck_assert(cfg_is_set(c, NULL, "socket"));
	ck_assert_uint_eq(cfg_section_count(c), 0);
	ck_assert_ptr_null(cfg_section_name(c, 0));
	cfg_free(c);
}
END_TEST

START_TEST(sections)
{
	struct cfg *c = parse_ok("socket = s\n"
	                         "[domain b.example]\n"
	                         "selector = sel2\n"
	                         "[ redis ]   # the store\n"
	                         "url = redis://127.0.0.1\n"
	                         "[domain a.example]\n"
	                         "sign = off\n"
	                         "skip = 192.0.2.0/24\n");
	size_t n;

	ck_assert_uint_eq(cfg_section_count(c), 3);
	ck_assert_str_eq(cfg_section_name(c, 0), "domain b.example");
	ck_assert_str_eq(cfg_section_name(c, 1), "redis");
	ck_assert_str_eq(cfg_section_name(c, 2), "domain a.example");
	ck_assert(cfg_has_section(c, "redis"));
	ck_assert(!cfg_has_section(c, "domain c.example"));
	ck_assert(!cfg_has_section(c, NULL));
	ck_assert_str_eq(cfg_str(c, "domain b.example", "selector"), "sel2");
	ck_assert(cfg_bool(c, "domain b.example", "sign"));
	ck_assert(!cfg_bool(c, "domain a.example", "sign"));
	ck_assert_str_eq(cfg_str(c, "domain a.example", "selector"), "s1");
	ck_assert_str_eq(cfg_str(c, "redis", "url"), "redis://127.0.0.1");
	ck_assert_uint_eq(cfg_duration_ms(c, "redis", "ttl"), 3600000);
	ck_assert_uint_eq(cfg_line(c, "domain a.example", "skip"), 8);
	ck_assert(cidr_list_match_str(cfg_cidrs(c, "domain a.example", "skip"), "192.0.2.9"));
	ck_assert_uint_eq(cfg_cidrs(c, "domain b.example", "skip")->n, 0);
	/* an allowed section absent from the file reads its defaults */
	ck_assert_str_eq(cfg_str(c, "domain c.example", "selector"), "s1");
	const char *const *w = cfg_list(c, "domain c.example", "hosts", &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(w[1], "b.example");
	ck_assert_ptr_eq(cfg_list(c, "domain c.example", "hosts", NULL), w);
	ck_assert(!cfg_is_set(c, "domain c.example", "selector"));
	ck_assert(!cfg_has_section(c, "domain c.example"));
	ck_assert_uint_eq(cfg_section_count(c), 3);
	cfg_free(c);
}
END_TEST

START_TEST(comments)
{
	struct cfg *c = parse_ok("# a comment\n"
	                         "; another\n"
	                         "   # indented\n"
	                         "\t; tabbed\n"
	                         "\n"
	                         "   \n"
	                         "socket = s   # why\n"
	                         "name = abc#d\n"
	                         "note = a;b\t; tab comment\n"
	                         "domains = x #y z\n"
	                         "[redis]  # why\n"
	                         "url=#not-a-comment\n");
	size_t n;

	ck_assert_str_eq(cfg_str(c, NULL, "socket"), "s");
	ck_assert_str_eq(cfg_str(c, NULL, "name"), "abc#d");
	ck_assert_str_eq(cfg_str(c, NULL, "note"), "a;b");
	ck_assert_str_eq(cfg_list(c, NULL, "domains", &n)[0], "x");
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(cfg_str(c, "redis", "url"), "#not-a-comment");
	cfg_free(c);
	/* "reject;" is not a valid enum value: ';' without a space before it is data */
	expect_error("socket = s\non_error = reject;x\n",
	             "t.conf:2: key 'on_error': 'reject;x' is not one of tempfail|accept|reject");
	/* a comment after '=' and whitespace leaves an empty value */
	c = parse_ok("socket = s\nnote = # nothing\n");
	ck_assert_str_eq(cfg_str(c, NULL, "note"), "");
	ck_assert(cfg_is_set(c, NULL, "note"));
	cfg_free(c);
}
END_TEST

START_TEST(crlf_and_no_final_newline)
{
	struct cfg *c = parse_ok("socket = s\r\nname = n\r\n[redis]\r\nurl = u");
	ck_assert_str_eq(cfg_str(c, NULL, "name"), "n");
	ck_assert_str_eq(cfg_str(c, "redis", "url"), "u");
	cfg_free(c);
	c = parse_ok("socket = s");
	ck_assert_str_eq(cfg_str(c, NULL, "socket"), "s");
	cfg_free(c);
}
END_TEST

START_TEST(required_missing)
{
	expect_error("", "t.conf: missing required key 'socket'");
	expect_error("name = x\n# socket = y\n", "t.conf: missing required key 'socket'");
	expect_error("socket = s\n\n[redis]\nttl = 5m\n",
	             "t.conf:3: section [redis]: missing required key 'url'");
	struct buf err;
	buf_init(&err);
	struct cfg *c = cfg_parse(&schema, "x", 0, NULL, &err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(buf_cstr(&err), "<config>: missing required key 'socket'");
	buf_fini(&err);
}
END_TEST

START_TEST(error_messages)
{
	expect_error("socket = s\nbogus = 1\n", "t.conf:2: unknown key 'bogus'");
	expect_error("socket = s\n[redis]\nurl = u\nselector = x\n",
	             "t.conf:4: unknown key 'selector' in section [redis]");
	expect_error("socket = s\nname = a\n\nname = b\n",
	             "t.conf:4: duplicate key 'name' (first set on line 2)");
	expect_error("socket = s\nopt_int =\nopt_int = 1\n",
	             "t.conf:3: duplicate key 'opt_int' (first set on line 2)");
	expect_error("socket = s\n[nope]\n", "t.conf:2: unknown section [nope]");
	expect_error("socket = s\n[redis]\nurl = u\n[redis]\nurl = v\n",
	             "t.conf:4: duplicate section [redis] (first on line 2)");
	expect_error("socket = s\n[redis\n", "t.conf:2: bad section header (expected '[name]')");
	expect_error("socket = s\n[]\n", "t.conf:2: bad section header (expected '[name]')");
	expect_error("socket = s\n[  ]\n", "t.conf:2: bad section header (expected '[name]')");
	expect_error("socket = s\n[a]b]\n", "t.conf:2: bad section header (expected '[name]')");
	expect_error("socket = s\n[redis] x\n", "t.conf:2: bad section header (expected '[name]')");
	expect_error("socket = s\njust words\n", "t.conf:2: expected 'key = value' or '[section]'");
	expect_error("socket = s\n= value\n", "t.conf:2: bad key name ''");
	expect_error("socket = s\nna me = value\n", "t.conf:2: bad key name 'na me'");
	expect_error("workers = 0\n", "t.conf:1: key 'workers': '0' is out of range (1..64)");
	expect_error("workers = 65\n", "t.conf:1: key 'workers': '65' is out of range (1..64)");
	expect_error("workers = 4x\n", "t.conf:1: key 'workers': '4x' is not an integer");
	expect_error("workers = 0x10\n", "t.conf:1: key 'workers': '0x10' is not an integer");
	expect_error("opt_int = 99999999999999999999\n",
	             "t.conf:1: key 'opt_int': '99999999999999999999' is too large");
	expect_error("debug = maybe\n", "t.conf:1: key 'debug': 'maybe' is not a boolean "
	                                "(yes/no, true/false, on/off, 1/0)");
	expect_error("timeout = 5 s\n", "t.conf:1: key 'timeout': '5 s' is not a duration "
	                                "(e.g. 250ms, 30s, 5m, 1h, 7d, 2w)");
	expect_error("timeout = 5y\n", "t.conf:1: key 'timeout': '5y' is not a duration "
	                               "(e.g. 250ms, 30s, 5m, 1h, 7d, 2w)");
	expect_error("timeout = 99999999999999999w\n",
	             "t.conf:1: key 'timeout': '99999999999999999w' is too large");
	expect_error("retry = 50ms\n",
	             "t.conf:1: key 'retry': '50ms' is out of range (100..60000 ms)");
	expect_error("retry = 2m\n", "t.conf:1: key 'retry': '2m' is out of range (100..60000 ms)");
	expect_error("max_size = 10T\n",
	             "t.conf:1: key 'max_size': '10T' is not a size (e.g. 512, 64K, 25M, 1G)");
	expect_error("max_size = -1\n",
	             "t.conf:1: key 'max_size': '-1' is not a size (e.g. 512, 64K, 25M, 1G)");
	expect_error("cache = 5K\n",
	             "t.conf:1: key 'cache': '5K' is out of range (1024..4096 bytes)");
	expect_error("networks = 10.0.0.0/8 10.0.0.1/8\n",
	             "t.conf:1: key 'networks': '10.0.0.1/8' is not an address or prefix");
	expect_error("on_error = Accept\n",
	             "t.conf:1: key 'on_error': 'Accept' is not one of tempfail|accept|reject");
	/* empty values: error when the key has a non-empty default */
	expect_error("workers =\n", "t.conf:1: key 'workers': empty value");
	expect_error("debug =\n", "t.conf:1: key 'debug': empty value");
	expect_error("timeout =\n", "t.conf:1: key 'timeout': empty value");
	expect_error("max_size =\n", "t.conf:1: key 'max_size': empty value");
	expect_error("on_error =\n", "t.conf:1: key 'on_error': empty value");
	struct buf err;
	buf_init(&err);
	static const char nul[] = "socket = s\nname = a\0b\n";
	ck_assert_ptr_null(cfg_parse(&schema, nul, sizeof(nul) - 1, "t.conf", &err));
	ck_assert_str_eq(buf_cstr(&err), "t.conf:2: NUL byte in line");
	buf_fini(&err);
	/* no sections at all in this schema */
	const char *text = "socket = s\n[redis]\n";
	ck_assert_ptr_null(cfg_parse(&schema_nosect, text, strlen(text), "n.conf", &err));
	ck_assert_str_eq(buf_cstr(&err), "n.conf:2: unknown section [redis]");
	buf_fini(&err);
}
END_TEST

static void expect_checked_error(const char *text, const char *want)
{
	struct buf err;
	buf_init(&err);
	errno = 0;
	struct cfg *c = cfg_parse(&schema_checked, text, strlen(text), "c.conf", &err);
	ck_assert_msg(c == NULL, "accepted: %s", text);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_ne(err.len, 0);
	ck_assert_str_eq(buf_cstr(&err), want);
	buf_fini(&err);
}

START_TEST(schema_check)
{
	expect_checked_error("socket = s\ndomains = a.example bad.one\n",
	                     "c.conf:2: domains: bad word 'bad.one'");
	expect_checked_error("socket = s\nnote = no\n", "c.conf:2: key 'note': bad value");
	expect_checked_error("socket = s\n[domain a]\nselector = x\n",
	                     "c.conf:3: [domain a] selector: x is refused");
	const char *ok = "socket = s\ndomains = a.example\nnote = yes\n[domain a]\nselector = y\n";
	struct buf err;
	buf_init(&err);
	struct cfg *c = cfg_parse(&schema_checked, ok, strlen(ok), "c.conf", &err);
	ck_assert_msg(c != NULL, "%s", buf_cstr(&err));
	cfg_free(c);
}
END_TEST

START_TEST(sections_nocase)
{
	expect_checked_error("socket = s\n[domain a]\nsign = no\n\n[Domain A]\nsign = yes\n",
	                     "c.conf:5: duplicate section [Domain A]: same as [domain a] on line 2 "
	                     "(section names ignore case)");
	expect_checked_error("socket = s\n[domain a]\n[domain a]\n",
	                     "c.conf:3: duplicate section [domain a] (first on line 2)");
	const char *text = "socket = s\n[domain a]\nsign = no\n";
	struct buf err;
	buf_init(&err);
	struct cfg *c = cfg_parse(&schema_checked, text, strlen(text), "c.conf", &err);
	ck_assert_ptr_nonnull(c);
	ck_assert(!cfg_bool(c, "DOMAIN A", "sign"));
	ck_assert(cfg_has_section(c, "Domain A"));
	cfg_free(c);
	/* the default stays case-sensitive */
	text = "socket = s\n[domain a]\n[domain A]\n";
	c = parse_ok(text);
	ck_assert_uint_eq(cfg_section_count(c), 2);
	cfg_free(c);
}
END_TEST

START_TEST(errors_escape_config_bytes)
{
	expect_error("socket = s\nworkers = 4\x1b[2J\n",
	             "t.conf:2: key 'workers': '4\\x1b[2J' is not an integer");
	expect_error("bogus\xff = 1\n", "t.conf:1: bad key name 'bogus\\xff'");
	expect_error(
	        "on_error = caf\xc3\xa9\n",
	        "t.conf:1: key 'on_error': 'caf\xc3\xa9' is not one of tempfail|accept|reject");
	expect_error("socket = s\n[x\xc2\x85y]\n", "t.conf:2: unknown section [x\\xc2\\x85y]");
	expect_checked_error("socket = s\ndomains = bad\x01x\n",
	                     "c.conf:2: domains: bad word 'bad\\x01x'");
}
END_TEST

START_TEST(empty_values)
{
	struct cfg *c = parse_ok("socket = s\n"
	                         "opt_int =\n"
	                         "retry =\n"
	                         "cache =\n"
	                         "flag =\n"
	                         "mode =\n"
	                         "note =\n"
	                         "domains =\n"
	                         "networks =\n");
	size_t n = 9;

	ck_assert(!cfg_is_set(c, NULL, "opt_int"));
	ck_assert_uint_eq(cfg_line(c, NULL, "opt_int"), 2);
	ck_assert_int_eq(cfg_int(c, NULL, "opt_int"), 0);
	ck_assert_uint_eq(cfg_duration_ms(c, NULL, "retry"), 0);
	ck_assert_uint_eq(cfg_size(c, NULL, "cache"), 0);
	ck_assert(!cfg_bool(c, NULL, "flag"));
	ck_assert_str_eq(cfg_str(c, NULL, "mode"), "");
	ck_assert(cfg_is_set(c, NULL, "note"));
	ck_assert(cfg_is_set(c, NULL, "domains"));
	ck_assert_ptr_null(cfg_list(c, NULL, "domains", &n)[0]);
	ck_assert_uint_eq(n, 0);
	/* an explicit empty list overrides the default */
	ck_assert_uint_eq(cfg_cidrs(c, NULL, "networks")->n, 0);
	ck_assert(!cidr_list_match_str(cfg_cidrs(c, NULL, "networks"), "127.0.0.1"));
	cfg_free(c);
}
END_TEST

static char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

START_TEST(line_limit)
{
	/* "note = " + value = exactly CFG_LINE_MAX bytes: accepted */
	char *val = repeat('v', CFG_LINE_MAX - 7);
	char *text;
	ck_assert_int_gt(asprintf(&text, "socket = s\nnote = %s\n", val), 0);
	struct cfg *c = parse_ok(text);
	ck_assert_uint_eq(strlen(cfg_str(c, NULL, "note")), CFG_LINE_MAX - 7);
	cfg_free(c);
	free(text);
	/* the same with CRLF: the CR does not count */
	ck_assert_int_gt(asprintf(&text, "socket = s\r\nnote = %s\r\n", val), 0);
	c = parse_ok(text);
	cfg_free(c);
	free(text);
	/* one byte more, even in a comment and without a final newline: refused */
	free(val);
	val = repeat('#', CFG_LINE_MAX + 1);
	ck_assert_int_gt(asprintf(&text, "socket = s\n\n%s", val), 0);
	expect_error(text, "t.conf:3: line too long (more than 4096 bytes)");
	free(text);
	free(val);
}
END_TEST

START_TEST(value_parsers)
{
	uint64_t v;
	bool b;

	ck_assert_int_eq(cfg_parse_duration_ms("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(cfg_parse_duration_ms("7", &v), 0);
	ck_assert_uint_eq(v, 7000);
	ck_assert_int_eq(cfg_parse_duration_ms("250ms", &v), 0);
	ck_assert_uint_eq(v, 250);
	ck_assert_int_eq(cfg_parse_duration_ms("30s", &v), 0);
	ck_assert_uint_eq(v, 30000);
	ck_assert_int_eq(cfg_parse_duration_ms("5m", &v), 0);
	ck_assert_uint_eq(v, 300000);
	ck_assert_int_eq(cfg_parse_duration_ms("1h", &v), 0);
	ck_assert_uint_eq(v, 3600000);
	ck_assert_int_eq(cfg_parse_duration_ms("7d", &v), 0);
	ck_assert_uint_eq(v, 7ull * 86400000);
	ck_assert_int_eq(cfg_parse_duration_ms("2W", &v), 0);
	ck_assert_uint_eq(v, 2ull * 604800000);
	ck_assert_int_eq(cfg_parse_duration_ms("", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_duration_ms("s", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_duration_ms("-1s", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_duration_ms("1.5h", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_duration_ms("1h30m", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_duration_ms("18446744073709551615ms", &v), 0);
	ck_assert_int_eq(cfg_parse_duration_ms("18446744073709551616ms", &v), -ERANGE);
	ck_assert_int_eq(cfg_parse_duration_ms("18446744073709551615", &v), -ERANGE);

	ck_assert_int_eq(cfg_parse_size("512", &v), 0);
	ck_assert_uint_eq(v, 512);
	ck_assert_int_eq(cfg_parse_size("512B", &v), 0);
	ck_assert_uint_eq(v, 512);
	ck_assert_int_eq(cfg_parse_size("64k", &v), 0);
	ck_assert_uint_eq(v, 65536);
	ck_assert_int_eq(cfg_parse_size("25M", &v), 0);
	ck_assert_uint_eq(v, 25u << 20);
	ck_assert_int_eq(cfg_parse_size("1GB", &v), 0);
	ck_assert_uint_eq(v, 1u << 30);
	ck_assert_int_eq(cfg_parse_size("1KiB", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_size("K", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_size("1BB", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_size("17179869184G", &v), -ERANGE);

	ck_assert_int_eq(cfg_parse_bool("ON", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(cfg_parse_bool("1", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(cfg_parse_bool("true", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(cfg_parse_bool("False", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(cfg_parse_bool("no", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(cfg_parse_bool("0", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(cfg_parse_bool("y", &b), -EINVAL);
	ck_assert_int_eq(cfg_parse_bool("", &b), -EINVAL);
}
END_TEST

static char *print_to_string(const struct cfg *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(cfg_print(c, f), 0);
	fclose(f);
	return text;
}

START_TEST(print_roundtrip)
{
	struct cfg *c = parse_ok("socket = unix:/run/x.sock   # comment dropped\n"
	                         "name = abc#d\n"
	                         "workers = 8\n"
	                         "domains = a, b,c\n"
	                         "networks = 10.0.0.0/8,2001:DB8::/32\n"
	                         "opt_int =\n"
	                         "note = a;b\n"
	                         "[domain z.example]\n"
	                         "sign = no\n"
	                         "hosts =\n"
	                         "[redis]\n"
	                         "url = redis://127.0.0.1:6379/0\n"
	                         "[domain a.example]\n");
	char *first = print_to_string(c);
	cfg_free(c);

	/* defaults included, global keys first, sections in file order */
	ck_assert_ptr_nonnull(strstr(first, "# instance name (string)\nname = abc#d\n"));
	ck_assert_ptr_nonnull(strstr(first, "\ntimeout = 30s\n"));
	ck_assert_ptr_nonnull(strstr(first, "\nmax_size = 25M\n"));
	ck_assert_ptr_nonnull(strstr(first, "\ndomains = a b c\n"));
	ck_assert_ptr_nonnull(strstr(first, "\nnetworks = 10.0.0.0/8 2001:db8::/32\n"));
	ck_assert_ptr_nonnull(strstr(first, "\nopt_int =\n"));
	ck_assert_ptr_nonnull(strstr(first, "\nretry =\n"));
	ck_assert_ptr_nonnull(strstr(first, "\non_error = tempfail\n"));
	const char *s1 = strstr(first, "\n[domain z.example]\nselector = s1\nsign = no\nhosts =\n"
	                               "skip =\n");
	const char *s2 = strstr(first, "\n[redis]\nurl = redis://127.0.0.1:6379/0\nttl = 1h\n");
	const char *s3 = strstr(first, "\n[domain a.example]\nselector = s1\nsign = yes\n"
	                               "hosts = a.example b.example\n");
	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_nonnull(s2);
	ck_assert_ptr_nonnull(s3);
	ck_assert(s1 < s2 && s2 < s3);
	ck_assert(strstr(first, "\nnote = a;b\n") < s1);

	/* parse the printed text: same effective config, same print */
	c = parse_ok(first);
	ck_assert_str_eq(cfg_str(c, NULL, "name"), "abc#d");
	ck_assert_int_eq(cfg_int(c, NULL, "workers"), 8);
	ck_assert_uint_eq(cfg_duration_ms(c, NULL, "timeout"), 30000);
	ck_assert(!cfg_bool(c, "domain z.example", "sign"));
	char *second = print_to_string(c);
	ck_assert_str_eq(second, first);
	cfg_free(c);
	free(first);
	free(second);
}
END_TEST

START_TEST(print_roundtrip_hash_values)
{
	struct cfg *c = parse_ok("socket=#s\nnote=;n\ndomains=#a,b,;c d\n[redis]\nurl=#u\n");
	char *first = print_to_string(c);
	cfg_free(c);
	ck_assert_ptr_nonnull(strstr(first, "\nsocket =#s\n"));
	ck_assert_ptr_nonnull(strstr(first, "\nnote =;n\n"));
	ck_assert_ptr_nonnull(strstr(first, "\ndomains =#a b,;c d\n"));
	c = parse_ok(first);
	size_t n;
	const char *const *w = cfg_list(c, NULL, "domains", &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(w[0], "#a");
	ck_assert_str_eq(w[2], ";c");
	ck_assert_str_eq(cfg_str(c, "redis", "url"), "#u");
	char *second = print_to_string(c);
	ck_assert_str_eq(second, first);
	cfg_free(c);
	free(first);
	free(second);
}
END_TEST

START_TEST(load_file)
{
	char path[] = "/tmp/test_cfg_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char *text = "socket = s\nworkers = 3\n[redis]\nbad = 1\n";
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);

	char *want;
	struct buf err;
	buf_init(&err);
	ck_assert_ptr_null(cfg_load(&schema, path, &err));
	ck_assert_int_gt(asprintf(&want, "%s:4: unknown key 'bad' in section [redis]", path), 0);
	ck_assert_str_eq(buf_cstr(&err), want);
	free(want);
	buf_fini(&err);

	FILE *f = fopen(path, "w");
	fputs("socket = s\nworkers = 3\n", f);
	fclose(f);
	struct cfg *c = cfg_load(&schema, path, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(err.len, 0);
	ck_assert_int_eq(cfg_int(c, NULL, "workers"), 3);
	ck_assert_str_eq(cfg_path(c), path);
	cfg_free(c);
	unlink(path);

	errno = 0;
	ck_assert_ptr_null(cfg_load(&schema, path, &err));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_gt(asprintf(&want, "%s: No such file or directory", path), 0);
	ck_assert_str_eq(buf_cstr(&err), want);
	free(want);
	buf_fini(&err);
	cfg_free(NULL);
}
END_TEST

struct reader {
	const struct cfg *cfg;
	int id;
	int bad;
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	char sect[64];

	for (int i = 0; i < 2000; i++) {
		snprintf(sect, sizeof(sect), "domain d%d.example", (i + r->id) % 17);
		if (strcmp(cfg_str(r->cfg, sect, "selector"), "s1") != 0)
			r->bad++;
		size_t n;
		const char *const *w = cfg_list(r->cfg, sect, "hosts", &n);
		if (n != 2 || strcmp(w[0], "a.example") != 0)
			r->bad++;
		if (cfg_int(r->cfg, NULL, "workers") != 4)
			r->bad++;
		if (!cfg_bool(r->cfg, "domain x.example", "sign"))
			r->bad++;
	}
	return NULL;
}

START_TEST(concurrent_readers)
{
	struct cfg *c = parse_ok("socket = s\n[domain x.example]\n");
	pthread_t t[8];
	struct reader r[8];

	for (int i = 0; i < 8; i++) {
		r[i] = (struct reader){ c, i, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, reader_run, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(r[i].bad, 0);
	}
	cfg_free(c);
}
END_TEST

enum misuse { MISUSE_KEY, MISUSE_TYPE, MISUSE_SECTION };

static void expect_abort(enum misuse m)
{
	struct cfg *c = parse_ok("socket = s\n");
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(2);
		if (m == MISUSE_KEY)
			(void)cfg_str(c, NULL, "no_such_key");
		else if (m == MISUSE_TYPE)
			(void)cfg_int(c, NULL, "name");
		else
			(void)cfg_str(c, "not allowed", "url");
		_exit(0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGABRT);
	cfg_free(c);
}

START_TEST(getters_abort_on_misuse)
{
	expect_abort(MISUSE_KEY);
	expect_abort(MISUSE_TYPE);
	expect_abort(MISUSE_SECTION);
}
END_TEST

static const struct cfg_key shared_keys[] = {
	{ "listen", CFG_LIST, NULL, 0, 0, 0, NULL, "where" },
	{ "group", CFG_STRING, "staff", 0, 0, 0, NULL, NULL },
	CFG_KEY_END,
};

START_TEST(base_keys)
{
	static const struct cfg_default base_defs[] = { { "listen", "unix:/a inet:h:1" },
		                                        { NULL, NULL } };
	static const struct cfg_key own[] = {
		{ "level", CFG_INT, "3", 0, 0, 0, NULL, NULL },
		CFG_KEY_END,
	};
	static const struct cfg_schema with_base = { .base = shared_keys,
		                                     .base_defaults = base_defs,
		                                     .global = own };
	static const struct cfg_schema base_only = { .base = shared_keys };
	const char *text = "level = 4\ngroup = wheel\n";
	struct buf err;
	buf_init(&err);
	size_t n;
	struct cfg *c = cfg_parse(&with_base, text, strlen(text), "b.conf", &err);

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(cfg_list(c, NULL, "listen", &n));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(cfg_str(c, NULL, "group"), "wheel");
	ck_assert_int_eq(cfg_int(c, NULL, "level"), 4);
	char *out = print_to_string(c);
	ck_assert_str_eq(out,
	                 "# where (list)\nlisten = unix:/a inet:h:1\ngroup = wheel\nlevel = 4\n");
	free(out);
	cfg_free(c);

	c = cfg_parse(&base_only, "listen = x\n", 11, "b.conf", &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(cfg_list(c, NULL, "listen", &n)[0], "x");
	ck_assert_str_eq(cfg_str(c, NULL, "group"), "staff");
	cfg_free(c);
	ck_assert_ptr_null(cfg_parse(&base_only, "level = 4\n", 10, "b.conf", &err));
	ck_assert_str_eq(buf_cstr(&err), "b.conf:1: unknown key 'level'");
	buf_fini(&err);
}
END_TEST

CHECK_MAIN("cfg", all_types, defaults, sections, comments, crlf_and_no_final_newline,
           required_missing, error_messages, empty_values, line_limit, value_parsers,
           print_roundtrip, print_roundtrip_hash_values, load_file, concurrent_readers,
           getters_abort_on_misuse, schema_check, sections_nocase, errors_escape_config_bytes,
           base_keys)
