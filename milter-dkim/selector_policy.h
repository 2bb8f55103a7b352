/* selector_policy: which selectors sign, what `dns`/`status` say about each, and
 * which configured domain a From domain belongs to. Pure state logic. */
#ifndef POSTWARDEN_DKIM_SELECTOR_POLICY_H
#define POSTWARDEN_DKIM_SELECTOR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

/* selector_policy_match_domain() outcome: no section covers the domain. */
#define SELECTOR_POLICY_NO_DOMAIN 1

/* One selector as configured. */
struct selector_conf {
	const char *name;
	bool sign;   /* sign = yes */
	bool legacy; /* the pre-existing default `mail` key: never gated */
};

/* What is known about one selector; kept in memory and in the store. */
struct selector_state {
	bool checked;             /* a DNS check has completed at least once */
	bool published;           /* a TXT record exists */
	bool matches;             /* ... and its p= is this selector's key */
	time_t checked_at;        /* last completed DNS check */
	time_t last_signed;       /* last time a message was signed with it (0: never) */
	time_t first_seen_nosign; /* first time seen with sign = no (0: not yet) */
	time_t doubted_at;        /* first of a run of negative checks of a selector that
	                           * passed (0: none): it stops only when a second agrees */
};

enum selector_phase {
	SELECTOR_POLICY_SIGNING,
	SELECTOR_POLICY_AWAITING,  /* sign = yes, record not (yet) published or not matching */
	SELECTOR_POLICY_RETIRING,  /* sign = no, within retire_grace: keep the record */
	SELECTOR_POLICY_REMOVABLE, /* sign = no, grace over: the record can go */
};

enum selector_lookup {
	SELECTOR_POLICY_LOOKUP_FAILED,   /* DNS unreachable or SERVFAIL: keep what we knew */
	SELECTOR_POLICY_LOOKUP_ABSENT,   /* NXDOMAIN / no TXT */
	SELECTOR_POLICY_LOOKUP_MATCH,    /* record publishes this key */
	SELECTOR_POLICY_LOOKUP_MISMATCH, /* record exists but is another key, revoked or wrong type
	                                  */
};

/**
 * selector_policy_signs() - does the selector sign now?
 * @c: configuration
 * @st: state
 *
 * Return: sign = yes and (legacy, or the gate passed: published and matching).
 */
bool selector_policy_signs(const struct selector_conf *c, const struct selector_state *st);

/**
 * selector_policy_active() - the selectors of one domain that sign now.
 * @c: @n configurations
 * @st: @n states, same order
 * @n: count
 * @idx: receives the indexes of the signing selectors (room for @n)
 *
 * Return: how many were written to @idx.
 */
size_t selector_policy_active(const struct selector_conf *c, const struct selector_state *st,
                              size_t n, size_t *idx);

/**
 * selector_policy_phase() - the state `dns` and `status` report.
 * @c: configuration
 * @st: state
 * @now: current time
 * @retire_grace: seconds a sign = no selector stays published after it last signed
 * @until: for SELECTOR_POLICY_RETIRING, receives the end of the grace (else 0); may be NULL
 *
 * A retiring selector counts from last_signed, or, if it was never seen signing,
 * from first_seen_nosign (now when that is not set yet).
 */
enum selector_phase selector_policy_phase(const struct selector_conf *c,
                                          const struct selector_state *st, time_t now,
                                          time_t retire_grace, time_t *until);

/* selector_policy_phase_name() - "signing", "awaiting publication", "retiring", "removable". */
const char *selector_policy_phase_name(enum selector_phase p);

/**
 * selector_policy_track_nosign() - after a config load, track since when the selector has had
 * sign = no.
 * @c: configuration
 * @st: state to update
 * @now: current time
 *
 * Sets first_seen_nosign the first time the selector is seen with sign = no (cleared
 * again by sign = yes). last_signed is left alone: only selector_policy_signed() sets it.
 *
 * Return: true when @st changed (worth writing to the store).
 */
bool selector_policy_track_nosign(const struct selector_conf *c, struct selector_state *st,
                                  time_t now);

/**
 * selector_policy_signed() - record that a message was signed with the selector at @now.
 * @st: state to update
 * @now: when the signature was made
 *
 * Return: true when last_signed moved forward.
 */
bool selector_policy_signed(struct selector_state *st, time_t now);

/**
 * selector_policy_gate_update() - record the outcome of one DNS check.
 *
 * A selector that passes the gate is switched off only by two negative checks in a
 * row: the first only sets doubted_at (a resolver's stale negative cache right after
 * a publication must not stop a key that signs). A match clears the doubt.
 * @st: state to update
 * @r: lookup outcome; SELECTOR_POLICY_LOOKUP_FAILED leaves @st as it was
 * @now: current time
 *
 * Return: true when @st changed.
 */
bool selector_policy_gate_update(struct selector_state *st, enum selector_lookup r, time_t now);

/**
 * selector_policy_state_dump() - serialize @st as one JSON object (for the store).
 * @st: state
 * @out: receives the text
 */
void selector_policy_state_dump(const struct selector_state *st, struct buf *out);

/**
 * selector_policy_state_load() - parse what selector_policy_state_dump() wrote.
 * @text: the serialized state
 * @len: its length
 * @st: receives the state (zeroed first; unknown members are ignored)
 *
 * Return: 0, or -EINVAL when @text is not such an object.
 */
int selector_policy_state_load(const char *text, size_t len, struct selector_state *st);

/**
 * selector_policy_match_domain() - the configured section that covers a From domain.
 * @sections: section names, "example.org" (exact) or "*.example.org" (subdomains only)
 * @n: count
 * @domain: the lower-cased From domain
 * @index: receives the index of the section
 * @d: receives the d= domain (points into @sections[*index], after any "*.")
 *
 * An exact section wins over wildcards; among wildcards the longest wins. Names
 * compare case-insensitively.
 *
 * Return: 0, or SELECTOR_POLICY_NO_DOMAIN.
 */
int selector_policy_match_domain(const char *const *sections, size_t n, const char *domain,
                                 size_t *index, const char **d);

#endif
