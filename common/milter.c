/* milter: libmilter runner (see milter.h). Threads: libmilter's listener and
 * one thread per SMTP connection; libmilter's signal thread (SIGTERM, SIGHUP and
 * SIGINT stop it at once); our signal thread (SIGUSR1 reloads, SIGUSR2 waits for
 * the open sessions, then stops libmilter) and, during a stop, a short-lived
 * thread that wakes libmilter's listener. Shared state: the atomic session
 * counter; the listening socket is set up before any thread starts, and the
 * configuration is the skeleton's refcounted snapshot.
 */
#include "milter.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "milter_probe.h"
#include "privs.h"
#include "xalloc.h"

/* Largest milter packet accepted: libmilter's 1 MiB step (MILTER_MDS_1M). */
#define MILTER_PACKET_MAX ((1024 * 1024) - 1)

static struct smfiDesc *milter_desc;
static const struct milter_ops *milter_ops;
static struct smfiDesc milter_ops_desc;
static struct daemon *milter_current;
static atomic_int milter_live;
static struct listen_spec milter_listen;
static bool milter_listen_unix;
static int milter_listen_fd = -1;

struct daemon *milter_daemon(void)
{
	return milter_current;
}

void milter_session_begin(void)
{
	atomic_fetch_add(&milter_live, 1);
}

void milter_session_end(void)
{
	atomic_fetch_sub(&milter_live, 1);
}

int milter_sessions(void)
{
	return atomic_load(&milter_live);
}

void *milter_session(SMFICTX *ctx)
{
	struct milter_session *s = smfi_getpriv(ctx);
	if (!s) {
		s = xcalloc(1, milter_ops->session_size);
		s->conf = daemon_conf_get(milter_current);
		smfi_setpriv(ctx, s);
		milter_session_begin();
	}
	return s;
}

int milter_insheader(SMFICTX *ctx, int index, const char *name, const char *value)
{
	const struct milter_session *s = smfi_getpriv(ctx);
	if (!s || !(s->proto & SMFIP_HDR_LEADSPC))
		return smfi_insheader(ctx, index, (char *)name, (char *)value);
	char *v = xasprintf(" %s", value);
	int r = smfi_insheader(ctx, index, (char *)name, v);
	free(v);
	return r;
}

const char *milter_header_raw(const void *session, const char *value, char **tofree)
{
	const struct milter_session *s = session;
	*tofree = NULL;
	if (s && (s->proto & SMFIP_HDR_LEADSPC))
		return value;
	return *tofree = xasprintf(" %s", value);
}

void *milter_message_begin(SMFICTX *ctx)
{
	struct milter_session *s = milter_session(ctx);
	milter_ops->message_end(s);
	s->stage = "MAIL";
	s->cut = NULL;
	return s;
}

/* milter_step() - note the message step @stage reached (the runner's callbacks). */
static void milter_step(struct milter_session *s, const char *stage)
{
	if (!s)
		return;
	s->stage = stage;
	s->cut = NULL;
}

sfsistat milter_continue(const void *session, unsigned long nr_flag)
{
	const struct milter_session *s = session;
	return s && (s->proto & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* Refuse an MTA that does not offer the actions needed; take the wanted actions and steps
 * as far as offered, and remember the steps for milter_continue(). */
static sfsistat milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                                 unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                                 unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	struct milter_session *s = milter_session(ctx);
	if ((f0 & milter_ops->need) != milter_ops->need)
		return SMFIS_REJECT;
	*pf0 = milter_ops->actions & f0;
	*pf1 = milter_ops->steps & f1;
	*pf2 = 0;
	*pf3 = 0;
	s->proto = *pf1;
	return SMFIS_CONTINUE;
}

static sfsistat milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_session *s = smfi_getpriv(ctx);
	milter_step(s, "header");
	if (s)
		milter_ops->header(s, name, value);
	return milter_continue(s, SMFIP_NR_HDR);
}

