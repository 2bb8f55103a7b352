/* cfg: INI config files read against a typed key table (see cfg.h).
 *
 * A small line parser of our own: lines up to CFG_LINE_MAX bytes (one trailing
 * CR dropped first), `#`/`;` open a comment at the start of a line or after
 * whitespace, values trimmed. Errors are one malloc'd "file:line: what" message.
 * cfg_print() output reads back to the same config (a value starting with `#`
 * or `;` is printed glued: `key =#v`); only a line lengthened by normalization
 * ("::1" -> "::1/128") could outgrow CFG_LINE_MAX.
 * Defaults in the schema are trusted: a bad default aborts, as does a getter for
 * a key not in the schema or of another type (programming errors).
 * Threads: immutable after cfg_parse(), getters may run concurrently; the copy
 * of an allowed section absent from the file is built lazily under a mutex.
 * Ownership: the schema must outlive the cfg; getters return memory of the cfg.
 * The global section reads one table per cfg: the schema's base keys, with its
 * own defaults for them, followed by its global keys.
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cfg_value.h"
#include "escape.h"
#include "xalloc.h"

#define CFG_FILE_MAX (16u << 20)

struct cfg_val {
	bool set;      /* given in the file (an "unset" empty value is not) */
	unsigned line; /* line it was given on, 0 = not in the file */
	char *text;    /* as given or the default; NULL = unset */
	long long num; /* CFG_INT, CFG_BOOL */
	uint64_t u64;  /* CFG_DURATION (ms), CFG_SIZE (bytes) */
	char **words;  /* CFG_LIST, NULL-terminated */
	size_t nwords;
	struct cidr_list cidrs; /* CFG_CIDRS */
};

struct cfg_section {
	char *name;    /* NULL for the global keys */
	unsigned line; /* of the [header] */
	const struct cfg_key *keys;
	size_t nkeys;
	struct cfg_val *vals; /* nkeys entries */
};

struct cfg {
	char *path;
	const struct cfg_schema *schema;
	struct cfg_key *global_keys; /* schema->base and schema->global in one table */
	struct cfg_section global;
	struct cfg_section *sections; /* in file order */
	size_t nsections;
	pthread_mutex_t lock;          /* guards phantoms */
	struct cfg_section **phantoms; /* allowed sections read but not in the file */
	size_t nphantoms;
};

static _Noreturn void cfg_bug(const char *what, const char *section, const char *key)
{
	fprintf(stderr, "cfg: programming error: %s: [%s] %s\n", what, section ? section : "global",
	        key ? key : "");
	abort();
}

/* ---- values */

static bool cfg_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool cfg_is_listsep(char ch)
{
	return cfg_is_space(ch) || ch == ',';
}

static void cfg_split_words(const char *s, struct cfg_val *v)
{
	size_t cap = 4;

	v->words = xcalloc(cap, sizeof(*v->words));
	v->nwords = 0;
	for (;;) {
		while (*s && cfg_is_listsep(*s))
			s++;
		if (!*s)
			break;
		size_t n = 0;
		while (s[n] && !cfg_is_listsep(s[n]))
			n++;
		if (v->nwords + 1 >= cap) {
			cap *= 2;
			v->words = xreallocarray(v->words, cap, sizeof(*v->words));
		}
		v->words[v->nwords++] = xstrndup(s, n);
		v->words[v->nwords] = NULL;
		s += n;
	}
}

static bool cfg_bounds_set(const struct cfg_key *k)
{
	return k->min != 0 || k->max != 0;
}

static bool cfg_in_bounds(const struct cfg_key *k, long long v)
{
	return !cfg_bounds_set(k) || (v >= k->min && v <= k->max);
}

static bool cfg_in_bounds_u64(const struct cfg_key *k, uint64_t v)
{
	return !cfg_bounds_set(k) || (v <= (uint64_t)LLONG_MAX && cfg_in_bounds(k, (long long)v));
}

/* Setters of one type: fill @v from @s and return 0, -EINVAL (not of the type;
 * *bad may name the offending part), -ERANGE (too large to read) or -EDOM
 * (outside the key's min..max). */

static int cfg_set_text(const struct cfg_key *k, const char *s, struct cfg_val *v, char **bad)
{
	(void)k, (void)s, (void)v, (void)bad;
	return 0;
}

