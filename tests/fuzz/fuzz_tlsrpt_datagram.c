/* libFuzzer harness for tlsrpt/datagram. Input: one datagram. A datagram that parses must
 * give an event within its limits (every string NUL-terminated inside the scratch, the
 * domains lower case, only known types and codes); written back as JSON and parsed again
 * it must give the same event. A datagram that does not parse must leave exactly one line
 * of error text; one that does, none. Parsing twice gives the same answer. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "datagram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check_str(const struct tlsrpt_datagram_buf *b, const char *s)
{
	if (!s)
		return;
	if (s < b->data || s >= b->data + b->cap)
		abort();
	if (!memchr(s, '\0', (size_t)(b->data + b->cap - s)))
		abort();
}

static void fz_check_domain(const struct tlsrpt_datagram_buf *b, const char *d)
{
	fz_check_str(b, d);
	size_t n = strlen(d);
	if (n == 0 || n > TLSRPT_DOMAIN_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if (d[i] >= 'A' && d[i] <= 'Z')
			abort();
}

static void fz_check(const struct tlsrpt_datagram_buf *b, const struct tlsrpt_event *ev)
{
	fz_check_domain(b, ev->domain);
	fz_check_str(b, ev->tlsrpt);
	if (ev->n_policies < 1 || ev->n_policies > TLSRPT_POLICIES_MAX)
		abort();
	for (size_t i = 0; i < ev->n_policies; i++) {
		const struct tlsrpt_policy *p = &ev->policies[i];
		if (!tlsrpt_policy_type_name(p->type))
			abort();
		if (p->domain)
			fz_check_domain(b, p->domain);
		if (p->n_strings > TLSRPT_POLICY_STRINGS_MAX || p->n_mx > TLSRPT_MX_HOSTS_MAX ||
		    p->n_details > TLSRPT_DETAILS_MAX)
			abort();
		for (size_t k = 0; k < p->n_strings; k++)
			fz_check_str(b, p->strings[k]);
		for (size_t k = 0; k < p->n_mx; k++)
			fz_check_str(b, p->mx[k]);
		for (size_t k = 0; k < p->n_details; k++) {
			const struct tlsrpt_detail *d = &p->details[k];
			if (!tlsrpt_result_name(d->result))
				abort();
			fz_check_str(b, d->sending_ip);
			fz_check_str(b, d->mx_host);
			fz_check_str(b, d->mx_helo);
			fz_check_str(b, d->receiving_ip);
			fz_check_str(b, d->reason);
			fz_check_str(b, d->additional);
		}
	}
}

/* fz_json_str() - @s as a JSON string (control bytes as \u00XX). */
static void fz_json_str(struct buf *o, const char *s)
{
	buf_putc(o, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_printf(o, "\\%c", c);
		else if (c < 0x20)
			buf_printf(o, "\\u%04x", c);
		else
			buf_putc(o, (char)c);
	}
	buf_putc(o, '"');
}

static void fz_member(struct buf *o, const char *key, const char *v)
{
	if (!v)
		return;
	buf_printf(o, ",\"%s\":", key);
	fz_json_str(o, v);
}

