/* rua: where a policy domain wants its reports: the _smtp._tls TXT record (RFC 8460
 * section 3) parsed into a list of endpoints. Pure: no I/O, no globals.
 */
#ifndef POSTWARDEN_TLSRPT_RUA_H
#define POSTWARDEN_TLSRPT_RUA_H

#include <stddef.h>

#include "buf.h"

#define TLSRPT_RUA_MAX 16       /* endpoints kept; more are counted in skipped */
#define TLSRPT_RUA_LEN_MAX 1024 /* longest URI or address taken */

enum tlsrpt_rua_kind {
	TLSRPT_RUA_MAILTO, /* target: one address (percent-decoded), for sendmail */
	TLSRPT_RUA_HTTPS,  /* target: the https:// URL as published */
};

struct tlsrpt_rua {
	enum tlsrpt_rua_kind kind;
	char *target; /* owned */
};

struct tlsrpt_rua_list {
	struct tlsrpt_rua *v; /* owned */
	size_t n;
	size_t skipped; /* URIs not taken: other schemes, over TLSRPT_RUA_MAX */
};

/**
 * tlsrpt_rua_parse() - the endpoints of a policy domain from its TXT records.
 * @rec, @len, @n: the TXT records (each one's strings concatenated), in any order
 * @out: filled on 0 (free with tlsrpt_rua_list_free()); emptied otherwise
 *
 * Records not starting with "v=TLSRPTv1" and a ";" are discarded; unless exactly one is
 * left the domain does not take reports. rua= is a comma-separated list of URIs: mailto:
 * (its address percent-decoded; a decoded comma separates addresses, a ?query is dropped)
 * and https://; other schemes are skipped. Unknown name=value fields are ignored.
 *
 * Return: 0 with at least one endpoint; 1 when the domain takes no reports (no TLSRPTv1
 * record, or several), with a line in @err; -EINVAL when the record is malformed or names
 * no usable endpoint, with a line in @err.
 */
int tlsrpt_rua_parse(const char *const *rec, const size_t *len, size_t n,
                     struct tlsrpt_rua_list *out, struct buf *err);

void tlsrpt_rua_list_free(struct tlsrpt_rua_list *l);

#endif
