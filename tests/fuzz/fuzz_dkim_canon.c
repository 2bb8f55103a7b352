/* libFuzzer harness for milter-dkim's parsers: relaxed header canonicalization,
 * From domain extraction, header selection, DNS key record checks, and the
 * streaming body canonicalizer. Invariants (abort on violation): relaxed header
 * output has no CR/LF-fold and no WSP run; a From domain is lower-case LDH; the
 * body digest is the same fed whole, in two pieces cut at a data-chosen point,
 * and in small data-sized chunks (relaxed and simple). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "canon.h"
#include "from.h"
#include "headers.h"
#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void digest(enum canon_mode mode, const uint8_t *in, size_t n, int how, unsigned char *md)
{
	struct canon_body *cb = canon_body_new(mode);
	if (!cb)
		abort();
	size_t pos = 0;
	if (how == 1 && n) {
		size_t cut = in[0] % (n + 1);
		canon_body_update(cb, in, cut);
		pos = cut;
	}
	while (pos < n) {
		size_t chunk = how == 2 ? 1 + (size_t)in[pos] % 5 : n - pos;
		if (chunk > n - pos)
			chunk = n - pos;
		canon_body_update(cb, in + pos, chunk);
		pos += chunk;
	}
	if (canon_body_final(cb, md) != 0)
		abort();
	canon_body_free(cb);
}

static void check_header(const char *s)
{
	struct buf out;
	buf_init(&out);
	canon_header_relaxed(&out, "X-Fuzz", s);
	for (size_t i = 0; i < out.len; i++) {
		char c = out.data[i];
		if (c == '\n' || c == '\t' ||
		    (c == ' ' && (i + 1 == out.len || out.data[i + 1] == ' ')))
			abort();
	}
	buf_fini(&out);
}

static void check_from(const char *s)
{
	char *d = NULL;
	struct buf why;
	buf_init(&why);
	if (from_domain(s, &d, &why) == 0) {
		if (!d || !*d || why.len)
			abort();
		for (const char *p = d; *p; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.", *p))
				abort();
	} else if (!why.len || d) {
		abort();
	}
	free(d);
	buf_fini(&why);
}

static void check_headers(char *s)
{
	struct headers *h = headers_new();
	for (char *save = NULL, *line = strtok_r(s, "\r", &save); line;
	     line = strtok_r(NULL, "\r", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		headers_add(h, line, colon + 1);
	}
	struct buf reason, hl, bl;
	buf_init(&reason);
	buf_init(&hl);
	buf_init(&bl);
	char *d = NULL;
	int r = headers_from_domain(h, &d, &reason);
	if ((r == 0) != (d != NULL) || (r != 0 && reason.len == 0))
		abort();
	headers_select(h, &hl, &bl);
	if (strncmp(buf_cstr(&hl), "from:", 5) != 0)
		abort();
	free(d);
	buf_fini(&reason);
	buf_fini(&hl);
	buf_fini(&bl);
	headers_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *ed;
	if (!ed)
		ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';

	check_header(s);
	check_from(s);
	if (keys_txt_check(s, ed) > KEYS_TXT_MALFORMED)
		abort();
	check_headers(s);

	for (int mode = CANON_RELAXED; mode <= CANON_SIMPLE; mode++) {
		unsigned char a[CANON_DIGEST_LEN], b[CANON_DIGEST_LEN], c[CANON_DIGEST_LEN];
		digest((enum canon_mode)mode, data, size, 0, a);
		digest((enum canon_mode)mode, data, size, 1, b);
		digest((enum canon_mode)mode, data, size, 2, c);
		if (memcmp(a, b, sizeof(a)) || memcmp(a, c, sizeof(a)))
			abort();
	}
	free(s);
	return 0;
}
