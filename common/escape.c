/* escape: \xNN for every byte that is not printable UTF-8 (see escape.h).
 *
 * Implements the well-formed UTF-8 table of RFC 3629 section 4 (no over-long
 * forms, no surrogates, nothing above U+10FFFF). C0 controls, DEL and the C1
 * controls U+0080..U+009F are escaped too, so no value can end a log line or
 * steer a terminal. Printable ASCII is scanned without branching per class.
 * Pure functions; safe from any thread.
 */
#include "escape.h"

#include <string.h>

/* The length of the printable UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t escape_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0)
		len = 2;
	else if (c < 0xf0)
		len = 3;
	else
		len = 4;
	if (c == 0xc2)
		lo = 0xa0; /* U+0080..U+009F: C1 controls */
	else if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool escape_needed(const char *in, size_t n)
{
	const unsigned char *s = (const unsigned char *)in;

	for (size_t i = 0; i < n;) {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			i++;
			continue;
		}
		size_t len = escape_seq_len(s + i, n - i);
		if (!len)
			return true;
		i += len;
	}
	return false;
}

size_t escape_text(char *out, size_t outsz, const char *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t len = escape_seq_len(s + i, n - i);
		if (len) {
			if (o + len >= outsz)
				break;
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		if (o + 4 >= outsz)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[s[i] >> 4];
		out[o++] = hex[s[i] & 0xf];
		i++;
	}
	out[o] = '\0';
	return o;
}
