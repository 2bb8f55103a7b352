/* dane: the DANE-or-MTA-STS decision for one destination, from facts gathered in DNS.
 *
 * RFC 8461 section 2: MTA-STS must not override DANE. Postfix applies DANE only at its
 * dane/dane-only levels, and a "secure" answer switches DANE off, so the daemon answers
 * "secure ..." only when DNSSEC shows there is no DANE: the MX RRset is insecure (no
 * DANE for the domain, RFC 7672 2.2.1), or each host's addresses are insecure (RFC 7672
 * 2.2.2: that host cannot do DANE) or its TLSA RRset is securely denied. A host with
 * usable TLSA records does DANE; a host with only unusable ones (PKIX usages 0/1, unknown
 * selectors or matching types) is still a DANE host whose records Postfix reports as
 * unusable (RFC 7672 3.1.3: "all-TLSA-records-unusable"). When some hosts do DANE and
 * others do not, "dane" lets Postfix decide per host; "dane-only" is reserved for every
 * host having usable records, where Postfix's dane-only succeeds (doc/protocols.md,
 * "MTA-STS": dane-only defers when the MX is insecure, a host has no TLSA or all its TLSA
 * records are unusable). Any bogus or failed lookup also gives "dane": Postfix then does
 * the lookups itself and never falls back to a policy that would switch DANE off.
 * A null MX (RFC 7505) accepts no mail: nothing to protect, MTA-STS decides (NONE).
 * Hosts with neither A nor AAAA cannot be reached and are not counted.
 *
 * Pure: no I/O, no globals; thread safe.
 */
#include <errno.h>
#include <string.h>

#include "dane.h"

enum host_class {
	HOST_SKIP,     /* no address */
	HOST_NODANE,   /* insecure or TLSA securely denied */
	HOST_USABLE,   /* secure TLSA with a usable record */
	HOST_UNUSABLE, /* secure TLSA, none usable */
	HOST_UNKNOWN,  /* a lookup was bogus or failed */
};

static enum host_class host_classify(const struct dane_host *h, const char **what)
{
	switch (h->addr) {
	case DANE_BOGUS:
		*what = "address lookup bogus";
		return HOST_UNKNOWN;
	case DANE_FAILED:
		*what = "address lookup failed";
		return HOST_UNKNOWN;
	case DANE_INSECURE:
		*what = h->addr_none ? "no address" : "addresses insecure";
		return h->addr_none ? HOST_SKIP : HOST_NODANE;
	case DANE_SECURE:
		break;
	}
	if (h->addr_none) {
		*what = "no address";
		return HOST_SKIP;
	}
	switch (h->tlsa) {
	case DANE_BOGUS:
		*what = "TLSA bogus";
		return HOST_UNKNOWN;
	case DANE_FAILED:
		*what = "TLSA lookup failed";
		return HOST_UNKNOWN;
	case DANE_INSECURE:
		*what = "TLSA insecure";
		return HOST_NODANE;
	case DANE_SECURE:
		break;
	}
	if (h->usable > 0) {
		*what = "usable TLSA";
		return HOST_USABLE;
	}
	if (h->unusable > 0 && !h->tlsa_denied) {
		*what = "only unusable TLSA";
		return HOST_UNUSABLE;
	}
	*what = "no TLSA (secure denial)";
	return HOST_NODANE;
}

static enum dane_verdict verdict(struct buf *why, enum dane_verdict v)
{
	if (why)
		buf_printf(why, " -> %s", dane_verdict_name(v));
	return v;
}

enum dane_verdict dane_decide(enum dane_mode mode, const struct dane_facts *f, struct buf *why)
{
	size_t counts[HOST_UNKNOWN + 1] = { 0 };

	if (mode == DANE_MODE_OFF) {
		if (why)
			buf_puts(why, "dane_mode = off");
		return verdict(why, DANE_VERDICT_NONE);
	}
	if (why)
		buf_printf(why, "MX %s", dane_fact_name(f->mx));
	if (f->mx == DANE_BOGUS || f->mx == DANE_FAILED)
		return verdict(why, DANE_VERDICT_DANE);
	if (f->mx == DANE_INSECURE)
		return verdict(why, DANE_VERDICT_NONE);
	if (f->n_hosts == 0) {
		if (why)
			buf_puts(why, ", null MX");
		return verdict(why, DANE_VERDICT_NONE);
	}
	for (size_t i = 0; i < f->n_hosts; i++) {
		const char *what = "";
		enum host_class c = host_classify(&f->hosts[i], &what);
		counts[c]++;
		if (why)
			buf_printf(why, "; %s: %s", f->hosts[i].name ? f->hosts[i].name : "?",
			           what);
	}
	size_t counted = f->n_hosts - counts[HOST_SKIP];
	if (counts[HOST_UNKNOWN] > 0)
		return verdict(why, DANE_VERDICT_DANE);
	if (counted > 0 && counts[HOST_USABLE] == counted)
		return verdict(why, mode == DANE_MODE_ONLY ? DANE_VERDICT_ONLY : DANE_VERDICT_DANE);
	if (counts[HOST_USABLE] > 0 || counts[HOST_UNUSABLE] > 0)
		return verdict(why, DANE_VERDICT_DANE);
	return verdict(why, DANE_VERDICT_NONE);
}

bool dane_tlsa_usable(uint8_t usage, uint8_t selector, uint8_t mtype)
{
	return (usage == 2 || usage == 3) && selector <= 1 && mtype <= 2;
}

static const char *const mode_names[] = { "off", "dane", "dane-only" };
static const char *const verdict_names[] = { "none", "dane", "dane-only" };
static const char *const fact_names[] = { "secure", "insecure", "bogus", "failed" };

const char *dane_mode_name(enum dane_mode m)
{
	return (size_t)m < 3 ? mode_names[m] : "?";
}

const char *dane_verdict_name(enum dane_verdict v)
{
	return (size_t)v < 3 ? verdict_names[v] : "?";
}

const char *dane_fact_name(enum dane_fact f)
{
	return (size_t)f < 4 ? fact_names[f] : "?";
}

int dane_mode_from_name(const char *name, enum dane_mode *out)
{
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(name, mode_names[i]) == 0) {
			*out = (enum dane_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}