static int cfg_set_int(const struct cfg_key *k, const char *s, struct cfg_val *v, char **bad)
{
	int rc = cfg_parse_int(s, &v->num);

	(void)bad;
	if (rc == -ERANGE && cfg_bounds_set(k))
		return -EDOM;
	if (rc == 0 && !cfg_in_bounds(k, v->num))
		return -EDOM;
	return rc;
}

static int cfg_set_bool(const struct cfg_key *k, const char *s, struct cfg_val *v, char **bad)
{
	bool b;
	int rc = cfg_parse_bool(s, &b);

	(void)k, (void)bad;
	if (rc == 0)
		v->num = b;
	return rc;
}

static int cfg_u64_bounds(const struct cfg_key *k, int rc, const struct cfg_val *v)
{
	if (rc == 0 && !cfg_in_bounds_u64(k, v->u64))
		return -EDOM;
	return rc;
}

static int cfg_set_duration(const struct cfg_key *k, const char *s, struct cfg_val *v, char **bad)
{
	(void)bad;
	return cfg_u64_bounds(k, cfg_parse_duration_ms(s, &v->u64), v);
}

static int cfg_set_size(const struct cfg_key *k, const char *s, struct cfg_val *v, char **bad)
{
	(void)bad;
	return cfg_u64_bounds(k, cfg_parse_size(s, &v->u64), v);
}

static int cfg_set_list(const struct cfg_key *k, const char *s, struct cfg_val *v, char **bad)
{
	(void)k, (void)bad;
	cfg_split_words(s, v);
	return 0;
}

static int cfg_set_cidrs(const struct cfg_key *k, const char *s, struct cfg_val *v, char **bad)
{
	(void)k;
	return cidr_list_parse(s, &v->cidrs, bad) < 0 ? -EINVAL : 0;
}

static int cfg_set_enum(const struct cfg_key *k, const char *s, struct cfg_val *v, char **bad)
{
	int i = cfg_parse_enum(k->choices, s);

	(void)bad;
	if (i < 0)
		return i;
	v->num = i;
	return 0;
}

static const struct cfg_type_info {
	const char *name;    /* in cfg_print() comments */
	bool empty_is_value; /* "" is a value of the type, never "unset" */
	int (*set)(const struct cfg_key *k, const char *s, struct cfg_val *v, char **bad);
	const char *expect; /* "key 'k': 'value' <expect>" when set() says -EINVAL */
	const char *unit;   /* after min..max in an out of range message */
} cfg_types[] = {
	[CFG_STRING] = { "string", true, cfg_set_text, "", "" },
	[CFG_INT] = { "integer", false, cfg_set_int, "is not an integer", "" },
	[CFG_BOOL] = { "boolean", false, cfg_set_bool,
	               "is not a boolean (yes/no, true/false, on/off, 1/0)", "" },
	[CFG_DURATION] = { "duration", false, cfg_set_duration,
	                   "is not a duration (e.g. 250ms, 30s, 5m, 1h, 7d, 2w)", " ms" },
	[CFG_SIZE] = { "size", false, cfg_set_size, "is not a size (e.g. 512, 64K, 25M, 1G)",
	               " bytes" },
	[CFG_LIST] = { "list", true, cfg_set_list, "", "" },
	[CFG_CIDRS] = { "address list", true, cfg_set_cidrs, "is not an address or prefix", "" },
	[CFG_ENUM] = { "enum", false, cfg_set_enum, "is not one of ", "" },
};

static const struct cfg_type_info *cfg_type(const struct cfg_key *k)
{
	if ((size_t)k->type >= sizeof(cfg_types) / sizeof(cfg_types[0]))
		cfg_bug("unknown key type", NULL, k->name);
	return &cfg_types[k->type];
}

static void cfg_val_clear(struct cfg_val *v)
{
	free(v->text);
	if (v->words) {
		for (size_t i = 0; i < v->nwords; i++)
			free(v->words[i]);
		free(v->words);
	}
	cidr_list_fini(&v->cidrs);
	memset(v, 0, sizeof(*v));
}

/* Typed keys whose empty value means "unset" rather than an error. */
static bool cfg_empty_is_unset(const struct cfg_key *k)
{
	if (cfg_type(k)->empty_is_value)
		return false;
	return !(k->flags & CFG_REQUIRED) && (!k->def || !k->def[0]);
}