static sfsistat milter_eoh(SMFICTX *ctx)
{
	struct milter_session *s = smfi_getpriv(ctx);
	milter_step(s, "end of headers");
	if (s)
		milter_ops->eoh(s);
	return milter_continue(s, SMFIP_NR_EOH);
}

static sfsistat milter_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct milter_session *s = smfi_getpriv(ctx);
	milter_step(s, "body");
	if (s)
		milter_ops->body(s, chunk, len);
	return milter_continue(s, SMFIP_NR_BODY);
}

static sfsistat milter_eom(SMFICTX *ctx)
{
	struct milter_session *s = smfi_getpriv(ctx);
	milter_step(s, NULL);
	if (!s || !s->conf)
		return SMFIS_ACCEPT;
	return milter_ops->eom(ctx, s, milter_queue_id(ctx));
}

/* An abort in the message data (after MAIL, RCPT) is the MTA giving up on a message it was
 * sending (its SMTP client went away mid-DATA), or libmilter ending a session on a malformed
 * or oversized packet; either way the connection closes next, and milter_close() logs it.
 * An abort at MAIL or RCPT is an RSET: not logged. */
static sfsistat milter_abort(SMFICTX *ctx)
{
	struct milter_session *s = smfi_getpriv(ctx);
	if (s) {
		if (s->stage && strcmp(s->stage, "MAIL") != 0) {
			snprintf(s->cut_qid, sizeof(s->cut_qid), "%s", milter_queue_id(ctx));
			s->cut = s->stage;
		}
		s->stage = NULL;
		milter_ops->message_end(s);
	}
	return SMFIS_CONTINUE;
}

/* xxfi_close runs even when no session was made: libmilter ends a connection whose first
 * packet is not a valid negotiation (malformed, oversized, cut short) without telling the
 * filter why, so that is logged here, as is a message cut off in its data. */
static sfsistat milter_close(SMFICTX *ctx)
{
	struct milter_session *s = smfi_getpriv(ctx);
	if (!s) {
		if (!daemon_stopping(milter_current))
			log_info("a connection ended before the milter negotiation (not a milter "
			         "client, or a malformed, oversized or truncated first packet)");
		return SMFIS_CONTINUE;
	}
	if (s->cut || (s->stage && strcmp(s->stage, "MAIL") != 0))
		log_info("%s: the connection ended in the message's %s: message not finished "
		         "(the MTA gave up on it, or a malformed or oversized milter packet)",
		         s->cut ? s->cut_qid : milter_queue_id(ctx), s->cut ? s->cut : s->stage);
	smfi_setpriv(ctx, NULL);
	milter_ops->message_end(s);
	daemon_conf_put(s->conf);
	free(s);
	milter_session_end();
	return SMFIS_CONTINUE;
}

const char *milter_macro(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);
	return v && *v ? v : NULL;
}

const char *milter_queue_id(SMFICTX *ctx)
{
	const char *q = milter_macro(ctx, "i");
	return q ? q : "NOQUEUE";
}

/* libmilter's listener checks for a stop only between two waits of up to 5 s (MI_CHK_TIME
 * in libmilter's libmilter.h), holding the lock smfi_stop() needs: connections to our own
 * socket end the wait, so a stop takes milliseconds. */
static struct sockaddr_storage milter_wake_addr;
static socklen_t milter_wake_len;
static atomic_bool milter_stop_done;

static void milter_note_wake_addr(int fd)
{
	milter_wake_len = sizeof(milter_wake_addr);
	if (getsockname(fd, (struct sockaddr *)&milter_wake_addr, &milter_wake_len) < 0)
		milter_wake_len = 0;
}

static void *milter_waker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100 && !atomic_load(&milter_stop_done); i++) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
		int fd = socket(milter_wake_addr.ss_family,
		                SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		(void)!connect(fd, (struct sockaddr *)&milter_wake_addr, milter_wake_len);
		close(fd);
	}
	return NULL;
}

