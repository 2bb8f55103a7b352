/* mail: the report mail of RFC 8460 section 5.3.1 (multipart/report, report-type=tlsrpt, the
 * gzip report base64-encoded as an attachment). Pure: the text only; sending is deliver.c.
 */
#ifndef POSTWARDEN_TLSRPT_MAIL_H
#define POSTWARDEN_TLSRPT_MAIL_H

#include <stddef.h>

#include "buf.h"

struct tlsrpt_mail {
	const char *from;         /* report_from: From: */
	const char *to;           /* the rua address: To: */
	const char *domain;       /* the policy domain */
	const char *submitter;    /* contact_info's domain */
	const char *organization; /* organization_name, for the text part; may be "" */
	const char *report_id;
	const char *day;      /* YYYY-MM-DD, for the text part */
	const char *filename; /* tlsrpt_report_filename() */
	const void *gz;       /* the gzip report */
	size_t gz_len;
	long long now;      /* Date: (Unix time) */
	const char *unique; /* a few letters and digits for the boundary and Message-ID */
};

/**
 * tlsrpt_mail_build() - the message, LF line ends (sendmail -i takes it as is), into @out.
 * Return: 0, or -EINVAL with a line in @err when a field could not go in a header as is
 * (control characters, or an empty one).
 */
int tlsrpt_mail_build(const struct tlsrpt_mail *m, struct buf *out, struct buf *err);

/* tlsrpt_base64() - @n bytes of @p in base64, lines of 76 characters ending in LF. */
void tlsrpt_base64(const void *p, size_t n, struct buf *out);

#endif
