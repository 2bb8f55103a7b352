/* mtasts: what policyd-mtasts' glue files share: the config snapshot (conf.c), the
 * discovery of one domain's answer (resolve.c, over discover.c and dane_probe.c), the
 * answer cache with its workers (cache.c), the records kept for tlsrpt (record.c), the
 * socketmap service (service.c), the Postfix DANE precondition check (danecheck.c) and the
 * subcommands (commands.c). The pure domain logic is in policy.h, answer.h and dane.h.
 */
#ifndef POSTWARDEN_MTASTS_H
#define POSTWARDEN_MTASTS_H

#include <stdbool.h>
#include <stdint.h>

#include "answer.h"
#include "buf.h"
#include "cfg.h"
#include "daemon.h"
#include "dane.h"
#include "policy.h"
#include "server.h"

struct dns;
struct fetch;
struct store;

#define MTASTS_DOMAIN_MAX 256
/* The root zone's trust anchor as Debian's dns-root-data installs it: `trust_anchor`'s
 * default. */
#define MTASTS_ROOT_KEY "/usr/share/dns/root.key"
/* After a policy fetch fails, the next try for that domain waits this long (RFC 8461
 * section 3.3: at least 5 minutes per policy id). */
#define MTASTS_RETRY_S 300
/* A DANE verdict or a cached policy's TXT id is checked again in the background this
 * often while the domain is being asked for. */
#define MTASTS_RECHECK_S 300
/* A domain nobody asked for during this long is dropped once its answer has expired. */
#define MTASTS_IDLE_S 86400

extern const struct cfg_schema mtasts_schema;
extern const struct daemon_cmd mtasts_commands[];

/* The snapshot built from the config (daemon_conf->priv). */
struct mtasts_conf {
	struct dns *dns;
	struct fetch *fetch;
	enum dane_mode dane_mode; /* as configured; see mtasts_dane_mode() for the one in force */
	int fetch_timeout_ms;     /* the longest a cold lookup waits */
	int negative_ttl_s;
	char *connect_to; /* "HOST:PORT" or NULL */
};

struct mtasts_conf *mtasts_conf_build(const struct cfg *cfg, struct buf *err);
void mtasts_conf_free(struct mtasts_conf *c);

/* How a domain's answer was reached, for `query`, the debug log and the cache. */
enum mtasts_kind {
	MTASTS_NONE,   /* NOTFOUND: no policy (no TXT, mode none/testing, or DANE off and none) */
	MTASTS_FAILED, /* NOTFOUND: discovery failed and no unexpired policy was cached */
	MTASTS_DANE,   /* "dane" */
	MTASTS_DANE_ONLY, /* "dane-only" */
	MTASTS_ENFORCE,   /* "secure match=..." from a policy in mode enforce */
};

/* What resolve gives back for one domain. */
struct mtasts_result {
	enum mtasts_kind kind;
	bool have_policy; /* a policy is known (any mode): @policy, @id, @fetched_s */
	struct sts_policy policy;
	char id[STS_ID_MAX + 1];
	int64_t fetched_s;     /* wall clock of the fetch */
	bool fetched_now;      /* the policy came over HTTPS in this call */
	bool refresh_failed;   /* a fetch failed; a cached policy is being served */
	bool dane_failed;      /* the DANE lookups failed: "dane" until they answer */
	const char *fail_type; /* RFC 8460 result type of a failed fetch, or NULL */
	struct buf how;        /* one line: DANE verdict, cache/fetch, errors */
	struct buf dane_tlsa;  /* a DANE answer: each MX host's TLSA records, lines
	                        * "host usage selector mtype HEX" (for tlsrpt's reports) */
};

void mtasts_result_init(struct mtasts_result *r);
void mtasts_result_fini(struct mtasts_result *r);

/**
 * mtasts_resolve() - find the answer for @domain now: DANE first (per @dane_mode), then the
 * MTA-STS TXT record, then the policy: @r's cached policy when the TXT id is unchanged and it
 * has not expired, else an HTTPS fetch. @r comes in with what the caller knows (a cached
 * policy) and goes out with the outcome. Blocks for DNS and HTTPS (each bounded).
 */
void mtasts_resolve(const struct mtasts_conf *c, enum dane_mode dane_mode, const char *domain,
                    struct mtasts_result *r);

/* mtasts_kind_name() - "none", "failed", "dane", "dane-only", "enforce". */
const char *mtasts_kind_name(enum mtasts_kind k);

