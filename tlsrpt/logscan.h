/* logscan: RFC 8460 session outcomes from Postfix 3.7 mail log lines (the Postfix Debian 12
 * ships, which has no libtlsrpt). Fed one line at a time; emits one struct tlsrpt_event per
 * TLS session attempt once the session's recipient domain is known. Pure: no I/O, no clock,
 * no logging. Not thread safe; one object per log stream. doc/protocols.md, "Postfix 3.7
 * smtp TLS log lines", lists the lines understood and the decisions taken.
 */
#ifndef POSTWARDEN_TLSRPT_LOGSCAN_H
#define POSTWARDEN_TLSRPT_LOGSCAN_H

#include <stddef.h>

#include "event.h"
#include "logtime.h"

#define LOGSCAN_PIDS_MAX 4096     /* smtp processes tracked at once; the oldest is evicted */
#define LOGSCAN_SESSIONS_MAX 8    /* sessions of one process waiting for their domain */
#define LOGSCAN_STALE_SECONDS 900 /* a session whose to= line has not come by then is dropped */

struct logscan;

/* logscan_emit_fn() - receives each event; @ev and its strings live until it returns. */
typedef void (*logscan_emit_fn)(const struct tlsrpt_event *ev, void *arg);

/* logscan_policy_fn() - the policy a session to @domain (lower case) was judged under;
 * @mx_host: the MX host the session reached as logged, or NULL (none was reached).
 * @p arrives as TLSRPT_POLICY_NONE with no strings; the callee may set type, n_strings,
 * strings, n_mx and mx (pointers it owns, valid until the emit callback returns). Leave
 * success and details alone: logscan fills them. A session the log shows to be DANE (a
 * DANE TLSA mismatch, dane-required) that the callee left TLSRPT_POLICY_NONE is reported
 * as a tlsa policy without strings. */
typedef void (*logscan_policy_fn)(const char *domain, const char *mx_host, struct tlsrpt_policy *p,
                                  void *arg);

struct logscan_stats {
	unsigned long long lines;      /* every line passed in */
	unsigned long long smtp_lines; /* lines of a program named .../smtp or .../tlsproxy */
	unsigned long long events;     /* events emitted */
	unsigned long long malformed;  /* smtp lines of a known kind that did not parse */
	unsigned long long dropped;    /* sessions whose domain never came (stale, evicted, EOF) */
};

/**
 * logscan_new() - a parser for one log stream.
 * @ref_time: Unix time that dates syslog lines (which carry no year): the log file's
 *            mtime, or now when following; a date later than it (by more than
 *            LOGTIME_YEAR_SLACK) is taken from the year before. Local times are converted
 *            to UTC with the process's time zone (TZ).
 * @sending_ip: the sending-mta-ip to put in failure details, or NULL (copied).
 * @emit: called once per event, in the order the sessions are resolved.
 *
 * Return: the parser (free with logscan_free()), or NULL with errno set.
 */
struct logscan *logscan_new(long long ref_time, const char *sending_ip, logscan_emit_fn emit,
                            void *arg);
/* logscan_set_policy() - ask @fn for each event's policy (default: none found). */
void logscan_set_policy(struct logscan *ls, logscan_policy_fn fn, void *arg);
/* logscan_set_ref_time() - a new reference time (a follower calls it with now). */
void logscan_set_ref_time(struct logscan *ls, long long ref_time);

/**
 * logscan_line() - feed one log line (without its newline; need not be NUL-terminated).
 *
 * Return: 1 a line that fed the session state, 0 a line skipped (most of a mail log),
 * -EINVAL an smtp line of a known kind that did not parse (counted, never fatal).
 */
int logscan_line(struct logscan *ls, const char *line, size_t len);

/* logscan_finish() - end of input: sessions still waiting for a domain are dropped (and
 * counted); the parser can be fed again afterwards. */
void logscan_finish(struct logscan *ls);
void logscan_free(struct logscan *ls);
void logscan_stats(const struct logscan *ls, struct logscan_stats *st);

#endif
