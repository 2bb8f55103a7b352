/* libFuzzer harness for tlsrpt's _smtp._tls record parser (tlsrpt/rua.c): the input, split
 * at '\n', is a set of TXT records. Checked: 0 comes with 1..TLSRPT_RUA_MAX endpoints and no
 * error text, anything else with none and a line of it; a mailto target is one address
 * (printable, no blank, comma or quote, an "@" inside, not starting with "-"), which the
 * report mail takes as its To:; an https target starts with https:// and is printable.
 * Failures abort. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail.h"
#include "rua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_RECORDS 16

static void check_target(const struct tlsrpt_rua *e)
{
	const char *t = e->target;
	size_t n = strlen(t);
	if (n == 0 || n >= TLSRPT_RUA_LEN_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			abort();
	if (e->kind == TLSRPT_RUA_HTTPS) {
		if (strncasecmp(t, "https://", 8) != 0 || n == 8)
			abort();
		return;
	}
	const char *at = strrchr(t, '@');
	if (e->kind != TLSRPT_RUA_MAILTO || !at || at == t || !at[1] || t[0] == '-' ||
	    strpbrk(t, ",;\"<>()[]\\"))
		abort();
	static const unsigned char gz[] = { 0x1f, 0x8b };
	struct tlsrpt_mail m = { .from = "r@s.test",
		                 .to = t,
		                 .domain = "d.test",
		                 .submitter = "s.test",
		                 .organization = "o",
		                 .report_id = "id",
		                 .day = "2026-01-01",
		                 .filename = "f.json.gz",
		                 .gz = gz,
		                 .gz_len = sizeof(gz),
		                 .now = 0,
		                 .unique = "u" };
	struct buf out;
	buf_init(&out);
	if (tlsrpt_mail_build(&m, &out, NULL) != 0)
		abort();
	buf_fini(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *rec[FZ_RECORDS];
	size_t len[FZ_RECORDS], n = 0, start = 0;
	for (size_t i = 0; i <= size && n < FZ_RECORDS; i++) {
		if (i == size || s[i] == '\n') {
			rec[n] = s + start;
			len[n++] = i - start;
			start = i + 1;
		}
	}
	struct tlsrpt_rua_list l;
	struct buf err;
	buf_init(&err);
	int rc = tlsrpt_rua_parse(rec, len, n, &l, &err);
	if (rc == 0) {
		if (l.n == 0 || l.n > TLSRPT_RUA_MAX || err.len != 0)
			abort();
		for (size_t i = 0; i < l.n; i++)
			check_target(&l.v[i]);
	} else if (rc == 1 || rc == -EINVAL) {
		if (l.n != 0 || l.v || err.len == 0)
			abort();
	} else {
		abort();
	}
	tlsrpt_rua_list_free(&l);
	buf_fini(&err);
	return 0;
}
