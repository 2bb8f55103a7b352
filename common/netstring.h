/* netstring: D. J. Bernstein's `<len>:<bytes>,` framing, as Postfix speaks it
 * for socketmap. An incremental decoder (bytes arrive in arbitrary chunks) and an
 * encoder appending to a struct buf. Pure: no I/O, no logging.
 */
#ifndef POSTWARDEN_NETSTRING_H
#define POSTWARDEN_NETSTRING_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* More length digits than this is a format error even when they are zeros. */
#define NETSTRING_MAX_DIGITS 20

/* Embedded decoder; the fields are private (use the functions below). */
struct netstring_decoder {
	size_t max;         /* largest payload accepted */
	int state;          /* NETSTRING_S_* in netstring.c */
	int err;            /* sticky error, 0 when none */
	size_t len;         /* announced payload length */
	size_t ndigits;     /* length digits seen */
	struct buf payload; /* bytes of the current payload */
};

/**
 * netstring_decoder_init() - set up @d to decode netstrings of at most @max bytes.
 * Free with netstring_decoder_fini().
 */
void netstring_decoder_init(struct netstring_decoder *d, size_t max);
void netstring_decoder_fini(struct netstring_decoder *d);
/* netstring_decoder_reset() - forget any partial input and a sticky error. */
void netstring_decoder_reset(struct netstring_decoder *d);

/**
 * netstring_decoder_feed() - consume input up to the end of one netstring.
 * @d: the decoder
 * @p: input bytes
 * @n: number of bytes at @p
 * @consumed: set to the number of bytes used (all of them unless 1 is returned)
 *
 * Leading zeros in the length are accepted (Postfix does), at most
 * NETSTRING_MAX_DIGITS digits. After 1 the payload stays available until the
 * next feed or reset; feed the rest of the input (@p + *@consumed) afterwards.
 * Errors are sticky until netstring_decoder_reset().
 *
 * Return: 1 when a complete payload is ready (netstring_decoder_payload()),
 * 0 when more input is needed, -EINVAL on a format error (bad length digit, no
 * digits, too many digits, missing ','), -EMSGSIZE when the length exceeds max.
 */
int netstring_decoder_feed(struct netstring_decoder *d, const void *p, size_t n, size_t *consumed);

/**
 * netstring_decoder_payload() - the payload after feed returned 1.
 * @len: set to its length (may be NULL)
 * Return: the bytes, NUL-terminated (not counted), owned by @d.
 */
const char *netstring_decoder_payload(const struct netstring_decoder *d, size_t *len);

/* netstring_decoder_idle() - true when no partial netstring is buffered. */
bool netstring_decoder_idle(const struct netstring_decoder *d);

/**
 * netstring_encode() - append @n bytes at @p to @out as one netstring.
 */
void netstring_encode(struct buf *out, const void *p, size_t n);

/* netstring_strerror() - short text for a negative return of feed. */
const char *netstring_strerror(int err);

#endif
