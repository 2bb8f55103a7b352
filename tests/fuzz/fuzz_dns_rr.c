/* libFuzzer harness for common/dns_rr: the RDATA decoders fed with whatever a (hostile)
 * DNS server could put in a record. The first input byte picks the decoder, the rest is the
 * RDATA, copied to an exact-size buffer so ASan sees any over-read. Invariants: decoders
 * return 0 or -EBADMSG; on success TXT lengths add up and the text is NUL-terminated, MX
 * hosts are printable, and addresses fit DNS_ADDR_MAX. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_rr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *rd;
	size_t len;
	int rc;

	if (size < 1)
		return 0;
	len = size - 1;
	rd = malloc(len ? len : 1);
	if (!rd)
		return 0;
	memcpy(rd, data + 1, len);
	switch (data[0] % 4) {
	case 0: {
		struct dns_txt t;
		size_t sum = 0;
		rc = dns_rr_txt(rd, len, &t);
		if (rc == 0) {
			for (size_t i = 0; i < t.nstrings; i++)
				sum += t.string_len[i];
			if (sum != t.len || t.text[t.len] != '\0' || t.len >= len + 1)
				abort();
			dns_txt_fini(&t);
		}
		break;
	}
	case 1: {
		struct dns_tlsa t;
		rc = dns_rr_tlsa(rd, len, &t);
		if (rc == 0) {
			if (t.len != len - 3)
				abort();
			dns_tlsa_fini(&t);
		}
		break;
	}
	case 2: {
		struct dns_mx m;
		rc = dns_rr_mx(rd, len, &m);
		if (rc == 0) {
			check_printable(m.host);
			if (strlen(m.host) >= DNS_NAME_MAX)
				abort();
			dns_mx_fini(&m);
		}
		break;
	}
	default: {
		char a[DNS_ADDR_MAX];
		rc = dns_rr_addr(len == 16 ? DNS_TYPE_AAAA : DNS_TYPE_A, rd, len, a);
		if (rc == 0 && strnlen(a, sizeof(a)) == sizeof(a))
			abort();
		break;
	}
	}
	if (rc != 0 && rc != -EBADMSG)
		abort();
	free(rd);
	return 0;
}
