/* milter_probe: is a milter daemon alive, and which process is it? For `status`.
 *
 * milter_probe() connects to a `listen =` endpoint and does what an MTA does first: a
 * milter option negotiation, bounded by a timeout. The running daemon also leaves a
 * record (pid, start time) in the store, for when the socket's creator is not the
 * daemon itself (systemd socket activation) or the endpoint is TCP. No logging.
 */
#ifndef POSTWARDEN_MILTER_PROBE_H
#define POSTWARDEN_MILTER_PROBE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "cfg.h"
#include "listen.h"

#define MILTER_PROBE_TIMEOUT_MS 2000

struct daemon;
struct store;

struct milter_probe_result {
	pid_t peer_pid; /* unix: the process that made the listening socket (SO_PEERCRED); else 0 */
	uint32_t version, actions, steps; /* the filter's option negotiation reply */
};

/**
 * milter_probe() - connect to @ls, send an option negotiation (protocol version 6,
 * every action and step offered), read the filter's reply, then say QUIT. All of it
 * within @timeout_ms.
 * @res: filled on success
 * Return: 0, -ETIMEDOUT, -EPROTO (a reply that is not an option negotiation, or the
 * connection closed), or the connect error (-ECONNREFUSED, -ENOENT, -EACCES, ...).
 */
int milter_probe(const struct listen_spec *ls, int timeout_ms, struct milter_probe_result *res);

/**
 * milter_probe_parse_reply() - the filter's answer to the option negotiation: @pkt is
 * the packet after its 4-byte length (command byte, then payload), @len bytes of it.
 * Return: 0 with @res's version, actions and steps set; -EPROTO when it is not an
 * option negotiation reply of a sane size. Pure.
 */
int milter_probe_parse_reply(const unsigned char *pkt, size_t len, struct milter_probe_result *res);

/**
 * milter_probe_parse_record() - a daemon's store record, exactly
 * `{"pid":N,"started":T}` as milter_probe_record() writes it (NUL-terminated @v).
 * Return: 0 with @pid (> 0) and @started set, or -EPROTO. Pure.
 */
int milter_probe_parse_record(const char *v, pid_t *pid, time_t *started);

/**
 * milter_probe_cfg() - milter_probe() the first `listen =` entry of @cfg.
 * @listen: receives that entry as written (room for @listensz bytes)
 * @ls: receives it parsed (a unparsable entry: LISTEN_UNIX with the entry as its path)
 * Return: as milter_probe(), or -EINVAL when there is no valid entry.
 */
int milter_probe_cfg(const struct cfg *cfg, int timeout_ms, char *listen, size_t listensz,
                     struct listen_spec *ls, struct milter_probe_result *res);

/* milter_probe_where() - @ls as `status` names it: the path of a unix socket, else the
 * endpoint in `listen =` syntax. */
void milter_probe_where(const struct listen_spec *ls, char *out, size_t outsz);

/**
 * milter_probe_proc() - what /proc says about @pid.
 * @comm: receives its command name (at most 15 bytes), may be NULL
 * @started: receives its start time (Unix seconds), may be NULL
 * Return: 0, or -errno (-ENOENT: no such process).
 */
int milter_probe_proc(pid_t pid, char *comm, size_t commsz, time_t *started);

/**
 * milter_probe_record() - the running daemon's entry: "pw:daemon:<name>:<host>:<listen>"
 * holds {"pid":N,"started":T}. Written by the daemon @name serving @listen (its first
 * `listen =` entry as written in the config), read back by its `status`.
 * Return: 0 or -errno.
 */
int milter_probe_record(struct store *st, const char *name, const char *listen, pid_t pid,
                        time_t started);

/* milter_probe_recorded() - read that entry. Return 0, STORE_NOTFOUND (none, or not
 * parsable), -errno. */
int milter_probe_recorded(struct store *st, const char *name, const char *listen, pid_t *pid,
                          time_t *started);

/* milter_probe_unrecord() - delete the entry if it still names @pid. Return 0,
 * STORE_NOTFOUND (missing or another process's), -errno. */
int milter_probe_unrecord(struct store *st, const char *name, const char *listen, pid_t pid);

/* milter_probe_serving() - what every runner does when it starts serving: record this
 * process for @d's first `listen =` entry (milter_probe_record()), which is kept in @listen
 * for milter_probe_stopped(); a store error is logged, never fatal. */
void milter_probe_serving(struct daemon *d, char *listen, size_t listensz);
/* milter_probe_stopped() - remove that record if it still names this process. */
void milter_probe_stopped(struct daemon *d, const char *listen);

/**
 * milter_probe_describe() - the `status` line for a probe: "daemon: running (pid N, since
 * T)" with T in ISO 8601 UTC, or "daemon: NOT REACHABLE at WHERE (reason)".
 * @name: the daemon's name ("milter-av"): a process of another name is not taken as it
 * @listen: its first `listen =` entry, as written; @ls: the same, parsed
 * @probe: milter_probe()'s return; @res: its result
 * @st: the store with the daemon's record, may be NULL
 * @out: receives the line, newline included
 * Return: 0 (running) or 1 (not reachable).
 */
int milter_probe_describe(const char *name, const char *listen, const struct listen_spec *ls,
                          int probe, const struct milter_probe_result *res, struct store *st,
                          struct buf *out);

struct daemon;

/* milter_probe_status_before() - a `status` command's before() hook: probe the daemon's
 * first `listen =` entry while still the invoking user (as root it reaches a socket
 * whose group is the MTA's), and keep the answer for milter_probe_status_print(). */
void milter_probe_status_before(struct daemon *d);

/* milter_probe_status_print() - print the kept answer as milter_probe_describe()'s line
 * on stdout (@st: the daemon's store for its record, may be NULL). Return 0 (running)
 * or 1 (not reachable). */
int milter_probe_status_print(struct daemon *d, struct store *st);

#endif
