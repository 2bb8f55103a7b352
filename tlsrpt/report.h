/* report: RFC 8460 reports built from the counters in the store (aggregate.h's keys), one per
 * policy domain and UTC day, and their gzip form and file name (RFC 8460 sections 4 and 5).
 * No network: delivery is elsewhere.
 */
#ifndef POSTWARDEN_TLSRPT_REPORT_H
#define POSTWARDEN_TLSRPT_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct store;

struct tlsrpt_report_meta {
	const char *organization_name;
	const char *contact_info; /* an address; its domain is the submitter */
};

/* policyd-mtasts' failed policy fetches: <prefix><day>:<domain>:<result-type> = count
 * (doc/store-schema.md). A report includes them as failed sessions of an sts policy. */
#define TLSRPT_MTASTS_FAIL_PREFIX "pw:mtasts:fail:"

/* tlsrpt_report_domains() - the policy domains with counters on @day, or with failed policy
 * fetches recorded by policyd-mtasts, sorted, unique, into
 * *@out (NULL-terminated; free with tlsrpt_report_domains_free()), *@n their count.
 * Return 0 or -errno. */
int tlsrpt_report_domains(struct store *st, const char *day, char ***out, size_t *n);
void tlsrpt_report_domains_free(char **d);

/**
 * tlsrpt_report_id() - the report-id of @domain's report for @day: made once
 * ("<day>T00:00:00Z_<domain>_<16 hex>") and kept in the store, so a retry sends the same id.
 * @id: receives it (at least 320 bytes). @make: false when nothing may be written (dry
 * run: a new id is made but not kept). Return 0 or -errno.
 */
int tlsrpt_report_id(struct store *st, const char *day, const char *domain, bool make, char *id,
                     size_t idsz);

/**
 * tlsrpt_report_build() - the RFC 8460 report for @domain on @day from the store.
 * Return: 0 with *@out set (caller json_decref()s), 1 when there is nothing to report, or
 * -errno with a line in @err.
 */
int tlsrpt_report_build(struct store *st, const char *day, const char *domain, const char *id,
                        const struct tlsrpt_report_meta *meta, json_t **out, struct buf *err);

/* tlsrpt_report_filename() - "<submitter>!<domain>!<begin>!<end>!<hex>.json.gz": the
 * submitter is contact_info's domain, begin and end the day's first and last second (Unix
 * time), <hex> 16 hex digits of a hash of the report-id (RFC 8460 5.3: letters and digits). */
void tlsrpt_report_filename(const struct tlsrpt_report_meta *meta, const char *domain,
                            const char *day, const char *id, char *out, size_t outsz);

/* tlsrpt_report_gzip() - @json (its compact text) gzip-compressed into @out. Return 0 or -errno. */
int tlsrpt_report_gzip(const json_t *report, struct buf *out);

/* tlsrpt_day_bounds() - Unix times of @day's first and last second (UTC). Return 0 or -EINVAL. */
int tlsrpt_day_bounds(const char *day, long long *begin, long long *end);

#endif
