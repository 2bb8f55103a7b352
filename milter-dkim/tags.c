/* tags: parse RFC 6376 section 3.2 tag-lists.
 *
 * tag-list = tag-spec *( ";" tag-spec ) [ ";" ]; tag-spec = [FWS] tag-name [FWS] "="
 * [FWS] tag-value [FWS]: one ';' may end the list (FWS after it is tolerated), an
 * empty tag-spec elsewhere (";;", a leading ';') makes it invalid. The same grammar
 * carries DKIM-Signature (3.5), DKIM key records (3.6.1) and the ARC-Seal /
 * ARC-Message-Signature fields (RFC 8617 4.1).
 * Values keep their inner folding whitespace; base64 values (b=, bh=, p=) are
 * decoded ignoring it. A copy of the text is split in place, so a parse costs one
 * allocation. Pure; no shared state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tags.h"
#include "xalloc.h"

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool name_ok(const char *n)
{
	if (!is_alpha(*n))
		return false;
	for (n++; *n; n++)
		if (!is_alpha(*n) && !(*n >= '0' && *n <= '9') && *n != '_')
			return false;
	return true;
}

static char *trim(char *s, char *end)
{
	while (s < end && is_fws(*s))
		s++;
	while (end > s && is_fws(end[-1]))
		end--;
	*end = '\0';
	return s;
}

int tags_parse(struct tags *t, const char *text, struct buf *err)
{
	t->n = 0;
	t->text = xstrdup(text);
	char *p = t->text;
	while (*p) {
		char *semi = strchr(p, ';');
		char *end = semi ? semi : p + strlen(p);
		char *eq = memchr(p, '=', (size_t)(end - p));
		if (!eq) {
			if (trim(p, end)[0] != '\0') {
				buf_add_line(err, "tag without '='");
				return -EINVAL;
			}
			if (semi) { /* only the last ';' ends the list: no ";;", no leading ';' */
				buf_add_line(err, "empty tag");
				return -EINVAL;
			}
		} else {
			char *name = trim(p, eq);
			char *value = trim(eq + 1, end);
			if (!name_ok(name)) {
				buf_add_line(err, "bad tag name");
				return -EINVAL;
			}
			if (tags_get(t, name)) {
				buf_add_line(err, "tag %s repeated", name);
				return -EINVAL;
			}
			if (t->n == TAGS_MAX) {
				buf_add_line(err, "more than %d tags", TAGS_MAX);
				return -EINVAL;
			}
			t->v[t->n++] = (struct tag){ name, value };
		}
		if (!semi)
			break;
		p = semi + 1;
	}
	return 0;
}

void tags_fini(struct tags *t)
{
	free(t->text);
	t->text = NULL;
	t->n = 0;
}

const char *tags_get(const struct tags *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return t->v[i].value;
	return NULL;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool tags_base64(const char *s, struct buf *out)
{
	unsigned acc = 0, bits = 0;
	size_t pad = 0;
	for (; *s; s++) {
		if (is_fws(*s))
			continue;
		if (*s == '=') {
			pad++;
			continue;
		}
		int v = b64_value(*s);
		if (v < 0 || pad)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return pad <= 2 && bits < 6;
}

void tags_strip_b(const char *value, struct buf *out)
{
	const char *p = value;
	while (*p) {
		const char *semi = strchr(p, ';');
		const char *end = semi ? semi + 1 : p + strlen(p);
		const char *n = p;
		while (n < end && is_fws(*n))
			n++;
		const char *after = n;
		if (*after == 'b') {
			after++;
			while (after < end && is_fws(*after))
				after++;
		}
		if (*n == 'b' && *after == '=') {
			buf_append(out, p, (size_t)(after + 1 - p));
			if (semi)
				buf_putc(out, ';');
		} else {
			buf_append(out, p, (size_t)(end - p));
		}
		p = end;
	}
}

const char *tags_list_next(const char **pos, char sep, size_t *len)
{
	const char *p = *pos;
	if (!p)
		return NULL;
	const char *end = strchr(p, sep);
	*pos = end ? end + 1 : NULL;
	if (!end)
		end = p + strlen(p);
	while (p < end && is_fws(*p))
		p++;
	while (end > p && is_fws(end[-1]))
		end--;
	*len = (size_t)(end - p);
	return p;
}

bool tags_list_has(const char *list, char sep, const char *want)
{
	size_t wlen = strlen(want), len;
	const char *pos = list;
	for (const char *a; (a = tags_list_next(&pos, sep, &len));)
		if (len == wlen && strncasecmp(a, want, wlen) == 0)
			return true;
	return false;
}
