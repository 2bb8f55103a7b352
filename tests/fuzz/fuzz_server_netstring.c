/* libFuzzer harness for common/server_netstring.c (the buffering between reads and
 * common/netstring.c). Input: 2 bytes of payload limit, then the stream. The stream is
 * pushed in chunks whose sizes come from the data itself (as reads of any size would
 * bring it) and taken after every push; the payloads and the final status must be
 * those of one netstring decoder fed the whole stream at once. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: every payload re-encoded into @out; the final status. */
static int fz_whole(const uint8_t *in, size_t n, size_t max, struct buf *out)
{
	struct netstring_decoder d;
	size_t pos = 0, used;
	int rc = 0;

	netstring_decoder_init(&d, max);
	while (pos < n && (rc = netstring_decoder_feed(&d, in + pos, n - pos, &used)) >= 0) {
		pos += used;
		if (rc == 1) {
			size_t len;
			const char *p = netstring_decoder_payload(&d, &len);
			netstring_encode(out, p, len);
		}
	}
	netstring_decoder_fini(&d);
	return rc == 1 ? 0 : rc;
}

static int fz_chunked(const uint8_t *in, size_t n, size_t max, struct buf *out)
{
	struct server_netstring ns;
	size_t pos = 0;
	int rc = 0;

	server_netstring_init(&ns, max);
	while (pos < n && rc >= 0) {
		size_t chunk = 1 + (size_t)in[pos] * 37 % (SERVER_NETSTRING_BLOCK + 100);
		if (chunk > n - pos)
			chunk = n - pos;
		size_t took = server_netstring_push(&ns, in + pos, chunk);
		if (took == 0 || took > chunk)
			abort();
		pos += took;
		const char *p;
		size_t len;
		while ((rc = server_netstring_take(&ns, &p, &len)) == 1) {
			if (len > max || p[len] != '\0')
				abort();
			netstring_encode(out, p, len);
		}
	}
	if (rc == 0 && server_netstring_idle(&ns) != netstring_decoder_idle(&ns.dec))
		abort();
	server_netstring_fini(&ns);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t max = (size_t)data[0] | (size_t)data[1] << 8;
	data += 2;
	size -= 2;

	struct buf whole, chunked;
	buf_init(&whole);
	buf_init(&chunked);
	int rc1 = fz_whole(data, size, max, &whole);
	int rc2 = fz_chunked(data, size, max, &chunked);
	if (rc1 != rc2 || whole.len != chunked.len ||
	    (whole.len && memcmp(whole.data, chunked.data, whole.len) != 0))
		abort();
	if (rc2 < 0 && rc2 != -EINVAL && rc2 != -EMSGSIZE)
		abort();
	buf_fini(&whole);
	buf_fini(&chunked);
	return 0;
}
