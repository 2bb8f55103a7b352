/* escape: make untrusted bytes safe to print on one line.
 *
 * Control characters (C0, DEL, C1), bytes that are not valid UTF-8 and
 * over-long or surrogate encodings become `\xNN`, one escape per byte; valid
 * printable UTF-8 passes unchanged. Pure, no allocation, thread safe.
 */
#ifndef POSTWARDEN_ESCAPE_H
#define POSTWARDEN_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* escape_needed() - true when escape_text() would change @n bytes at @in. */
bool escape_needed(const char *in, size_t n);

/**
 * escape_text() - copy @n bytes at @in into @out, escaped, NUL-terminated.
 * @outsz: size of @out (> 0); the copy stops early rather than cut an escape
 *         or a UTF-8 sequence in two (4 bytes per input byte always fit)
 * Return: the bytes written to @out, the NUL not counted.
 */
size_t escape_text(char *out, size_t outsz, const char *in, size_t n);

#endif
