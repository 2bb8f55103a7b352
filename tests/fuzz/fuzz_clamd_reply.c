/* libFuzzer harness for milter-av's clamd reply parser (verdict_parse) and the mapping
 * that turns its output into SMTP reply text and header values (verdict_decide).
 * Invariants checked: the parser never reads past @size, always yields a known status,
 * and every string that can reach Postfix is NUL-terminated printable ASCII without '%'. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '%')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size copy (ASan sees any over-read), and a C string for the version */
	char *copy = malloc(size ? size : 1);
	char version[16] = "";
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (size > 8)
		memcpy(version, copy + size - 8, 8);
	struct verdict_reply r;
	int rc = verdict_parse(copy, size, &r);
	if (rc != 0 && (rc != -EPROTO || r.status != VERDICT_ERROR))
		abort();
	if (r.status > VERDICT_ERROR)
		abort();
	check_text(r.detail, sizeof(r.detail));

	for (int v = 0; v < 4; v++) {
		struct verdict_policy p = { .on_virus = (enum verdict_on_virus)v,
			                    .on_error = (enum verdict_on_error)(v & 1),
			                    .oversize = (enum verdict_on_oversize)(v % 3),
			                    .add_header = true };
		struct verdict_decision d;
		verdict_decide(&p, &r, version, &d);
		check_text(d.rcode, sizeof(d.rcode));
		check_text(d.xcode, sizeof(d.xcode));
		check_text(d.text, sizeof(d.text));
		check_text(d.scanned_header, sizeof(d.scanned_header));
		check_text(d.virus_header, sizeof(d.virus_header));
		if (r.status == VERDICT_CLEAN && d.action != VERDICT_ACCEPT)
			abort();
		if (r.status != VERDICT_CLEAN && r.status != VERDICT_INFECTED &&
		    strncmp(d.scanned_header, "postwarden", 10) == 0)
			abort();
	}
	free(copy);
	return 0;
}
