/* verdict: clamd reply parser and result -> action mapping (see verdict.h).
 *
 * Spec: clamd(8), doc/protocols.md "clamd replies" and "clamd commands and streams"
 * (replies: `stream: OK`, `stream: <name> FOUND`,
 * `fd[N]: <name> FOUND`, `... ERROR`, `INSTREAM size limit exceeded. ERROR`; with
 * AlertExceedsMax, `Heuristics.Limits.Exceeded.* FOUND`). The reply comes from the
 * network: it is read only up to VERDICT_REPLY_MAX bytes, stops at NUL or newline,
 * and every byte copied out is filtered to printable ASCII without '%' (the text ends up
 * in an SMTP reply via smfi_setreply, where '%' is special).
 *
 * Pure functions on caller-owned memory: no allocation, no globals, thread safe.
 */
#include "verdict.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define OVERSIZE_HEURISTIC "Heuristics.Limits.Exceeded"

static void copy_clean(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c >= 0x20 && c < 0x7f && c != '%') ? (char)c : '_';
	}
	dst[n] = '\0';
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);
	return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

static const char *find_mem(const char *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= len; i++)
		if (memcmp(s + i, needle, nl) == 0)
			return s + i;
	return NULL;
}

static int parse_error(struct verdict_reply *out, const char *why, const char *s, size_t len)
{
	char tmp[96];
	copy_clean(tmp, sizeof(tmp), s, len);
	out->status = VERDICT_ERROR;
	snprintf(out->detail, sizeof(out->detail), "%s: \"%s\"", why, tmp);
	return -EPROTO;
}

int verdict_parse(const char *reply, size_t len, struct verdict_reply *out)
{
	size_t n = 0;
	if (len > VERDICT_REPLY_MAX)
		len = VERDICT_REPLY_MAX;
	while (n < len && reply[n] != '\0' && reply[n] != '\n')
		n++;
	while (n > 0 && (reply[n - 1] == '\r' || reply[n - 1] == ' ' || reply[n - 1] == '\t'))
		n--;

	out->status = VERDICT_ERROR;
	out->detail[0] = '\0';
	if (n == 0)
		return parse_error(out, "empty clamd reply", reply, 0);

	const char *res = reply;
	size_t rlen = n;
	const char *colon = find_mem(reply, n, ": ");
	if (colon) {
		res = colon + 2;
		rlen = n - (size_t)(res - reply);
	}

	if (rlen == 2 && memcmp(res, "OK", 2) == 0) {
		out->status = VERDICT_CLEAN;
		return 0;
	}
	if (ends_with(res, rlen, " FOUND")) {
		size_t nlen = rlen - 6;
		while (nlen > 0 && res[nlen - 1] == ' ')
			nlen--;
		if (nlen == 0)
			return parse_error(out, "FOUND without a name", reply, n);
		copy_clean(out->detail, sizeof(out->detail), res, nlen);
		size_t hl = strlen(OVERSIZE_HEURISTIC);
		out->status = (nlen >= hl && memcmp(res, OVERSIZE_HEURISTIC, hl) == 0)
		                      ? VERDICT_OVERSIZE
		                      : VERDICT_INFECTED;
		return 0;
	}
	if (ends_with(res, rlen, "ERROR")) {
		if (find_mem(res, rlen, "size limit exceeded")) {
			out->status = VERDICT_OVERSIZE;
			snprintf(out->detail, sizeof(out->detail), "%s", VERDICT_STREAM_LIMIT);
			return 0;
		}
		size_t elen = rlen - 5;
		while (elen > 0 && res[elen - 1] == ' ')
			elen--;
		char tmp[VERDICT_NAME_MAX - 16];
		copy_clean(tmp, sizeof(tmp), res, elen);
		snprintf(out->detail, sizeof(out->detail), "clamd error: %s", tmp);
		return 0;
	}
	return parse_error(out, "unexpected clamd reply", reply, n);
}

bool verdict_is_stream_limit(const struct verdict_reply *reply)
{
	return reply->status == VERDICT_OVERSIZE &&
	       strcmp(reply->detail, VERDICT_STREAM_LIMIT) == 0;
}