static void milter_stop_now(void)
{
	pthread_t w;
	bool waking = milter_wake_len > 0 && pthread_create(&w, NULL, milter_waker, NULL) == 0;
	smfi_stop();
	atomic_store(&milter_stop_done, true);
	if (waking)
		pthread_join(w, NULL);
}

/* Bind `listen =` ourselves and hand libmilter the fd ("fd:N", as under socket activation):
 * libmilter then never unlinks or replaces the path; only listen_bind()'s checks and
 * listen_unlink()'s identity test touch it. */
static int milter_bind(struct daemon_conf *c, char *conn, size_t connsz)
{
	size_t n;
	const char *const *l = cfg_list(c->cfg, NULL, "listen", &n);
	if (n != 1) {
		log_errx("%s: listen: a milter needs exactly one endpoint", cfg_path(c->cfg));
		return -EINVAL;
	}
	int r = listen_parse(l[0], &milter_listen);
	if (r < 0) {
		log_errx("%s: listen: bad endpoint '%s'", cfg_path(c->cfg), l[0]);
		return r;
	}
	int fd = listen_bind(&milter_listen, SOCK_STREAM, SOMAXCONN);
	if (fd == -EADDRINUSE && milter_listen.kind == LISTEN_UNIX) {
		log_errx("another process is listening on %s", milter_listen.path);
		return fd;
	}
	if (fd < 0) {
		log_err_e(fd, "cannot listen on %s", l[0]);
		return fd;
	}
	milter_listen_unix = milter_listen.kind == LISTEN_UNIX;
	if (milter_listen_unix) {
		/* owned by the service user, as systemd's SocketUser= does: the daemon can
		 * then reach (status, stop) and remove its own socket after the drop */
		bool root = privs_is_root();
		const char *user = root ? cfg_str(c->cfg, NULL, "user") : NULL;
		const char *group = root ? cfg_str(c->cfg, NULL, "listen_group") : NULL;
		if ((r = listen_set_owner(&milter_listen, user, group)) < 0)
			log_warn_e(r, "%s: cannot set mode/group", milter_listen.path);
	}
	milter_listen_fd = fd;
	milter_note_wake_addr(fd);
	snprintf(conn, connsz, "fd:%d", fd);
	log_info("listening on %s", l[0]);
	return 0;
}

static int milter_prepare(struct daemon *d)
{
	struct daemon_conf *c = daemon_conf_get(d);
	char conn[64];
	int fd, r = 0;

	milter_current = d;
	if (smfi_register(*milter_desc) != MI_SUCCESS) {
		log_errx("libmilter refused the filter description");
		r = -EINVAL;
		goto out;
	}
	if ((r = listen_adopt_systemd(SOCK_STREAM, &fd, 1)) > 0) {
		milter_listen_fd = fd;
		milter_note_wake_addr(fd);
		snprintf(conn, sizeof(conn), "fd:%d", fd);
		log_info("listening on systemd socket fd %d", fd);
		r = 0;
	} else if (r == 0) {
		if ((r = milter_bind(c, conn, sizeof(conn))) < 0)
			goto out;
	} else {
		log_err_e(r, "cannot take the sockets systemd passed");
		goto out;
	}
	smfi_settimeout(600);
	/* libmilter refuses a packet over 64 KiB by default. Postfix sends one header per packet
	 * and cuts a header to 60000 bytes when milters are on, but other MTAs and raised limits
	 * send more: take up to 1 MiB (libmilter allocates per packet, not this much). */
	smfi_setmaxdatasize(MILTER_PACKET_MAX);
	if (smfi_setconn(conn) != MI_SUCCESS || smfi_opensocket(0) != MI_SUCCESS) {
		log_errx("libmilter cannot serve %s", conn);
		r = -EADDRNOTAVAIL;
	}
out:
	daemon_conf_put(c);
	return r;
}

