/* cfg: the INI config files of every daemon, read against a typed table.
 *
 * Syntax: `key = value` lines, `[section]` headers, `#` and `;` comments at the
 * start of a line or after whitespace (`key = v   # why`, `[sect]  ; why`),
 * lines up to 4 KiB, blank lines ignored, values trimmed. Keys before the first
 * section are global. Every error names `file:line` and what is wrong: unknown
 * key, bad value for its type (or refused by the schema's check()), missing
 * required key, duplicate key or section, unknown section, line too long. Config
 * bytes echoed in a message are escaped (control characters and bytes that are
 * not printable UTF-8 as \xNN). cfg_print() writes the effective config, defaults
 * included, in a form cfg_load() reads back (`-n`).
 *
 * Empty values: CFG_STRING is "", CFG_LIST/CFG_CIDRS an empty list (overriding
 * the default). For the other types an empty value means "unset" (reads 0/false,
 * cfg_is_set() false) when the key's default is NULL or "", and is an error
 * ("empty value") when the key has a non-empty default or is CFG_REQUIRED.
 * Getters on an allowed section that is absent from the file return defaults.
 * Thread safe for readers once loaded.
 */
#ifndef POSTWARDEN_CFG_H
#define POSTWARDEN_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "cfg_value.h" /* the value parsers, for code that reads these forms elsewhere */
#include "cidr.h"

enum cfg_type {
	CFG_STRING,   /* any text, may be empty */
	CFG_INT,      /* decimal, long long, optional min/max in the key */
	CFG_BOOL,     /* yes/no, true/false, on/off, 1/0 */
	CFG_DURATION, /* 250ms, 30s, 5m, 1h, 7d, 2w; bare number = seconds; read as milliseconds */
	CFG_SIZE,     /* 512, 64K, 25M, 1G (1024-based); read as bytes */
	CFG_LIST,     /* whitespace- or comma-separated words */
	CFG_CIDRS,    /* whitespace- or comma-separated addresses / CIDR prefixes, v4 and v6 */
	CFG_ENUM,     /* one of the '|'-separated words in cfg_key.choices */
};

#define CFG_LINE_MAX 4096 /* bytes per line, the newline not counted; longer is an error */
#define CFG_REQUIRED 0x1u /* must be set in the file (no default applies) */

struct cfg_key {
	const char *name;
	enum cfg_type type;
	const char *def;     /* default value as text; NULL = unset unless given */
	unsigned flags;      /* CFG_REQUIRED */
	long long min, max;  /* CFG_INT/DURATION(ms)/SIZE bounds; both 0 = unbounded */
	const char *choices; /* CFG_ENUM: "tempfail|accept" */
	const char *help;    /* one line, printed as a comment by cfg_print() */
};
/* Terminate key tables with CFG_KEY_END. */
#define CFG_KEY_END                                                                                \
	{                                                                                          \
		NULL, CFG_STRING, NULL, 0, 0, 0, NULL, NULL                                        \
	}

/* A schema's default for one key of a shared table (cfg_schema.base). */
struct cfg_default {
	const char *name;
	const char *def; /* in place of the table's default */
};

struct cfg_schema {
	/* base - optional key table shared by several schemas (common/daemon.h's
	 * daemon_keys): its keys come first among the global keys, before @global.
	 * base_defaults - optional, terminated by { NULL, NULL }: defaults of base keys
	 * that differ per schema; naming a key not in @base is a programming error. */
	const struct cfg_key *base;
	const struct cfg_default *base_defaults;
	const struct cfg_key *global; /* keys before the first [section] */
	/* section_keys() - the key table for a section named @name, or NULL when such
	 * a section is not allowed (error "unknown section"). NULL = no sections at all. */
	const struct cfg_key *(*section_keys)(const char *name);
	/* check() - optional: validate one value beyond its type, as it is read (every
	 * word of a CFG_LIST; the text of other types; never an empty value). @section
	 * NULL = global. Return 0, or -EINVAL after adding one "key: what" line to @err
	 * (buf.h); the error becomes "file:line: what". */
	int (*check)(const char *section, const char *key, const char *value, struct buf *err);
	/* sections_nocase - section names are compared ignoring ASCII case: two that
	 * differ only in case are a duplicate section error. */
	bool sections_nocase;
};

struct cfg;

/**
 * cfg_load() - read and validate @path against @schema.
 * @err: on failure, gets the line "path:line: what" (buf.h's error convention; may be NULL)
 * Return: a new config (free with cfg_free()), or NULL with errno set.
 */
struct cfg *cfg_load(const struct cfg_schema *schema, const char *path, struct buf *err);
/* cfg_parse() - same from memory; @name is used in messages in place of a path. */
struct cfg *cfg_parse(const struct cfg_schema *schema, const char *text, size_t len,
                      const char *name, struct buf *err);
void cfg_free(struct cfg *cfg);

/* Getters: @section NULL = global. The key must exist in the schema for that
 * section (a programming error otherwise: abort). Unset keys without a default
 * read as "" / 0 / false / empty list. */
const char *cfg_str(const struct cfg *cfg, const char *section, const char *key);
long long cfg_int(const struct cfg *cfg, const char *section, const char *key);
bool cfg_bool(const struct cfg *cfg, const char *section, const char *key);
uint64_t cfg_duration_ms(const struct cfg *cfg, const char *section, const char *key);
uint64_t cfg_size(const struct cfg *cfg, const char *section, const char *key);
/* cfg_enum() - the index of the value in the key's choices (0 = the first one);
 * an unset key reads 0. */
int cfg_enum(const struct cfg *cfg, const char *section, const char *key);
/* cfg_list() - the words; *n set to their count; array owned by @cfg, NULL-terminated. */
const char *const *cfg_list(const struct cfg *cfg, const char *section, const char *key, size_t *n);
const struct cidr_list *cfg_cidrs(const struct cfg *cfg, const char *section, const char *key);
/* cfg_is_set() - true when the file set the key (a default does not count). */
bool cfg_is_set(const struct cfg *cfg, const char *section, const char *key);
/* cfg_line() - the line a key was set on (0 when defaulted), for later error messages. */
unsigned cfg_line(const struct cfg *cfg, const char *section, const char *key);
const char *cfg_path(const struct cfg *cfg);

/* Sections in file order. */
size_t cfg_section_count(const struct cfg *cfg);
const char *cfg_section_name(const struct cfg *cfg, size_t i);
bool cfg_has_section(const struct cfg *cfg, const char *name);

/* cfg_print() - the effective config, defaults included, readable by cfg_load(). */
int cfg_print(const struct cfg *cfg, FILE *out);

#endif
