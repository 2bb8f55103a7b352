/* answer: what policyd-mtasts writes after "OK " for smtp_tls_policy_maps (postconf(5),
 * TLS policy table; doc/protocols.md, "MTA-STS"), and which request keys are domains.
 *
 * Postfix splits a policy answer at spaces and commas; "{ name = value }" protects
 * whitespace in a value (Postfix strips the whitespace after "{", around "=" and before
 * "}"). Braces must balance inside, and a value cannot hold an unbalanced "{" or "}": a
 * policy line containing either brace is left out of the policy_string list rather than
 * altered. Every other value written here (patterns, the domain) is LDH text.
 *
 * Only enforce policies get an answer; the caller answers NOTFOUND for testing and none.
 * (In the TLSRPT form a testing policy could be answered "may policy_type=sts ..." so that
 * Postfix >= 3.10 reports on it; not done.)
 *
 * Pure: no I/O, no globals; thread safe.
 */
#include <errno.h>
#include <string.h>

#include "answer.h"
#include "socketmap.h"

#define STS_OK_PREFIX 3 /* "OK " */

static bool ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

int sts_format_from_name(const char *name, size_t len, enum sts_format *out)
{
	if (len == 7 && memcmp(name, "postfix", 7) == 0) {
		*out = STS_FORMAT_POSTFIX;
		return 0;
	}
	if (len == 14 && memcmp(name, "postfix-tlsrpt", 14) == 0) {
		*out = STS_FORMAT_TLSRPT;
		return 0;
	}
	return -EINVAL;
}

const char *sts_format_name(enum sts_format fmt)
{
	return fmt == STS_FORMAT_TLSRPT ? "postfix-tlsrpt" : "postfix";
}

static bool plain_domain(const char *d)
{
	if (!d || !*d)
		return false;
	for (; *d; d++)
		if (!ldh((unsigned char)*d) && *d != '.')
			return false;
	return true;
}

/* One policy line as "{ policy_string = <line> }"; lines with a brace are skipped. */
static void put_policy_string(struct buf *out, const char *line, size_t n)
{
	if (n == 0 || memchr(line, '{', n) || memchr(line, '}', n))
		return;
	buf_puts(out, " { policy_string = ");
	buf_append(out, line, n);
	buf_puts(out, " }");
}

static void put_policy_strings(struct buf *out, const struct sts_policy *p)
{
	if (p->text) {
		const char *s = p->text, *end = p->text + p->text_len;
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
			put_policy_string(out, s, n);
			s += n + 1;
		}
		return;
	}
	/* a policy built without its text (e.g. restored from fields): its canonical lines */
	struct buf line;
	buf_init(&line);
	buf_puts(&line, "version: STSv1");
	put_policy_string(out, line.data, line.len);
	buf_reset(&line);
	buf_printf(&line, "mode: %s", sts_mode_name(p->mode));
	put_policy_string(out, line.data, line.len);
	for (size_t i = 0; i < p->n_mx; i++) {
		buf_reset(&line);
		buf_printf(&line, "mx: %s", p->mx[i]);
		put_policy_string(out, line.data, line.len);
	}
	buf_reset(&line);
	buf_printf(&line, "max_age: %u", (unsigned)p->max_age);
	put_policy_string(out, line.data, line.len);
	buf_fini(&line);
}

int sts_answer_policy(struct buf *out, enum sts_format fmt, const char *domain,
                      const struct sts_policy *p)
{
	size_t start = out->len;

	if (p->mode != STS_MODE_ENFORCE || p->n_mx == 0 || p->n_mx > STS_MX_MAX ||
	    !plain_domain(domain))
		return -EINVAL;
	buf_puts(out, "secure match=");
	for (size_t i = 0; i < p->n_mx; i++) {
		const char *m = p->mx[i];
		if (i > 0)
			buf_putc(out, ':');
		buf_puts(out, m[0] == '*' && m[1] == '.' ? m + 1 : m);
	}
	buf_puts(out, " servername=hostname");
	if (fmt == STS_FORMAT_TLSRPT) {
		buf_printf(out, " policy_type=sts policy_domain=%s", domain);
		for (size_t i = 0; i < p->n_mx; i++)
			buf_printf(out, " mx_host_pattern=%s", p->mx[i]);
		put_policy_strings(out, p);
	}
	if (out->len - start > SOCKETMAP_REPLY_MAX - STS_OK_PREFIX) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return -EMSGSIZE;
	}
	return 0;
}

int sts_answer_dane(struct buf *out, enum sts_format fmt, const char *domain, bool only)
{
	buf_puts(out, only ? "dane-only" : "dane");
	return 0;
}

int sts_key_parse(const char *key, size_t len, char out[256])
{
	size_t label = 0, labels = 0;
	bool digits_only = true;

	if (len > 0 && key[0] == '.')
		return STS_KEY_PARENT;
	if (len > 0 && key[len - 1] == '.')
		len--;
	if (len == 0 || len > STS_NAME_MAX)
		return STS_KEY_OTHER;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)key[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63 || key[i - 1] == '-' || key[i - label] == '-')
				return STS_KEY_OTHER;
			labels++;
			label = 0;
			if (i < len) {
				out[i] = '.';
				digits_only = true;
			}
			continue;
		}
		if (!ldh(c))
			return STS_KEY_OTHER;
		if (c < '0' || c > '9')
			digits_only = false;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		label++;
	}
	if (labels < 2 || digits_only)
		return STS_KEY_OTHER;
	out[len] = '\0';
	return STS_KEY_DOMAIN;
}
