/* daemon: the shared skeleton (see daemon.h).
 *
 * Start order: flags -> config (errors name file:line, exit 78; every `listen`
 * endpoint is parsed then, by the check() this skeleton adds to the schema) -> subcommand or
 * -n -> runner->prepare() takes listeners as root -> privilege drop -> build()
 * (secrets) -> store -> started() -> the tick thread -> READY=1 -> runner->serve()
 * -> the last tick. A subcommand: its before() -> what it needs, in the same order
 * -> run(). Every handled
 * signal is blocked in main before any thread exists; unless the runner owns
 * signals, one thread sigwait()s: SIGHUP/SIGUSR1 reload, SIGTERM/SIGINT stop.
 * Config snapshots are refcounted: a reload publishes a new one, in-flight work
 * keeps the one it started with, the last put frees it.
 */
#include "daemon.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "notify.h"
#include "privs.h"
#include "store.h"
#include "xalloc.h"

struct daemon {
	const struct daemon_spec *spec;
	struct cfg_schema schema; /* spec->schema plus the skeleton's checks */
	const char *config_path;
	bool foreground;
	bool debug;
	pthread_mutex_t lock; /* guards conf and stop */
	pthread_cond_t cond;
	struct daemon_conf *conf;
	struct store *store;
	atomic_bool stop;
	const struct daemon_cmd *cmd; /* the subcommand being run, or NULL */
	pthread_t tick_thread;
	bool ticking; /* tick_thread runs */
};

/* The daemon's own check(), chained after the skeleton's (one daemon per process). */
static int (*daemon_spec_check)(const char *, const char *, const char *, struct buf *);

static int daemon_check_key(const char *section, const char *key, const char *value,
                            struct buf *err)
{
	struct listen_spec ls;

	if (!section && strcmp(key, "listen") == 0 && listen_parse(value, &ls) < 0) {
		buf_add_line(err, "listen: bad endpoint '%s'", value);
		return -EINVAL;
	}
	return daemon_spec_check ? daemon_spec_check(section, key, value, err) : 0;
}

static struct daemon_conf *daemon_conf_new(struct daemon *d, struct cfg *cfg, void *priv)
{
	struct daemon_conf *c = xcalloc(1, sizeof(*c));
	c->cfg = cfg;
	c->priv = priv;
	c->spec = d->spec;
	atomic_init((_Atomic int *)&c->refs, 1);
	return c;
}

void daemon_conf_put(struct daemon_conf *c)
{
	if (!c || atomic_fetch_sub((_Atomic int *)&c->refs, 1) != 1)
		return;
	if (c->priv && c->spec->release)
		c->spec->release(c->priv);
	cfg_free(c->cfg);
	free(c);
}

struct daemon_conf *daemon_conf_get(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	struct daemon_conf *c = d->conf;
	if (c)
		atomic_fetch_add((_Atomic int *)&c->refs, 1);
	pthread_mutex_unlock(&d->lock);
	return c;
}

struct store *daemon_store(struct daemon *d)
{
	return d->store;
}

const struct daemon_spec *daemon_spec(const struct daemon *d)
{
	return d->spec;
}

const struct daemon_cmd *daemon_command(const struct daemon *d)
{
	return d->cmd;
}

bool daemon_stopping(const struct daemon *d)
{
	return atomic_load(&d->stop);
}

int daemon_stop_deadline_ms(const struct daemon *d)
{
	(void)d;
	return 10000;
}

void daemon_request_stop(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	bool was = atomic_exchange(&d->stop, true);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (!was && d->spec->stopping)
		d->spec->stopping(d);
}

