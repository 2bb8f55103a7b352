/* dane: decide from DNS facts whether a destination does DANE (RFC 7672), which then wins
 * over MTA-STS (RFC 8461 section 2). Pure: no I/O, no globals, thread safe. */
#ifndef POSTWARDEN_MTASTS_DANE_H
#define POSTWARDEN_MTASTS_DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Configuration `dane_mode =`. */
enum dane_mode {
	DANE_MODE_OFF,  /* ignore DANE: always DANE_VERDICT_NONE */
	DANE_MODE_DANE, /* answer "dane" wherever DANE applies */
	DANE_MODE_ONLY, /* answer "dane-only" when every host is fully DANE-secured (default) */
};

enum dane_verdict {
	DANE_VERDICT_NONE, /* no DANE: MTA-STS may apply */
	DANE_VERDICT_DANE, /* answer "dane" (Postfix does its own DANE lookups) */
	DANE_VERDICT_ONLY, /* answer "dane-only" */
};

/* The DNSSEC verdict of one lookup (or of a pair, for A + AAAA: the worst of the two). */
enum dane_fact {
	DANE_SECURE,
	DANE_INSECURE,
	DANE_BOGUS,
	DANE_FAILED, /* timeout, SERVFAIL, ...: no answer */
};

/* What DNS said about one MX host. */
struct dane_host {
	const char *name;
	enum dane_fact addr;     /* A and AAAA together */
	bool addr_none;          /* neither A nor AAAA exists: the host cannot be reached */
	enum dane_fact tlsa;     /* _25._tcp.<name> TLSA; read only when addr is DANE_SECURE */
	bool tlsa_denied;        /* secure NXDOMAIN/NODATA for the TLSA name */
	size_t usable, unusable; /* TLSA records by dane_tlsa_usable() */
	char *tlsa_text;         /* if not NULL: receives the TLSA records that fit, as lines
	                          * "usage selector mtype HEX" (dane_probe; dane_decide ignores it) */
};

/* What DNS said about a destination. */
struct dane_facts {
	enum dane_fact mx; /* the MX lookup (or its denial, for an implicit MX) */
	size_t n_hosts;    /* 0 with a null MX (RFC 7505) */
	const struct dane_host *hosts;
};

/**
 * dane_decide() - the DANE verdict for a destination.
 * @mode: the configured dane_mode
 * @f: the facts (dane_probe() gathers them)
 * @why: if not NULL, one line (no newline) saying how the verdict was reached is appended
 *
 * Rules (dane.c has the reasons): off -> NONE. MX lookup bogus or failed -> DANE. MX
 * insecure, or null MX -> NONE. Otherwise per host: address lookup bogus/failed, or TLSA
 * lookup bogus/failed -> "unknown"; address insecure, TLSA insecure or TLSA securely
 * denied -> "no DANE"; secure TLSA with a usable record -> "usable"; secure TLSA with
 * only unusable records -> "unusable"; hosts without addresses are skipped. Then: any
 * unknown -> DANE; every host usable -> ONLY (DANE in mode dane); some usable or unusable
 * -> DANE; all no DANE (or no host left) -> NONE.
 */
enum dane_verdict dane_decide(enum dane_mode mode, const struct dane_facts *f, struct buf *why);

/**
 * dane_tlsa_usable() - a TLSA record Postfix's DANE can use for SMTP (RFC 7672 3.1):
 * usage DANE-TA(2) or DANE-EE(3), selector 0 or 1, matching type 0, 1 or 2.
 */
bool dane_tlsa_usable(uint8_t usage, uint8_t selector, uint8_t mtype);

/* Names for messages: "off"/"dane"/"dane-only", "none"/"dane"/"dane-only",
 * "secure"/"insecure"/"bogus"/"failed". */
const char *dane_mode_name(enum dane_mode m);
const char *dane_verdict_name(enum dane_verdict v);
const char *dane_fact_name(enum dane_fact f);

/**
 * dane_mode_from_name() - "off", "dane" or "dane-only" to a mode.
 * Return: 0, or -EINVAL.
 */
int dane_mode_from_name(const char *name, enum dane_mode *out);

#endif
