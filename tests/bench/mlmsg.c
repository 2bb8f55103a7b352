/* mlmsg: load a message file for the milter load generator, and write it back with the
 * header fields a filter added (see mlmsg.h).
 *
 * RFC 5322 section 2.2: a field is "name:value"; lines starting with WSP continue the
 * previous field. Postfix passes a folded value to milters with bare LF between its lines
 * (doc/protocols.md, "Header fields as Postfix passes them") and the body with CRLF; this module
 * produces exactly that. Added fields are written as Postfix does: "name: value" (or "name:value"
 * when the filter negotiated SMFIP_HDR_LEADSPC), each LF in the value becoming CRLF. Threads: the
 * loaded message is read-only. Errors are returned; nothing logs.
 */
#include "mlmsg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "buf.h"
#include "xalloc.h"

static void mlmsg_add_field(struct mlmsg *m, const char *line, size_t len, const char *colon)
{
	m->hdr = xreallocarray(m->hdr, m->nhdr + 1, sizeof(*m->hdr));
	m->hdr[m->nhdr].name = xstrndup(line, (size_t)(colon - line));
	m->hdr[m->nhdr].value = xstrndup(colon + 1, len - (size_t)(colon - line) - 1);
	m->nhdr++;
}

static void mlmsg_continue_field(struct mlmsg *m, const char *line, size_t len)
{
	struct mlmsg_hdr *h = &m->hdr[m->nhdr - 1];
	size_t old = strlen(h->value);

	h->value = xrealloc(h->value, old + len + 2);
	h->value[old] = '\n';
	memcpy(h->value + old + 1, line, len);
	h->value[old + 1 + len] = '\0';
}

struct mlmsg *mlmsg_load(const char *path)
{
	struct mlmsg *m;
	struct buf body;
	char *raw, *p, *end, *nl;
	size_t rawlen, len;
	bool in_body = false;
	const char *colon;

	raw = bench_read_file(path, &rawlen);
	if (!raw)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	buf_init(&body);
	end = raw + rawlen;
	for (p = raw; p < end; p = nl ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl ? nl : end) - p);
		if (len > 0 && p[len - 1] == '\r' && nl)
			len--;
		if (in_body) {
			buf_append(&body, p, len);
			if (nl)
				buf_append(&body, "\r\n", 2);
			continue;
		}
		if (len == 0) {
			in_body = true;
			continue;
		}
		if ((p[0] == ' ' || p[0] == '\t') && m->nhdr > 0) {
			mlmsg_continue_field(m, p, len);
			continue;
		}
		colon = memchr(p, ':', len);
		if (!colon || colon == p)
			goto invalid;
		mlmsg_add_field(m, p, len, colon);
	}
	if (m->nhdr == 0)
		goto invalid;
	m->body_len = body.len;
	m->body = buf_steal(&body, NULL);
	if (!m->body)
		m->body = xstrdup("");
	free(raw);
	return m;
invalid:
	buf_fini(&body);
	free(raw);
	mlmsg_free(m);
	errno = EINVAL;
	return NULL;
}

void mlmsg_free(struct mlmsg *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nhdr; i++) {
		free(m->hdr[i].name);
		free(m->hdr[i].value);
	}
	free(m->hdr);
	free(m->body);
	free(m);
}

static void mlmsg_put_crlf(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			buf_putc(out, '\r');
		buf_putc(out, *s);
	}
	buf_append(out, "\r\n", 2);
}

static void mlmsg_put_added(struct buf *out, const struct mlmsg_add *a, bool leadspc)
{
	buf_puts(out, a->name);
	buf_puts(out, leadspc ? ":" : ": ");
	mlmsg_put_crlf(out, a->value);
}

int mlmsg_write_modified(const struct mlmsg *m, const struct mlmsg_add *adds, size_t nadds,
                         bool leadspc, const char *path)
{
	const struct mlmsg_add **slot; /* what goes before original field i (nhdr + 1 slots) */
	size_t *nslot, i, j, total;
	struct buf out;
	FILE *f;
	int rc = 0;

	total = m->nhdr + 1;
	slot = xcalloc(total * (nadds + 1), sizeof(*slot));
	nslot = xcalloc(total, sizeof(*nslot));
	for (i = 0; i < nadds; i++) {
		j = adds[i].insert ? adds[i].index : m->nhdr;
		if (j > m->nhdr)
			j = m->nhdr;
		/* a later 'i' at the same index goes above the earlier one */
		if (adds[i].insert) {
			memmove(&slot[j * (nadds + 1) + 1], &slot[j * (nadds + 1)],
			        nslot[j] * sizeof(*slot));
			slot[j * (nadds + 1)] = &adds[i];
		} else {
			slot[j * (nadds + 1) + nslot[j]] = &adds[i];
		}
		nslot[j]++;
	}
	buf_init(&out);
	for (i = 0; i < total; i++) {
		for (j = 0; j < nslot[i]; j++)
			mlmsg_put_added(&out, slot[i * (nadds + 1) + j], leadspc);
		if (i < m->nhdr) {
			buf_puts(&out, m->hdr[i].name);
			buf_putc(&out, ':');
			mlmsg_put_crlf(&out, m->hdr[i].value);
		}
	}
	buf_append(&out, "\r\n", 2);
	buf_append(&out, m->body, m->body_len);
	f = fopen(path, "w");
	if (!f || fwrite(out.data, 1, out.len, f) != out.len)
		rc = -errno;
	if (f && fclose(f) != 0 && rc == 0)
		rc = -errno;
	buf_fini(&out);
	free(slot);
	free(nslot);
	return rc;
}