bool daemon_wait_stop(struct daemon *d, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (timeout_ms >= 0) {
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&d->lock);
	while (!atomic_load(&d->stop)) {
		int r = timeout_ms < 0 ? pthread_cond_wait(&d->cond, &d->lock)
		                       : pthread_cond_timedwait(&d->cond, &d->lock, &ts);
		if (r == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&d->lock);
	return atomic_load(&d->stop);
}

/* daemon_build() - run the daemon's build() on @cfg (taken over) and wrap both in a
 * new snapshot; on refusal log each line of the reason, free @cfg and return -EINVAL. */
static int daemon_build(struct daemon *d, struct cfg *cfg, struct daemon_conf **out)
{
	struct buf err;
	void *priv = NULL;
	buf_init(&err);
	if (d->spec->build && !(priv = d->spec->build(d, cfg, &err))) {
		const char *p = err.len ? buf_cstr(&err) : "invalid configuration";
		while (*p) {
			size_t len = strcspn(p, "\n");
			log_errx("%s: %.*s", d->config_path, (int)len, p);
			p += len + (p[len] == '\n');
		}
		buf_fini(&err);
		cfg_free(cfg);
		return -EINVAL;
	}
	buf_fini(&err);
	*out = daemon_conf_new(d, cfg, priv);
	return 0;
}

/* daemon_read() - cfg_load() against the skeleton's schema, then the checks that
 * need the whole file: a runner with one_listen gets at most one `listen` endpoint
 * (none is left to prepare(): systemd may pass the socket). */
static struct cfg *daemon_read(struct daemon *d, struct buf *err)
{
	const struct daemon_runner *run = d->spec->runner;
	struct cfg *cfg = cfg_load(&d->schema, d->config_path, err);
	size_t n = 0;

	if (cfg && run && run->one_listen) {
		cfg_list(cfg, NULL, "listen", &n);
		if (n > 1) {
			buf_add_line(err, "%s:%u: listen: a milter takes one endpoint, not %zu",
			             cfg_path(cfg), cfg_line(cfg, NULL, "listen"), n);
			cfg_free(cfg);
			return NULL;
		}
	}
	return cfg;
}

/* daemon_load() - read the config file and build the daemon's state from it. */
static int daemon_load(struct daemon *d, struct daemon_conf **out)
{
	struct buf err;
	buf_init(&err);
	struct cfg *cfg = daemon_read(d, &err);
	if (!cfg) {
		log_errx("%s", buf_cstr(&err));
		buf_fini(&err);
		return -EINVAL;
	}
	buf_fini(&err);
	return daemon_build(d, cfg, out);
}

int daemon_reload(struct daemon *d)
{
	struct daemon_conf *c = NULL;
	notify_reloading();
	log_info("reloading %s", d->config_path);
	int r = daemon_load(d, &c);
	if (r == 0) {
		pthread_mutex_lock(&d->lock);
		struct daemon_conf *old = d->conf;
		d->conf = c;
		pthread_mutex_unlock(&d->lock);
		daemon_conf_put(old);
		if (d->spec->reloaded)
			d->spec->reloaded(d);
		log_info("configuration reloaded");
	} else {
		log_warnx("reload failed: keeping the previous configuration");
	}
	notify_ready();
	if (r == 0)
		notify_status("serving; %s reloaded", d->config_path);
	else
		notify_status("serving the previous configuration: reload of %s failed",
		              d->config_path);
	return r;
}

/* daemon_open_store() - open the `store =` of the current config; NULL after logging
 * why, or when there is none. */
static struct store *daemon_open_store(struct daemon *d)
{
	struct daemon_conf *c = daemon_conf_get(d);
	const char *uri = c ? cfg_str(c->cfg, NULL, "store") : "";
	struct store *st = NULL;
	if (uri && *uri) {
		st = store_open(uri);
		if (!st)
			log_warn("store %s", uri);
	}
	daemon_conf_put(c);
	return st;
}

void daemon_check_problem(struct daemon_check *ck, int code, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_errx("%s", line);
	ck->problems++;
	if (ck->rc != DAEMON_EXIT_CONFIG)
		ck->rc = code;
}

/* daemon_check_dir() - @path's parent directory, copied into @dir. */
static void daemon_check_dir(const char *path, char *dir, size_t n)
{
	snprintf(dir, n, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, n, ".");
}

int daemon_check_begin(struct daemon *d, struct daemon_check *ck)
{
	const struct cfg *cfg = d->conf->cfg;
	const char *user = cfg_str(cfg, NULL, "user");
	const char *group = cfg_str(cfg, NULL, "group");
	size_t n;
	const char *const *ls = cfg_list(cfg, NULL, "listen", &n);
	struct stat st;
	int r;

	for (size_t i = 0; i < n; i++) {
		struct listen_spec spec;
		char dir[sizeof(spec.path)];
		if (listen_parse(ls[i], &spec) < 0 || spec.kind != LISTEN_UNIX)
			continue;
		daemon_check_dir(spec.path, dir, sizeof(dir));
		if (stat(dir, &st) < 0)
			daemon_check_problem(ck, DAEMON_EXIT_CONFIG,
			                     "listen = %s: directory %s: %s", ls[i], dir,
			                     strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			daemon_check_problem(ck, DAEMON_EXIT_CONFIG,
			                     "listen = %s: %s is not a directory", ls[i], dir);
	}
	if ((r = privs_drop(user, group)) < 0) {
		daemon_check_problem(ck, DAEMON_EXIT_CONFIG, "cannot run as user %s, group %s: %s",
		                     user, group,
		                     r == -ENOENT ? "no such user or group" : strerror(-r));
		return r;
	}
	return 0;
}

/* daemon_check_lmdb() - @dir (an lmdb store) is usable, or creatable, by us. */
static void daemon_check_lmdb(const char *uri, const char *dir, struct daemon_check *ck)
{
	struct stat st;
	char parent[4096], data[4200];

	if (stat(dir, &st) < 0) {
		int e = errno;
		daemon_check_dir(dir, parent, sizeof(parent));
		if (e != ENOENT)
			daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL, "store = %s: %s: %s", uri,
			                     dir, strerror(e));
		else if (access(parent, W_OK | X_OK) < 0)
			daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL,
			                     "store = %s: %s does not exist and cannot be created "
			                     "in %s: %s",
			                     uri, dir, parent, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL, "store = %s: %s is not a directory",
		                     uri, dir);
		return;
	}
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	if (access(dir, R_OK | W_OK | X_OK) < 0)
		daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL, "store = %s: directory %s: %s", uri,
		                     dir, strerror(errno));
	else if (access(data, R_OK | W_OK) < 0 && errno != ENOENT)
		daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL, "store = %s: %s: %s", uri, data,
		                     strerror(errno));
}

