/* cidr: IPv4/IPv6 address prefixes and lists of them (sign_networks,
 * skip_networks, ...). Pure, immutable after parse, shareable between threads. */
#ifndef POSTWARDEN_CIDR_H
#define POSTWARDEN_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct cidr {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network order; v4 in the first 4 bytes */
	unsigned prefix;        /* 0..32 or 0..128 */
};

struct cidr_list {
	size_t n;
	struct cidr *v; /* owned */
};

/* cidr_parse() - "192.0.2.0/24", "::1", "2001:db8::/32"; host bits must be 0.
 * Return: 0, -EINVAL. */
int cidr_parse(const char *s, struct cidr *out);
/* cidr_list_parse() - whitespace/comma separated; Return 0 or -EINVAL with
 * *bad pointing at a malloc'd copy of the offending word (caller frees). */
int cidr_list_parse(const char *s, struct cidr_list *out, char **bad);
void cidr_list_fini(struct cidr_list *l);
/* cidr_list_match() - true when @sa (AF_INET/AF_INET6, v4-mapped v6 treated as v4)
 * is inside any prefix; NULL or other families never match. */
bool cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa);
bool cidr_list_match_str(const struct cidr_list *l, const char *addr);
/* cidr_format() - "a.b.c.d/n" into @out (>= 64 bytes). */
void cidr_format(const struct cidr *c, char *out, size_t outsz);

#endif
