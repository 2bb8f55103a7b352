/* cfg_value: the text forms of cfg's typed values, parsed without a config.
 *
 * Pure functions shared by cfg (every key of a typed table) and by code that
 * reads the same forms elsewhere (store URI options). No allocation, no state:
 * safe from any thread.
 */
#ifndef POSTWARDEN_CFG_VALUE_H
#define POSTWARDEN_CFG_VALUE_H

#include <stdbool.h>
#include <stdint.h>

/**
 * cfg_parse_int() - a decimal long long, optional sign, nothing around it.
 * @s: the text
 * @n: set on success
 * Return: 0, -EINVAL for bad syntax, -ERANGE when it does not fit.
 */
int cfg_parse_int(const char *s, long long *n);

/**
 * cfg_parse_bool() - yes/no, true/false, on/off, 1/0 (case-insensitive).
 * @s: the text
 * @b: set on success
 * Return: 0 or -EINVAL.
 */
int cfg_parse_bool(const char *s, bool *b);

/**
 * cfg_parse_duration_ms() - "250ms", "30s", "5m", "1h", "7d", "2w"; bare = seconds.
 * @s: the text (no surrounding spaces); units are case-insensitive
 * @ms: set to milliseconds on success
 * Return: 0, -EINVAL for bad syntax, -ERANGE on overflow.
 */
int cfg_parse_duration_ms(const char *s, uint64_t *ms);

/**
 * cfg_parse_size() - "512", "64K", "25M", "1G" (1024-based), optional trailing "B".
 * @s: the text; suffixes are case-insensitive
 * @bytes: set on success
 * Return: 0, -EINVAL for bad syntax, -ERANGE on overflow.
 */
int cfg_parse_size(const char *s, uint64_t *bytes);

/**
 * cfg_parse_enum() - the position of @s among the '|'-separated @choices.
 * @choices: "tempfail|accept"; NULL is no choice at all
 * @s: the text, compared exactly
 * Return: the index (0 for the first choice), or -EINVAL when @s is not one.
 */
int cfg_parse_enum(const char *choices, const char *s);

#endif