void daemon_check_store(struct daemon *d, struct daemon_check *ck)
{
	const char *uri = cfg_str(d->conf->cfg, NULL, "store");
	if (!uri || !*uri)
		return;
	if (strncmp(uri, "lmdb:", 5) == 0) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%.*s", (int)strcspn(uri + 5, "?"), uri + 5);
		daemon_check_lmdb(uri, dir, ck);
		return;
	}
	struct store *st = store_open(uri);
	if (!st) {
		daemon_check_problem(ck, DAEMON_EXIT_CONFIG, "store = %s: %s", uri,
		                     strerror(errno));
		return;
	}
	char *v = NULL;
	size_t len;
	int r = store_get(st, "pw:check", &v, &len);
	free(v);
	if (r < 0)
		daemon_check_problem(ck, DAEMON_EXIT_UNAVAIL, "store = %s: unreachable: %s", uri,
		                     strerror(-r));
	store_close(st);
}

int daemon_check_end(struct daemon *d, struct daemon_check *ck)
{
	if (ck->problems)
		printf("%s: %u problem%s\n", d->config_path, ck->problems,
		       ck->problems == 1 ? "" : "s");
	else
		printf("%s: ok\n", d->config_path);
	return ck->rc;
}

/* The signals the skeleton handles: stop (TERM, INT) and reload (HUP, USR1). */
static void daemon_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
}

static void *daemon_signal_thread(void *arg)
{
	struct daemon *d = arg;
	sigset_t set;
	daemon_sigset(&set);
	while (!daemon_stopping(d)) {
		int sig;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP || sig == SIGUSR1) {
			daemon_reload(d);
		} else {
			log_info("received signal %d: stopping", sig);
			daemon_request_stop(d);
		}
	}
	return NULL;
}

