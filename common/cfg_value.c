/* cfg_value: parsers for the text forms of cfg's value types (see cfg_value.h).
 *
 * Numbers are unsigned decimal digits (cfg_parse_int also takes a sign) with
 * overflow reported as -ERANGE, never wrapped; units and words are compared
 * ignoring ASCII case, enum choices exactly. Pure: no allocation, no errno
 * left behind that a caller must read, thread safe.
 */
#include "cfg_value.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int cfg_parse_u64(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return 0;
}

static int cfg_scale(uint64_t v, uint64_t mult, uint64_t *out)
{
	if (mult && v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int cfg_parse_int(const char *s, long long *n)
{
	char *end;
	int saved = errno;

	if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\v' || *s == '\f' || *s == '\n')
		return -EINVAL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	int e = errno;
	errno = saved;
	if (*end || end == s)
		return -EINVAL;
	if (e == ERANGE)
		return -ERANGE;
	*n = v;
	return 0;
}

int cfg_parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

int cfg_parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "", 1000 },     { "ms", 1 },       { "s", 1000 },      { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 }, { "w", 604800000 },
	};
	uint64_t v;
	int rc = cfg_parse_u64(&s, &v);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(s, units[i].unit) == 0)
			return cfg_scale(v, units[i].mult, ms);
	return -EINVAL;
}

int cfg_parse_size(const char *s, uint64_t *bytes)
{
	static const char suffixes[] = "kmg";
	uint64_t v, mult = 1;
	int rc = cfg_parse_u64(&s, &v);

	if (rc < 0)
		return rc;
	const char *suffix = *s ? strchr(suffixes, *s | 0x20) : NULL;
	if (suffix) {
		mult = (uint64_t)1 << (10 * (suffix - suffixes + 1));
		s++;
	}
	if (*s == 'b' || *s == 'B')
		s++;
	if (*s)
		return -EINVAL;
	return cfg_scale(v, mult, bytes);
}

int cfg_parse_enum(const char *choices, const char *s)
{
	size_t n = strlen(s);

	for (int i = 0; choices && *choices; i++) {
		const char *bar = strchr(choices, '|');
		size_t len = bar ? (size_t)(bar - choices) : strlen(choices);
		if (len == n && memcmp(choices, s, n) == 0)
			return i;
		if (!bar)
			break;
		choices = bar + 1;
	}
	return -EINVAL;
}
