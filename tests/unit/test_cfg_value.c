/* Unit tests for common/cfg_value: integers (sign, overflow, stray bytes),
 * size suffixes of every case, enum indexes, and cfg_enum() reading them back
 * from a config. Durations, sizes and booleans are also covered through cfg in
 * test_cfg.c. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_value.h"
#include "check_common.h"

START_TEST(ints)
{
	long long n = 42;

	ck_assert_int_eq(cfg_parse_int("0", &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(cfg_parse_int("-17", &n), 0);
	ck_assert_int_eq(n, -17);
	ck_assert_int_eq(cfg_parse_int("+8", &n), 0);
	ck_assert_int_eq(n, 8);
	ck_assert_int_eq(cfg_parse_int("9223372036854775807", &n), 0);
	ck_assert(n == LLONG_MAX);
	ck_assert_int_eq(cfg_parse_int("-9223372036854775808", &n), 0);
	ck_assert(n == LLONG_MIN);
	n = 5;
	ck_assert_int_eq(cfg_parse_int("9223372036854775808", &n), -ERANGE);
	ck_assert_int_eq(cfg_parse_int("-9223372036854775809", &n), -ERANGE);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(cfg_parse_int("", &n), -EINVAL);
	ck_assert_int_eq(cfg_parse_int(" 1", &n), -EINVAL);
	ck_assert_int_eq(cfg_parse_int("1 ", &n), -EINVAL);
	ck_assert_int_eq(cfg_parse_int("0x10", &n), -EINVAL);
	ck_assert_int_eq(cfg_parse_int("1k", &n), -EINVAL);
	ck_assert_int_eq(cfg_parse_int("-", &n), -EINVAL);
	ck_assert_int_eq(n, 5);
}
END_TEST

START_TEST(sizes)
{
	uint64_t v = 0;

	ck_assert_int_eq(cfg_parse_size("3K", &v), 0);
	ck_assert_uint_eq(v, 3072);
	ck_assert_int_eq(cfg_parse_size("2mb", &v), 0);
	ck_assert_uint_eq(v, 2u << 20);
	ck_assert_int_eq(cfg_parse_size("4g", &v), 0);
	ck_assert_uint_eq(v, 4ull << 30);
	ck_assert_int_eq(cfg_parse_size("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(cfg_parse_size("1T", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_size("1 K", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_size("1Kx", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_size("17179869183G", &v), 0);
	ck_assert_int_eq(cfg_parse_size("99999999999999999999", &v), -ERANGE);
}
END_TEST

START_TEST(durations)
{
	uint64_t v = 0;

	ck_assert_int_eq(cfg_parse_duration_ms("3MS", &v), 0);
	ck_assert_uint_eq(v, 3);
	ck_assert_int_eq(cfg_parse_duration_ms("2M", &v), 0);
	ck_assert_uint_eq(v, 120000);
	ck_assert_int_eq(cfg_parse_duration_ms("1 s", &v), -EINVAL);
	ck_assert_int_eq(cfg_parse_duration_ms("1y", &v), -EINVAL);
}
END_TEST

START_TEST(enums)
{
	ck_assert_int_eq(cfg_parse_enum("reject|discard|quarantine|tag", "reject"), 0);
	ck_assert_int_eq(cfg_parse_enum("reject|discard|quarantine|tag", "quarantine"), 2);
	ck_assert_int_eq(cfg_parse_enum("reject|discard|quarantine|tag", "tag"), 3);
	ck_assert_int_eq(cfg_parse_enum("reject|discard", "Reject"), -EINVAL);
	ck_assert_int_eq(cfg_parse_enum("reject|discard", "rej"), -EINVAL);
	ck_assert_int_eq(cfg_parse_enum("reject|discard", "reject|discard"), -EINVAL);
	ck_assert_int_eq(cfg_parse_enum("reject|discard", ""), -EINVAL);
	ck_assert_int_eq(cfg_parse_enum("a||b", ""), 1);
	ck_assert_int_eq(cfg_parse_enum("only", "only"), 0);
	ck_assert_int_eq(cfg_parse_enum(NULL, "x"), -EINVAL);
	ck_assert_int_eq(cfg_parse_enum("", ""), -EINVAL);
}
END_TEST

START_TEST(bools)
{
	bool b = false;

	ck_assert_int_eq(cfg_parse_bool("YES", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(cfg_parse_bool("Off", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(cfg_parse_bool("yes ", &b), -EINVAL);
	ck_assert_int_eq(cfg_parse_bool("2", &b), -EINVAL);
}
END_TEST

START_TEST(cfg_enum_index)
{
	static const struct cfg_key keys[] = {
		{ "on_virus", CFG_ENUM, "reject", 0, 0, 0, "reject|discard|quarantine|tag", NULL },
		{ "mode", CFG_ENUM, NULL, 0, 0, 0, "a|b", NULL },
		{ "level", CFG_ENUM, "high", 0, 0, 0, "low|high", NULL },
		CFG_KEY_END,
	};
	static const struct cfg_schema schema = { .global = keys };
	const char *text = "on_virus = quarantine\nmode =\n";
	struct buf err;
	buf_init(&err);
	struct cfg *c = cfg_parse(&schema, text, strlen(text), "t.conf", &err);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(cfg_enum(c, NULL, "on_virus"), 2);
	ck_assert_int_eq(cfg_enum(c, NULL, "mode"), 0);
	ck_assert(!cfg_is_set(c, NULL, "mode"));
	ck_assert_int_eq(cfg_enum(c, NULL, "level"), 1);
	cfg_free(c);
}
END_TEST

CHECK_MAIN("cfg_value", ints, sizes, durations, enums, bools, cfg_enum_index)
