/* selector_policy: the selector policy behind the DNS gate (which selectors sign) and
 * selector retirement, as pure functions of plain structs (doc/dkim-rotation.md). The
 * locked table that holds the states and talks to DNS and the store is
 * selector_table.c.
 *
 * A selector with sign = yes signs once its TXT record is published and matches
 * its key; the legacy default `mail` key is never gated. A failed DNS check
 * keeps the last known result. A selector with sign = no stays in `dns` output
 * for retire_grace after it last signed (or after it was first seen with
 * sign = no), then is reported removable. Per-selector state is serialized as a
 * small JSON object (jansson) for the store. Domain matching: "[d]" exact,
 * "[*.d]" subdomains only, signed with d=d; exact wins, then the longest wildcard.
 * No I/O, no globals: thread safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "selector_policy.h"

static bool state_eq(const struct selector_state *a, const struct selector_state *b)
{
	return a->checked == b->checked && a->published == b->published &&
	       a->matches == b->matches && a->checked_at == b->checked_at &&
	       a->last_signed == b->last_signed && a->first_seen_nosign == b->first_seen_nosign &&
	       a->doubted_at == b->doubted_at;
}

bool selector_policy_signs(const struct selector_conf *c, const struct selector_state *st)
{
	return c->sign && (c->legacy || (st->published && st->matches));
}

size_t selector_policy_active(const struct selector_conf *c, const struct selector_state *st,
                              size_t n, size_t *idx)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (selector_policy_signs(&c[i], &st[i]))
			idx[k++] = i;
	return k;
}

enum selector_phase selector_policy_phase(const struct selector_conf *c,
                                          const struct selector_state *st, time_t now,
                                          time_t retire_grace, time_t *until)
{
	if (until)
		*until = 0;
	if (c->sign)
		return selector_policy_signs(c, st) ? SELECTOR_POLICY_SIGNING
		                                    : SELECTOR_POLICY_AWAITING;
	time_t from = st->last_signed ? st->last_signed : st->first_seen_nosign;
	if (!from)
		from = now;
	time_t end = from + retire_grace;
	if (now >= end)
		return SELECTOR_POLICY_REMOVABLE;
	if (until)
		*until = end;
	return SELECTOR_POLICY_RETIRING;
}

const char *selector_policy_phase_name(enum selector_phase p)
{
	switch (p) {
	case SELECTOR_POLICY_SIGNING:
		return "signing";
	case SELECTOR_POLICY_AWAITING:
		return "awaiting publication";
	case SELECTOR_POLICY_RETIRING:
		return "retiring";
	case SELECTOR_POLICY_REMOVABLE:
		return "removable";
	}
	return "?";
}

bool selector_policy_track_nosign(const struct selector_conf *c, struct selector_state *st,
                                  time_t now)
{
	struct selector_state before = *st;
	if (c->sign)
		st->first_seen_nosign = 0;
	else if (!st->first_seen_nosign)
		st->first_seen_nosign = now;
	return !state_eq(&before, st);
}

bool selector_policy_signed(struct selector_state *st, time_t now)
{
	if (now <= st->last_signed)
		return false;
	st->last_signed = now;
	return true;
}

bool selector_policy_gate_update(struct selector_state *st, enum selector_lookup r, time_t now)
{
	if (r == SELECTOR_POLICY_LOOKUP_FAILED)
		return false;
	struct selector_state before = *st;
	st->checked = true;
	st->checked_at = now;
	if (r != SELECTOR_POLICY_LOOKUP_MATCH && st->published && st->matches && !st->doubted_at) {
		st->doubted_at = now;
		return true;
	}
	st->doubted_at = 0;
	st->published = r != SELECTOR_POLICY_LOOKUP_ABSENT;
	st->matches = r == SELECTOR_POLICY_LOOKUP_MATCH;
	return !state_eq(&before, st);
}

void selector_policy_state_dump(const struct selector_state *st, struct buf *out)
{
	json_t *o = json_pack(
	        "{s:b, s:b, s:b, s:I, s:I, s:I, s:I}", "checked", st->checked, "published",
	        st->published, "matches", st->matches, "checked_at", (json_int_t)st->checked_at,
	        "last_signed", (json_int_t)st->last_signed, "first_seen_nosign",
	        (json_int_t)st->first_seen_nosign, "doubted_at", (json_int_t)st->doubted_at);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	buf_puts(out, s ? s : "{}");
	free(s);
	json_decref(o);
}

static bool get_bool(json_t *o, const char *key, bool *v)
{
	json_t *j = json_object_get(o, key);
	if (!j)
		return true;
	if (!json_is_boolean(j))
		return false;
	*v = json_is_true(j);
	return true;
}

static bool get_time(json_t *o, const char *key, time_t *v)
{
	json_t *j = json_object_get(o, key);
	if (!j)
		return true;
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return false;
	*v = (time_t)json_integer_value(j);
	return true;
}

int selector_policy_state_load(const char *text, size_t len, struct selector_state *st)
{
	memset(st, 0, sizeof(*st));
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	bool ok = o && json_is_object(o) && get_bool(o, "checked", &st->checked) &&
	          get_bool(o, "published", &st->published) &&
	          get_bool(o, "matches", &st->matches) &&
	          get_time(o, "checked_at", &st->checked_at) &&
	          get_time(o, "last_signed", &st->last_signed) &&
	          get_time(o, "first_seen_nosign", &st->first_seen_nosign) &&
	          get_time(o, "doubted_at", &st->doubted_at);
	json_decref(o);
	if (!ok) {
		memset(st, 0, sizeof(*st));
		return -EINVAL;
	}
	return 0;
}

/* Does @domain end in ".@parent"? (strict subdomain, case-insensitive) */
static bool is_subdomain(const char *domain, const char *parent)
{
	size_t dl = strlen(domain), pl = strlen(parent);
	return pl && dl > pl + 1 && domain[dl - pl - 1] == '.' &&
	       strcasecmp(domain + dl - pl, parent) == 0;
}

int selector_policy_match_domain(const char *const *sections, size_t n, const char *domain,
                                 size_t *index, const char **d)
{
	size_t best = n, best_len = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = sections[i];
		if (strncmp(s, "*.", 2) != 0) {
			if (strcasecmp(s, domain) == 0) {
				*index = i;
				*d = s;
				return 0;
			}
			continue;
		}
		size_t len = strlen(s + 2);
		if (is_subdomain(domain, s + 2) && (best == n || len > best_len)) {
			best = i;
			best_len = len;
		}
	}
	if (best == n)
		return SELECTOR_POLICY_NO_DOMAIN;
	*index = best;
	*d = sections[best] + 2;
	return 0;
}