/*
 * cfg_val_set() - parse @s as the value of @k into @v (text, typed value).
 * Return: 0, or -EINVAL after adding the line "key 'k': ..." to @err.
 */
static int cfg_val_set(const struct cfg_key *k, const char *s, struct cfg_val *v, struct buf *err)
{
	const struct cfg_type_info *t = cfg_type(k);
	char *bad = NULL;
	int rc;

	if (!s[0] && !t->empty_is_value) {
		if (cfg_empty_is_unset(k))
			return 0;
		buf_add_line(err, "key '%s': empty value", k->name);
		return -EINVAL;
	}
	rc = t->set(k, s, v, &bad);
	if (rc == -ERANGE)
		buf_add_line(err, "key '%s': '%s' is too large", k->name, s);
	else if (rc == -EDOM)
		buf_add_line(err, "key '%s': '%s' is out of range (%lld..%lld%s)", k->name, s,
		             k->min, k->max, t->unit);
	else if (rc < 0)
		buf_add_line(err, "key '%s': '%s' %s%s", k->name, bad ? bad : s, t->expect,
		             k->type == CFG_ENUM && k->choices ? k->choices : "");
	free(bad);
	if (rc < 0)
		return -EINVAL;
	v->text = xstrdup(s);
	return 0;
}

/* ---- sections */

static size_t cfg_key_count(const struct cfg_key *keys)
{
	size_t n = 0;

	while (keys && keys[n].name)
		n++;
	return n;
}

static void cfg_section_init(struct cfg_section *sec, const char *name, unsigned line,
                             const struct cfg_key *keys)
{
	sec->name = name ? xstrdup(name) : NULL;
	sec->line = line;
	sec->keys = keys;
	sec->nkeys = cfg_key_count(keys);
	sec->vals = xcalloc(sec->nkeys ? sec->nkeys : 1, sizeof(*sec->vals));
}

/* The global key table: @schema->base (its defaults replaced by base_defaults),
 * then @schema->global, then CFG_KEY_END; a new array. */
static struct cfg_key *cfg_global_keys(const struct cfg_schema *schema)
{
	size_t nbase = cfg_key_count(schema->base), nglobal = cfg_key_count(schema->global);
	struct cfg_key *keys = xcalloc(nbase + nglobal + 1, sizeof(*keys));

	if (nbase)
		memcpy(keys, schema->base, nbase * sizeof(*keys));
	if (nglobal)
		memcpy(keys + nbase, schema->global, nglobal * sizeof(*keys));
	for (const struct cfg_default *d = schema->base_defaults; d && d->name; d++) {
		size_t i = 0;
		while (i < nbase && strcmp(keys[i].name, d->name) != 0)
			i++;
		if (i == nbase)
			cfg_bug("default for a key not in the base table", NULL, d->name);
		keys[i].def = d->def;
	}
	return keys;
}

static void cfg_section_fini(struct cfg_section *sec)
{
	for (size_t i = 0; i < sec->nkeys; i++)
		cfg_val_clear(&sec->vals[i]);
	free(sec->vals);
	free(sec->name);
}

/* Fill keys the file did not set from their defaults; LIST keys always get an array. */
static void cfg_section_defaults(struct cfg_section *sec)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct cfg_key *k = &sec->keys[i];
		struct cfg_val *v = &sec->vals[i];
		struct buf why;
		buf_init(&why);
		if (!v->line && k->def && cfg_val_set(k, k->def, v, &why) < 0) {
			fprintf(stderr, "cfg: bad default: %s\n", buf_cstr(&why));
			abort();
		}
		buf_fini(&why);
		if (k->type == CFG_LIST && !v->words)
			cfg_split_words("", v);
	}
}

static long cfg_key_index(const struct cfg_section *sec, const char *key)
{
	for (size_t i = 0; i < sec->nkeys; i++)
		if (strcmp(sec->keys[i].name, key) == 0)
			return (long)i;
	return -1;
}

static bool cfg_section_is(const struct cfg *cfg, const char *a, const char *b)
{
	return cfg->schema->sections_nocase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

static struct cfg_section *cfg_section_find(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsections; i++)
		if (cfg_section_is(cfg, cfg->sections[i].name, name))
			return &cfg->sections[i];
	return NULL;
}

