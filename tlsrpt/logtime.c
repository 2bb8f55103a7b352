/* logtime: the timestamp that opens a mail log line, as Unix seconds (UTC). Three forms
 * (doc/protocols.md, "Postfix 3.7 smtp TLS log lines"): syslog "Dec  2 23:55:00",
 * journalctl -o short "Dec 02 23:55:00" (local time, no year: the year comes from the
 * reference time; a date more than LOGTIME_YEAR_SLACK past it is last year's) and
 * -o short-iso "2026-12-02T23:55:00+0000" / "+00:00" / "Z", fractional seconds accepted
 * (with an offset: no time zone needed; without: local time). Local time goes to UTC
 * through mktime() with tm_isdst = -1, so the process's TZ rules apply; one converted
 * minute is cached, mktime() being the costly part. Pure apart from mktime() reading TZ.
 * One thread per struct logtime.
 */
#include <string.h>
#include <time.h>

#include "logtime.h"

static int lt_digits(const char *p, size_t n, size_t want, int *out)
{
	int v = 0;

	if (n < want)
		return -1;
	for (size_t i = 0; i < want; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

static long long lt_days_from_civil(long long y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static long long lt_local_minute(int year, int mon, int day, int hour, int min)
{
	struct tm tm = { .tm_year = year,
		         .tm_mon = mon - 1,
		         .tm_mday = day,
		         .tm_hour = hour,
		         .tm_min = min,
		         .tm_isdst = -1 };
	return (long long)mktime(&tm);
}

/* lt_local_to_utc() - a local wall-clock minute (year -1: infer it from ref_time). */
static long long lt_local_to_utc(struct logtime *lt, int year, int mon, int day, int hour, int min)
{
	unsigned long long key =
	        ((((unsigned long long)(year + 1) * 16 + (unsigned)mon) * 32 + (unsigned)day) * 32 +
	         (unsigned)hour) *
	                64 +
	        (unsigned)min + 1;
	long long t;

	if (key == lt->cache_key)
		return lt->cache_val;
	if (year >= 0) {
		t = lt_local_minute(year - 1900, mon, day, hour, min);
	} else {
		t = lt_local_minute(lt->ref_year, mon, day, hour, min);
		if (t > lt->ref_time + LOGTIME_YEAR_SLACK)
			t = lt_local_minute(lt->ref_year - 1, mon, day, hour, min);
	}
	lt->cache_key = key;
	lt->cache_val = t;
	return t;
}

static int lt_month(const char *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int m = 0; m < 12; m++)
		if (memcmp(p, names + 3 * m, 3) == 0)
			return m + 1;
	return 0;
}

static int lt_hms(const char *p, size_t n, int *h, int *mi, int *s)
{
	if (n < 8 || p[2] != ':' || p[5] != ':' || lt_digits(p, 2, 2, h) ||
	    lt_digits(p + 3, 2, 2, mi) || lt_digits(p + 6, 2, 2, s) || *h > 23 || *mi > 59 ||
	    *s > 60)
		return -1;
	return 0;
}

size_t logtime_parse(struct logtime *lt, const char *p, size_t n, long long *out)
{
	int y, mo, d, h, mi, s;
	size_t i;

	if (n >= 15 && p[0] >= 'A' && p[0] <= 'Z') {
		if ((mo = lt_month(p)) == 0 || p[3] != ' ')
			return 0;
		i = 4;
		if (p[i] == ' ')
			i++;
		if (lt_digits(p + i, n - i, 2, &d) == 0)
			i += 2;
		else if (lt_digits(p + i, n - i, 1, &d) == 0)
			i += 1;
		else
			return 0;
		if (d < 1 || d > 31 || i >= n || p[i] != ' ' ||
		    lt_hms(p + i + 1, n - i - 1, &h, &mi, &s))
			return 0;
		*out = lt_local_to_utc(lt, -1, mo, d, h, mi) + s;
		return i + 9;
	}
	if (n < 19 || lt_digits(p, 4, 4, &y) || p[4] != '-' || lt_digits(p + 5, 2, 2, &mo) ||
	    p[7] != '-' || lt_digits(p + 8, 2, 2, &d) || p[10] != 'T' ||
	    lt_hms(p + 11, n - 11, &h, &mi, &s) || mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970)
		return 0;
	i = 19;
	if (i < n && (p[i] == '.' || p[i] == ',')) {
		for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
	}
	if (i < n && p[i] == 'Z') {
		*out = (lt_days_from_civil(y, mo, d) * 24 + h) * 3600 + mi * 60 + s;
		return i + 1;
	}
	if (i < n && (p[i] == '+' || p[i] == '-')) {
		int oh, om;
		size_t j = i + 1;
		if (lt_digits(p + j, n - j, 2, &oh))
			return 0;
		j += 2;
		if (j < n && p[j] == ':')
			j++;
		if (lt_digits(p + j, n - j, 2, &om) || oh > 23 || om > 59)
			return 0;
		long long off = (oh * 60 + om) * 60LL * (p[i] == '-' ? -1 : 1);
		*out = (lt_days_from_civil(y, mo, d) * 24 + h) * 3600 + mi * 60 + s - off;
		return j + 2;
	}
	*out = lt_local_to_utc(lt, y, mo, d, h, mi) + s;
	return i;
}

void logtime_init(struct logtime *lt, long long ref_time)
{
	time_t rt = (time_t)ref_time;
	struct tm tm;

	lt->ref_time = ref_time;
	lt->ref_year = localtime_r(&rt, &tm) ? tm.tm_year : 70;
	lt->cache_key = 0;
	lt->cache_val = 0;
}
