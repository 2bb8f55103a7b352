/* logtime: a mail log line's timestamp to Unix seconds (UTC): syslog and journalctl short
 * forms (local time, no year) and short-iso (with or without an offset). Pure apart from
 * mktime() reading the process's TZ.
 */
#ifndef POSTWARDEN_TLSRPT_LOGTIME_H
#define POSTWARDEN_TLSRPT_LOGTIME_H

#include <stddef.h>

#define LOGTIME_YEAR_SLACK 86400 /* a year-less date this far past the reference is last year's */

/* Embedded in its user; logtime_init() before use. */
struct logtime {
	long long ref_time;           /* dates year-less stamps */
	int ref_year;                 /* local year of ref_time, minus 1900 */
	unsigned long long cache_key; /* the last local minute converted (0: none) */
	long long cache_val;          /* its UTC second */
};

/* logtime_init() - (re)start with reference time @ref_time (file mtime, or now). */
void logtime_init(struct logtime *lt, long long ref_time);

/**
 * logtime_parse() - the timestamp opening @p (@n bytes, need not be NUL-terminated):
 * "Dec  2 23:55:00", "Dec 02 23:55:00" or "2026-12-02T23:55:00[.frac][Z|+hhmm|+hh:mm]".
 * @out: its Unix time (UTC).
 *
 * Return: the bytes it took, or 0 when @p does not open with one.
 */
size_t logtime_parse(struct logtime *lt, const char *p, size_t n, long long *out);

#endif
