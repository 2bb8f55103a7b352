/* libFuzzer harness for common/cfg: parse arbitrary bytes against a schema with
 * every key type, required keys, a shared base table with schema defaults and a
 * section_keys() callback; on success read
 * every key back and check that cfg_print() output parses again and prints the
 * same text (the `-n` round trip). Any failure aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cfg_key fz_base[] = {
	{ "listen", CFG_LIST, NULL, 0, 0, 0, NULL, "shared" },
	{ "user", CFG_STRING, NULL, 0, 0, 0, NULL, NULL },
	{ "group", CFG_STRING, "staff", 0, 0, 0, NULL, NULL },
	CFG_KEY_END,
};

static const struct cfg_default fz_base_defaults[] = {
	{ "listen", "unix:/fz inet:h:1" },
	{ "user", "fz" },
	{ NULL, NULL },
};

static const struct cfg_key fz_global[] = {
	{ "name", CFG_STRING, "pw", 0, 0, 0, NULL, "a string" },
	{ "n", CFG_INT, "4", 0, 1, 64, NULL, NULL },
	{ "i", CFG_INT, NULL, 0, 0, 0, NULL, NULL },
	{ "b", CFG_BOOL, "no", 0, 0, 0, NULL, NULL },
	{ "t", CFG_DURATION, "30s", 0, 0, 0, NULL, NULL },
	{ "r", CFG_DURATION, NULL, 0, 100, 60000, NULL, NULL },
	{ "s", CFG_SIZE, "25M", 0, 0, 0, NULL, NULL },
	{ "l", CFG_LIST, NULL, 0, 0, 0, NULL, NULL },
	{ "c", CFG_CIDRS, "127.0.0.0/8 ::1", 0, 0, 0, NULL, NULL },
	{ "e", CFG_ENUM, "x", 0, 0, 0, "x|y|z", NULL },
	CFG_KEY_END,
};

static const struct cfg_key fz_redis[] = {
	{ "url", CFG_STRING, NULL, CFG_REQUIRED, 0, 0, NULL, NULL },
	{ "ttl", CFG_DURATION, "1h", 0, 0, 0, NULL, NULL },
	CFG_KEY_END,
};

static const struct cfg_key fz_domain[] = {
	{ "selector", CFG_STRING, "s1", 0, 0, 0, NULL, NULL },
	{ "sign", CFG_BOOL, "yes", 0, 0, 0, NULL, NULL },
	{ "hosts", CFG_LIST, "a b", 0, 0, 0, NULL, NULL },
	{ "skip", CFG_CIDRS, NULL, 0, 0, 0, NULL, NULL },
	{ "max", CFG_SIZE, "", 0, 1, 1024, NULL, NULL },
	CFG_KEY_END,
};

static const struct cfg_key *fz_section_keys(const char *name)
{
	if (strcmp(name, "redis") == 0)
		return fz_redis;
	if (strncmp(name, "domain", 6) == 0)
		return fz_domain;
	return NULL;
}

static const struct cfg_schema fz_schema = {
	.base = fz_base,
	.base_defaults = fz_base_defaults,
	.global = fz_global,
	.section_keys = fz_section_keys,
};

static char *fz_print(const struct cfg *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f || cfg_print(c, f) != 0)
		abort();
	fclose(f);
	return text;
}

static void fz_read_all(const struct cfg *c, const char *section, const struct cfg_key *keys)
{
	size_t n;
	for (const struct cfg_key *k = keys; k->name; k++) {
		(void)cfg_str(c, section, k->name);
		(void)cfg_is_set(c, section, k->name);
		(void)cfg_line(c, section, k->name);
		switch (k->type) {
		case CFG_INT:
			(void)cfg_int(c, section, k->name);
			break;
		case CFG_BOOL:
			(void)cfg_bool(c, section, k->name);
			break;
		case CFG_DURATION:
			(void)cfg_duration_ms(c, section, k->name);
			break;
		case CFG_SIZE:
			(void)cfg_size(c, section, k->name);
			break;
		case CFG_LIST: {
			const char *const *w = cfg_list(c, section, k->name, &n);
			if (!w || w[n])
				abort();
			break;
		}
		case CFG_CIDRS:
			(void)cidr_list_match_str(cfg_cidrs(c, section, k->name), "10.1.2.3");
			break;
		case CFG_ENUM:
			if (cfg_enum(c, section, k->name) !=
			    (cfg_is_set(c, section, k->name) || k->def
			             ? cfg_parse_enum(k->choices, cfg_str(c, section, k->name))
			             : 0))
				abort();
			break;
		default:
			break;
		}
	}
}

static bool fz_has_long_line(const char *s)
{
	size_t run = 0;
	for (; *s; s++) {
		run = *s == '\n' ? 0 : run + 1;
		if (run > CFG_LINE_MAX)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err;
	buf_init(&err);
	struct cfg *c = cfg_parse(&fz_schema, (const char *)data, size, "fuzz", &err);
	if (!c) {
		if (!err.len || strncmp(buf_cstr(&err), "fuzz", 4) != 0)
			abort();
		buf_fini(&err);
		return 0;
	}
	if (err.len)
		abort();
	fz_read_all(c, NULL, fz_base);
	fz_read_all(c, NULL, fz_global);
	for (size_t i = 0; i < cfg_section_count(c); i++) {
		const char *name = cfg_section_name(c, i);
		fz_read_all(c, name, fz_section_keys(name));
	}
	fz_read_all(c, "domain never-in-file", fz_domain);

	size_t len1, len2;
	char *first = fz_print(c, &len1);
	cfg_free(c);
	/* normalization (e.g. "::1" -> "::1/128") may push a line over the limit */
	if (!fz_has_long_line(first)) {
		struct cfg *again = cfg_parse(&fz_schema, first, len1, "printed", &err);
		if (!again) {
			fprintf(stderr, "printed config does not parse: %s\n%s", buf_cstr(&err),
			        first);
			abort();
		}
		char *second = fz_print(again, &len2);
		if (len1 != len2 || memcmp(first, second, len1) != 0) {
			fprintf(stderr, "print round trip differs:\n%s---\n%s", first, second);
			abort();
		}
		free(second);
		cfg_free(again);
	}
	free(first);
	return 0;
}