static void daemon_usage(const struct daemon_spec *spec, FILE *out)
{
	fprintf(out,
	        "usage: %s [-c FILE] [-f] [-d] [-n] [-V] [COMMAND [ARGS]]\n"
	        "%s\n\n"
	        "  -c FILE  configuration file (default %s)\n"
	        "  -f       stay in the foreground and log to stderr\n"
	        "  -d       debug logging\n"
	        "  -n       print the effective configuration, defaults included, and exit\n"
	        "  -V       print the version and exit\n"
	        "  -h       this help\n",
	        spec->name, spec->summary, spec->config_path);
	if (spec->commands && spec->commands[0].name) {
		fprintf(out, "\ncommands (without one, run the daemon):\n");
		for (const struct daemon_cmd *c = spec->commands; c->name; c++) {
			char lhs[64];
			snprintf(lhs, sizeof(lhs), "%s %s", c->name, c->args ? c->args : "");
			fprintf(out, "  %-22s %s\n", lhs, c->help);
		}
	}
	if (spec->extra_help)
		fprintf(out, "\n%s\n", spec->extra_help);
	fprintf(out, "\nexit codes: 0 ok, 64 usage, 69 dependency unavailable, 78 config error\n");
}

/* daemon_prepare() - meet @needs (enum daemon_needs) in the start order: privilege
 * drop, build() as the service user (as every reload will), store. Log a failure
 * once. Return DAEMON_EXIT_OK or the exit code. */
static int daemon_prepare(struct daemon *d, unsigned needs)
{
	const char *user = cfg_str(d->conf->cfg, NULL, "user");
	const char *group = cfg_str(d->conf->cfg, NULL, "group");
	int r;

	if (needs & (DAEMON_NEEDS_CONF | DAEMON_NEEDS_STORE))
		needs |= DAEMON_NEEDS_PRIVS;
	if ((needs & DAEMON_NEEDS_PRIVS) && (r = privs_drop(user, group)) < 0) {
		log_err_e(r, "cannot drop privileges to %s:%s", user, group);
		return DAEMON_EXIT_CONFIG;
	}
	if (needs & DAEMON_NEEDS_CONF) {
		struct cfg *cfg = d->conf->cfg;
		d->conf->cfg = NULL;
		daemon_conf_put(d->conf);
		d->conf = NULL;
		if (daemon_build(d, cfg, &d->conf) < 0)
			return DAEMON_EXIT_CONFIG;
	}
	if (needs & DAEMON_NEEDS_STORE)
		d->store = daemon_open_store(d);
	return DAEMON_EXIT_OK;
}

static int daemon_run_command(struct daemon *d, int argc, char **argv)
{
	const struct daemon_cmd *cmd = NULL;
	for (const struct daemon_cmd *c = d->spec->commands; c && c->name; c++)
		if (strcmp(c->name, argv[0]) == 0)
			cmd = c;
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s' (see %s -h)\n", d->spec->name, argv[0],
		        d->spec->name);
		return DAEMON_EXIT_USAGE;
	}
	d->cmd = cmd;
	if (cmd->before)
		cmd->before(d);
	int rc = daemon_prepare(d, cmd->needs);
	return rc == DAEMON_EXIT_OK ? cmd->run(d, argc, argv) : rc;
}

