/* milter: the libmilter runner both milters share.
 *
 * A milter daemon fills a struct smfiDesc with its callbacks and passes
 * milter_runner(&desc) as its daemon runner. The runner binds `listen =` itself
 * as root (or adopts systemd's socket) and hands libmilter the fd as Debian
 * libmilter's "fd:N", so libmilter never replaces or unlinks the path: a path
 * something still listens on is refused (exit 69), and at exit the socket file
 * is removed only if it is still the one this process made. While serving, the
 * daemon's pid and start time are kept in the store for `status` (milter_probe.h). It fixes the
 * socket's mode and group and runs its own thread
 * that reloads on SIGUSR1 and stops gracefully on SIGUSR2 (libmilter owns
 * SIGTERM/SIGHUP/SIGINT: they stop it at once); at stop it waits for live sessions to end (up to
 * the deadline) before the skeleton frees anything (doc/protocols.md, "libmilter
 * threads at shutdown").
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

/* What every milter keeps per SMTP connection; a daemon's own session struct
 * has it as its first member. */
struct milter_session {
	struct daemon_conf *conf; /* the snapshot the connection started with (a reference) */
	unsigned long proto;      /* the SMFIP_* steps negotiated */
};

/**
 * milter_session_get() - the connection's session (smfi_getpriv), created on first use:
 * @size zeroed bytes (>= sizeof(struct milter_session)) holding a reference to the
 * current config snapshot, counted live until milter_session_close().
 */
void *milter_session_get(SMFICTX *ctx, size_t size);

/* milter_session_close() - for xxfi_close (which runs even when no session was made):
 * @fini(session) if not NULL, then drop the config reference, free, count down. */
void milter_session_close(SMFICTX *ctx, void (*fini)(void *session));

/* milter_continue() - SMFIS_NOREPLY when @nr_flag (SMFIP_NR_*) was negotiated for the
 * stage, else SMFIS_CONTINUE. @session may be NULL. */
sfsistat milter_continue(const void *session, unsigned long nr_flag);

/**
 * milter_negotiate() - the xxfi_negotiate both milters share: refuse an MTA that does
 * not offer @need (SMFIF_*), take @actions and @steps (SMFIP_*) as far as offered, and
 * remember the steps in the session (created with @size bytes).
 */
sfsistat milter_negotiate(SMFICTX *ctx, size_t size, unsigned long offered_actions,
                          unsigned long offered_steps, unsigned long *pf0, unsigned long *pf1,
                          unsigned long *pf2, unsigned long *pf3, unsigned long need,
                          unsigned long actions, unsigned long steps);

/* milter_macro() - macro @name ("i", "{auth_authen}") or NULL. */
const char *milter_macro(SMFICTX *ctx, const char *name);

/* milter_queue_id() - the queue id macro "i", or "NOQUEUE". */
const char *milter_queue_id(SMFICTX *ctx);

#endif
