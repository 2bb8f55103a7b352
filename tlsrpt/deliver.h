/* deliver: a report handed to its endpoint: mail through the local sendmail program, or an
 * HTTPS POST (RFC 8460 sections 5.3.1 and 5.3.2); and the check that report mail will be
 * DKIM-signed.
 */
#ifndef POSTWARDEN_TLSRPT_DELIVER_H
#define POSTWARDEN_TLSRPT_DELIVER_H

#include <stddef.h>

#include "buf.h"

struct fetch;
struct store;

#define TLSRPT_SENDMAIL_TIMEOUT_MS 60000

/**
 * tlsrpt_deliver_sendmail() - run @sendmail (a program path and optional arguments separated
 * by blanks, no quoting, no shell) as "<sendmail...> -f @from -i -- @rcpt" with @msg on its
 * standard input, and wait for it at most @timeout_ms (then it is killed).
 * Return: 0 when it exited 0; -EIO (another exit status or a signal), -ETIMEDOUT, -ENOENT
 * (cannot run it) or another -errno, with a line in @err (with the start of what it said on
 * stderr).
 */
int tlsrpt_deliver_sendmail(const char *sendmail, const char *from, const char *rcpt,
                            const void *msg, size_t len, int timeout_ms, struct buf *err);

/**
 * tlsrpt_deliver_https() - POST @gz (@len bytes) to @url as application/tlsrpt+gzip.
 * Return: 0 on any 2xx; fetch_post()'s -errno otherwise, with a line in @err.
 */
int tlsrpt_deliver_https(struct fetch *f, const char *url, const void *gz, size_t len,
                         struct buf *err);

/**
 * tlsrpt_dkim_selector() - an active milter-dkim selector for @domain in the store: a
 * "pw:dkim:sel:<d>:<selector>" record with "published" and "matches" true (what
 * milter-dkim's gate needs to sign with it), for d = @domain or one of its parent domains
 * (a [*.parent] section signs with d=parent).
 * @sel: receives "<d>:<selector>" of the first found
 * Return: 0 (found), 1 (none), -errno (the store failed).
 */
int tlsrpt_dkim_selector(struct store *st, const char *domain, char *sel, size_t selsz);

#endif
