/* dkim_testmsg: see dkim_testmsg.h. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_testmsg.h"
#include "verify.h"

static char vec_dir[] = "/tmp/dkim_vectors.XXXXXX";
static int vec_state; /* 0 not tried, 1 made, -1 unavailable */

const char *testmsg_vectors(char *zone)
{
	if (vec_state == 0) {
		vec_state = -1;
		const char *src = getenv("POSTWARDEN_SOURCE");
		if (src &&
		    system("/usr/bin/python3 -c 'import dkim, nacl, authres' 2>/dev/null") == 0 &&
		    mkdtemp(vec_dir)) {
			char cmd[1024];
			snprintf(cmd, sizeof(cmd),
			         "/usr/bin/python3 %s/tests/unit/dkim_vectors.py %s", src, vec_dir);
			ck_assert_int_eq(system(cmd), 0);
			vec_state = 1;
		}
	}
	if (vec_state != 1) {
		printf("SKIP: /usr/bin/python3 with dkim (dkimpy), nacl and authres is missing\n");
		return NULL;
	}
	snprintf(zone, 512, "%s/zone", vec_dir);
	return vec_dir;
}

struct auth *testmsg_auth(const struct testmsg *m, bool sealing)
{
	struct auth *a = auth_new();
	for (size_t i = 0; i < m->n; i++)
		ck_assert_int_eq(auth_header(a, m->name[i], m->value[i]), 0);
	auth_headers_done(a, sealing);
	for (size_t at = 0; at < m->body_len; at += 7)
		ck_assert_int_eq(
		        auth_body(a, m->body + at, m->body_len - at < 7 ? m->body_len - at : 7), 0);
	return a;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	struct buf b;
	buf_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b, len);
}

void testmsg_load(struct testmsg *m, const char *dir, const char *name)
{
	memset(m, 0, sizeof(*m));
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.eml", dir, name);
	m->raw = slurp(path, &m->raw_len);
	char *p = m->raw;
	while (*p && !(p[0] == '\r' && p[1] == '\n')) {
		char *colon = strchr(p, ':');
		ck_assert_ptr_nonnull(colon);
		char *end = strstr(colon, "\r\n");
		while (end && (end[2] == ' ' || end[2] == '\t'))
			end = strstr(end + 2, "\r\n");
		ck_assert_ptr_nonnull(end);
		ck_assert_uint_lt(m->n, 256);
		m->name[m->n] = strndup(p, (size_t)(colon - p));
		m->value[m->n] = strndup(colon + 1, (size_t)(end - colon - 1));
		m->n++;
		p = end + 2;
	}
	m->body = *p ? p + 2 : p; /* no empty line after the header: no body */
	m->body_len = m->raw_len - (size_t)(m->body - m->raw);
}

void testmsg_free(struct testmsg *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->name[i]);
		free(m->value[i]);
	}
	free(m->raw);
}

const char *testmsg_case(const char *dir, const char *name)
{
	static char line[512];
	char path[512];
	snprintf(path, sizeof(path), "%s/cases", dir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = strlen(name);
	const char *found = "";
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, name, n) == 0 && line[n] == ' ') {
			found = line + n + 1;
			break;
		}
	}
	fclose(f);
	return found;
}

int testmsg_lookup(void *arg, const char *name, struct buf *txt, EVP_PKEY **parsed)
{
	(void)parsed;
	if (strncmp(name, "tempfail", 8) == 0)
		return -EAGAIN;
	FILE *f = fopen(arg, "r");
	ck_assert_ptr_nonnull(f);
	char line[4096];
	size_t n = strlen(name);
	int r = VERIFY_KEY_NONE;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, name, n) == 0 && line[n] == ' ') {
			buf_puts(txt, line + n + 1);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}
