/* dns_rr: decode the RDATA of the record types the daemons look up (TXT, TLSA, MX, A, AAAA)
 * into plain structs. Pure functions: no I/O, no resolver; used by dns.c and unit tests. */
#ifndef POSTWARDEN_DNS_RR_H
#define POSTWARDEN_DNS_RR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_TLSA = 52,
};

/* Longest presentation name dns_rr_name() can produce: 255 wire bytes, each as "\DDD". */
#define DNS_NAME_MAX 1024
/* Room for an A or AAAA address in text form (INET6_ADDRSTRLEN). */
#define DNS_ADDR_MAX 46

/* One TXT record: its character-strings concatenated (RFC 7208 3.3, RFC 8461 3.1). */
struct dns_txt {
	char *text;         /* owned, NUL-terminated; may contain NUL bytes: use len */
	size_t len;         /* total length */
	size_t nstrings;    /* number of character-strings */
	size_t *string_len; /* owned; string i is the next string_len[i] bytes of text */
};

/* One TLSA record (RFC 6698 2.1). */
struct dns_tlsa {
	uint8_t usage;
	uint8_t selector;
	uint8_t mtype;
	uint8_t *data; /* owned certificate association data */
	size_t len;
};

/* One MX record (RFC 1035 3.3.9). */
struct dns_mx {
	uint16_t pref;
	char *host; /* owned, presentation form without the final dot; "." for a null MX */
};

/**
 * dns_rr_name() - decode an uncompressed wire-format domain name.
 * @p: the name's first length octet
 * @len: bytes available at @p
 * @used: set to the name's wire length
 * @out: the presentation form is appended (no final dot; "." for the root; '.', '\\' and
 *       bytes outside 0x21..0x7e escaped as RFC 1035 5.1 says)
 *
 * Return: 0, or -EBADMSG for a truncated or compressed name or one longer than 255 bytes.
 */
int dns_rr_name(const uint8_t *p, size_t len, size_t *used, struct buf *out);

/**
 * dns_rr_txt() - decode TXT RDATA (one or more <character-string>s).
 * @out: filled on success; the caller frees it with dns_txt_fini()
 *
 * Return: 0, or -EBADMSG if a string runs past @len or there is none.
 */
int dns_rr_txt(const uint8_t *rdata, size_t len, struct dns_txt *out);
void dns_txt_fini(struct dns_txt *t);

/**
 * dns_rr_tlsa() - decode TLSA RDATA.
 * @out: filled on success; the caller frees it with dns_tlsa_fini()
 *
 * Return: 0, or -EBADMSG if shorter than 4 bytes (an empty association is refused).
 */
int dns_rr_tlsa(const uint8_t *rdata, size_t len, struct dns_tlsa *out);
void dns_tlsa_fini(struct dns_tlsa *t);

/**
 * dns_rr_mx() - decode MX RDATA.
 * @out: filled on success; the caller frees it with dns_mx_fini()
 *
 * Return: 0, or -EBADMSG for a short record, a bad name or trailing bytes.
 */
int dns_rr_mx(const uint8_t *rdata, size_t len, struct dns_mx *out);
void dns_mx_fini(struct dns_mx *m);

/**
 * dns_rr_addr() - format A or AAAA RDATA as text.
 * @type: DNS_TYPE_A or DNS_TYPE_AAAA
 * @out: DNS_ADDR_MAX bytes
 *
 * Return: 0, -EBADMSG if @len does not fit @type, -EINVAL for another @type.
 */
int dns_rr_addr(int type, const uint8_t *rdata, size_t len, char *out);

#endif
