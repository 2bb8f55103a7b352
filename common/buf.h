/* buf: a growable byte buffer, always NUL-terminated for convenience (the NUL is
 * not counted in len). Embedded: buf_init()/buf_fini(). Not thread safe. */
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
/* buf_consume() - drop the first @n bytes. */
void buf_consume(struct buf *b, size_t n);
/* buf_steal() - return the data (NUL-terminated, never NULL), leave @b empty. Caller frees. */
char *buf_steal(struct buf *b, size_t *len);
/* buf_cstr() - the contents as a C string (never NULL). */
const char *buf_cstr(const struct buf *b);

#endif