static void set_reply(struct verdict_decision *out, enum verdict_action action, const char *rcode,
                      const char *xcode, const char *text)
{
	out->action = action;
	snprintf(out->rcode, sizeof(out->rcode), "%s", rcode);
	snprintf(out->xcode, sizeof(out->xcode), "%s", xcode);
	snprintf(out->text, sizeof(out->text), "%s", text);
}

static void decide_virus(const struct verdict_policy *p, const struct verdict_reply *r,
                         struct verdict_decision *out)
{
	const char *name = r->detail[0] ? r->detail : "unknown";
	switch (p->on_virus) {
	case VERDICT_VIRUS_DISCARD:
		out->action = VERDICT_DISCARD;
		break;
	case VERDICT_VIRUS_QUARANTINE:
		out->action = VERDICT_QUARANTINE;
		snprintf(out->virus_header, sizeof(out->virus_header), "%s", name);
		break;
	case VERDICT_VIRUS_TAG:
		out->action = VERDICT_ACCEPT;
		snprintf(out->virus_header, sizeof(out->virus_header), "%s", name);
		break;
	case VERDICT_VIRUS_REJECT:
	default:
		out->action = VERDICT_REJECT;
		snprintf(out->rcode, sizeof(out->rcode), "550");
		snprintf(out->xcode, sizeof(out->xcode), "5.7.1");
		snprintf(out->text, sizeof(out->text), "Message rejected: virus found: %s", name);
		break;
	}
}

void verdict_decide(const struct verdict_policy *policy, const struct verdict_reply *reply,
                    const char *version, struct verdict_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->action = VERDICT_ACCEPT;
	bool scanned = false;
	const char *skipped = NULL;

	switch (reply->status) {
	case VERDICT_CLEAN:
		scanned = true;
		break;
	case VERDICT_INFECTED:
		decide_virus(policy, reply, out);
		scanned = true;
		break;
	case VERDICT_OVERSIZE:
		if (policy->oversize == VERDICT_OVERSIZE_TEMPFAIL)
			set_reply(out, VERDICT_TEMPFAIL, "451", "4.7.1",
			          "Message too large to scan for viruses, try again later");
		else if (policy->oversize == VERDICT_OVERSIZE_REJECT)
			set_reply(out, VERDICT_REJECT, "552", "5.3.4",
			          "Message too large to scan for viruses");
		skipped = "skipped (oversize)";
		break;
	case VERDICT_ERROR:
	default:
		if (policy->on_error != VERDICT_ERROR_ACCEPT)
			set_reply(out, VERDICT_TEMPFAIL, "451", "4.7.1",
			          "Virus scan temporarily unavailable, try again later");
		skipped = "skipped (error)";
		break;
	}

	if (!policy->add_header || out->action == VERDICT_REJECT ||
	    out->action == VERDICT_TEMPFAIL || out->action == VERDICT_DISCARD)
		return;
	if (scanned && version && version[0]) {
		char v[64];
		copy_clean(v, sizeof(v), version, strlen(version));
		snprintf(out->scanned_header, sizeof(out->scanned_header),
		         "postwarden milter-av (%s)", v);
	} else if (scanned) {
		snprintf(out->scanned_header, sizeof(out->scanned_header), "postwarden milter-av");
	} else {
		snprintf(out->scanned_header, sizeof(out->scanned_header), "%s", skipped);
	}
}

const char *verdict_status_name(enum verdict_status status)
{
	switch (status) {
	case VERDICT_CLEAN:
		return "clean";
	case VERDICT_INFECTED:
		return "infected";
	case VERDICT_OVERSIZE:
		return "oversize";
	case VERDICT_ERROR:
		return "error";
	}
	return "unknown";
}

const char *verdict_action_name(enum verdict_action action)
{
	switch (action) {
	case VERDICT_ACCEPT:
		return "accept";
	case VERDICT_REJECT:
		return "reject";
	case VERDICT_TEMPFAIL:
		return "tempfail";
	case VERDICT_DISCARD:
		return "discard";
	case VERDICT_QUARANTINE:
		return "quarantine";
	}
	return "unknown";
}
