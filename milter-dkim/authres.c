/* authres: RFC 8601 Authentication-Results.
 *
 * Reading (2.2): the value starts with [CFWS] authserv-id [CFWS authres-version]
 * then ";" and the results (or "none"); comments are skipped. Used to drop fields
 * that claim our authserv-id (5: they are forged) and to carry the results of
 * trusted ids into an ARC-Authentication-Results. Writing (2.7.1, RFC 8617 for
 * arc): our DKIM and ARC results with header.d/s/a/b properties; every value that
 * came from the message is a token or a quoted-string (2.2 "value"), never raw.
 * Pure; no shared state.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "authres.h"

static const char *skip_cfws(const char *p)
{
	for (;;) {
		p += strspn(p, " \t\r\n");
		if (*p != '(')
			return p;
		int depth = 0;
		for (; *p; p++) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

int authres_id(const char *value, struct buf *id, const char **rest)
{
	const char *p = skip_cfws(value);
	size_t n = strcspn(p, " \t\r\n;(");
	if (n == 0)
		return -EINVAL;
	buf_append(id, p, n);
	p = skip_cfws(p + n);
	if (*p >= '0' && *p <= '9')
		p = skip_cfws(p + strspn(p, "0123456789"));
	if (rest)
		*rest = *p == ';' ? skip_cfws(p + 1) : NULL;
	return 0;
}

bool authres_id_is(const char *value, const char *want)
{
	struct buf id;
	buf_init(&id);
	bool is = authres_id(value, &id, NULL) == 0 && strcasecmp(id.data, want) == 0;
	buf_fini(&id);
	return is;
}

/* A token as is, anything else as a quoted-string (one line, '"' and '\' escaped). */
static void put_value(struct buf *out, const char *v)
{
	size_t n = strlen(v);
	if (n &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@+/=") ==
	            n) {
		buf_puts(out, v);
		return;
	}
	buf_putc(out, '"');
	for (; *v && *v != '\n'; v++) {
		if (*v == '\r' || *v == '\t')
			continue;
		if (*v == '"' || *v == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *v);
	}
	buf_putc(out, '"');
}

static void put_prop(struct buf *out, const char *name, const char *v)
{
	buf_printf(out, " %s=", name);
	put_value(out, v);
}

void authres_results(struct buf *out, const struct auth *a)
{
	size_t n = auth_dkim_count(a);
	for (size_t i = 0; i < n; i++) {
		const struct auth_dkim *d = auth_dkim_get(a, i);
		buf_printf(out, "%sdkim=%s", i ? ";\n\t" : "", verify_result_name(d->result));
		if (d->result != VERIFY_PASS)
			put_prop(out, "reason", buf_cstr(&d->why));
		put_prop(out, "header.d", d->d);
		put_prop(out, "header.s", d->s);
		if (d->alg)
			put_prop(out, "header.a", d->alg);
		char b[9] = "";
		strncat(b, d->b, 8);
		if (*b)
			put_prop(out, "header.b", b);
	}
	if (n == 0)
		buf_puts(out, "dkim=none");
	const struct arc_chain *c = auth_arc(a);
	buf_printf(out, ";\n\tarc=%s", sig_cv_name(c->cv));
	if (c->cv == SIG_CV_FAIL)
		put_prop(out, "reason", buf_cstr(&c->why));
}
