/* milter: the libmilter runner both milters share.
 *
 * A milter daemon fills a struct milter_ops with its callbacks and passes
 * milter_runner_ops(&ops) as its daemon runner. The runner binds `listen =` itself
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

/**
 * struct milter_ops - what a milter daemon supplies to the runner: its session size,
 * the actions and steps it wants, a message-end hook and the callbacks doing its
 * own work. The runner supplies the rest: the session (milter_session()), the
 * negotiation, abort and close.
 * @name:         the filter's name for libmilter (the daemon's name)
 * @session_size: bytes of the daemon's session struct, a struct milter_session first
 * @need:         SMFIF_* actions the MTA must offer, or the connection is refused
 * @actions:      SMFIF_* actions wanted (and registered), as far as offered
 * @steps:        SMFIP_* protocol steps wanted, as far as offered
 * @message_end:  frees the per-message state of a session, which stays: called by
 *                milter_message_begin(), at abort and at close
 * @connect, @envfrom, @envrcpt: libmilter's xxfi_* callbacks (NULL when not wanted)
 * @eom:          xxfi_eom on an existing session, given the queue id (a message without a
 *                session is accepted); it ends with @message_end
 * @header, @eoh, @body: the work of those stages on an existing session (NULL when not
 *                wanted); the runner answers for them (SMFIS_NOREPLY when negotiated)
 */
struct milter_ops {
	const char *name;
	size_t session_size;
	unsigned long need;
	unsigned long actions;
	unsigned long steps;
	void (*message_end)(void *session);
	sfsistat (*connect)(SMFICTX *ctx, char *host, _SOCK_ADDR *sa);
	sfsistat (*envfrom)(SMFICTX *ctx, char **argv);
	sfsistat (*envrcpt)(SMFICTX *ctx, char **argv);
	sfsistat (*eom)(SMFICTX *ctx, void *session, const char *qid);
	void (*header)(void *session, const char *name, const char *value);
	void (*eoh)(void *session);
	void (*body)(void *session, const unsigned char *chunk, size_t len);
};

/* milter_runner_ops() - the runner for a milter daemon described by @ops (kept by
 * pointer; one milter per process, as libmilter allows). */
const struct daemon_runner *milter_runner_ops(const struct milter_ops *ops);

/* milter_runner() - the runner for a daemon serving the raw libmilter table @desc (kept
 * by pointer), which then keeps its sessions and their count itself. */
const struct daemon_runner *milter_runner(struct smfiDesc *desc);

/* MILTER_HELP() - the --help text about signals of a milter daemon: @reload adds to
 * what SIGUSR1 does ("" or " and ..."), @see ends it ("See milter-x(8)."). */
#define MILTER_HELP(reload, see)                                                                   \
	"SIGUSR1 reloads the configuration" reload "; SIGUSR2 stops once open\n"                   \
	"sessions are done; SIGTERM stops at once.\n" see

/* milter_daemon() - the daemon being served (for callbacks). */
struct daemon *milter_daemon(void);

/* milter_session_begin()/end() - count live sessions (for a raw table: the runner of
 * struct milter_ops counts its own): call begin when a callback sets private data and
 * end in xxfi_close when it frees it. */
void milter_session_begin(void);
void milter_session_end(void);
int milter_sessions(void);

/* What every milter keeps per SMTP connection; a daemon's own session struct
 * has it as its first member. */
struct milter_session {
	struct daemon_conf *conf; /* the snapshot the connection started with (a reference) */
	unsigned long proto;      /* the SMFIP_* steps negotiated */
	const char *stage;        /* the current message's last step, NULL outside a message */
	const char *cut;          /* the step an abort cut the message data at, else NULL */
	char cut_qid[32];         /* that message's queue id */
};

/**
 * milter_session() - the connection's session (smfi_getpriv), created on first use:
 * struct milter_ops' @session_size zeroed bytes holding a reference to the current
 * config snapshot, counted live until the connection closes (the runner frees it).
 */
void *milter_session(SMFICTX *ctx);

/* milter_message_begin() - for xxfi_envfrom: the session, with what the last message
 * left freed (struct milter_ops' @message_end). */
void *milter_message_begin(SMFICTX *ctx);

/* milter_continue() - SMFIS_NOREPLY when @nr_flag (SMFIP_NR_*) was negotiated for the
 * stage, else SMFIS_CONTINUE. @session may be NULL. */
sfsistat milter_continue(const void *session, unsigned long nr_flag);

/**
 * milter_insheader() - smfi_insheader(@ctx, @index, @name, @value), the value as the MTA
 * must write it after the colon: with SMFIP_HDR_LEADSPC negotiated the MTA writes
 * "name:" and the value verbatim, so one space is put in front; without it the MTA
 * writes "name: " itself.
 * Return: MI_SUCCESS or MI_FAILURE.
 */
int milter_insheader(SMFICTX *ctx, int index, const char *name, const char *value);

/**
 * milter_header_raw() - a header value as it followed the colon in the message: as
 * given with SMFIP_HDR_LEADSPC negotiated, else with the one space the MTA dropped put
 * back (the best guess: "Name:value" and "Name:  value" are then told apart only by
 * an MTA that offers HDR_LEADSPC). Free *@tofree after use.
 */
const char *milter_header_raw(const void *session, const char *value, char **tofree);

/* milter_macro() - macro @name ("i", "{auth_authen}") or NULL. */
const char *milter_macro(SMFICTX *ctx, const char *name);

/* milter_queue_id() - the queue id macro "i", or "NOQUEUE". */
const char *milter_queue_id(SMFICTX *ctx);

#endif
