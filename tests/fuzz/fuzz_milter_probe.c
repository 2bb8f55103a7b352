/* libFuzzer harness for common/milter_probe's two parsers of outside bytes: the filter's
 * option negotiation reply (from the daemon's socket) and the daemon record (from a
 * store other hosts may write). Input: one selector byte, then the bytes. A reply that
 * parses must be an 'O' packet of at least 13 bytes whose fields read back; a record
 * that parses must be written back by the same format into the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t fz_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	if (data[0] & 1) {
		struct milter_probe_result res;
		if (milter_probe_parse_reply(in, n, &res) == 0 &&
		    (n < 13 || in[0] != 'O' || res.version != fz_get32(in + 1) ||
		     res.actions != fz_get32(in + 5) || res.steps != fz_get32(in + 9)))
			abort();
		return 0;
	}
	char *v = malloc(n + 1);
	if (!v)
		return 0;
	memcpy(v, in, n);
	v[n] = '\0';
	pid_t pid;
	time_t started;
	if (milter_probe_parse_record(v, &pid, &started) == 0) {
		char back[96];
		snprintf(back, sizeof(back), "{\"pid\":%d,\"started\":%lld}", (int)pid,
		         (long long)started);
		if (pid <= 0 || (strlen(v) == strlen(back) && strcmp(v, back) != 0))
			abort();
	}
	free(v);
	return 0;
}
