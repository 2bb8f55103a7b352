/* dns_rr: RDATA decoders for TXT, TLSA, MX, A and AAAA.
 *
 * Input is the RDATA of one record exactly as libunbound hands it over (ub_result->data[i],
 * without the RDLENGTH; names inside are uncompressed, RFC 3597 4). Wire formats: RFC 1035
 * 3.3.9 (MX), 3.3.14 (TXT), 3.4.1 (A); RFC 3596 (AAAA); RFC 6698 2.1 (TLSA). Names come out
 * in RFC 1035 5.1 presentation form without the final dot. TXT strings are concatenated
 * without separators, as RFC 7208 3.3 and RFC 8461 3.1 require; their lengths are kept so
 * callers that care can split them again.
 *
 * Every function is pure and reentrant; a failed decode leaves nothing allocated. Malformed
 * input returns -EBADMSG and never reads past @len (this file is fuzzed).
 */
#include "dns_rr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "xalloc.h"

static void name_put_label(const uint8_t *label, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = label[i];
		if (c == '.' || c == '\\') {
			buf_putc(out, '\\');
			buf_putc(out, (char)c);
		} else if (c < 0x21 || c > 0x7e) {
			buf_printf(out, "\\%03u", c);
		} else {
			buf_putc(out, (char)c);
		}
	}
}

int dns_rr_name(const uint8_t *p, size_t len, size_t *used, struct buf *out)
{
	size_t off = 0;
	size_t start = out->len;

	for (;;) {
		if (off >= len || off >= 255)
			goto bad;
		uint8_t n = p[off];
		if (n == 0)
			break;
		if (n > 63 || off + 1 + n >= len || off + 1 + n >= 255)
			goto bad;
		if (off > 0)
			buf_putc(out, '.');
		name_put_label(p + off + 1, n, out);
		off += 1 + (size_t)n;
	}
	if (off == 0)
		buf_putc(out, '.');
	*used = off + 1;
	return 0;
bad:
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return -EBADMSG;
}

int dns_rr_txt(const uint8_t *rdata, size_t len, struct dns_txt *out)
{
	size_t n = 0, total = 0, off = 0;

	while (off < len) {
		size_t sl = rdata[off];
		if (off + 1 + sl > len)
			return -EBADMSG;
		off += 1 + sl;
		total += sl;
		n++;
	}
	if (n == 0)
		return -EBADMSG;
	out->text = xmalloc(total + 1);
	out->string_len = xreallocarray(NULL, n, sizeof(*out->string_len));
	out->len = total;
	out->nstrings = n;
	total = 0;
	off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t sl = rdata[off];
		memcpy(out->text + total, rdata + off + 1, sl);
		out->string_len[i] = sl;
		total += sl;
		off += 1 + sl;
	}
	out->text[total] = '\0';
	return 0;
}

void dns_txt_fini(struct dns_txt *t)
{
	free(t->text);
	free(t->string_len);
	memset(t, 0, sizeof(*t));
}

int dns_rr_tlsa(const uint8_t *rdata, size_t len, struct dns_tlsa *out)
{
	if (len < 4)
		return -EBADMSG;
	out->usage = rdata[0];
	out->selector = rdata[1];
	out->mtype = rdata[2];
	out->len = len - 3;
	out->data = xmemdup(rdata + 3, len - 3);
	return 0;
}

void dns_tlsa_fini(struct dns_tlsa *t)
{
	free(t->data);
	memset(t, 0, sizeof(*t));
}

int dns_rr_mx(const uint8_t *rdata, size_t len, struct dns_mx *out)
{
	struct buf b;
	size_t used;
	int rc;

	if (len < 3)
		return -EBADMSG;
	buf_init(&b);
	rc = dns_rr_name(rdata + 2, len - 2, &used, &b);
	if (rc == 0 && used != len - 2)
		rc = -EBADMSG;
	if (rc < 0) {
		buf_fini(&b);
		return rc;
	}
	out->pref = (uint16_t)(rdata[0] << 8 | rdata[1]);
	out->host = buf_steal(&b, NULL);
	return 0;
}

void dns_mx_fini(struct dns_mx *m)
{
	free(m->host);
	memset(m, 0, sizeof(*m));
}

int dns_rr_addr(int type, const uint8_t *rdata, size_t len, char *out)
{
	int af;

	if (type == DNS_TYPE_A && len == 4)
		af = AF_INET;
	else if (type == DNS_TYPE_AAAA && len == 16)
		af = AF_INET6;
	else if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA)
		return -EBADMSG;
	else
		return -EINVAL;
	if (!inet_ntop(af, rdata, out, DNS_ADDR_MAX))
		return -errno;
	return 0;
}