static void fz_write(struct buf *o, const struct tlsrpt_event *ev)
{
	buf_puts(o, "{\"dpv\":\"1\",\"d\":");
	fz_json_str(o, ev->domain);
	fz_member(o, "pr", ev->tlsrpt);
	buf_puts(o, ",\"policies\":[");
	for (size_t i = 0; i < ev->n_policies; i++) {
		const struct tlsrpt_policy *p = &ev->policies[i];
		buf_printf(o, "%s{\"policy-type\":%d", i ? "," : "", (int)p->type);
		fz_member(o, "policy-domain", p->domain);
		buf_puts(o, ",\"policy-string\":[");
		for (size_t k = 0; k < p->n_strings; k++) {
			buf_puts(o, k ? "," : "");
			fz_json_str(o, p->strings[k]);
		}
		buf_puts(o, "],\"mx-host\":[");
		for (size_t k = 0; k < p->n_mx; k++) {
			buf_puts(o, k ? "," : "");
			fz_json_str(o, p->mx[k]);
		}
		buf_puts(o, "],\"failure-details\":[");
		for (size_t k = 0; k < p->n_details; k++) {
			const struct tlsrpt_detail *d = &p->details[k];
			buf_printf(o, "%s{\"c\":%d", k ? "," : "", (int)d->result);
			fz_member(o, "s", d->sending_ip);
			fz_member(o, "n", d->mx_host);
			fz_member(o, "h", d->mx_helo);
			fz_member(o, "r", d->receiving_ip);
			fz_member(o, "a", d->additional);
			fz_member(o, "f", d->reason);
			buf_putc(o, '}');
		}
		buf_printf(o, "],\"t\":%zu,\"f\":%d}", p->n_details, p->success ? 0 : 1);
	}
	buf_puts(o, "]}");
}

static void fz_same_str(const char *a, const char *b)
{
	if (!a != !b || (a && strcmp(a, b) != 0))
		abort();
}

static void fz_same(const struct tlsrpt_event *a, const struct tlsrpt_event *b)
{
	fz_same_str(a->domain, b->domain);
	fz_same_str(a->tlsrpt, b->tlsrpt);
	if (a->time != b->time || a->n_policies != b->n_policies)
		abort();
	for (size_t i = 0; i < a->n_policies; i++) {
		const struct tlsrpt_policy *p = &a->policies[i], *q = &b->policies[i];
		if (p->type != q->type || p->success != q->success ||
		    p->n_strings != q->n_strings || p->n_mx != q->n_mx ||
		    p->n_details != q->n_details)
			abort();
		fz_same_str(p->domain, q->domain);
		for (size_t k = 0; k < p->n_strings; k++)
			fz_same_str(p->strings[k], q->strings[k]);
		for (size_t k = 0; k < p->n_mx; k++)
			fz_same_str(p->mx[k], q->mx[k]);
		for (size_t k = 0; k < p->n_details; k++) {
			const struct tlsrpt_detail *d = &p->details[k], *e = &q->details[k];
			if (d->result != e->result)
				abort();
			fz_same_str(d->sending_ip, e->sending_ip);
			fz_same_str(d->mx_host, e->mx_host);
			fz_same_str(d->mx_helo, e->mx_helo);
			fz_same_str(d->receiving_ip, e->receiving_ip);
			fz_same_str(d->reason, e->reason);
			fz_same_str(d->additional, e->additional);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tlsrpt_event ev, again;
	struct tlsrpt_datagram_buf b1, b2;
	struct buf err, out;

	/* an exact-size copy, so that a read past the end is caught */
	char *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	tlsrpt_datagram_buf_init(&b1);
	tlsrpt_datagram_buf_init(&b2);
	buf_init(&err);
	buf_init(&out);
	int r = tlsrpt_datagram_parse(p, size, 42, &b1, &ev, &err);
	if (r != 0 && r != -EINVAL)
		abort();
	if (r == 0 ? err.len != 0 : err.len == 0 || memchr(err.data, '\n', err.len) != NULL)
		abort();
	if (tlsrpt_datagram_parse(p, size, 42, &b2, &again, NULL) != r)
		abort();
	if (r == 0) {
		fz_check(&b1, &ev);
		fz_same(&ev, &again);
		fz_write(&out, &ev);
		if (tlsrpt_datagram_parse(out.data, out.len, 42, &b2, &again, NULL) != 0)
			abort();
		fz_check(&b2, &again);
		fz_same(&ev, &again);
	}
	buf_fini(&out);
	buf_fini(&err);
	tlsrpt_datagram_buf_fini(&b1);
	tlsrpt_datagram_buf_fini(&b2);
	free(p);
	return 0;
}
