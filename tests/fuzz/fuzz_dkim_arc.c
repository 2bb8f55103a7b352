/* libFuzzer harness for milter-dkim's verifier parsers: tag lists (tags.c),
 * signature fields (sig.c), ARC instance numbers, ARC chain collection and
 * validation and sealing (arc.c through auth.c). The input is a message: header
 * lines ("Name: value", continuation lines start with WSP), an empty line, a body.
 * Keys come from a fixed Ed25519 record for every name, so b= checks run the real
 * crypto. Invariants (abort on violation): parsed tags have valid names and no
 * repeats; stripping b= never lengthens a value; a parsed signature has d=, s=,
 * b=, and i= 1..50 for ARC; cv=none only without ARC fields; a seal is instance
 * n+1 with no CR in its values, or refused only for an ended or full chain. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth.h"
#include "keys.h"
#include "tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *fuzz_key;
static char fuzz_record[128];

static int lookup(void *arg, const char *name, struct buf *txt, EVP_PKEY **parsed)
{
	(void)arg;
	(void)parsed;
	if (name[0] == 'n')
		return VERIFY_KEY_NONE;
	buf_puts(txt, fuzz_record);
	return 0;
}

static void setup(void)
{
	if (fuzz_key)
		return;
	unsigned char seed[32] = { 1, 2, 3 };
	fuzz_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	struct buf rec;
	buf_init(&rec);
	if (!fuzz_key || keys_dns_record(fuzz_key, &rec) != 0 || rec.len >= sizeof(fuzz_record))
		abort();
	memcpy(fuzz_record, rec.data, rec.len + 1);
	buf_fini(&rec);
}

static void check_value(const char *v)
{
	struct tags t = { 0 };
	if (tags_parse(&t, v, NULL) == 0) {
		for (size_t i = 0; i < t.n; i++) {
			const char *n = t.v[i].name;
			if (!*n || strchr(n, ' ') || strchr(n, '=') || strchr(n, ';'))
				abort();
			for (size_t j = 0; j < i; j++)
				if (strcmp(t.v[j].name, n) == 0)
					abort();
		}
	}
	tags_fini(&t);
	struct buf b;
	buf_init(&b);
	tags_strip_b(v, &b);
	if (b.len > strlen(v))
		abort();
	buf_fini(&b);
	for (int k = SIG_DKIM; k <= SIG_AS; k++) {
		struct sig s;
		if (sig_parse(&s, (enum sig_kind)k, v, NULL) == 0) {
			if (!s.d || !s.s || !s.b || !*s.d || !*s.s)
				abort();
			if (k != SIG_DKIM && (s.instance < 1 || s.instance > SIG_ARC_MAX))
				abort();
		}
		sig_fini(&s);
	}
	int i = arc_aar_instance(v);
	if (i < 0 || i > SIG_ARC_MAX + 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct auth *a = auth_new();
	char *p = text, *body = NULL;
	struct buf name, value;
	buf_init(&name);
	buf_init(&value);
	while (*p) {
		char *eol = strchr(p, '\n');
		char *next = eol ? eol + 1 : p + strlen(p);
		if (eol)
			*eol = '\0';
		if (*p == '\0' || (*p == '\r' && p[1] == '\0')) {
			body = next;
			break;
		}
		if ((*p == ' ' || *p == '\t') && name.len) {
			buf_putc(&value, '\n');
			buf_puts(&value, p);
		} else if (strchr(p, ':')) {
			if (name.len) {
				check_value(buf_cstr(&value));
				auth_header(a, name.data, buf_cstr(&value));
			}
			buf_reset(&name);
			buf_reset(&value);
			char *colon = strchr(p, ':');
			buf_append(&name, p, (size_t)(colon - p));
			buf_puts(&value, colon + 1);
		}
		p = next;
	}
	if (name.len) {
		check_value(buf_cstr(&value));
		auth_header(a, name.data, buf_cstr(&value));
	}
	auth_headers_done(a, true);
	if (body)
		auth_body(a, body, strlen(body));
	struct verify_keys keys = { lookup, NULL };
	auth_run(a, &keys, 1700000000);
	const struct arc_chain *c = auth_arc(a);
	if (c->cv == SIG_CV_NONE && (c->n != 0 || c->broken))
		abort();
	struct arc_seal_params sp = { "relay.example", "s",          fuzz_key,
		                      1700000000,      "mx.example", "arc=none" };
	struct arc_new_set set;
	int r = auth_seal(a, &sp, &set, NULL);
	if (r == 0) {
		if (set.instance != c->n + 1 || strchr(set.aar, '\r') || strchr(set.ams, '\r') ||
		    strchr(set.as, '\r'))
			abort();
		arc_new_set_fini(&set);
	} else if (r == ARC_NOT_SEALED) {
		if (!c->ended && c->n < SIG_ARC_MAX)
			abort();
	} else {
		abort();
	}
	buf_fini(&name);
	buf_fini(&value);
	auth_free(a);
	free(text);
	return 0;
}
