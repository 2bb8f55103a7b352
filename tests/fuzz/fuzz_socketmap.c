/* libFuzzer harness for common/socketmap (and netstring under it). The input is
 * read as a netstring stream with the request limit; every payload is parsed as
 * a request and as a reply, and what parses is re-encoded, decoded and parsed
 * again to the same result. The raw input is also parsed directly, and used as
 * reply data/reason to check the 100000-byte reply limit. Failures abort. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"
#include "socketmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode exactly one netstring from @b. Return its payload (owned by @d). */
static const char *fz_one(struct netstring_decoder *d, const struct buf *b, size_t *len)
{
	size_t used;
	netstring_decoder_reset(d);
	if (netstring_decoder_feed(d, b->data, b->len, &used) != 1 || used != b->len)
		abort();
	return netstring_decoder_payload(d, len);
}

static void fz_request(const char *p, size_t n)
{
	struct socketmap_request r;
	int rc = socketmap_request_parse(p, n, &r);
	if (rc == -EINVAL || rc == -EMSGSIZE)
		return;
	if (rc != 0 || r.name_len == 0 || r.name_len > SOCKETMAP_NAME_MAX ||
	    r.name_len + 1 + r.key_len != n || r.key != r.name + r.name_len + 1)
		abort();

	char name[SOCKETMAP_NAME_MAX + 1];
	memcpy(name, r.name, r.name_len);
	name[r.name_len] = '\0';
	struct buf b;
	struct netstring_decoder d;
	struct socketmap_request r2;
	size_t len;
	buf_init(&b);
	netstring_decoder_init(&d, SOCKETMAP_REQUEST_MAX);
	if (socketmap_request_encode(&b, name, r.key, r.key_len) != 0)
		abort();
	const char *q = fz_one(&d, &b, &len);
	if (socketmap_request_parse(q, len, &r2) != 0 || r2.name_len != r.name_len ||
	    r2.key_len != r.key_len || memcmp(r2.key, r.key, r.key_len) != 0)
		abort();
	netstring_decoder_fini(&d);
	buf_fini(&b);
}

static void fz_reply(const char *p, size_t n)
{
	enum socketmap_status st, st2;
	const char *data, *data2;
	size_t dlen, dlen2, len;
	int rc = socketmap_reply_parse(p, n, &st, &data, &dlen);
	if (rc == -EINVAL || rc == -EMSGSIZE)
		return;
	if (rc != 0 || dlen > n)
		abort();

	struct buf b;
	struct netstring_decoder d;
	buf_init(&b);
	netstring_decoder_init(&d, SOCKETMAP_REPLY_MAX);
	char *text = malloc(dlen + 1);
	if (!text)
		abort();
	memcpy(text, data, dlen);
	text[dlen] = '\0';
	switch (st) {
	case SOCKETMAP_OK:
		rc = socketmap_reply_ok(&b, text, dlen);
		break;
	case SOCKETMAP_NOTFOUND:
		rc = socketmap_reply_notfound(&b);
		dlen = 0;
		break;
	case SOCKETMAP_TEMP:
		rc = socketmap_reply_temp(&b, text);
		break;
	case SOCKETMAP_TIMEOUT:
		rc = socketmap_reply_timeout(&b, text);
		break;
	case SOCKETMAP_PERM:
		rc = socketmap_reply_perm(&b, text);
		break;
	default:
		abort();
	}
	if (rc != 0)
		abort();
	const char *q = fz_one(&d, &b, &len);
	if (len > SOCKETMAP_REPLY_MAX || socketmap_reply_parse(q, len, &st2, &data2, &dlen2) != 0 ||
	    st2 != st || dlen2 != dlen || memcmp(data2, text, dlen) != 0)
		abort();
	free(text);
	netstring_decoder_fini(&d);
	buf_fini(&b);
}

/* Raw input as OK data and as a TEMP reason: the limit holds either way. */
static void fz_limits(const uint8_t *data, size_t size)
{
	struct buf b;
	buf_init(&b);
	int rc = socketmap_reply_ok(&b, (const char *)data, size);
	if ((rc == 0) != (size <= SOCKETMAP_REPLY_MAX - 3) || (rc != 0 && b.len != 0))
		abort();
	buf_reset(&b);
	char *reason = malloc(size + 1);
	if (!reason)
		abort();
	memcpy(reason, data, size);
	reason[size] = '\0';
	if (socketmap_reply_perm(&b, reason) != 0 || b.len > SOCKETMAP_REPLY_MAX + 8)
		abort();
	free(reason);
	buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netstring_decoder d;
	size_t pos = 0, used, len;

	fz_request((const char *)data, size);
	fz_reply((const char *)data, size);
	fz_limits(data, size);

	netstring_decoder_init(&d, SOCKETMAP_REQUEST_MAX);
	while (pos < size) {
		int rc = netstring_decoder_feed(&d, data + pos, size - pos, &used);
		pos += used;
		if (rc != 1)
			break;
		const char *p = netstring_decoder_payload(&d, &len);
		fz_request(p, len);
		fz_reply(p, len);
	}
	netstring_decoder_fini(&d);
	return 0;
}
