/* event: one TLS session outcome as tlsrpt counts it (RFC 8460 section 4), whatever it
 * came from: a libtlsrpt datagram from Postfix >= 3.10 (datagram.c) or Postfix 3.7-3.9 log
 * lines (logscan.c). Both parsers produce these; aggregate.c counts them per UTC day,
 * policy domain and policy, and per failure detail. Pure data: no I/O.
 *
 * Strings point into the parser's buffers and live until its next call: a consumer that
 * keeps one copies it. NULL means "not known" (a 3.7 log has no sending IP, no HELO).
 */
#ifndef POSTWARDEN_TLSRPT_EVENT_H
#define POSTWARDEN_TLSRPT_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#define TLSRPT_DOMAIN_MAX 255        /* a domain name, without the final dot */
#define TLSRPT_POLICY_STRINGS_MAX 64 /* policy-string entries kept (STS lines, TLSA records) */
#define TLSRPT_MX_HOSTS_MAX 64
#define TLSRPT_DETAILS_MAX 32 /* failure details of one policy in one event */
#define TLSRPT_POLICIES_MAX 4 /* policies of one event */

/* RFC 8460 section 4.4 policy-type; the numbers are libtlsrpt's wire values. */
enum tlsrpt_policy_type {
	TLSRPT_POLICY_TLSA = 1,
	TLSRPT_POLICY_STS = 2,
	TLSRPT_POLICY_NONE = 9, /* "no-policy-found" */
};

/* RFC 8460 section 4.3 result types; the numbers are libtlsrpt's wire values. */
enum tlsrpt_result {
	TLSRPT_STARTTLS_NOT_SUPPORTED = 201,
	TLSRPT_CERTIFICATE_HOST_MISMATCH = 202,
	TLSRPT_CERTIFICATE_NOT_TRUSTED = 203,
	TLSRPT_CERTIFICATE_EXPIRED = 204,
	TLSRPT_VALIDATION_FAILURE = 205,
	TLSRPT_STS_POLICY_FETCH_ERROR = 301,
	TLSRPT_STS_POLICY_INVALID = 302,
	TLSRPT_STS_WEBPKI_INVALID = 303,
	TLSRPT_TLSA_INVALID = 304,
	TLSRPT_DNSSEC_INVALID = 305,
	TLSRPT_DANE_REQUIRED = 306,
};

/* One failure-details entry (RFC 8460 section 4.3); every string optional. */
struct tlsrpt_detail {
	enum tlsrpt_result result;
	const char *sending_ip;   /* sending-mta-ip */
	const char *mx_host;      /* receiving-mx-hostname */
	const char *mx_helo;      /* receiving-mx-helo */
	const char *receiving_ip; /* receiving-ip */
	const char *reason;       /* failure-reason-code */
	const char *additional;   /* additional-information */
};

/* The policy a session was judged under, with its outcome. */
struct tlsrpt_policy {
	enum tlsrpt_policy_type type;
	const char *domain; /* policy-domain; NULL: the event's domain */
	size_t n_strings;
	const char *strings[TLSRPT_POLICY_STRINGS_MAX]; /* policy-string */
	size_t n_mx;
	const char *mx[TLSRPT_MX_HOSTS_MAX]; /* mx-host */
	bool success;                        /* the session's final result */
	size_t n_details;
	struct tlsrpt_detail details[TLSRPT_DETAILS_MAX];
};

/* One delivery attempt's TLS outcome: a datagram carries one or more policies. */
struct tlsrpt_event {
	long long time;     /* Unix seconds (UTC) when it happened: picks the report day */
	const char *domain; /* the destination (policy) domain, lower case */
	const char *tlsrpt; /* the TLSRPT TXT record text if the sender knew it, else NULL */
	size_t n_policies;
	struct tlsrpt_policy policies[TLSRPT_POLICIES_MAX];
};

/* tlsrpt_result_name() - RFC 8460 name ("certificate-expired"), or NULL for an unknown code. */
const char *tlsrpt_result_name(int code);
/* tlsrpt_policy_type_name() - "tlsa", "sts", "no-policy-found", or NULL. */
const char *tlsrpt_policy_type_name(int type);

#endif
