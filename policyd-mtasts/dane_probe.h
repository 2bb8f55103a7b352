/* dane_probe: gather the DNS facts dane_decide() needs for one destination (MX, then A,
 * AAAA and TLSA of each MX host) through common/dns. No store, no logging. */
#ifndef POSTWARDEN_MTASTS_DANE_PROBE_H
#define POSTWARDEN_MTASTS_DANE_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "dane.h"
#include "dns.h"

/* MX hosts looked at, in preference order; the rest are ignored (Postfix tries at most
 * smtp_mx_address_limit = 5 addresses by default, far fewer than this). */
#define DANE_PROBE_HOSTS_MAX 16
/* Longest host name kept (a longer one cannot be a valid name). */
#define DANE_PROBE_NAME_MAX 256
/* Room for one host's TLSA records as text (for tlsrpt's reports): a SHA-256 record is 71
 * characters, a SHA-512 one 135; a record that does not fit (a full certificate, or too
 * many records) is left out of the text, never out of the verdict. */
#define DANE_PROBE_TLSA_TEXT 1024

/* The facts for one destination, self-contained: facts.hosts points into hosts[], so the
 * struct must stay where dane_probe() filled it (do not copy it by value). ~21 KiB. */
struct dane_probe {
	struct dane_facts facts;
	struct dane_host hosts[DANE_PROBE_HOSTS_MAX];
	char names[DANE_PROBE_HOSTS_MAX][DANE_PROBE_NAME_MAX];
	bool implicit_mx; /* no MX RRset: the domain itself is the host (RFC 5321 5.1) */
	bool null_mx;     /* MX "." (RFC 7505) */
	size_t mx_total;  /* MX hosts in the answer, before the DANE_PROBE_HOSTS_MAX cap */
	int mx_error;     /* the MX lookup's -errno when it failed, else 0 */
	bool name_cut[DANE_PROBE_HOSTS_MAX]; /* name too long: kept cut, not looked up */
	char tlsa_text[DANE_PROBE_HOSTS_MAX][DANE_PROBE_TLSA_TEXT]; /* hosts[i].tlsa_text */
};

/**
 * dane_probe() - look up what DANE depends on for mail to @domain.
 * @dns: the resolver; it must validate (a trust anchor) for anything to be secure
 * @domain: the destination domain, without a final dot
 * @out: filled in every case; out->facts is ready for dane_decide()
 *
 * MX first. When it is secure, each MX host (at most DANE_PROBE_HOSTS_MAX) gets its own
 * thread that looks up A, then AAAA, then, only when both are secure and an address
 * exists, TLSA at _25._tcp.<host> (or first at the CNAME target's name, RFC 7672 2.2.2).
 * An insecure, bogus or failed MX lookup ends the probe there. Every dns_query() is
 * bounded by the resolver timeout T, so dane_probe() returns within about 5 T (MX, A,
 * AAAA, two TLSA), 25 s with the default 5 s.
 *
 * Return: 0; or the MX lookup's -errno (dns_query(): -ETIMEDOUT, -EAGAIN, ...), with
 * out->facts.mx = DANE_FAILED so that dane_decide() still gives an answer.
 */
int dane_probe(struct dns *dns, const char *domain, struct dane_probe *out);

#endif
