/* netstring: incremental decoder and encoder for `<len>:<bytes>,` framing
 * (cr.yp.to/proto/netstrings.txt; the framing of Postfix socketmap_table(5)).
 *
 * The decoder is a byte-at-a-time state machine for the length and terminator
 * and copies the payload in bulk, so a netstring may be split at any byte. It
 * refuses a length over its configured maximum as soon as the digits say so,
 * before any payload is buffered. Like Postfix, leading zeros are accepted;
 * the digit count is bounded. One decoder per connection: not thread safe.
 * Errors are returned, never logged.
 */
#include "netstring.h"

#include <errno.h>
#include <string.h>

/* Grow beyond this only as payload bytes actually arrive. */
#define NETSTRING_PREALLOC_MAX 65536

enum {
	NETSTRING_S_LEN0,  /* expecting the first length digit */
	NETSTRING_S_LEN,   /* more digits or ':' */
	NETSTRING_S_DATA,  /* payload bytes */
	NETSTRING_S_COMMA, /* the terminating ',' */
	NETSTRING_S_DONE,  /* payload ready; the next feed starts over */
};

void netstring_decoder_init(struct netstring_decoder *d, size_t max)
{
	d->max = max;
	d->state = NETSTRING_S_LEN0;
	d->err = 0;
	d->len = 0;
	d->ndigits = 0;
	buf_init(&d->payload);
}

void netstring_decoder_fini(struct netstring_decoder *d)
{
	buf_fini(&d->payload);
}

void netstring_decoder_reset(struct netstring_decoder *d)
{
	d->state = NETSTRING_S_LEN0;
	d->err = 0;
	d->len = 0;
	d->ndigits = 0;
	buf_reset(&d->payload);
}

bool netstring_decoder_idle(const struct netstring_decoder *d)
{
	return d->err == 0 && (d->state == NETSTRING_S_LEN0 || d->state == NETSTRING_S_DONE);
}

static int netstring_decoder_digit(struct netstring_decoder *d, unsigned char ch)
{
	if (ch < '0' || ch > '9')
		return -EINVAL;
	if (++d->ndigits > NETSTRING_MAX_DIGITS)
		return -EINVAL;
	size_t v = (size_t)(ch - '0');
	if (v > d->max || d->len > (d->max - v) / 10)
		return -EMSGSIZE;
	d->len = d->len * 10 + v;
	return 0;
}

int netstring_decoder_feed(struct netstring_decoder *d, const void *p, size_t n, size_t *consumed)
{
	const unsigned char *s = p;
	size_t i = 0;
	int rc = 0;

	if (d->err) {
		*consumed = 0;
		return d->err;
	}
	if (d->state == NETSTRING_S_DONE)
		netstring_decoder_reset(d);
	while (i < n && rc == 0) {
		switch (d->state) {
		case NETSTRING_S_LEN0:
			rc = netstring_decoder_digit(d, s[i++]);
			d->state = NETSTRING_S_LEN;
			break;
		case NETSTRING_S_LEN:
			if (s[i] == ':') {
				i++;
				buf_reserve(&d->payload, d->len < NETSTRING_PREALLOC_MAX
				                                 ? d->len
				                                 : NETSTRING_PREALLOC_MAX);
				buf_append(&d->payload, "", 0);
				d->state = d->len ? NETSTRING_S_DATA : NETSTRING_S_COMMA;
			} else {
				rc = netstring_decoder_digit(d, s[i++]);
			}
			break;
		case NETSTRING_S_DATA: {
			size_t want = d->len - d->payload.len;
			size_t take = n - i < want ? n - i : want;
			buf_append(&d->payload, s + i, take);
			i += take;
			if (d->payload.len == d->len)
				d->state = NETSTRING_S_COMMA;
			break;
		}
		case NETSTRING_S_COMMA:
			if (s[i++] != ',') {
				rc = -EINVAL;
			} else {
				d->state = NETSTRING_S_DONE;
				rc = 1;
			}
			break;
		default:
			rc = -EINVAL;
			break;
		}
	}
	if (rc < 0)
		d->err = rc;
	*consumed = i;
	return rc;
}

const char *netstring_decoder_payload(const struct netstring_decoder *d, size_t *len)
{
	if (len)
		*len = d->state == NETSTRING_S_DONE ? d->payload.len : 0;
	if (d->state != NETSTRING_S_DONE)
		return "";
	return buf_cstr(&d->payload);
}

void netstring_encode(struct buf *out, const void *p, size_t n)
{
	buf_printf(out, "%zu:", n);
	buf_append(out, p, n);
	buf_putc(out, ',');
}

const char *netstring_strerror(int err)
{
	switch (err) {
	case -EINVAL:
		return "netstring format error";
	case -EMSGSIZE:
		return "netstring longer than allowed";
	default:
		return "netstring error";
	}
}