static const struct cfg_section *cfg_phantom(struct cfg *cfg, const char *name)
{
	const struct cfg_section *found = NULL;
	const struct cfg_key *keys;

	pthread_mutex_lock(&cfg->lock);
	for (size_t i = 0; i < cfg->nphantoms && !found; i++)
		if (cfg_section_is(cfg, cfg->phantoms[i]->name, name))
			found = cfg->phantoms[i];
	if (!found) {
		keys = cfg->schema->section_keys ? cfg->schema->section_keys(name) : NULL;
		if (!keys) {
			pthread_mutex_unlock(&cfg->lock);
			cfg_bug("section not in the schema", name, NULL);
		}
		struct cfg_section *sec = xcalloc(1, sizeof(*sec));
		cfg_section_init(sec, name, 0, keys);
		cfg_section_defaults(sec);
		cfg->phantoms =
		        xreallocarray(cfg->phantoms, cfg->nphantoms + 1, sizeof(*cfg->phantoms));
		cfg->phantoms[cfg->nphantoms++] = sec;
		found = sec;
	}
	pthread_mutex_unlock(&cfg->lock);
	return found;
}

static const struct cfg_val *cfg_get(const struct cfg *ccfg, const char *section, const char *key,
                                     int type, const struct cfg_key **kp)
{
	struct cfg *cfg = (struct cfg *)ccfg;
	const struct cfg_section *sec;
	long i;

	if (!section)
		sec = &cfg->global;
	else if (!(sec = cfg_section_find(cfg, section)))
		sec = cfg_phantom(cfg, section);
	i = cfg_key_index(sec, key);
	if (i < 0)
		cfg_bug("key not in the schema", section, key);
	if (type >= 0 && sec->keys[i].type != (enum cfg_type)type)
		cfg_bug("getter of the wrong type", section, key);
	if (kp)
		*kp = &sec->keys[i];
	return &sec->vals[i];
}

/* ---- the line parser */

struct cfg_parser {
	struct cfg *cfg;
	struct cfg_section *cur; /* &cfg->global or the last [section] */
	size_t cur_index;        /* index into cfg->sections, when cur is not global */
	unsigned line;
	struct buf why; /* message without the "file:line: " prefix */
};

static void cfg_strip_comment(char *s)
{
	for (size_t i = 0; s[i]; i++) {
		if ((s[i] == '#' || s[i] == ';') && (i == 0 || cfg_is_space(s[i - 1]))) {
			s[i] = '\0';
			return;
		}
	}
}