/* milter_drain() - wait until no session is live, up to @deadline_ms. Return the
 * sessions still open. */
static int milter_drain(int deadline_ms)
{
	for (int waited = 0; milter_sessions() > 0 && waited < deadline_ms; waited += 20) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return milter_sessions();
}

/* SIGUSR1 reloads. SIGUSR2 is the graceful stop (the units' KillSignal): every open
 * session finishes, up to the deadline, before libmilter is told to stop. SIGTERM
 * stays libmilter's own stop, which abandons sessions idle between two commands
 * (Debian's libmilter worker pool); Postfix then applies milter_default_action. */
static void *milter_signal_thread(void *arg)
{
	struct daemon *d = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	/* libmilter's own signal thread waits for these too and stops the same way (SIGINT
	 * included); whichever thread the kernel hands one to, the stop happens, and ours
	 * also ends the listener's wait at once */
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	for (;;) {
		int sig;
		if (sigwait(&set, &sig) != 0 || daemon_stopping(d))
			continue;
		if (sig == SIGUSR1) {
			daemon_reload(d);
			continue;
		}
		if (sig != SIGUSR2) {
			log_info("%s: stopping now", sig == SIGTERM  ? "SIGTERM"
			                             : sig == SIGHUP ? "SIGHUP"
			                                             : "SIGINT");
			daemon_request_stop(d);
			milter_stop_now();
			continue;
		}
		log_info("SIGUSR2: stopping once %d open sessions are done", milter_sessions());
		daemon_request_stop(d);
		int left = milter_drain(daemon_stop_deadline_ms(d));
		if (left > 0)
			log_warnx("stop deadline passed with %d sessions open", left);
		milter_stop_now();
	}
	return NULL;
}

static int milter_serve(struct daemon *d)
{
	pthread_t t;
	char listen[512];
	milter_probe_serving(d, listen, sizeof(listen));
	if (pthread_create(&t, NULL, milter_signal_thread, d) == 0)
		pthread_detach(t);
	int r = smfi_main();
	daemon_request_stop(d);
	if (milter_drain(daemon_stop_deadline_ms(d)) > 0)
		log_warnx("stopping with %d sessions still open", milter_sessions());
	if (milter_listen_unix)
		listen_unlink(&milter_listen);
	milter_probe_stopped(d, listen);
	return r == MI_SUCCESS ? 0 : -EIO;
}

/* A start that failed after binding: stop listening, then remove the socket file. */
static void milter_abandon(struct daemon *d)
{
	(void)d;
	if (milter_listen_fd >= 0)
		close(milter_listen_fd);
	if (milter_listen_unix)
		listen_unlink(&milter_listen);
}

static const struct daemon_runner milter_daemon_runner = {
	.prepare = milter_prepare,
	.serve = milter_serve,
	.abandon = milter_abandon,
	.own_signals = true,
	.one_listen = true,
};

const struct daemon_runner *milter_runner(struct smfiDesc *desc)
{
	milter_desc = desc;
	return &milter_daemon_runner;
}

const struct daemon_runner *milter_runner_ops(const struct milter_ops *ops)
{
	milter_ops = ops;
	milter_ops_desc = (struct smfiDesc){
		.xxfi_name = (char *)ops->name,
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = ops->actions,
		.xxfi_connect = ops->connect,
		.xxfi_envfrom = ops->envfrom,
		.xxfi_envrcpt = ops->envrcpt,
		.xxfi_header = ops->header ? milter_header : NULL,
		.xxfi_eoh = ops->eoh ? milter_eoh : NULL,
		.xxfi_body = ops->body ? milter_body : NULL,
		.xxfi_eom = ops->eom ? milter_eom : NULL,
		.xxfi_abort = milter_abort,
		.xxfi_close = milter_close,
		.xxfi_negotiate = milter_negotiate,
	};
	return milter_runner(&milter_ops_desc);
}
