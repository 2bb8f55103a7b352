/* dns: lookups through libunbound, each bounded by a timeout; DNSSEC-validated when a trust
 * anchor file is given, not validated otherwise.
 *
 * One struct dns per process, shared by all threads. A lookup returns the decoded records and
 * the DNSSEC verdict (secure / insecure / bogus with the validator's reason). NXDOMAIN,
 * NODATA and bogus answers are outcomes (positive returns, with a result); SERVFAIL, timeouts
 * and broken records are failures (-errno, no result).
 */
#ifndef POSTWARDEN_DNS_H
#define POSTWARDEN_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "dns_rr.h"

struct dns;

#define DNS_TIMEOUT_MS_DEFAULT 5000

struct dns_opts {
	/* "addr[@port]" forwarders separated by spaces or commas; NULL or "" = the nameservers
	 * of /etc/resolv.conf. Either way the built-in RFC 6761 "test." zone is dropped so that
	 * *.test names are asked upstream. */
	const char *forwarder;
	/* File of DS or DNSKEY records (zone-file syntax) used as the only trust anchors, e.g.
	 * Debian's /usr/share/dns/root.key; NULL or "" = no validation at all (libunbound runs
	 * its iterator only, every answer is insecure, nothing is ever bogus). */
	const char *trust_anchor;
	int timeout_ms;    /* per lookup; <= 0 = DNS_TIMEOUT_MS_DEFAULT */
	int cache_max_ttl; /* seconds; <= 0 = libunbound's default (1 day) */
};

/* DNSSEC verdict of an answer (libunbound's secure / bogus flags). */
enum dns_sec {
	DNS_SEC_INSECURE = 0, /* not validated: not signed, no anchor covers it, or no anchor */
	DNS_SEC_SECURE,       /* validated from a trust anchor */
	DNS_SEC_BOGUS,        /* validation failed: see why_bogus */
};

/* Positive outcomes of a lookup (negative values are -errno). */
enum {
	DNS_ANSWER = 0,   /* count >= 1 records */
	DNS_NXDOMAIN = 1, /* the name does not exist; count = 0 */
	DNS_NODATA = 2,   /* the name exists without records of this type; count = 0 */
	DNS_BOGUS = 3,    /* validation failed (sec = DNS_SEC_BOGUS); count = 0 */
};

struct dns_result {
	int type;              /* the query type, DNS_TYPE_* */
	int outcome;           /* DNS_ANSWER / DNS_NXDOMAIN / DNS_NODATA / DNS_BOGUS */
	enum dns_sec sec;      /* also meaningful for NXDOMAIN / NODATA (authenticated denial) */
	char *why_bogus;       /* owned, NULL unless sec == DNS_SEC_BOGUS (may still be NULL) */
	char *canonname;       /* owned, the name after CNAMEs, may be NULL */
	int rcode;             /* DNS RCODE of the final answer */
	uint32_t ttl;          /* of the answer (0 without records) */
	size_t count;          /* records in the one array below that matches type */
	struct dns_txt *txt;   /* DNS_TYPE_TXT, in answer order */
	struct dns_tlsa *tlsa; /* DNS_TYPE_TLSA, in answer order */
	struct dns_mx *mx;     /* DNS_TYPE_MX, sorted by pref, then host */
	char **addr;           /* DNS_TYPE_A / DNS_TYPE_AAAA, text form, in answer order */
};

/**
 * dns_new() - create the resolver context.
 * @opts: settings, copied; NULL = all defaults
 *
 * libunbound resolves in a background thread of this process. Details of a setup error go
 * to log_debug(); the caller logs the failure.
 *
 * Return: the context, or NULL with errno set: ENOENT (resolv.conf or trust anchor file
 * missing), EINVAL (bad forwarder address or anchor syntax), EIO (other libunbound errors).
 */
struct dns *dns_new(const struct dns_opts *opts);

/**
 * dns_free() - destroy a context; no lookup may be running. NULL is fine.
 */
void dns_free(struct dns *dns);

/**
 * dns_query() - look up @name / @type and wait for the validated answer.
 * @dns: the context; any number of threads may call this at once
 * @name: the domain name (absolute; a final dot is optional)
 * @type: DNS_TYPE_TXT, DNS_TYPE_TLSA, DNS_TYPE_MX, DNS_TYPE_A or DNS_TYPE_AAAA
 * @out: set on 0 and positive returns to a result the caller frees with dns_result_free();
 *       set to NULL on errors
 *
 * Never blocks longer than the context's timeout (plus scheduling). A lookup that times out
 * is cancelled.
 *
 * Return: DNS_ANSWER (0), DNS_NXDOMAIN, DNS_NODATA or DNS_BOGUS (only with a trust anchor);
 * or -ETIMEDOUT (no answer in time), -EAGAIN (SERVFAIL not caused by validation: libunbound
 * also reports a forwarder's REFUSED or an unreachable one this way), -ECONNREFUSED (the
 * answer's RCODE is REFUSED), -EIO (other RCODEs or resolver errors), -EBADMSG (a record could
 * not be decoded), -EINVAL (bad @name or unsupported @type), -ENOMEM.
 */
int dns_query(struct dns *dns, const char *name, int type, struct dns_result **out);

/* Shorthands for dns_query(dns, name, DNS_TYPE_xxx, out). */
int dns_txt(struct dns *dns, const char *name, struct dns_result **out);
int dns_tlsa(struct dns *dns, const char *name, struct dns_result **out);
int dns_mx(struct dns *dns, const char *name, struct dns_result **out);
int dns_a(struct dns *dns, const char *name, struct dns_result **out);
int dns_aaaa(struct dns *dns, const char *name, struct dns_result **out);

/**
 * dns_result_free() - free a result and everything it owns. NULL is fine.
 */
void dns_result_free(struct dns_result *res);

/* dns_validating() - true when @dns has a trust anchor, i.e. answers can be secure. */
bool dns_validating(const struct dns *dns);

/**
 * dns_error_str() - which failure a negative dns_query() return is, for messages.
 * @err: a -errno from dns_query()
 *
 * Return: a static string: "timeout", "SERVFAIL", "REFUSED", "undecodable record", ... or
 * "error" for codes dns_query() does not return.
 */
const char *dns_error_str(int err);

/**
 * dns_error_unreachable() - true when a negative dns_query() return means the resolver gave
 * no usable answer (timeout, SERVFAIL, REFUSED, other RCODEs): DNS is down from here, as
 * opposed to a bad name, a broken record or a bogus answer.
 * @err: a dns_query() return; outcomes (>= 0) are never unreachable
 */
bool dns_error_unreachable(int err);

#endif