static char *cfg_trim(char *s)
{
	size_t n;

	while (cfg_is_space(*s))
		s++;
	n = strlen(s);
	while (n && cfg_is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool cfg_key_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static int cfg_parse_header(struct cfg_parser *p, char *s)
{
	const struct cfg_schema *schema = p->cfg->schema;
	const struct cfg_key *keys;
	struct cfg_section *dup;
	size_t n = strlen(s);

	if (n < 2 || s[n - 1] != ']') {
		buf_puts(&p->why, "bad section header (expected '[name]')");
		return -EINVAL;
	}
	s[n - 1] = '\0';
	char *name = cfg_trim(s + 1);
	if (!*name || strpbrk(name, "[]")) {
		buf_puts(&p->why, "bad section header (expected '[name]')");
		return -EINVAL;
	}
	if ((dup = cfg_section_find(p->cfg, name))) {
		if (strcmp(dup->name, name) == 0)
			buf_printf(&p->why, "duplicate section [%s] (first on line %u)", name,
			           dup->line);
		else
			buf_printf(&p->why,
			           "duplicate section [%s]: same as [%s] on line %u "
			           "(section names ignore case)",
			           name, dup->name, dup->line);
		return -EINVAL;
	}
	keys = schema->section_keys ? schema->section_keys(name) : NULL;
	if (!keys) {
		buf_printf(&p->why, "unknown section [%s]", name);
		return -EINVAL;
	}
	p->cfg->sections =
	        xreallocarray(p->cfg->sections, p->cfg->nsections + 1, sizeof(*p->cfg->sections));
	p->cur_index = p->cfg->nsections++;
	p->cur = &p->cfg->sections[p->cur_index];
	cfg_section_init(p->cur, name, p->line, keys);
	return 0;
}

/* The schema's check() on a value just set: each word of a list, else the text. */
static int cfg_val_check(const struct cfg *cfg, const struct cfg_section *sec,
                         const struct cfg_key *k, const struct cfg_val *v, struct buf *why)
{
	int (*check)(const char *, const char *, const char *, struct buf *) = cfg->schema->check;
	size_t said = why->len;
	int rc = 0;

	if (!check)
		return 0;
	if (k->type == CFG_LIST) {
		for (size_t i = 0; i < v->nwords && rc == 0; i++)
			rc = check(sec->name, k->name, v->words[i], why);
	} else if (v->text && v->text[0]) {
		rc = check(sec->name, k->name, v->text, why);
	}
	if (rc < 0 && why->len == said)
		buf_add_line(why, "key '%s': bad value", k->name);
	return rc < 0 ? -EINVAL : 0;
}

static int cfg_parse_assignment(struct cfg_parser *p, char *s)
{
	struct cfg_section *sec = p->cur;
	char *eq = strchr(s, '=');

	if (!eq) {
		buf_puts(&p->why, "expected 'key = value' or '[section]'");
		return -EINVAL;
	}
	*eq = '\0';
	char *key = cfg_trim(s);
	char *value = cfg_trim(eq + 1);
	if (!cfg_key_name_ok(key)) {
		buf_printf(&p->why, "bad key name '%s'", key);
		return -EINVAL;
	}
	long i = cfg_key_index(sec, key);
	if (i < 0) {
		if (sec->name)
			buf_printf(&p->why, "unknown key '%s' in section [%s]", key, sec->name);
		else
			buf_printf(&p->why, "unknown key '%s'", key);
		return -EINVAL;
	}
	struct cfg_val *v = &sec->vals[i];
	if (v->line) {
		buf_printf(&p->why, "duplicate key '%s' (first set on line %u)", key, v->line);
		return -EINVAL;
	}
	if (cfg_val_set(&sec->keys[i], value, v, &p->why) < 0)
		return -EINVAL;
	if (cfg_val_check(p->cfg, sec, &sec->keys[i], v, &p->why) < 0) {
		cfg_val_clear(v);
		return -EINVAL;
	}
	v->line = p->line;
	v->set = v->text != NULL;
	return 0;
}

static int cfg_parse_line(struct cfg_parser *p, char *line)
{
	cfg_strip_comment(line);
	char *s = cfg_trim(line);

	if (!*s)
		return 0;
	if (*s == '[')
		return cfg_parse_header(p, s);
	return cfg_parse_assignment(p, s);
}

/* cfg_escape() - @msg (consumed) with unprintable bytes as \xNN: a new string. */
static char *cfg_escape(char *msg)
{
	size_t n = strlen(msg);

	if (!escape_needed(msg, n))
		return msg;
	char *out = xmalloc(4 * n + 1);
	escape_text(out, 4 * n + 1, msg, n);
	free(msg);
	return out;
}

/* Missing required keys: "file: ..." for global keys, "file:line: section [s]: ..." */
static char *cfg_check_required(const struct cfg *cfg, const struct cfg_section *sec)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		if (!(sec->keys[i].flags & CFG_REQUIRED) || sec->vals[i].line)
			continue;
		if (!sec->name)
			return xasprintf("%s: missing required key '%s'", cfg->path,
			                 sec->keys[i].name);
		return xasprintf("%s:%u: section [%s]: missing required key '%s'", cfg->path,
		                 sec->line, sec->name, sec->keys[i].name);
	}
	return NULL;
}

/* Every line of @text through cfg_parse_line(). Return: 0, or -EINVAL with
 * p->why set and p->line at the bad line. */
static int cfg_parse_text(struct cfg_parser *p, const char *text, size_t len)
{
	char line[CFG_LINE_MAX + 1];
	size_t pos = 0;

	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		p->line++;
		if (n && start[n - 1] == '\r')
			n--;
		if (n > CFG_LINE_MAX) {
			buf_printf(&p->why, "line too long (more than %d bytes)", CFG_LINE_MAX);
			return -EINVAL;
		}
		if (memchr(start, '\0', n)) {
			buf_puts(&p->why, "NUL byte in line");
			return -EINVAL;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		if (cfg_parse_line(p, line) < 0)
			return -EINVAL;
		/* cfg->sections may have moved */
		if (p->cur != &p->cfg->global)
			p->cur = &p->cfg->sections[p->cur_index];
	}
	return 0;
}