static void daemon_block_signals(void)
{
	sigset_t set;
	daemon_sigset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* daemon_setup() - after the listeners: privilege drop, build (secrets), store; a
 * local store that cannot open is a setup error (a remote one reconnects by itself).
 * Return DAEMON_EXIT_OK to go on serving, else the exit code. */
static int daemon_setup(struct daemon *d)
{
	int rc = daemon_prepare(d, DAEMON_NEEDS_PRIVS | DAEMON_NEEDS_CONF | DAEMON_NEEDS_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	const char *uri = cfg_str(d->conf->cfg, NULL, "store");
	if (!d->store && *uri && !store_uri_is_remote(uri))
		return DAEMON_EXIT_UNAVAIL;
	return DAEMON_EXIT_OK;
}

static void *daemon_tick_thread(void *arg)
{
	struct daemon *d = arg;
	int ms = d->spec->tick_ms > 0 ? d->spec->tick_ms : DAEMON_TICK_MS;
	while (!daemon_wait_stop(d, ms))
		d->spec->tick(d, false);
	return NULL;
}

/* daemon_tick_start() - the thread behind the spec's tick(), if it has one. */
static void daemon_tick_start(struct daemon *d)
{
	if (!d->spec->tick)
		return;
	int r = pthread_create(&d->tick_thread, NULL, daemon_tick_thread, d);
	if (r != 0)
		log_err_e(-r, "no thread for periodic work (tick)");
	d->ticking = r == 0;
}

/* daemon_tick_end() - after serve(): join the tick thread (the stop woke it), then
 * the last tick. */
static void daemon_tick_end(struct daemon *d)
{
	if (!d->ticking)
		return;
	pthread_join(d->tick_thread, NULL);
	d->ticking = false;
	d->spec->tick(d, true);
}

/* Every SMTP session of a milter holds descriptors (milter-av: 2-3 per message), and the
 * soft limit a service starts with is often 1024: raise it to the hard limit, so that
 * LimitNOFILE= (or the hard limit) is what counts. Return the limit now in effect. */
static long daemon_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur;
}

static int daemon_serve(struct daemon *d)
{
	const struct daemon_runner *run = d->spec->runner;
	pthread_t sigthr;
	int r;

	long nofile = daemon_raise_nofile();
	if ((r = run->prepare(d)) < 0)
		return DAEMON_EXIT_UNAVAIL;
	if ((r = daemon_setup(d)) != DAEMON_EXIT_OK) {
		if (run->abandon)
			run->abandon(d);
		return r;
	}
	if (d->spec->started)
		d->spec->started(d);
	daemon_tick_start(d);
	if (!run->own_signals && pthread_create(&sigthr, NULL, daemon_signal_thread, d) == 0)
		pthread_detach(sigthr);
	log_info("%s %s started (open file limit %ld)", d->spec->name, POSTWARDEN_VERSION, nofile);
	notify_ready();
	notify_status("serving; configuration %s", d->config_path);
	r = run->serve(d);
	notify_stopping();
	daemon_request_stop(d);
	daemon_tick_end(d);
	log_info("%s stopped", d->spec->name);
	return r < 0 ? DAEMON_EXIT_FAIL : DAEMON_EXIT_OK;
}

int daemon_main(const struct daemon_spec *spec, int argc, char **argv)
{
	struct daemon d = { .spec = spec, .config_path = spec->config_path };
	bool print_config = false;
	int opt, rc;
	static const struct option longopts[] = { { "help", no_argument, NULL, 'h' },
		                                  { "version", no_argument, NULL, 'V' },
		                                  { NULL, 0, NULL, 0 } };

	daemon_block_signals();
	pthread_mutex_init(&d.lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d.cond, &ca);
	pthread_condattr_destroy(&ca);

	while ((opt = getopt_long(argc, argv, "+c:fdnVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'f':
			d.foreground = true;
			break;
		case 'd':
			d.debug = true;
			break;
		case 'n':
			print_config = true;
			break;
		case 'V':
			printf("%s %s\n", spec->name, POSTWARDEN_VERSION);
			return DAEMON_EXIT_OK;
		case 'h':
			daemon_usage(spec, stdout);
			return DAEMON_EXIT_OK;
		default:
			daemon_usage(spec, stderr);
			return DAEMON_EXIT_USAGE;
		}
	}
	bool command = optind < argc;
	log_open(spec->name,
	         d.foreground || command || print_config ? LOG_SINK_STDERR : LOG_SINK_AUTO,
	         d.debug);

	struct buf err;
	buf_init(&err);
	d.schema = *spec->schema;
	daemon_spec_check = spec->schema->check;
	d.schema.check = daemon_check_key;
	struct cfg *cfg = daemon_read(&d, &err);
	if (!cfg) {
		log_errx("%s", buf_cstr(&err));
		buf_fini(&err);
		return DAEMON_EXIT_CONFIG;
	}
	buf_fini(&err);
	if (print_config) {
		rc = cfg_print(cfg, stdout) < 0 ? DAEMON_EXIT_FAIL : DAEMON_EXIT_OK;
		cfg_free(cfg);
		return rc;
	}
	d.conf = daemon_conf_new(&d, cfg, NULL);
	if (command) {
		rc = daemon_run_command(&d, argc - optind, argv + optind);
	} else {
		rc = daemon_serve(&d);
	}
	daemon_conf_put(d.conf);
	store_close(d.store);
	return rc;
}
