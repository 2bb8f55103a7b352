/* daemon: the skeleton every postwarden daemon runs on.
 *
 * A daemon is a config table plus one daemon_main() call. The skeleton owns
 * the flags (-c -f -d -n -V -h), the start order (config, listeners, privilege
 * drop, secrets, store, READY=1, serve), signals (blocked before any thread;
 * reload builds a new refcounted config snapshot and swaps it, or keeps the
 * old one on error), the thread of the periodic tick(), the graceful stop,
 * subcommands (with what each needs prepared) and the exit codes.
 */
#ifndef POSTWARDEN_DAEMON_H
#define POSTWARDEN_DAEMON_H

#include <stdbool.h>

#include "cfg.h"

#define DAEMON_EXIT_OK 0
#define DAEMON_EXIT_FAIL 1
#define DAEMON_EXIT_USAGE 64   /* EX_USAGE */
#define DAEMON_EXIT_UNAVAIL 69 /* EX_UNAVAILABLE: a dependency is missing at start */
#define DAEMON_EXIT_CONFIG 78  /* EX_CONFIG */

#define DAEMON_TICK_MS 5000 /* default interval of the spec's tick() */

struct daemon;
struct store;

/* A config snapshot: the parsed file plus what the daemon built from it
 * (keys, lists). Immutable once published; shared by reference. */
struct daemon_conf {
	struct cfg *cfg;
	void *priv; /* the daemon's build() result */
	int refs;   /* atomic; use daemon_conf_get()/daemon_conf_put() */
	const struct daemon_spec *spec;
};

/* What a subcommand needs before run(); the skeleton provides it in the start order
 * (privilege drop, build(), store). When it cannot, it logs why (one line, or one per
 * problem of build()) and exits 78; a store that cannot open is NULL, not an error. */
enum daemon_needs {
	DAEMON_NEEDS_PRIVS = 1 << 0, /* run as `user`/`group` (when started as root) */
	DAEMON_NEEDS_CONF = 1 << 1,  /* build()'s result in daemon_conf_get()->priv (+ PRIVS) */
	DAEMON_NEEDS_STORE = 1 << 2, /* daemon_store(): `store =` opened, or NULL (+ PRIVS) */
};

struct daemon_cmd {
	const char *name; /* "status" */
	const char *args; /* "[DOMAIN]" for usage */
	const char *help; /* one line */
	/* run() - @argv[0] is the subcommand name. Returns the exit code. */
	int (*run)(struct daemon *d, int argc, char **argv);
	unsigned needs; /* enum daemon_needs, or'ed */
	/* before() - optional: runs first, as the invoking user, before @needs are met
	 * (status probes the daemon's socket, whose group is the MTA's, as root). */
	void (*before)(struct daemon *d);
};

/* How the daemon serves: the milter runner (common/milter.c) and the stream runner
 * (common/server.c) implement this. */
struct daemon_runner {
	/* prepare() - take listeners (adopt systemd's or bind `listen =`) while still
	 * root. Return 0, or -errno after logging why (the skeleton exits 69). */
	int (*prepare)(struct daemon *d);
	/* serve() - run until a stop is requested; finish in-flight work within the
	 * stop deadline. Return 0 or -errno. */
	int (*serve)(struct daemon *d);
	/* abandon() - optional: undo prepare() when the daemon stops before serving
	 * (a config or key error after binding): e.g. remove the socket file. */
	void (*abandon)(struct daemon *d);
	/* own_signals - the runner handles SIGTERM/SIGINT/SIGHUP itself (libmilter
	 * does); the skeleton then starts no signal thread. */
	bool own_signals;
	/* one_listen - the runner serves a single `listen` endpoint (libmilter): a
	 * list of several is a config error at load, naming file:line. */
	bool one_listen;
};

struct daemon_spec {
	const char *name;        /* "milter-dkim": log ident, default user */
	const char *summary;     /* one line for --help */
	const char *config_path; /* default for -c */
	const struct cfg_schema *schema;
	const struct daemon_runner *runner;
	/* build() - validate @cfg beyond its types and load secrets; runs after the
	 * privilege drop, at start, on every reload and for a command that needs
	 * DAEMON_NEEDS_CONF (daemon_command() then says which). Return the private
	 * state, or NULL after adding one line per problem to @err (buf.h; never NULL
	 * here), which the skeleton logs (start: exit 78; reload: keep old). */
	void *(*build)(struct daemon *d, const struct cfg *cfg, struct buf *err);
	void (*release)(void *priv);
	/* started() - optional: after the first build, before READY=1 (e.g. DNS checks).
	 * reloaded() - optional: after a successful reload, before READY=1. */
	void (*started)(struct daemon *d);
	void (*reloaded)(struct daemon *d);
	/* stopping() - optional: a stop was requested. */
	void (*stopping)(struct daemon *d);
	/* tick() - optional: periodic work (Postfix's CA_MAIL_SERVER_LOOP). From
	 * started() on, one skeleton thread calls it every tick_ms with @stopping false;
	 * a stop wakes and joins that thread, and once serve() has returned (in-flight
	 * work done) tick() runs a last time with @stopping true: the final flush. */
	void (*tick)(struct daemon *d, bool stopping);
	int tick_ms;                       /* 0: DAEMON_TICK_MS */
	const struct daemon_cmd *commands; /* NULL-terminated by a zeroed entry; may be NULL */
	const char *extra_help;            /* printed after the commands in --help */
};