struct cfg *cfg_parse(const struct cfg_schema *schema, const char *text, size_t len,
                      const char *name, struct buf *err)
{
	struct cfg_parser p;
	struct cfg *cfg = xcalloc(1, sizeof(*cfg));
	char *msg;
	cfg->path = xstrdup(name ? name : "<config>");
	cfg->schema = schema;
	pthread_mutex_init(&cfg->lock, NULL);
	cfg->global_keys = cfg_global_keys(schema);
	cfg_section_init(&cfg->global, NULL, 0, cfg->global_keys);
	memset(&p, 0, sizeof(p));
	buf_init(&p.why);
	p.cfg = cfg;
	p.cur = &cfg->global;
	if (cfg_parse_text(&p, text, len) < 0)
		goto fail;
	if ((msg = cfg_check_required(cfg, &cfg->global)))
		goto fail_msg;
	for (size_t i = 0; i < cfg->nsections; i++)
		if ((msg = cfg_check_required(cfg, &cfg->sections[i])))
			goto fail_msg;
	cfg_section_defaults(&cfg->global);
	for (size_t i = 0; i < cfg->nsections; i++)
		cfg_section_defaults(&cfg->sections[i]);
	buf_fini(&p.why);
	return cfg;
fail:
	msg = xasprintf("%s:%u: %s", cfg->path, p.line, buf_cstr(&p.why));
fail_msg:
	msg = cfg_escape(msg);
	buf_add_line(err, "%s", msg);
	free(msg);
	buf_fini(&p.why);
	cfg_free(cfg);
	errno = EINVAL;
	return NULL;
}

/* cfg_open() - @path for reading, when it is a regular file: O_NONBLOCK, so that
 * a FIFO cannot hold the start (no signal is handled yet, so SIGTERM could not
 * end the wait). Return: the stream, or NULL with errno set and a line added to @err. */
static FILE *cfg_open(const char *path, struct buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	FILE *f = NULL;
	int e = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if (!(f = fdopen(fd, "r")))
		e = errno;
	if (e) {
		if (e == EINVAL)
			buf_add_line(err, "%s: not a regular file", path);
		else
			buf_add_line(err, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		errno = e;
	}
	return f;
}

struct cfg *cfg_load(const struct cfg_schema *schema, const char *path, struct buf *err)
{
	struct cfg *cfg = NULL;
	struct buf b;
	char chunk[8192];
	size_t n;
	FILE *f;
	int e;

	if (!(f = cfg_open(path, err)))
		return NULL;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_append(&b, chunk, n);
		if (b.len > CFG_FILE_MAX)
			break;
	}
	if (ferror(f)) {
		e = errno ? errno : EIO;
		buf_add_line(err, "%s: %s", path, strerror(e));
	} else if (b.len > CFG_FILE_MAX) {
		e = EFBIG;
		buf_add_line(err, "%s: file too large (more than %u bytes)", path, CFG_FILE_MAX);
	} else {
		cfg = cfg_parse(schema, buf_cstr(&b), b.len, path, err);
		e = errno;
	}
	fclose(f);
	buf_fini(&b);
	if (!cfg)
		errno = e;
	return cfg;
}

void cfg_free(struct cfg *cfg)
{
	if (!cfg)
		return;
	cfg_section_fini(&cfg->global);
	for (size_t i = 0; i < cfg->nsections; i++)
		cfg_section_fini(&cfg->sections[i]);
	free(cfg->sections);
	for (size_t i = 0; i < cfg->nphantoms; i++) {
		cfg_section_fini(cfg->phantoms[i]);
		free(cfg->phantoms[i]);
	}
	free(cfg->phantoms);
	pthread_mutex_destroy(&cfg->lock);
	free(cfg->global_keys);
	free(cfg->path);
	free(cfg);
}

/* ---- getters */

const char *cfg_str(const struct cfg *cfg, const char *section, const char *key)
{
	const struct cfg_val *v = cfg_get(cfg, section, key, -1, NULL);
	return v->text ? v->text : "";
}

