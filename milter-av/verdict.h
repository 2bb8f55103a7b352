/* verdict: clamd reply parsing and the mapping of a scan result to a milter action.
 * Pure: no sockets, no libmilter types, no allocation. Thread safe. */
#ifndef POSTWARDEN_AV_VERDICT_H
#define POSTWARDEN_AV_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

/* Longest reply read from clamd; longer replies are cut at this length. */
#define VERDICT_REPLY_MAX 1024
/* Size of a virus name / error reason buffer (NUL included); longer ones are cut. */
#define VERDICT_NAME_MAX 256

enum verdict_status {
	VERDICT_CLEAN,    /* "OK" */
	VERDICT_INFECTED, /* "<name> FOUND" */
	VERDICT_OVERSIZE, /* size limit: milter max_size, clamd INSTREAM limit,
	                     Heuristics.Limits.Exceeded */
	VERDICT_ERROR,    /* no backend, timeout, "... ERROR", unparseable reply */
};

/* What clamd said, or why there is no answer. */
struct verdict_reply {
	enum verdict_status status;
	/* INFECTED/OVERSIZE: the signature name ("" for a size limit with no name);
	 * ERROR: a reason. Printable ASCII only, NUL-terminated. */
	char detail[VERDICT_NAME_MAX];
};

enum verdict_on_virus {
	VERDICT_VIRUS_REJECT, /* default */
	VERDICT_VIRUS_DISCARD,
	VERDICT_VIRUS_QUARANTINE,
	VERDICT_VIRUS_TAG,
};

enum verdict_on_error {
	VERDICT_ERROR_TEMPFAIL, /* default */
	VERDICT_ERROR_ACCEPT,
};

enum verdict_on_oversize {
	VERDICT_OVERSIZE_ACCEPT, /* default */
	VERDICT_OVERSIZE_TEMPFAIL,
	VERDICT_OVERSIZE_REJECT,
};

/* The configuration knobs the mapping depends on. */
struct verdict_policy {
	enum verdict_on_virus on_virus;
	enum verdict_on_error on_error;
	enum verdict_on_oversize oversize;
	bool add_header; /* X-Virus-Scanned on messages that pass */
};

enum verdict_action {
	VERDICT_ACCEPT,     /* let it through (headers may be added) */
	VERDICT_REJECT,     /* 5xx with reply text */
	VERDICT_TEMPFAIL,   /* 4xx with reply text */
	VERDICT_DISCARD,    /* accept and drop */
	VERDICT_QUARANTINE, /* accept into the Postfix hold queue */
};

struct verdict_decision {
	enum verdict_action action;
	/* REJECT/TEMPFAIL: SMTP reply code, enhanced status code and text (no CR/LF, no '%'). */
	char rcode[4];
	char xcode[8];
	char text[VERDICT_NAME_MAX + 64];
	/* Headers to add; "" when none. Values only: the names are X-Virus-Scanned, X-Virus. */
	char scanned_header[128];
	char virus_header[VERDICT_NAME_MAX];
};

/**
 * verdict_parse() - parse one clamd reply (z or n form).
 * @reply: reply bytes; parsing stops at the first NUL or newline, or after
 *         VERDICT_REPLY_MAX bytes
 * @len: number of bytes in @reply
 * @out: filled in every case
 *
 * The result is taken after the first ": " (`stream: OK`, `fd[11]: X FOUND`); a reply
 * without it (`INSTREAM size limit exceeded. ERROR`) is read whole.
 * `Heuristics.Limits.Exceeded*` and clamd's size-limit error are OVERSIZE.
 *
 * Return: 0 when the reply was understood (any status), -EPROTO when not
 * (@out is then VERDICT_ERROR with a reason).
 */
int verdict_parse(const char *reply, size_t len, struct verdict_reply *out);

/* The detail of clamd's `INSTREAM size limit exceeded` (an OVERSIZE without a name). */
#define VERDICT_STREAM_LIMIT "clamd size limit exceeded"

/* verdict_is_stream_limit() - @reply is clamd's stream size limit: the one reply clamd may
 * send before it has the whole message. */
bool verdict_is_stream_limit(const struct verdict_reply *reply);

/**
 * verdict_decide() - map a scan result to an action under a policy.
 * @policy: the configuration
 * @reply: the scan result (status and detail)
 * @version: clamd version for X-Virus-Scanned (e.g. "ClamAV 1.4.6"), or NULL/"" if unknown
 * @out: filled in every case
 *
 * INFECTED: on_virus (reject 550 5.7.1 naming the virus; tag adds X-Virus). ERROR:
 * on_error (tempfail 451 4.7.1). OVERSIZE: oversize (accept with
 * `X-Virus-Scanned: skipped (oversize)`, tempfail 451 4.7.1, reject 552 5.3.4). Never
 * treats OVERSIZE or ERROR as clean: their headers never claim a scan.
 */
void verdict_decide(const struct verdict_policy *policy, const struct verdict_reply *reply,
                    const char *version, struct verdict_decision *out);

/* verdict_status_name() - "clean", "infected", "oversize", "error". */
const char *verdict_status_name(enum verdict_status status);
/* verdict_action_name() - "accept", "reject", "tempfail", "discard", "quarantine". */
const char *verdict_action_name(enum verdict_action action);

#endif
