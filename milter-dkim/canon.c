/* canon: DKIM canonicalization, RFC 6376 section 3.4.
 *
 * Header fields: the relaxed algorithm (3.4.2) over the name and value Postfix
 * hands a milter (leading white space or none, folds as bare "\n"), and simple (3.4.1) for
 * verifying, byte for byte with bare LF folds as CRLF. Body: relaxed (3.4.4)
 * or simple (3.4.3), streamed into a SHA-256 context. Chunks may split a line
 * anywhere, including between CR and LF (doc/protocols.md, "Body chunks"), so the
 * state carried between chunks is a pending CR, a pending WSP run and the count
 * of pending empty lines: memory is constant and work is linear in the input
 * (never buffer the trailing empty lines themselves). Bare LF ends a line as CRLF
 * does; a lone CR is an ordinary character. A verifier's l= (3.5) limits the
 * bytes hashed, never the bytes counted. Runs of bytes that canonicalize to
 * themselves (text, single spaces, line ends between lines of text) skip the byte-by-byte
 * state machine; the relaxed scan for them takes 16 bytes at a time where SSE2 is there.
 *
 * Threads: a canon_body belongs to one message; no shared state.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "canon.h"
#include "xalloc.h"

#define CANON_STAGE 4096

struct canon_body {
	EVP_MD_CTX *md;
	enum canon_mode mode;
	bool pending_cr;
	bool pending_wsp;
	bool line_has_text;
	bool emitted;
	bool failed;
	size_t empty_lines;
	struct buf *copy;
	unsigned long long limit;
	unsigned long long total;
	size_t staged;
	unsigned char stage[CANON_STAGE];
};

static bool is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

void canon_header_relaxed(struct buf *out, const char *name, const char *value)
{
	for (const char *p = name; *p; p++) {
		if (is_wsp((unsigned char)*p))
			continue;
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		buf_putc(out, c);
	}
	buf_putc(out, ':');
	bool wsp = false;
	bool started = false;
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\n' || (c == '\r' && p[1] == '\n'))
			continue;
		if (is_wsp(c)) {
			wsp = true;
			continue;
		}
		if (wsp && started)
			buf_putc(out, ' ');
		wsp = false;
		started = true;
		buf_putc(out, (char)c);
	}
}

void canon_header(struct buf *out, enum canon_mode mode, const char *name, const char *value)
{
	if (mode == CANON_RELAXED) {
		canon_header_relaxed(out, name, value);
		return;
	}
	buf_puts(out, name);
	buf_putc(out, ':');
	for (const char *p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			buf_putc(out, '\r');
		buf_putc(out, *p);
	}
}

struct canon_body *canon_body_new(enum canon_mode mode)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md) {
		errno = ENOMEM;
		return NULL;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		errno = EIO;
		return NULL;
	}
	struct canon_body *cb = xcalloc(1, sizeof(*cb));
	cb->md = md;
	cb->mode = mode;
	cb->limit = ~0ULL;
	return cb;
}

void canon_body_limit(struct canon_body *cb, unsigned long long limit)
{
	cb->limit = limit;
}

unsigned long long canon_body_length(const struct canon_body *cb)
{
	return cb->total;
}

void canon_body_copy_to(struct canon_body *cb, struct buf *copy)
{
	cb->copy = copy;
}

static void stage_flush(struct canon_body *cb)
{
	if (!cb->staged)
		return;
	if (EVP_DigestUpdate(cb->md, cb->stage, cb->staged) != 1)
		cb->failed = true;
	if (cb->copy)
		buf_append(cb->copy, cb->stage, cb->staged);
	cb->staged = 0;
}

static void emit(struct canon_body *cb, unsigned char c)
{
	cb->emitted = true;
	if (cb->total++ >= cb->limit)
		return;
	if (cb->staged == CANON_STAGE)
		stage_flush(cb);
	cb->stage[cb->staged++] = c;
}

static void emit_crlf(struct canon_body *cb)
{
	emit(cb, '\r');
	emit(cb, '\n');
}

static void text_char(struct canon_body *cb, unsigned char c)
{
	for (; cb->empty_lines; cb->empty_lines--)
		emit_crlf(cb);
	if (cb->pending_wsp)
		emit(cb, ' ');
	cb->pending_wsp = false;
	emit(cb, c);
	cb->line_has_text = true;
}

static void line_end(struct canon_body *cb)
{
	cb->pending_wsp = false;
	if (cb->line_has_text)
		emit_crlf(cb);
	else
		cb->empty_lines++;
	cb->line_has_text = false;
}

static void body_char(struct canon_body *cb, unsigned char c)
{
	if (cb->pending_cr) {
		cb->pending_cr = false;
		if (c == '\n') {
			line_end(cb);
			return;
		}
		text_char(cb, '\r');
	}
	if (c == '\r')
		cb->pending_cr = true;
	else if (c == '\n')
		line_end(cb);
	else if (cb->mode == CANON_RELAXED && is_wsp(c))
		cb->pending_wsp = true;
	else
		text_char(cb, c);
}

/* A run of @n bytes that body_char() would each pass to text_char() with nothing pending
 * (no CR, no whitespace, no empty line held back): emitted at once, as emit() would. */