long long cfg_int(const struct cfg *cfg, const char *section, const char *key)
{
	return cfg_get(cfg, section, key, CFG_INT, NULL)->num;
}

bool cfg_bool(const struct cfg *cfg, const char *section, const char *key)
{
	return cfg_get(cfg, section, key, CFG_BOOL, NULL)->num != 0;
}

uint64_t cfg_duration_ms(const struct cfg *cfg, const char *section, const char *key)
{
	return cfg_get(cfg, section, key, CFG_DURATION, NULL)->u64;
}

uint64_t cfg_size(const struct cfg *cfg, const char *section, const char *key)
{
	return cfg_get(cfg, section, key, CFG_SIZE, NULL)->u64;
}

int cfg_enum(const struct cfg *cfg, const char *section, const char *key)
{
	return (int)cfg_get(cfg, section, key, CFG_ENUM, NULL)->num;
}

const char *const *cfg_list(const struct cfg *cfg, const char *section, const char *key, size_t *n)
{
	const struct cfg_val *v = cfg_get(cfg, section, key, CFG_LIST, NULL);
	if (n)
		*n = v->nwords;
	return (const char *const *)v->words;
}

const struct cidr_list *cfg_cidrs(const struct cfg *cfg, const char *section, const char *key)
{
	return &cfg_get(cfg, section, key, CFG_CIDRS, NULL)->cidrs;
}

bool cfg_is_set(const struct cfg *cfg, const char *section, const char *key)
{
	return cfg_get(cfg, section, key, -1, NULL)->set;
}

unsigned cfg_line(const struct cfg *cfg, const char *section, const char *key)
{
	return cfg_get(cfg, section, key, -1, NULL)->line;
}

const char *cfg_path(const struct cfg *cfg)
{
	return cfg->path;
}

size_t cfg_section_count(const struct cfg *cfg)
{
	return cfg->nsections;
}

const char *cfg_section_name(const struct cfg *cfg, size_t i)
{
	return i < cfg->nsections ? cfg->sections[i].name : NULL;
}

bool cfg_has_section(const struct cfg *cfg, const char *name)
{
	return name && cfg_section_find(cfg, name) != NULL;
}

/* ---- printing */

/* A word starting with '#' or ';' must not follow whitespace, or it would read back as a comment.
 */
static void cfg_print_word(FILE *out, const char *w, bool first)
{
	bool glued = w[0] == '#' || w[0] == ';';

	fprintf(out, "%s%s", first ? (glued ? " =" : " = ") : (glued ? "," : " "), w);
}

/* Writes " = value", or " =" when the value is empty or unset. */
static void cfg_print_value(FILE *out, const struct cfg_key *k, const struct cfg_val *v)
{
	char text[64];
	size_t n = 0;

	switch (k->type) {
	case CFG_LIST:
		for (; n < v->nwords; n++)
			cfg_print_word(out, v->words[n], n == 0);
		break;
	case CFG_CIDRS:
		for (; n < v->cidrs.n; n++) {
			cidr_format(&v->cidrs.v[n], text, sizeof(text));
			cfg_print_word(out, text, n == 0);
		}
		break;
	default:
		if (v->text && v->text[0]) {
			cfg_print_word(out, v->text, true);
			n = 1;
		}
		break;
	}
	if (n == 0)
		fputs(" =", out);
}

static void cfg_print_section(FILE *out, const struct cfg_section *sec)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct cfg_key *k = &sec->keys[i];
		if (k->help)
			fprintf(out, "# %s (%s)\n", k->help, cfg_type(k)->name);
		fputs(k->name, out);
		cfg_print_value(out, k, &sec->vals[i]);
		fputc('\n', out);
	}
}

/**
 * cfg_print() - write the effective config to @out: global keys first, then
 * every section in file order, each key in schema order with its value or
 * default (`key =` when empty/unset) and its help as a comment.
 * Return: 0, or -EIO when writing failed.
 */
int cfg_print(const struct cfg *cfg, FILE *out)
{
	bool any = cfg->global.nkeys > 0;

	cfg_print_section(out, &cfg->global);
	for (size_t i = 0; i < cfg->nsections; i++) {
		fprintf(out, "%s[%s]\n", any ? "\n" : "", cfg->sections[i].name);
		any = true;
		cfg_print_section(out, &cfg->sections[i]);
	}
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}
