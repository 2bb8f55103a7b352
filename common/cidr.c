/* cidr: parse, format and match IPv4/IPv6 prefixes (see cidr.h).
 *
 * Text forms are those of inet_pton(3) plus an optional "/prefix" in decimal
 * (no sign, no spaces, at most 3 digits); without it the prefix is the full
 * address length. Host bits below the prefix must be zero, so "10.0.0.1/8" is
 * refused rather than silently widened. Lists are separated by whitespace and/or
 * commas. Matching: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is compared as
 * the IPv4 address against IPv4 prefixes, and as itself against IPv6 prefixes.
 * Everything here is pure; a parsed list is immutable and may be read by any
 * number of threads. Allocation failure is fatal (xalloc).
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define CIDR_TEXT_MAX 64

static const unsigned char v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static unsigned cidr_family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool cidr_host_bits_zero(const struct cidr *c)
{
	unsigned bits = cidr_family_bits(c->family);
	for (unsigned i = c->prefix; i < bits; i++)
		if (c->addr[i / 8] & (0x80u >> (i % 8)))
			return false;
	return true;
}

static int cidr_parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 3)
			return -EINVAL;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/**
 * cidr_parse() - parse "addr" or "addr/prefix" into @out.
 * @s: NUL-terminated text
 * @out: filled on success, untouched on failure
 *
 * Return: 0, or -EINVAL for a bad address, a bad prefix or non-zero host bits.
 */
int cidr_parse(const char *s, struct cidr *out)
{
	char text[CIDR_TEXT_MAX];
	struct cidr c;
	const char *slash;
	size_t alen;

	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(text))
		return -EINVAL;
	memcpy(text, s, alen);
	text[alen] = '\0';
	if (inet_pton(AF_INET, text, c.addr) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, text, c.addr) == 1)
		c.family = AF_INET6;
	else
		return -EINVAL;
	c.prefix = cidr_family_bits(c.family);
	if (slash && cidr_parse_prefix(slash + 1, c.prefix, &c.prefix) < 0)
		return -EINVAL;
	if (!cidr_host_bits_zero(&c))
		return -EINVAL;
	*out = c;
	return 0;
}

static bool cidr_is_sep(char ch)
{
	return ch == ' ' || ch == '\t' || ch == ',' || ch == '\n' || ch == '\r' || ch == '\f' ||
	       ch == '\v';
}

/**
 * cidr_list_parse() - parse a whitespace/comma separated list of prefixes.
 * @s: NUL-terminated text; an empty or all-separator text gives an empty list
 * @out: set to the new list (free with cidr_list_fini()); zeroed on failure
 * @bad: on -EINVAL, a malloc'd copy of the first bad word (caller frees); may be NULL
 *
 * Return: 0 or -EINVAL.
 */
int cidr_list_parse(const char *s, struct cidr_list *out, char **bad)
{
	struct cidr_list l = { 0, NULL };
	size_t cap = 0;

	if (bad)
		*bad = NULL;
	while (*s) {
		while (*s && cidr_is_sep(*s))
			s++;
		if (!*s)
			break;
		size_t n = 0;
		while (s[n] && !cidr_is_sep(s[n]))
			n++;
		char *word = xstrndup(s, n);
		s += n;
		if (l.n == cap) {
			cap = cap ? cap * 2 : 4;
			l.v = xreallocarray(l.v, cap, sizeof(*l.v));
		}
		if (cidr_parse(word, &l.v[l.n]) < 0) {
			cidr_list_fini(&l);
			if (bad)
				*bad = word;
			else
				free(word);
			out->n = 0;
			out->v = NULL;
			return -EINVAL;
		}
		free(word);
		l.n++;
	}
	*out = l;
	return 0;
}

/**
 * cidr_list_fini() - free the prefixes of @l and leave it empty. NULL is allowed.
 */
void cidr_list_fini(struct cidr_list *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool cidr_contains(const struct cidr *c, int family, const unsigned char *addr)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (c->family != family)
		return false;
	if (memcmp(c->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xffu << (8 - rest));
	return (c->addr[full] & mask) == (addr[full] & mask);
}

static bool cidr_list_match_addr(const struct cidr_list *l, int family, const unsigned char *addr)
{
	bool mapped = family == AF_INET6 && memcmp(addr, v4mapped_prefix, 12) == 0;

	if (!l)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		if (cidr_contains(&l->v[i], family, addr))
			return true;
		if (mapped && cidr_contains(&l->v[i], AF_INET, addr + 12))
			return true;
	}
	return false;
}

/**
 * cidr_list_match() - is the address of @sa inside any prefix of @l?
 * @l: the list (NULL matches nothing)
 * @sa: a struct sockaddr_in or sockaddr_in6 (NULL or other families never match)
 *
 * Return: true on a match. IPv4-mapped IPv6 addresses also match IPv4 prefixes.
 */
bool cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;
		return cidr_list_match_addr(l, AF_INET, (const unsigned char *)&sin->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		return cidr_list_match_addr(l, AF_INET6, sin6->sin6_addr.s6_addr);
	}
	return false;
}

/**
 * cidr_list_match_str() - like cidr_list_match() for a textual address
 * @addr: "192.0.2.1" or "2001:db8::1" (no prefix); anything else never matches
 */
bool cidr_list_match_str(const struct cidr_list *l, const char *addr)
{
	unsigned char a[16];

	if (!addr)
		return false;
	if (inet_pton(AF_INET, addr, a) == 1)
		return cidr_list_match_addr(l, AF_INET, a);
	if (inet_pton(AF_INET6, addr, a) == 1)
		return cidr_list_match_addr(l, AF_INET6, a);
	return false;
}

/**
 * cidr_format() - write "addr/prefix" (always with the prefix) into @out.
 * @outsz: size of @out; 64 is always enough. The text is truncated to fit.
 */
void cidr_format(const struct cidr *c, char *out, size_t outsz)
{
	char text[INET6_ADDRSTRLEN];

	if (!outsz)
		return;
	if (!inet_ntop(c->family == AF_INET ? AF_INET : AF_INET6, c->addr, text, sizeof(text)))
		snprintf(text, sizeof(text), "?");
	snprintf(out, outsz, "%s/%u", text, c->prefix);
}
