/* resolve: one domain's answer, reached the way RFC 8461 and the DANE-first rule say.
 *
 * 1. DANE (unless off): dane_probe() gathers MX, address and TLSA facts, dane_decide()
 *    turns them into dane-only, dane or "no DANE" (RFC 8461 section 2: DANE wins).
 * 2. MTA-STS: the `_mta-sts` TXT record. A valid one whose id matches an unexpired cached
 *    policy keeps that policy (RFC 8461 section 5.1) unless it is older than half its
 *    max_age or a day, when it is fetched again (the proactive refresh of section 5.1);
 *    a new id fetches the policy. When the TXT record is gone, bad or unanswered, or the
 *    fetch fails, an unexpired cached policy is still applied (section 5.1); with none, the
 *    answer is NOTFOUND: deliver as if the domain had no policy (section 3.3).
 * The caller passes in what it has cached and gets the outcome back in the same struct.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "dane_probe.h"
#include "mtasts.h"

#define MTASTS_REFRESH_MAX_S 86400

void mtasts_result_init(struct mtasts_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->how);
	buf_init(&r->dane_tlsa);
}

void mtasts_result_fini(struct mtasts_result *r)
{
	if (r->have_policy)
		sts_policy_fini(&r->policy);
	buf_fini(&r->how);
	buf_fini(&r->dane_tlsa);
	memset(r, 0, sizeof(*r));
}

const char *mtasts_kind_name(enum mtasts_kind k)
{
	static const char *const names[] = { "none", "failed", "dane", "dane-only", "enforce" };
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static enum mtasts_kind mtasts_kind_of(const struct sts_policy *p)
{
	return p->mode == STS_MODE_ENFORCE ? MTASTS_ENFORCE : MTASTS_NONE;
}

static void mtasts_drop_policy(struct mtasts_result *r)
{
	if (r->have_policy)
		sts_policy_fini(&r->policy);
	r->have_policy = false;
	r->id[0] = '\0';
}

/* The cached policy applies: say so in @r->how. */
static void mtasts_use_cached(struct mtasts_result *r, int64_t now, const char *why)
{
	r->kind = mtasts_kind_of(&r->policy);
	buf_printf(&r->how, "; %s: cached policy id %s (mode %s, fetched %llds ago, max_age %u)",
	           why, r->id, sts_mode_name(r->policy.mode), (long long)(now - r->fetched_s),
	           r->policy.max_age);
}

static void mtasts_fetch_into(const struct mtasts_conf *c, const char *domain, const char *id,
                              int64_t now, bool cached_valid, struct mtasts_result *r)
{
	struct sts_policy p;
	const char *fail = NULL;
	struct buf why;

	memset(&p, 0, sizeof(p));
	buf_init(&why);
	int rc = mtasts_policy_fetch(c->fetch, domain, &p, &fail, &why);
	if (rc == 0) {
		mtasts_drop_policy(r);
		r->policy = p;
		r->have_policy = true;
		strcpy(r->id, id);
		r->fetched_s = now;
		r->fetched_now = true;
		r->kind = mtasts_kind_of(&p);
		buf_printf(&r->how, "; fetched policy id %s: mode %s, max_age %u, %zu mx", id,
		           sts_mode_name(p.mode), p.max_age, p.n_mx);
	} else {
		r->fail_type = fail;
		buf_printf(&r->how, "; fetch failed (%s): %s", fail, buf_cstr(&why));
		if (cached_valid) {
			r->refresh_failed = true;
			mtasts_use_cached(r, now, "serving");
		} else {
			mtasts_drop_policy(r);
			r->kind = MTASTS_FAILED;
		}
	}
	buf_fini(&why);
}

static void mtasts_resolve_sts(const struct mtasts_conf *c, const char *domain,
                               struct mtasts_result *r)
{
	int64_t now = time(NULL);
	bool cached_valid = r->have_policy && now < r->fetched_s + (int64_t)r->policy.max_age;
	char id[STS_ID_MAX + 1] = "";

	if (r->have_policy && !cached_valid)
		mtasts_drop_policy(r);
	buf_puts(&r->how, r->how.len ? "; " : "");
	enum mtasts_txt_outcome t = mtasts_txt_lookup(c->dns, domain, id, &r->how);
	if (t != MTASTS_TXT_FOUND) {
		if (cached_valid)
			mtasts_use_cached(r, now, "still applies");
		else
			r->kind = t == MTASTS_TXT_FAILED ? MTASTS_FAILED : MTASTS_NONE;
		return;
	}
	buf_printf(&r->how, "TXT id %s", id);
	int64_t age = now - r->fetched_s, half = r->have_policy ? r->policy.max_age / 2 : 0;
	if (half > MTASTS_REFRESH_MAX_S)
		half = MTASTS_REFRESH_MAX_S;
	if (cached_valid && strcmp(id, r->id) == 0 && age < half) {
		mtasts_use_cached(r, now, "id unchanged");
		return;
	}
	mtasts_fetch_into(c, domain, id, now, cached_valid, r);
}

/* DANE first: Return true when the answer is a DANE level. */
static bool mtasts_resolve_dane(const struct mtasts_conf *c, enum dane_mode mode,
                                const char *domain, struct mtasts_result *r)
{
	struct dane_probe pr;

	int rc = dane_probe(c->dns, domain, &pr);
	buf_puts(&r->how, "DANE: ");
	enum dane_verdict v = dane_decide(mode, &pr.facts, &r->how);
	r->dane_failed = rc < 0;
	if (v == DANE_VERDICT_NONE)
		return false;
	r->kind = v == DANE_VERDICT_ONLY ? MTASTS_DANE_ONLY : MTASTS_DANE;
	for (size_t i = 0; i < pr.facts.n_hosts; i++) {
		const char *t = pr.hosts[i].tlsa_text;
		for (size_t n; t && *t; t += n + 1) {
			n = strcspn(t, "\n");
			buf_printf(&r->dane_tlsa, "%s %.*s\n", pr.hosts[i].name, (int)n, t);
		}
	}
	return true;
}

void mtasts_resolve(const struct mtasts_conf *c, enum dane_mode dane_mode, const char *domain,
                    struct mtasts_result *r)
{
	r->fetched_now = false;
	r->refresh_failed = false;
	r->dane_failed = false;
	r->fail_type = NULL;
	buf_reset(&r->how);
	buf_reset(&r->dane_tlsa);
	if (dane_mode != DANE_MODE_OFF && mtasts_resolve_dane(c, dane_mode, domain, r))
		return;
	mtasts_resolve_sts(c, domain, r);
}

int mtasts_answer_text(const struct mtasts_result *r, enum sts_format fmt, const char *domain,
                       struct buf *out)
{
	int rc;

	switch (r->kind) {
	case MTASTS_ENFORCE:
		rc = sts_answer_policy(out, fmt, domain, &r->policy);
		break;
	case MTASTS_DANE:
	case MTASTS_DANE_ONLY:
		rc = sts_answer_dane(out, fmt, domain, r->kind == MTASTS_DANE_ONLY);
		break;
	default:
		return 0;
	}
	return rc < 0 ? rc : 1;
}
