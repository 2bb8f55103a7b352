/* mail: the report mail (RFC 8460 section 5.3.1): From:, To:, Date:, Message-ID:,
 * "Subject: Report Domain: <d> Submitter: <s> Report-ID: <<id>@<s>>" (a msg-id needs
 * the "@"), TLS-Report-Domain and TLS-Report-Submitter (MUST, section 5.3.1), TLS-Required: No
 * (RFC 8689 section 5: a report about TLS failures must not itself need TLS),
 * Auto-Submitted: auto-generated (RFC 3834), then multipart/report; report-type="tlsrpt"
 * with a text/plain part and the application/tlsrpt+gzip part, base64, with the section 5.1
 * file name as filename. Header fields are checked (printable ASCII, not empty), long ones
 * folded. Pure and thread safe.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "mail.h"

void tlsrpt_base64(const void *p, size_t n, struct buf *out)
{
	static const char tab[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		char q[4] = { tab[(v >> 18) & 63], tab[(v >> 12) & 63],
			      i + 1 < n ? tab[(v >> 6) & 63] : '=', i + 2 < n ? tab[v & 63] : '=' };
		buf_append(out, q, 4);
		col += 4;
		if (col == 76) {
			buf_putc(out, '\n');
			col = 0;
		}
	}
	if (col)
		buf_putc(out, '\n');
}

static bool mail_field_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* RFC 5322 date-time in UTC, whatever the locale. */
static void mail_date(long long now, struct buf *out)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\n", wd[tm.tm_wday], tm.tm_mday,
	           mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int tlsrpt_mail_build(const struct tlsrpt_mail *m, struct buf *out, struct buf *err)
{
	const struct {
		const char *name, *v;
	} f[] = { { "from", m->from },           { "to", m->to },
		  { "domain", m->domain },       { "submitter", m->submitter },
		  { "report-id", m->report_id }, { "day", m->day },
		  { "filename", m->filename },   { "unique", m->unique } };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!mail_field_ok(f[i].v) || strchr(f[i].v, '"')) {
			buf_add_line(err, "report mail: %s is empty or not printable ASCII",
			             f[i].name);
			return -EINVAL;
		}
	const char *org =
	        m->organization && mail_field_ok(m->organization) ? m->organization : m->submitter;
	buf_printf(out, "From: %s\nTo: %s\n", m->from, m->to);
	buf_printf(out, "Subject: Report Domain: %s Submitter: %s\n Report-ID: <%s@%s>\n",
	           m->domain, m->submitter, m->report_id, m->submitter);
	mail_date(m->now, out);
	buf_printf(out, "Message-ID: <tlsrpt.%s@%s>\n", m->unique, m->submitter);
	buf_printf(out, "TLS-Report-Domain: %s\nTLS-Report-Submitter: %s\nTLS-Required: No\n",
	           m->domain, m->submitter);
	buf_puts(out, "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n");
	buf_printf(out,
	           "Content-Type: multipart/report; report-type=\"tlsrpt\";\n"
	           " boundary=\"tlsrpt-%s\"\n\n",
	           m->unique);
	buf_puts(out, "This is a MIME-encapsulated message.\n\n");
	buf_printf(out,
	           "--tlsrpt-%s\nContent-Type: text/plain; charset=\"us-ascii\"\n"
	           "Content-Transfer-Encoding: 7bit\n\n",
	           m->unique);
	buf_printf(out,
	           "This is an aggregate TLS report (RFC 8460) from %s\n"
	           "for mail sent to %s on %s (UTC).\n"
	           "The report is attached, gzip-compressed: %s\n\n",
	           org, m->domain, m->day, m->filename);
	buf_printf(out,
	           "--tlsrpt-%s\nContent-Type: application/tlsrpt+gzip;\n name=\"%s\"\n"
	           "Content-Transfer-Encoding: base64\n"
	           "Content-Disposition: attachment;\n filename=\"%s\"\n\n",
	           m->unique, m->filename, m->filename);
	tlsrpt_base64(m->gz, m->gz_len, out);
	buf_printf(out, "\n--tlsrpt-%s--\n", m->unique);
	return 0;
}