static void emit_run(struct canon_body *cb, const unsigned char *s, size_t n)
{
	unsigned long long room = cb->total >= cb->limit ? 0 : cb->limit - cb->total;
	size_t take = (unsigned long long)n < room ? n : (size_t)room;

	cb->emitted = true;
	cb->line_has_text = true;
	cb->total += n;
	if (take >= CANON_STAGE) { /* hashed in place: no copy through the stage */
		stage_flush(cb);
		if (EVP_DigestUpdate(cb->md, s, take) != 1)
			cb->failed = true;
		if (cb->copy)
			buf_append(cb->copy, s, take);
		return;
	}
	while (take) {
		if (cb->staged == CANON_STAGE)
			stage_flush(cb);
		size_t k = CANON_STAGE - cb->staged;
		if (k > take)
			k = take;
		memcpy(cb->stage + cb->staged, s, k);
		cb->staged += k;
		s += k;
		take -= k;
	}
}

/* Bytes body_char() treats specially: CR and LF (1); in relaxed mode also SP and HTAB (2). */
static const unsigned char body_special[256] = { ['\r'] = 1, ['\n'] = 1, [' '] = 2, ['\t'] = 2 };

#if defined(__SSE2__)
/* relaxed_scan() - from @i, the first byte a relaxed run cannot take as plain text: CR,
 * LF, HTAB, or a SP before a CR, LF, HTAB or SP; 16 bytes at a time while 17 are left
 * (the byte after each is looked at), else @i where that stopped. */
static size_t relaxed_scan(const unsigned char *p, size_t i, size_t len)
{
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	const __m128i ht = _mm_set1_epi8('\t'), sp = _mm_set1_epi8(' ');
	while (len - i >= 17) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		__m128i a_other =
		        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, cr), _mm_cmpeq_epi8(a, lf)),
		                     _mm_cmpeq_epi8(a, ht));
		__m128i b_special =
		        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, cr), _mm_cmpeq_epi8(b, lf)),
		                     _mm_or_si128(_mm_cmpeq_epi8(b, ht), _mm_cmpeq_epi8(b, sp)));
		__m128i bad =
		        _mm_or_si128(a_other, _mm_and_si128(_mm_cmpeq_epi8(a, sp), b_special));
		unsigned mask = (unsigned)_mm_movemask_epi8(bad);
		if (mask)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
	return i;
}
#endif

/* The end of the run of bytes from @i that canonicalize to themselves when nothing is
 * pending: ordinary bytes; in relaxed mode also a single SP before an ordinary byte
 * (relaxed keeps it as it is, at the start of a line too); and a CRLF inside the run
 * between two ordinary bytes (the end of a line with text, the next line not empty:
 * nothing to hold back). The run never ends right after a CRLF or a space. */
static size_t text_run(const struct canon_body *cb, const unsigned char *p, size_t i, size_t len)
{
	bool relaxed = cb->mode == CANON_RELAXED;
	size_t start = i;
	while (i < len) {
#if defined(__SSE2__)
		if (relaxed && (i = relaxed_scan(p, i, len)) >= len)
			break;
#endif
		unsigned char k = body_special[p[i]];
		if (k == 0 || (k == 2 && !relaxed)) {
			i++;
			continue;
		}
		if (relaxed && p[i] == ' ' && i + 1 < len && body_special[p[i + 1]] == 0) {
			i += 2;
			continue;
		}
		if (p[i] == '\r' && i > start && i + 2 < len && p[i + 1] == '\n' &&
		    body_special[p[i + 2]] == 0) {
			i += 3;
			continue;
		}
		break;
	}
	return i;
}

int canon_body_update(struct canon_body *cb, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < len) {
		/* fast path: bytes that canonicalize to themselves, with nothing pending, go out as
		 * one run */
		if (!cb->pending_cr && !cb->pending_wsp && cb->empty_lines == 0) {
			size_t j = text_run(cb, p, i, len);
			if (j > i) {
				emit_run(cb, p + i, j - i);
				i = j;
				continue;
			}
		}
		body_char(cb, p[i++]);
	}
	return cb->failed ? -EIO : 0;
}

int canon_body_final(struct canon_body *cb, unsigned char digest[CANON_DIGEST_LEN])
{
	if (cb->pending_cr) {
		cb->pending_cr = false;
		text_char(cb, '\r');
	}
	if (cb->line_has_text)
		line_end(cb);
	if (cb->mode == CANON_SIMPLE && !cb->emitted)
		emit_crlf(cb);
	stage_flush(cb);
	unsigned int n = 0;
	if (cb->failed || EVP_DigestFinal_ex(cb->md, digest, &n) != 1 || n != CANON_DIGEST_LEN)
		return -EIO;
	return 0;
}

void canon_body_free(struct canon_body *cb)
{
	if (!cb)
		return;
	EVP_MD_CTX_free(cb->md);
	free(cb);
}
