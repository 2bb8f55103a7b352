/* socketmap: the Postfix socketmap_table(5) request/reply codec on top of
 * netstring. A request payload is `<name> <key>`; a reply payload is one of
 * `OK <data>`, `NOTFOUND `, `TEMP <reason>`, `TIMEOUT <reason>`, `PERM <reason>`.
 * Postfix limits: request <= 10000 bytes, reply payload <= 100000 bytes.
 * Pure: no I/O, no logging.
 */
#ifndef POSTWARDEN_SOCKETMAP_H
#define POSTWARDEN_SOCKETMAP_H

#include <stddef.h>

#include "buf.h"

#define SOCKETMAP_REQUEST_MAX 10000 /* request payload, as Postfix sends it */
#define SOCKETMAP_REPLY_MAX 100000  /* reply payload Postfix accepts */
#define SOCKETMAP_NAME_MAX 100      /* our limit on the map name */

enum socketmap_status {
	SOCKETMAP_OK,
	SOCKETMAP_NOTFOUND,
	SOCKETMAP_TEMP,
	SOCKETMAP_TIMEOUT,
	SOCKETMAP_PERM,
};

/* A parsed request; both parts point into the payload it was parsed from. */
struct socketmap_request {
	const char *name; /* not NUL-terminated: use name_len */
	size_t name_len;
	const char *key; /* rest of the payload after the first space; may be empty */
	size_t key_len;
};

/**
 * socketmap_request_parse() - split a request payload into name and key.
 * @p: the netstring payload
 * @n: its length
 * @req: filled on success; points into @p
 *
 * The name is 1..SOCKETMAP_NAME_MAX printable, non-space ASCII bytes, followed
 * by one space; the key is everything after it (spaces included, may be empty).
 * Return: 0, -EMSGSIZE when @n > SOCKETMAP_REQUEST_MAX, -EINVAL when there is no
 * space, the name is empty/too long/not printable, or a NUL byte appears.
 */
int socketmap_request_parse(const char *p, size_t n, struct socketmap_request *req);

/**
 * socketmap_request_encode() - append the netstring request `<name> <key>` to @out.
 * Return: 0, -EINVAL for a name socketmap_request_parse() would refuse,
 * -EMSGSIZE when the request would exceed SOCKETMAP_REQUEST_MAX (nothing appended).
 */
int socketmap_request_encode(struct buf *out, const char *name, const char *key, size_t key_len);

/**
 * socketmap_reply_ok() - append the netstring reply `OK <data>` to @out.
 * Return: 0, or -EMSGSIZE when the payload would exceed SOCKETMAP_REPLY_MAX:
 * data is never truncated, nothing is appended, the caller should answer TEMP.
 */
int socketmap_reply_ok(struct buf *out, const char *data, size_t len);
/* socketmap_reply_notfound() - append `NOTFOUND ` to @out. Return: 0. */
int socketmap_reply_notfound(struct buf *out);
/**
 * socketmap_reply_temp() - append `TEMP <reason>` to @out.
 * @reason: descriptive text; cut to fit SOCKETMAP_REPLY_MAX, NUL-terminated
 * Return: 0 (reasons are truncated rather than refused). Same for _timeout, _perm.
 */
int socketmap_reply_temp(struct buf *out, const char *reason);
int socketmap_reply_timeout(struct buf *out, const char *reason);
int socketmap_reply_perm(struct buf *out, const char *reason);

/**
 * socketmap_reply_parse() - decode a reply payload as Postfix does (for clients
 * and tests): status word up to the first space, the rest is data or reason.
 * @data, @data_len: set to the text after the first space ("" when none)
 * Return: 0, -EMSGSIZE when @n > SOCKETMAP_REPLY_MAX, -EINVAL for an unknown
 * status word or a NUL byte.
 */
int socketmap_reply_parse(const char *p, size_t n, enum socketmap_status *st, const char **data,
                          size_t *data_len);

/* socketmap_status_name() - "OK", "NOTFOUND", ... */
const char *socketmap_status_name(enum socketmap_status st);

#endif
