/* send: one day's reports sent (tlsrpt report without --dry-run): when a day may go out,
 * and per policy domain: already sent?, the _smtp._tls record, the report built and handed
 * to each endpoint, the domain marked sent.
 */
#ifndef POSTWARDEN_TLSRPT_SEND_H
#define POSTWARDEN_TLSRPT_SEND_H

#include <stdbool.h>

#include "buf.h"
#include "report.h"

struct dns;
struct fetch;
struct store;

/* A day goes out this long after it ended: late datagrams (the collectors flush every 5 s)
 * and log lines written after midnight still count. */
#define TLSRPT_SEND_GRACE_S (15 * 60 + 5)
#define TLSRPT_SENT_TTL_S (40 * 24 * 3600)
#define TLSRPT_SEND_LOCK_TTL_S 3600

struct tlsrpt_sender {
	struct store *st;
	struct dns *dns;
	struct fetch *fetch;
	const struct tlsrpt_report_meta *meta;
	const char *report_from; /* an address */
	const char *sendmail;    /* program and arguments */
	int sendmail_timeout_ms;
	long long now;
};

/* Outcomes of tlsrpt_send_domain() (negative values are -errno: not delivered). */
enum {
	TLSRPT_SEND_DELIVERED = 0,  /* at least one endpoint took it; marked sent */
	TLSRPT_SEND_ALREADY = 1,    /* marked sent before: nothing done */
	TLSRPT_SEND_NOT_WANTED = 2, /* no usable TLSRPT record: nothing to send to */
	TLSRPT_SEND_EMPTY = 3,      /* no counters for the domain that day */
};

/* tlsrpt_send_day_closed() - has @day (UTC) ended at least TLSRPT_SEND_GRACE_S before @now? */
bool tlsrpt_send_day_closed(const char *day, long long now);

/**
 * tlsrpt_send_domain() - send @domain's report of @day to the endpoints its TXT record names.
 * @what: gets one line saying what happened (each endpoint and its result), whatever the
 *        outcome
 * Return: TLSRPT_SEND_* or -errno (no endpoint took it, or it could not be built, looked up,
 * or marked), with the reason in @what.
 */
int tlsrpt_send_domain(const struct tlsrpt_sender *s, const char *day, const char *domain,
                       struct buf *what);

#endif
