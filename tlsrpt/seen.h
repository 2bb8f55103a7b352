/* seen: the policy policyd-mtasts recorded for a domain on a UTC day
 * (pw:mtasts:seen:<day>:<domain>), looked up for the sessions a Postfix 3.7-3.9 log shows
 * (logscan's policy callback) and cached, since a log names the same few domains again and
 * again. The log follower (follow.c) and `ingest-log` (commands.c) use it. Not thread safe:
 * one cache per log reader.
 */
#ifndef POSTWARDEN_TLSRPT_SEEN_H
#define POSTWARDEN_TLSRPT_SEEN_H

#include <jansson.h>

#include "event.h"

#define TLSRPT_SEEN_CACHE 1024 /* day:domain records kept; when full the cache starts over */

struct store;

struct tlsrpt_seen_entry {
	char *key;   /* "<day>:<domain>" */
	json_t *rec; /* NULL: none recorded */
};

struct tlsrpt_seen {
	struct store *st; /* NULL: every session is no-policy-found */
	struct tlsrpt_seen_entry cache[TLSRPT_SEEN_CACHE];
	size_t n;
};

/* tlsrpt_seen_policy() - fill @p (as logscan_policy_fn allows) with the policy recorded for
 * @domain on the UTC day of @t: an STS policy (its lines and MX patterns), or a DANE answer
 * (type tlsa, the TLSA records of @mx_host as policy strings, none when @mx_host is NULL or
 * has none recorded; no mx-host, as Postfix 3.10 reports DANE policies); leave it
 * TLSRPT_POLICY_NONE when none was recorded. The strings live in the cache until the next
 * call or tlsrpt_seen_fini(). */
void tlsrpt_seen_policy(struct tlsrpt_seen *c, long long t, const char *domain, const char *mx_host,
                        struct tlsrpt_policy *p);
void tlsrpt_seen_fini(struct tlsrpt_seen *c);

#endif
