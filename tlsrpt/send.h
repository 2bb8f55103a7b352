/* send: one day's reports sent (tlsrpt report without --dry-run): when a day may go out,
 * and per policy domain: already sent?, the _smtp._tls record, the report built and handed
 * to each endpoint, the domain marked sent.
 */
#ifndef POSTWARDEN_TLSRPT_SEND_H
#define POSTWARDEN_TLSRPT_SEND_H

#include <stdatomic.h>
#include <stdbool.h>

#include "buf.h"
#include "report.h"

struct cfg;
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

/* Outcomes of tlsrpt_send_run() before any domain is tried (negative values are -errno). */
enum {
	TLSRPT_RUN_DONE = 0,    /* every domain sent, already sent or not wanting reports */
	TLSRPT_RUN_FAILED = 1,  /* at least one domain not delivered (retry later) */
	TLSRPT_RUN_OPEN = 2,    /* the day is not over for TLSRPT_SEND_GRACE_S */
	TLSRPT_RUN_LOCKED = 3,  /* another host holds the day's lock */
	TLSRPT_RUN_NO_DKIM = 4, /* no active DKIM selector for report_from's domain */
	TLSRPT_RUN_CONFIG = 5,  /* report_from or contact_info not set */
};

/* pw:tlsrpt:run:<day>: what the last run of a whole day did (tlsrpt status). */
#define TLSRPT_RUN_PREFIX "pw:tlsrpt:run:"
#define TLSRPT_RUN_TTL_S (40 * 86400)

/* Called once per domain tried, with tlsrpt_send_domain()'s return and line. */
typedef void (*tlsrpt_send_cb)(const char *domain, int rc, const char *what, void *arg);

/**
 * tlsrpt_send_run() - send @day's reports (all its policy domains, or @only) with the
 * settings of @cfg (tlsrpt.conf(5)): the day must be over, report_from and contact_info set,
 * an active DKIM selector of report_from's domain in the store (tlsrpt_dkim_selector()); the
 * day's lock pw:tlsrpt:lock:report:<day> is taken for this host and released at the end.
 * @stop: when set to true (another thread), no further domain is started; may be NULL
 * @sent: receives the number of reports delivered; may be NULL
 * Return: TLSRPT_RUN_* (before anything is tried, a line in @err says why) or -errno (the
 * store, the resolver or the HTTPS client failed) with a line in @err.
 */
int tlsrpt_send_run(struct store *st, const struct cfg *cfg, const char *day, const char *only,
                    long long now, const atomic_bool *stop, tlsrpt_send_cb cb, void *arg,
                    unsigned *sent, struct buf *err);

#endif
