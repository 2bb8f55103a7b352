/* listen: listener endpoints from `listen =` and from systemd socket activation.
 *
 * Syntax: `unix:/path[:mode]` (mode octal, default 0660), `inet:host:port`,
 * `inet6:[addr]:port`. Pure parsing plus bind/adopt; no logging (callers log).
 */
#ifndef POSTWARDEN_LISTEN_H
#define POSTWARDEN_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

enum listen_kind { LISTEN_UNIX, LISTEN_INET, LISTEN_INET6 };

struct listen_spec {
	enum listen_kind kind;
	char path[108]; /* LISTEN_UNIX */
	mode_t mode;    /* LISTEN_UNIX, default 0660 */
	char host[256]; /* LISTEN_INET*: address or name, without brackets */
	char port[16];
	/* LISTEN_UNIX after listen_bind(): the socket file it made (ino 0: none) */
	dev_t bound_dev;
	ino_t bound_ino;
	struct timespec bound_ctime;
	int bound_type;
};

/**
 * listen_parse() - parse one endpoint.
 * Return: 0, or -EINVAL (bad syntax) / -ENAMETOOLONG (path over sun_path).
 */
int listen_parse(const char *s, struct listen_spec *out);

/* listen_format() - the endpoint back in `listen =` syntax, into @out. */
void listen_format(const struct listen_spec *ls, char *out, size_t outsz);

/* listen_milter_conn() - the libmilter smfi_setconn() form: "unix:/path",
 * "inet:port@host", "inet6:port@host". */
void listen_milter_conn(const struct listen_spec *ls, char *out, size_t outsz);

/**
 * listen_bind() - create, bind and listen on @ls. @type SOCK_STREAM or SOCK_DGRAM (no
 * listen()). A unix path that exists is taken only when it is a stale socket file:
 * when something accepts a connection on it the result is -EADDRINUSE and the file is
 * left alone; a file that is not a socket is never removed (-EEXIST). The new socket
 * file gets ls->mode, and its identity is kept in @ls for listen_unlink().
 * Return: the fd (CLOEXEC), or -errno.
 */
int listen_bind(struct listen_spec *ls, int type, int backlog);

/**
 * listen_unlink() - remove the unix socket file listen_bind() made, only if the path still
 * holds that very file (device, inode and change time; a later process may have bound
 * the path since) and nothing listens on it: close the listening fd first.
 * Return: 0 removed, 1 not ours or gone (left alone), or -errno.
 */
int listen_unlink(const struct listen_spec *ls);

/**
 * listen_adopt_systemd() - take the sockets systemd passed ($LISTEN_PID/$LISTEN_FDS),
 * each validated with sd_is_socket() to be a socket of @type (listening if stream).
 * @fds: filled with up to @max fds (made CLOEXEC)
 * Return: the number adopted (0 when not socket-activated), or -EBADF / -ENOTSOCK for
 * an fd that is not what we expect, -E2BIG when more than @max were passed.
 */
int listen_adopt_systemd(int type, int *fds, size_t max);

/* listen_set_owner() - chown the unix socket file listen_bind() made to @user:@group (NULL:
 * keep that one; only meaningful as root) and chmod it to ls->mode. Return 0 or -errno. */
int listen_set_owner(struct listen_spec *ls, const char *user, const char *group);

#endif
