/* datagram: one libtlsrpt datagram (what Postfix >= 3.10 sends to the collector socket)
 * parsed into a struct tlsrpt_event. The wire format (one JSON object, no framing) is
 * written down in doc/protocols.md, "libtlsrpt datagrams". Pure: no I/O, no logging.
 */
#ifndef POSTWARDEN_TLSRPT_DATAGRAM_H
#define POSTWARDEN_TLSRPT_DATAGRAM_H

#include <stddef.h>

#include "buf.h"
#include "event.h"

/* libtlsrpt's internal result code for a policy the MTA never finished (not an RFC 8460
 * result type): the policy counts as failed, the detail itself is not kept. */
#define TLSRPT_DATAGRAM_UNFINISHED 901

/* Storage for the strings of the last parsed event: every string of the event points into
 * it. Embedded: tlsrpt_datagram_buf_init()/_fini(); one per parsing thread. */
struct tlsrpt_datagram_buf {
	char *data; /* owned */
	size_t cap;
};

void tlsrpt_datagram_buf_init(struct tlsrpt_datagram_buf *b);
void tlsrpt_datagram_buf_fini(struct tlsrpt_datagram_buf *b);

/**
 * tlsrpt_datagram_parse() - parse the datagram @p (@n bytes, not NUL-terminated) into @ev.
 * @now: Unix time to put in ev->time (a datagram carries none: the time it arrived)
 * @scratch: holds the decoded strings; they stay valid until the next parse with it (or
 *           its _fini()): a consumer that keeps one copies it
 * @ev: filled completely on success; on failure its contents are unspecified
 * @err: one line on failure (buf.h; NULL: no text); the line quotes no datagram bytes,
 *       only byte offsets and member names
 *
 * Accepted: dpv "1" or none; a lower-cased `d`; `pr` (optional: NULL when absent);
 * 1..TLSRPT_POLICIES_MAX policies of type 1, 2 or 9, each within the event's limits;
 * failure detail codes 201-205 and 301-306, and 901 (see TLSRPT_DATAGRAM_UNFINISHED).
 * Members not in the format are skipped (as libtlsrpt's own collector does); a member
 * given twice, a wrong type, invalid UTF-8 or escapes, a NUL in a string, more entries
 * than a limit, and anything after the object are errors.
 * Return: 0, or -EINVAL.
 */
int tlsrpt_datagram_parse(const char *p, size_t n, long long now,
                          struct tlsrpt_datagram_buf *scratch, struct tlsrpt_event *ev,
                          struct buf *err);

#endif