/**
 * mtasts_answer_text() - the OK data of @r in @fmt into @out, or nothing for NOTFOUND.
 * Return: 1 when @out holds OK data, 0 for NOTFOUND, -EMSGSIZE when the answer would not
 * fit a socketmap reply (the caller answers NOTFOUND and logs it).
 */
int mtasts_answer_text(const struct mtasts_result *r, enum sts_format fmt, const char *domain,
                       struct buf *out);

/* discover.c: the MTA-STS half of resolve. */
enum mtasts_txt_outcome {
	MTASTS_TXT_FOUND,  /* one valid STS record: @id set */
	MTASTS_TXT_NONE,   /* no STS record (NXDOMAIN, NODATA, no v=STSv1 record) */
	MTASTS_TXT_BAD,    /* several or invalid STS records: no policy (RFC 8461 3.1) */
	MTASTS_TXT_FAILED, /* the lookup failed (timeout, SERVFAIL, bogus) */
};
enum mtasts_txt_outcome mtasts_txt_lookup(struct dns *dns, const char *domain,
                                          char id[STS_ID_MAX + 1], struct buf *why);
/**
 * mtasts_policy_fetch() - GET https://mta-sts.<domain>/.well-known/mta-sts.txt and parse it.
 * Return: 0 with @p filled, or -errno with @fail_type set to the RFC 8460 result type
 * ("sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid") and @why.
 */
int mtasts_policy_fetch(struct fetch *f, const char *domain, struct sts_policy *p,
                        const char **fail_type, struct buf *why);

/* cache.c: the in-memory answer cache, its store copy and its workers (one per process). */
struct mtasts_stats {
	long long queries, hits, waits, timeouts, fetches, fetch_errors, entries;
};
int mtasts_cache_start(struct daemon *d);
void mtasts_cache_stop(void);
/**
 * mtasts_cache_answer() - the answer for @domain in @fmt: its whole socketmap OK reply (a
 * netstring) appended to @out, or nothing for NOTFOUND.
 * Answers from memory when it can; otherwise hands the domain to a worker and waits for it
 * up to the snapshot's fetch_timeout.
 * Return: 1 an OK reply appended, 0 NOTFOUND (the caller answers it).
 */
int mtasts_cache_answer(struct daemon *d, const char *domain, enum sts_format fmt, struct buf *out);
/* mtasts_cache_tick() - queue due refreshes, drop idle entries, write status and records. */
void mtasts_cache_tick(struct daemon *d, bool stopping);
void mtasts_cache_stats(struct mtasts_stats *s);
/* mtasts_cache_invalidate() - refresh every entry at the next tick (after a reload). */
void mtasts_cache_invalidate(void);

/* policy_store.c: the policy copy in the store (pw:mtasts:policy:<domain>), shared by a fleet. */
int mtasts_store_policy_get(struct store *st, const char *domain, struct mtasts_result *r);
int mtasts_store_policy_put(struct store *st, const char *domain, const struct mtasts_result *r);

/* record.c: what tlsrpt reads (doc/store-schema.md): fetch failures and policies in force,
 * per UTC day and domain. */
int mtasts_record_failure(struct store *st, const char *domain, const char *fail_type,
                          int64_t now_s);
int mtasts_record_policy(struct store *st, const char *domain, const struct mtasts_result *r,
                         int64_t now_s);
/* mtasts_record_dane() - the DANE answer in force (@r->kind dane or dane-only) and its TLSA
 * records per MX host, in the same key as mtasts_record_policy(). */
int mtasts_record_dane(struct store *st, const char *domain, const struct mtasts_result *r,
                       int64_t now_s);

/* danecheck.c: Postfix applies DANE only with smtp_dns_support_level = dnssec and a
 * resolv.conf resolver that sets the AD bit. */
int mtasts_danecheck(const struct cfg *cfg, struct buf *why);
/* mtasts_anchor_name() - the owner name of the first trust anchor (a name that validates). */
int mtasts_anchor_name(const struct cfg *cfg, char *name, size_t namesz);
/* mtasts_dane_mode() - the DANE mode in force: the configured one, or off when the
 * precondition check failed at start or reload. */
enum dane_mode mtasts_dane_mode(const struct mtasts_conf *c);
void mtasts_dane_checked(struct daemon *d);

/* service.c: the socketmap server's connection handler (common/server.h). */
extern const struct server_ops mtasts_server_ops;

#endif
