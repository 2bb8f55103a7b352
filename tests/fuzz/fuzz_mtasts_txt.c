/* libFuzzer harness for policyd-mtasts's per-query parsers: the input, split at '\n', is
 * a set of _mta-sts TXT records for sts_txt_pick() (a found id must be 1..32 letters and
 * digits); the whole input and each record are socketmap keys for sts_key_parse() (a
 * domain comes back lower-case, without a final dot, and classifies as a domain again);
 * pairs of records go through sts_mx_match(); the first bytes also drive dane_decide() as
 * facts (off is always none, dane never dane-only, dane-only only in mode dane-only).
 * Failures abort. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "dane.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_RECORDS 16

static void check_key(const char *k, size_t n)
{
	char out[256], again[256];
	int rc = sts_key_parse(k, n, out);

	if (rc == STS_KEY_PARENT && (n == 0 || k[0] != '.'))
		abort();
	if (rc != STS_KEY_DOMAIN)
		return;
	size_t len = strlen(out);
	if (len == 0 || len > 253 || out[len - 1] == '.' || !memchr(out, '.', len))
		abort();
	for (size_t i = 0; i < len; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			abort();
	if (sts_key_parse(out, len, again) != STS_KEY_DOMAIN || strcmp(out, again) != 0)
		abort();
}

static void check_dane(const uint8_t *data, size_t size)
{
	struct dane_host hosts[4];
	size_t n = size / 4 < 4 ? size / 4 : 4;

	if (size < 1)
		return;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b = data + 4 * i;
		hosts[i] = (struct dane_host){ .name = "h",
			                       .addr = (enum dane_fact)(b[0] % 4),
			                       .addr_none = b[0] & 0x10,
			                       .tlsa = (enum dane_fact)(b[1] % 4),
			                       .tlsa_denied = b[1] & 0x10,
			                       .usable = b[2] % 3,
			                       .unusable = b[3] % 3 };
	}
	struct dane_facts f = { .mx = (enum dane_fact)(data[0] % 4), .n_hosts = n, .hosts = hosts };
	struct buf why;
	buf_init(&why);
	enum dane_verdict only = dane_decide(DANE_MODE_ONLY, &f, &why);
	enum dane_verdict dane = dane_decide(DANE_MODE_DANE, &f, &why);
	if (dane_decide(DANE_MODE_OFF, &f, &why) != DANE_VERDICT_NONE ||
	    dane == DANE_VERDICT_ONLY ||
	    dane != (only == DANE_VERDICT_ONLY ? DANE_VERDICT_DANE : only) || why.len == 0)
		abort();
	buf_fini(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *rec[FZ_RECORDS];
	size_t len[FZ_RECORDS], n = 0, start = 0;
	char id[STS_ID_MAX + 1];
	struct buf err;

	for (size_t i = 0; i <= size && n < FZ_RECORDS; i++) {
		if (i == size || s[i] == '\n') {
			rec[n] = s + start;
			len[n++] = i - start;
			start = i + 1;
		}
	}
	buf_init(&err);
	int rc = sts_txt_pick(rec, len, n, id, &err);
	if (rc == 0) {
		size_t idn = strlen(id);
		if (idn == 0 || idn > STS_ID_MAX || err.len != 0)
			abort();
		for (size_t i = 0; i < idn; i++)
			if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
			      (id[i] >= 'A' && id[i] <= 'Z')))
				abort();
	} else if (rc == -EINVAL) {
		if (err.len == 0 || err.data[err.len - 1] != '\n')
			abort();
	} else if (rc != 1) {
		abort();
	}
	buf_fini(&err);

	check_key(s, size);
	for (size_t i = 0; i < n; i++)
		check_key(rec[i], len[i]);
	if (n >= 2) {
		char *a = strndup(rec[0], len[0]), *b = strndup(rec[1], len[1]);
		if (!a || !b)
			abort();
		(void)sts_mx_match(a, b);
		free(a);
		free(b);
	}
	check_dane(data, size);
	return 0;
}
