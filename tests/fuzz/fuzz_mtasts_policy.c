/* libFuzzer harness for policyd-mtasts/policy.c and answer.c: the input is a policy body.
 * What parses must hold the parser's promises (at most STS_MX_MAX lower-case patterns,
 * text that parses again to the same policy, a deep copy equal to it, wildcard patterns
 * that match one more label); an enforce policy is then written in both answer formats,
 * which must fit the socketmap limit or say -EMSGSIZE, keep braces balanced and hold no
 * line breaks. Errors must come with one or more error lines. The input is also tried as
 * a Content-Type. Failures abort. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "policy.h"
#include "socketmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_policy(const struct sts_policy *a, const struct sts_policy *b)
{
	if (a->mode != b->mode || a->max_age != b->max_age || a->n_mx != b->n_mx ||
	    a->text_len != b->text_len || memcmp(a->text, b->text, a->text_len) != 0)
		abort();
	for (size_t i = 0; i < a->n_mx; i++)
		if (strcmp(a->mx[i], b->mx[i]) != 0)
			abort();
}

static void check_answer(const struct sts_policy *p, enum sts_format fmt)
{
	struct buf out;
	int depth = 0;

	buf_init(&out);
	buf_puts(&out, "OK ");
	int rc = sts_answer_policy(&out, fmt, "example.com", p);
	if (rc == -EMSGSIZE) {
		if (out.len != 3)
			abort();
		buf_fini(&out);
		return;
	}
	if (rc != 0 || out.len > SOCKETMAP_REPLY_MAX || strncmp(out.data, "OK secure match=", 16))
		abort();
	for (size_t i = 0; i < out.len; i++) {
		char c = out.data[i];
		if (c == '\n' || c == '\r' || c == '\0')
			abort();
		depth += c == '{' ? 1 : c == '}' ? -1 : 0;
		if (depth < 0 || depth > 1)
			abort();
	}
	if (depth != 0)
		abort();
	buf_fini(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_policy p, q, r;
	struct buf err;

	buf_init(&err);
	int rc = sts_policy_parse((const char *)data, size, &p, &err);
	if (rc != 0) {
		if (rc != -EINVAL || err.len == 0 || err.data[err.len - 1] != '\n' || p.n_mx ||
		    p.text)
			abort();
		goto ct;
	}
	if (err.len != 0 || p.n_mx > STS_MX_MAX || !p.text || strlen(p.text) != p.text_len ||
	    p.max_age > STS_MAX_AGE_MAX || (p.mode != STS_MODE_NONE && p.n_mx == 0))
		abort();
	for (size_t i = 0; i < p.n_mx; i++) {
		const char *m = p.mx[i];
		for (const char *c = m; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				abort();
		if (m[0] == '*') {
			char host[300] = "x";
			strcat(host, m + 1);
			if (!sts_mx_match(m, host) || sts_mx_match(m, m + 2))
				abort();
		} else if (!sts_mx_match(m, m)) {
			abort();
		}
	}
	if (sts_policy_parse(p.text, p.text_len, &r, &err) != 0)
		abort();
	same_policy(&p, &r);
	sts_policy_fini(&r);
	sts_policy_copy(&q, &p);
	same_policy(&p, &q);
	sts_policy_fini(&q);
	if (p.mode == STS_MODE_ENFORCE) {
		check_answer(&p, STS_FORMAT_POSTFIX);
		check_answer(&p, STS_FORMAT_TLSRPT);
		/* the same answer without the text: canonical lines */
		char *text = p.text;
		p.text = NULL;
		check_answer(&p, STS_FORMAT_TLSRPT);
		p.text = text;
	}
	sts_policy_fini(&p);
ct:
	buf_fini(&err);
	char *ct = malloc(size + 1);
	if (!ct)
		abort();
	memcpy(ct, data, size);
	ct[size] = '\0';
	(void)sts_content_type_ok(ct);
	free(ct);
	return 0;
}
