/* libFuzzer harness for common/netstring. Input: 2 bytes of payload limit, then
 * the stream. The stream is decoded twice, in one feed and in chunks whose sizes
 * come from the data itself; both must yield the same payloads and the same
 * final status. Every payload is re-encoded and must decode to itself. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode @in; payloads appended to @out as encoded netstrings. Return final status. */
static int fz_decode(const uint8_t *in, size_t n, size_t max, bool chunked, struct buf *out)
{
	struct netstring_decoder d;
	size_t pos = 0;
	int rc = 0;

	netstring_decoder_init(&d, max);
	while (pos < n) {
		size_t chunk = chunked ? 1 + (size_t)in[pos] % 7 : n - pos;
		size_t used;
		if (chunk > n - pos)
			chunk = n - pos;
		rc = netstring_decoder_feed(&d, in + pos, chunk, &used);
		if (used > chunk)
			abort();
		pos += used;
		if (rc < 0)
			break;
		if (rc == 0 && used != chunk)
			abort();
		if (rc == 1) {
			size_t len;
			const char *p = netstring_decoder_payload(&d, &len);
			if (len > max || p[len] != '\0')
				abort();
			netstring_encode(out, p, len);
		}
	}
	if (rc < 0) {
		if (rc != -EINVAL && rc != -EMSGSIZE)
			abort();
		size_t used;
		if (netstring_decoder_feed(&d, "0:,", 3, &used) != rc || used != 0)
			abort();
	}
	netstring_decoder_fini(&d);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t max = (size_t)data[0] | (size_t)data[1] << 8;
	data += 2;
	size -= 2;

	struct buf whole, chunked, again;
	buf_init(&whole);
	buf_init(&chunked);
	buf_init(&again);
	int rc1 = fz_decode(data, size, max, false, &whole);
	int rc2 = fz_decode(data, size, max, true, &chunked);
	if (rc1 != rc2 || whole.len != chunked.len ||
	    (whole.len && memcmp(whole.data, chunked.data, whole.len) != 0))
		abort();
	/* the re-encoded payloads decode to exactly themselves */
	if (fz_decode((const uint8_t *)whole.data, whole.len, max, true, &again) < 0)
		abort();
	if (again.len != whole.len || (whole.len && memcmp(again.data, whole.data, whole.len) != 0))
		abort();
	buf_fini(&whole);
	buf_fini(&chunked);
	buf_fini(&again);
	return 0;
}
