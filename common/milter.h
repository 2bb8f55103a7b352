/* milter: the libmilter runner both milters share (ARCHITECTURE.md).
 *
 * A milter daemon fills a struct smfiDesc with its callbacks and passes
 * milter_runner(&desc) as its daemon runner. The runner sets the connection
 * spec from `listen =` (or Debian libmilter's "fd:N" under socket activation),
 * binds as root, fixes the socket's mode and group, and runs its own thread
 * that reloads on SIGUSR1 and stops gracefully on SIGUSR2 (libmilter owns
 * SIGTERM/SIGHUP/SIGINT: they stop it at once); at stop it waits for live sessions to end (up to the deadline) before the
 * skeleton frees anything (PROTOCOLS.md 3.3b item 6).
 */
#ifndef POSTWARDEN_MILTER_H
#define POSTWARDEN_MILTER_H

#include <libmilter/mfapi.h>

#include "daemon.h"

/* milter_runner() - the runner for a daemon serving @desc (kept by pointer;
 * one milter per process, as libmilter allows). */
const struct daemon_runner *milter_runner(struct smfiDesc *desc);

/* milter_daemon() - the daemon being served (for callbacks). */
struct daemon *milter_daemon(void);

/* milter_session_begin()/end() - count live sessions: call begin when a
 * callback sets private data and end in xxfi_close when it frees it. */
void milter_session_begin(void);
void milter_session_end(void);
int milter_sessions(void);

/* milter_macro() - macro @name ("i", "{auth_authen}") or NULL. */
const char *milter_macro(SMFICTX *ctx, const char *name);

/* milter_queue_id() - the queue id macro "i", or "NOQUEUE". */
const char *milter_queue_id(SMFICTX *ctx);

#endif