/**
 * daemon_main() - run @spec: the whole life of a daemon or one subcommand.
 * Return: the process exit code (DAEMON_EXIT_*).
 */
int daemon_main(const struct daemon_spec *spec, int argc, char **argv);

/* daemon_conf_get() - the current snapshot with a reference; never NULL while
 * serving. daemon_conf_put() drops it (NULL is fine). Thread safe. */
struct daemon_conf *daemon_conf_get(struct daemon *d);
void daemon_conf_put(struct daemon_conf *c);

/* daemon_store() - the opened store (NULL if the daemon has no `store` key or
 * it could not be opened; the store reconnects by itself). */
struct store *daemon_store(struct daemon *d);
const struct daemon_spec *daemon_spec(const struct daemon *d);
/* daemon_command() - the subcommand being run; NULL while serving. */
const struct daemon_cmd *daemon_command(const struct daemon *d);
/* daemon_stopping() - true once a stop was requested: SIGTERM/SIGINT under the
 * skeleton's signal thread; under the milter runner, SIGUSR2 or the end of
 * smfi_main() (libmilter takes SIGTERM/SIGINT/SIGHUP itself). */
bool daemon_stopping(const struct daemon *d);
/* daemon_request_stop() - mark the daemon stopping, wake daemon_wait_stop() and
 * call the spec's stopping() once (used by runners and tests). */
void daemon_request_stop(struct daemon *d);
/* daemon_reload() - reload the config now (the signal thread calls this on
 * SIGUSR1, and on SIGHUP unless the runner owns signals as the milter runner does). Return 0 when
 * the new config is live, else -errno (old kept). */
int daemon_reload(struct daemon *d);
/* daemon_stop_deadline_ms() - how long serve() may wait for in-flight work. */
int daemon_stop_deadline_ms(const struct daemon *d);
/* daemon_wait_stop() - block until a stop is requested or @timeout_ms passes
 * (<0: forever). Return true if stopping. For background threads. */
bool daemon_wait_stop(struct daemon *d, int timeout_ms);

/* A `check` command's tally: every problem is logged on its own line as it is
 * found; the exit code is the worst of them (DAEMON_EXIT_CONFIG over _UNAVAIL). */
struct daemon_check {
	int rc;
	unsigned problems;
};

/* daemon_check_problem() - log one problem line and raise @ck->rc to @code
 * (DAEMON_EXIT_CONFIG or DAEMON_EXIT_UNAVAIL). */
void daemon_check_problem(struct daemon_check *ck, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/**
 * daemon_check_begin() - the skeleton's first half of a `check` command: the
 * directory of every unix `listen =` socket exists (looked at by the caller, who
 * binds them at start), then privileges are dropped to `user`/`group` as at start.
 * Nothing is created.
 * Return: 0, or -errno when the privilege drop failed (already counted in @ck:
 * checking on as the wrong user would be misleading).
 */
int daemon_check_begin(struct daemon *d, struct daemon_check *ck);

/**
 * daemon_check_store() - reach `store =` without creating anything: an lmdb
 * directory must be usable by the current user (or creatable in its parent); a
 * redis server must answer a read. A problem counts as DAEMON_EXIT_UNAVAIL.
 */
void daemon_check_store(struct daemon *d, struct daemon_check *ck);

/* daemon_check_end() - print the summary line on stdout. Return the exit code. */
int daemon_check_end(struct daemon *d, struct daemon_check *ck);

/* daemon_keys - the config keys every daemon has: listen, listen_group, store,
 * user, group (common/daemon_keys.c). A daemon's schema names it as .base and gives
 * its own defaults for "listen" and "user" in .base_defaults.
 * daemon_main() parses each `listen` endpoint as the file is read (listen_parse()):
 * a bad one is "file:line: listen: bad endpoint 'X'", exit 78, also with -n. */
extern const struct cfg_key daemon_keys[];

#endif
