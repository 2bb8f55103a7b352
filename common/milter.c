/* milter: libmilter runner (see milter.h). Threads: libmilter's listener and
 * one thread per SMTP connection; libmilter's signal thread (SIGTERM, SIGHUP,
 * SIGINT stop it); our reload thread (SIGUSR1). The session counter is the
 * only shared state here; configuration is the skeleton's refcounted snapshot.
 */
#include "milter.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "privs.h"
#include "xalloc.h"

static struct smfiDesc *milter_desc;
static struct daemon *milter_current;
static atomic_int milter_live;
static struct listen_spec milter_listen;
static bool milter_listen_unix;

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

void *milter_session_get(SMFICTX *ctx, size_t size)
{
	struct milter_session *s = smfi_getpriv(ctx);
	if (!s) {
		s = xcalloc(1, size);
		s->conf = daemon_conf_get(milter_current);
		smfi_setpriv(ctx, s);
		milter_session_begin();
	}
	return s;
}

void milter_session_close(SMFICTX *ctx, void (*fini)(void *session))
{
	struct milter_session *s = smfi_getpriv(ctx);
	if (!s)
		return;
	smfi_setpriv(ctx, NULL);
	if (fini)
		fini(s);
	daemon_conf_put(s->conf);
	free(s);
	milter_session_end();
}

sfsistat milter_continue(const void *session, unsigned long nr_flag)
{
	const struct milter_session *s = session;
	return s && (s->proto & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

sfsistat milter_negotiate(SMFICTX *ctx, size_t size, unsigned long offered_actions,
                          unsigned long offered_steps, unsigned long *pf0, unsigned long *pf1,
                          unsigned long *pf2, unsigned long *pf3, unsigned long need,
                          unsigned long actions, unsigned long steps)
{
	struct milter_session *s = milter_session_get(ctx, size);
	if ((offered_actions & need) != need)
		return SMFIS_REJECT;
	*pf0 = actions & offered_actions;
	*pf1 = steps & offered_steps;
	*pf2 = 0;
	*pf3 = 0;
	s->proto = *pf1;
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

static int milter_prepare(struct daemon *d)
{
	struct daemon_conf *c = daemon_conf_get(d);
	char conn[300];
	int fd, r = 0;

	milter_current = d;
	if (smfi_register(*milter_desc) != MI_SUCCESS) {
		r = -EINVAL;
		goto out;
	}
	if ((r = listen_adopt_systemd(SOCK_STREAM, &fd, 1)) > 0) {
		snprintf(conn, sizeof(conn), "fd:%d", fd);
		log_info("listening on systemd socket fd %d", fd);
		r = 0;
	} else if (r == 0) {
		size_t n;
		const char *const *l = cfg_list(c->cfg, NULL, "listen", &n);
		if (n != 1) {
			log_errx("%s: listen: a milter needs exactly one endpoint",
			         cfg_path(c->cfg));
			r = -EINVAL;
			goto out;
		}
		if ((r = listen_parse(l[0], &milter_listen)) < 0) {
			log_errx("%s: listen: bad endpoint '%s'", cfg_path(c->cfg), l[0]);
			goto out;
		}
		milter_listen_unix = milter_listen.kind == LISTEN_UNIX;
		listen_milter_conn(&milter_listen, conn, sizeof(conn));
		log_info("listening on %s", l[0]);
	} else {
		goto out;
	}
	if (smfi_setconn(conn) != MI_SUCCESS) {
		r = -EINVAL;
		goto out;
	}
	smfi_settimeout(600);
	/* libmilter creates the socket file under the umask: make it the right mode at once */
	mode_t old_umask = umask(milter_listen_unix ? 0777 & ~milter_listen.mode : 0077);
	int opened = smfi_opensocket(1);
	umask(old_umask);
	if (opened != MI_SUCCESS) {
		r = -EADDRNOTAVAIL;
		goto out;
	}
	if (milter_listen_unix) {
		const char *group = privs_is_root() ? cfg_str(c->cfg, NULL, "listen_group") : NULL;
		if ((r = listen_set_owner(milter_listen.path, group, milter_listen.mode)) < 0)
			log_warn_e(r, "%s: cannot set mode/group", milter_listen.path);
		r = 0;
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
	for (;;) {
		int sig;
		if (sigwait(&set, &sig) != 0 || daemon_stopping(d))
			continue;
		if (sig == SIGUSR1) {
			daemon_reload(d);
			continue;
		}
		log_info("SIGUSR2: stopping once %d open sessions are done", milter_sessions());
		daemon_request_stop(d);
		int left = milter_drain(daemon_stop_deadline_ms(d));
		if (left > 0)
			log_warnx("stop deadline passed with %d sessions open", left);
		smfi_stop();
	}
	return NULL;
}

static int milter_serve(struct daemon *d)
{
	pthread_t t;
	if (pthread_create(&t, NULL, milter_signal_thread, d) == 0)
		pthread_detach(t);
	int r = smfi_main();
	daemon_request_stop(d);
	if (milter_drain(daemon_stop_deadline_ms(d)) > 0)
		log_warnx("stopping with %d sessions still open", milter_sessions());
	if (milter_listen_unix)
		unlink(milter_listen.path);
	return r == MI_SUCCESS ? 0 : -EIO;
}

static void milter_abandon(struct daemon *d)
{
	if (milter_listen_unix)
		unlink(milter_listen.path);
}

static const struct daemon_runner milter_runner_ops = {
	.prepare = milter_prepare,
	.serve = milter_serve,
	.abandon = milter_abandon,
	.own_signals = true,
	.one_listen = true,
};

const struct daemon_runner *milter_runner(struct smfiDesc *desc)
{
	milter_desc = desc;
	return &milter_runner_ops;
}
