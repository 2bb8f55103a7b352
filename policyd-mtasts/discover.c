/* discover: the two network steps of MTA-STS policy discovery (RFC 8461 section 3): the
 * `_mta-sts.<domain>` TXT record and the HTTPS fetch of the policy, each turned into an
 * outcome the resolver acts on. A failed fetch is classified with its RFC 8460 section 4.3
 * result type for tlsrpt: a TLS failure (the policy host's certificate, its name, the
 * handshake) is sts-webpki-invalid; a status other than 200, a wrong media type or a body
 * that does not parse is sts-policy-invalid; anything else (no address, refused, timeout,
 * lost connection) is sts-policy-fetch-error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "fetch.h"
#include "mtasts.h"

#define MTASTS_TXT_RECORDS_MAX 16

enum mtasts_txt_outcome mtasts_txt_lookup(struct dns *dns, const char *domain,
                                          char id[STS_ID_MAX + 1], struct buf *why)
{
	char name[MTASTS_DOMAIN_MAX + 16];
	struct dns_result *res = NULL;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	int rc = dns_txt(dns, name, &res);
	if (rc < 0) {
		buf_printf(why, "TXT %s: %s", name, dns_error_str(rc));
		return MTASTS_TXT_FAILED;
	}
	if (rc == DNS_BOGUS) {
		buf_printf(why, "TXT %s: DNSSEC bogus (%s)", name,
		           res->why_bogus ? res->why_bogus : "no reason given");
		dns_result_free(res);
		return MTASTS_TXT_FAILED;
	}
	if (rc != DNS_ANSWER) {
		buf_printf(why, "TXT %s: %s", name,
		           rc == DNS_NXDOMAIN ? "NXDOMAIN" : "no TXT record");
		dns_result_free(res);
		return MTASTS_TXT_NONE;
	}
	const char *txt[MTASTS_TXT_RECORDS_MAX];
	size_t len[MTASTS_TXT_RECORDS_MAX], n = 0;
	for (size_t i = 0; i < res->count && n < MTASTS_TXT_RECORDS_MAX; i++, n++) {
		txt[n] = res->txt[i].text;
		len[n] = res->txt[i].len;
	}
	struct buf err;
	buf_init(&err);
	rc = sts_txt_pick(txt, len, n, id, &err);
	dns_result_free(res);
	enum mtasts_txt_outcome out = MTASTS_TXT_FOUND;
	if (rc == 1) {
		buf_printf(why, "TXT %s: no v=STSv1 record", name);
		out = MTASTS_TXT_NONE;
	} else if (rc < 0) {
		buf_printf(why, "TXT %s: %s", name, buf_cstr(&err));
		out = MTASTS_TXT_BAD;
	}
	buf_fini(&err);
	return out;
}

int mtasts_policy_fetch(struct fetch *f, const char *domain, struct sts_policy *p,
                        const char **fail_type, struct buf *why)
{
	char url[MTASTS_DOMAIN_MAX + 64];
	struct fetch_response resp;
	struct buf ferr;

	snprintf(url, sizeof(url), "https://mta-sts.%s/.well-known/mta-sts.txt", domain);
	fetch_response_init(&resp);
	buf_init(&ferr);
	int rc = fetch_get(f, url, &resp, &ferr);
	if (rc == -EPROTO && resp.status == 0) {
		*fail_type = "sts-webpki-invalid";
	} else if (rc == -EPROTO || rc == -EMSGSIZE) {
		*fail_type = "sts-policy-invalid";
	} else if (rc < 0) {
		*fail_type = "sts-policy-fetch-error";
	} else if (!sts_content_type_ok(resp.content_type)) {
		*fail_type = "sts-policy-invalid";
		buf_printf(why, "%s: media type '%s', not text/plain", url,
		           resp.content_type ? resp.content_type : "(none)");
		rc = -EPROTO;
	} else {
		struct buf err;
		buf_init(&err);
		rc = sts_policy_parse(resp.body, resp.len, p, &err);
		if (rc < 0) {
			*fail_type = "sts-policy-invalid";
			size_t n = err.len;
			while (n > 0 && err.data[n - 1] == '\n')
				n--; /* the parser ends every line; the log line adds its own end */
			buf_printf(why, "%s: invalid policy: %.*s", url, (int)n, buf_cstr(&err));
		}
		buf_fini(&err);
	}
	if (ferr.len)
		buf_printf(why, "%s: %s", url, buf_cstr(&ferr));
	buf_fini(&ferr);
	fetch_response_fini(&resp);
	return rc;
}
