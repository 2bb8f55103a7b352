/* selector_table: the live DNS-gate table of milter-dkim (one per process, survives
 * reloads): per selector what DNS last said, when it last signed, shared with
 * the fleet through the store ("pw:dkim:sel:<d>:<selector>"). */
#ifndef POSTWARDEN_DKIM_SELECTOR_TABLE_H
#define POSTWARDEN_DKIM_SELECTOR_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "dns.h"
#include "selector_policy.h"

struct selector_table;
struct store;

/* One row of a DNS check, for `check-dns`. */
struct selector_table_row {
	const struct dkim_domain *dom;
	const struct dkim_selector *sel;
	enum selector_lookup lookup;
	int err;          /* dns_query()'s return: an outcome (>= 0) or -errno */
	enum dns_sec sec; /* the answer's DNSSEC verdict; DNS_SEC_INSECURE when err < 0 */
	/* "published, matches key", "not published (NXDOMAIN)", "lookup failed: timeout",
	 * "DNSSEC bogus: <unbound's reason>" ... */
	char detail[320];
	bool passes;  /* signs after this check */
	bool doubted; /* it passed, this check disagreed: a second check decides */
};

struct selector_table *selector_table_new(void);
void selector_table_free(struct selector_table *g);

/**
 * selector_table_add_selectors() - make sure every selector of @c has an entry: from memory, else
 * from @st (may be NULL), else empty; note sign = no selectors' first sighting.
 */
void selector_table_add_selectors(struct selector_table *g, const struct dkim_conf *c,
                                  struct store *st, time_t now);

/**
 * selector_table_active() - the selectors of @dom that sign now.
 * @idx: room for dom->nsel indexes
 * Return: how many.
 */
size_t selector_table_active(struct selector_table *g, const struct dkim_domain *dom, size_t *idx);

/* selector_table_signed() - record that @dom's selectors @idx signed at @now (written to the
 * store later by selector_table_flush(), off the message path). */
void selector_table_signed(struct selector_table *g, const struct dkim_domain *dom,
                           const size_t *idx, size_t n, time_t now);

/* selector_table_state() - a copy of a selector's state; false when unknown. */
bool selector_table_state(struct selector_table *g, const struct dkim_selector *sel,
                          struct selector_state *out);

/**
 * selector_table_check() - look every selector of @c (or of the domain section @only) up in
 * DNS now and record the results in memory and in @st.
 * @rows: if not NULL, receives a malloc'd array of results (caller frees)
 * Return: the number of selectors checked, or -errno (-EHOSTUNREACH when every
 * lookup failed with a code dns_error_unreachable() counts, i.e. DNS could not be
 * reached; bogus answers do not count: the resolver answered).
 */
int selector_table_check(struct selector_table *g, const struct dkim_conf *c, struct dns *dns,
                         struct store *st, const char *only, struct selector_table_row **rows,
                         size_t *nrows);

/* selector_table_doubtful() - true when a selector awaits a confirming check (see
 * selector_policy_gate_update()); the daemon then re-checks soon, not after the interval. */
bool selector_table_doubtful(struct selector_table *g);

/**
 * selector_table_refresh() - adopt newer DNS results that another process wrote to @st (a fleet
 * member sharing the store, or `milter-dkim check-dns`): an entry whose stored check is
 * later than ours takes that check's outcome, and a later last_signed (another host
 * signed since) is always taken. Call before selector_table_flush(), so a write of ours never
 * replaces a newer check or signing time with an older one.
 * Return: the number of entries whose DNS check changed, or -errno.
 */
int selector_table_refresh(struct selector_table *g, struct store *st);

/* selector_table_flush() - write changed states to @st. Return 0 or -errno. */
int selector_table_flush(struct selector_table *g, struct store *st);

#endif
