/* socketmap: Postfix socketmap_table(5) codec (see socketmap.h and the header
 * comment of Postfix src/util/dict_sockmap.c).
 *
 * Requests are split at the first space into map name and key; keys are passed
 * through byte for byte (Postfix already folded case if asked to). Replies are
 * written as one netstring each; the 100000-byte reply limit applies to the
 * payload (status word, space and data). OK data that does not fit is refused
 * with -EMSGSIZE (a truncated policy would be wrong); TEMP/TIMEOUT/PERM reasons
 * are only descriptive and are cut to fit. The reply parser mirrors Postfix's
 * client: exact status word, then everything after the first space.
 * Pure and reentrant; errors are returned, never logged.
 */
#include "socketmap.h"

#include <errno.h>
#include <string.h>

static const char *const socketmap_words[] = {
	[SOCKETMAP_OK] = "OK",     [SOCKETMAP_NOTFOUND] = "NOTFOUND",
	[SOCKETMAP_TEMP] = "TEMP", [SOCKETMAP_TIMEOUT] = "TIMEOUT",
	[SOCKETMAP_PERM] = "PERM",
};

const char *socketmap_status_name(enum socketmap_status st)
{
	if ((unsigned)st >= sizeof(socketmap_words) / sizeof(socketmap_words[0]))
		return "?";
	return socketmap_words[st];
}

static int socketmap_name_check(const char *name, size_t n)
{
	if (n == 0 || n > SOCKETMAP_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch <= ' ' || ch >= 0x7f)
			return -EINVAL;
	}
	return 0;
}

int socketmap_request_parse(const char *p, size_t n, struct socketmap_request *req)
{
	const char *sp;

	if (n > SOCKETMAP_REQUEST_MAX)
		return -EMSGSIZE;
	if (n == 0 || memchr(p, '\0', n))
		return -EINVAL;
	sp = memchr(p, ' ', n);
	if (!sp)
		return -EINVAL;
	if (socketmap_name_check(p, (size_t)(sp - p)) < 0)
		return -EINVAL;
	req->name = p;
	req->name_len = (size_t)(sp - p);
	req->key = sp + 1;
	req->key_len = n - req->name_len - 1;
	return 0;
}

int socketmap_request_encode(struct buf *out, const char *name, const char *key, size_t key_len)
{
	size_t nlen = strlen(name);

	if (socketmap_name_check(name, nlen) < 0 || (key_len && memchr(key, '\0', key_len)))
		return -EINVAL;
	if (key_len > SOCKETMAP_REQUEST_MAX - nlen - 1)
		return -EMSGSIZE;
	buf_printf(out, "%zu:%s ", nlen + 1 + key_len, name);
	buf_append(out, key, key_len);
	buf_putc(out, ',');
	return 0;
}

static void socketmap_reply_put(struct buf *out, enum socketmap_status st, const char *data,
                                size_t len)
{
	const char *word = socketmap_words[st];

	buf_printf(out, "%zu:%s ", strlen(word) + 1 + len, word);
	buf_append(out, data, len);
	buf_putc(out, ',');
}

int socketmap_reply_ok(struct buf *out, const char *data, size_t len)
{
	if (len > SOCKETMAP_REPLY_MAX - strlen("OK "))
		return -EMSGSIZE;
	socketmap_reply_put(out, SOCKETMAP_OK, data, len);
	return 0;
}

int socketmap_reply_notfound(struct buf *out)
{
	socketmap_reply_put(out, SOCKETMAP_NOTFOUND, "", 0);
	return 0;
}

static int socketmap_reply_reason(struct buf *out, enum socketmap_status st, const char *reason)
{
	size_t room = SOCKETMAP_REPLY_MAX - strlen(socketmap_words[st]) - 1;
	size_t len = reason ? strnlen(reason, room) : 0;

	socketmap_reply_put(out, st, reason ? reason : "", len);
	return 0;
}

int socketmap_reply_temp(struct buf *out, const char *reason)
{
	return socketmap_reply_reason(out, SOCKETMAP_TEMP, reason);
}

int socketmap_reply_timeout(struct buf *out, const char *reason)
{
	return socketmap_reply_reason(out, SOCKETMAP_TIMEOUT, reason);
}

int socketmap_reply_perm(struct buf *out, const char *reason)
{
	return socketmap_reply_reason(out, SOCKETMAP_PERM, reason);
}

int socketmap_reply_parse(const char *p, size_t n, enum socketmap_status *st, const char **data,
                          size_t *data_len)
{
	const char *sp;
	size_t wlen;

	if (n > SOCKETMAP_REPLY_MAX)
		return -EMSGSIZE;
	if (n == 0 || memchr(p, '\0', n))
		return -EINVAL;
	sp = memchr(p, ' ', n);
	wlen = sp ? (size_t)(sp - p) : n;
	for (size_t i = 0; i < sizeof(socketmap_words) / sizeof(socketmap_words[0]); i++) {
		if (strlen(socketmap_words[i]) == wlen &&
		    memcmp(p, socketmap_words[i], wlen) == 0) {
			*st = (enum socketmap_status)i;
			*data = sp ? sp + 1 : "";
			*data_len = sp ? n - wlen - 1 : 0;
			return 0;
		}
	}
	return -EINVAL;
}
