/* buf: a growable byte buffer, always NUL-terminated for convenience (the NUL is
 * not counted in len). Embedded: buf_init()/buf_fini(). Not thread safe.
 *
 * Error text: the one convention of the tree. A function that can say why it failed
 * takes `struct buf *err` as its last parameter: a buffer the caller owns (and
 * initialised), to which the callee appends one line per problem with buf_add_line()
 * (lines '\n'-separated, no newline after the last; nothing is appended on success,
 * and what the caller put there before is kept). @err may be NULL when the caller does
 * not want the text: buf_add_line() then does nothing, so callees write to @err only
 * through it. The return value still says what happened (0 / -errno / NULL + errno);
 * the text is for the log, which the caller writes once, at the boundary. Not used for
 * results that also carry a success value (a virus name in a scan verdict).
 */
#ifndef POSTWARDEN_BUF_H
#define POSTWARDEN_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
/* buf_reset() - len = 0, keeps the allocation. */
void buf_reset(struct buf *b);
/* buf_reserve() - make room for @extra more bytes (+ NUL). */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_add_line() - append one line of error text to @b: a '\n' first when @b is not
 * empty, no newline after it. @b NULL: nothing (the caller wants no text). */
void buf_add_line(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_consume() - drop the first @n bytes. */
void buf_consume(struct buf *b, size_t n);
/* buf_steal() - return the data (NUL-terminated, never NULL), leave @b empty. Caller frees. */
char *buf_steal(struct buf *b, size_t *len);
/* buf_cstr() - the contents as a C string (never NULL). */
const char *buf_cstr(const struct buf *b);

#endif
