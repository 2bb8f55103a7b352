/* listen: parse `listen =` endpoints, bind them, or adopt systemd's sockets.
 *
 * Socket activation follows sd_listen_fds(3): fds 3.. are checked with
 * sd_is_socket() (type, listening state) before use, like dbus-broker's
 * inherit_fds; anything unexpected is an error rather than a guess. Unix
 * sockets are created with the requested mode (fchmod before bind is not
 * honoured for sockets, so umask is tightened around bind and chmod follows).
 * Returns -errno; never logs.
 */
#include "listen.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static int listen_copy(char *dst, size_t dstsz, const char *s, size_t n)
{
	if (n == 0)
		return -EINVAL;
	if (n >= dstsz)
		return -ENAMETOOLONG;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int listen_parse_port(const char *s, struct listen_spec *out)
{
	char *end;
	errno = 0;
	long p = strtol(s, &end, 10);
	if (errno || *end || end == s || p < 1 || p > 65535)
		return -EINVAL;
	snprintf(out->port, sizeof(out->port), "%ld", p);
	return 0;
}

int listen_parse(const char *s, struct listen_spec *out)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(s, "unix:", 5) == 0) {
		const char *p = s + 5;
		const char *colon = strrchr(p, ':');
		size_t n = strlen(p);
		out->kind = LISTEN_UNIX;
		out->mode = 0660;
		if (colon) {
			char *end;
			errno = 0;
			unsigned long m = strtoul(colon + 1, &end, 8);
			if (errno || *end || end == colon + 1 || m > 0777)
				return -EINVAL;
			out->mode = (mode_t)m;
			n = (size_t)(colon - p);
		}
		if (n == 0 || p[0] != '/')
			return -EINVAL;
		return listen_copy(out->path, sizeof(out->path), p, n);
	}
	if (strncmp(s, "inet6:", 6) == 0) {
		const char *p = s + 6;
		const char *rb = strchr(p, ']');
		out->kind = LISTEN_INET6;
		if (p[0] != '[' || !rb || rb[1] != ':')
			return -EINVAL;
		int r = listen_copy(out->host, sizeof(out->host), p + 1, (size_t)(rb - p - 1));
		return r ? r : listen_parse_port(rb + 2, out);
	}
	if (strncmp(s, "inet:", 5) == 0) {
		const char *p = s + 5;
		const char *colon = strrchr(p, ':');
		out->kind = LISTEN_INET;
		if (!colon)
			return -EINVAL;
		int r = listen_copy(out->host, sizeof(out->host), p, (size_t)(colon - p));
		return r ? r : listen_parse_port(colon + 1, out);
	}
	return -EINVAL;
}

void listen_format(const struct listen_spec *ls, char *out, size_t outsz)
{
	switch (ls->kind) {
	case LISTEN_UNIX:
		snprintf(out, outsz, "unix:%s:%04o", ls->path, (unsigned)ls->mode);
		break;
	case LISTEN_INET:
		snprintf(out, outsz, "inet:%s:%s", ls->host, ls->port);
		break;
	case LISTEN_INET6:
		snprintf(out, outsz, "inet6:[%s]:%s", ls->host, ls->port);
		break;
	}
}

void listen_milter_conn(const struct listen_spec *ls, char *out, size_t outsz)
{
	switch (ls->kind) {
	case LISTEN_UNIX:
		snprintf(out, outsz, "unix:%s", ls->path);
		break;
	case LISTEN_INET:
		snprintf(out, outsz, "inet:%s@%s", ls->port, ls->host);
		break;
	case LISTEN_INET6:
		snprintf(out, outsz, "inet6:%s@%s", ls->port, ls->host);
		break;
	}
}

/* Is something serving @path? A connect that succeeds (or finds a full backlog) says yes;
 * ECONNREFUSED means a stale socket file nobody has open. Return 1 yes, 0 no, or -errno. */
static int listen_probe_unix(const struct sockaddr_un *sun, int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	int e = r < 0 ? errno : 0;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1;
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	return -e;
}

/* Remember which file listen_bind() made: device, inode and change time (a later process's
 * file can get the same inode number, never the same change time). */
static int listen_note_file(struct listen_spec *ls)
{
	struct stat st;
	if (lstat(ls->path, &st) < 0)
		return -errno;
	ls->bound_dev = st.st_dev;
	ls->bound_ino = st.st_ino;
	ls->bound_ctime = st.st_ctim;
	return 0;
}

static int listen_bind_unix_locked(struct listen_spec *ls, int type, int backlog)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	memcpy(sun.sun_path, ls->path, strlen(ls->path) + 1);
	if (lstat(ls->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if ((r = listen_probe_unix(&sun, type)) != 0)
			return r > 0 ? -EADDRINUSE : r;
		unlink(ls->path);
	}
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0777 & ~ls->mode);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || chmod(ls->path, ls->mode) < 0 ||
	    (type == SOCK_STREAM && listen(fd, backlog) < 0))
		r = -errno;
	else
		r = listen_note_file(ls);
	if (r < 0) {
		close(fd);
		return r;
	}
	ls->bound_type = type;
	return fd;
}

/* The probe, the removal of a stale file and the bind (listen_bind), like the test before
 * a removal at exit (listen_unlink), happen under an exclusive lock on the socket's
 * directory: two processes starting or stopping at once cannot both act on the path.
 * Return the locked directory fd, or -1 when it cannot be opened (then unlocked). */
static int listen_lock_dir(const char *path)
{
	char dir[sizeof(((struct listen_spec *)0)->path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		while (flock(dfd, LOCK_EX) < 0 && errno == EINTR)
			;
	return dfd;
}

static int listen_bind_unix(struct listen_spec *ls, int type, int backlog)
{
	int dfd = listen_lock_dir(ls->path);
	int r = listen_bind_unix_locked(ls, type, backlog);
	if (dfd >= 0)
		close(dfd);
	return r;
}

int listen_unlink(const struct listen_spec *ls)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int r = 1;

	if (ls->kind != LISTEN_UNIX || ls->bound_ino == 0)
		return 1;
	memcpy(sun.sun_path, ls->path, strlen(ls->path) + 1);
	int dfd = listen_lock_dir(ls->path);
	/* Ours: the same device, inode and change time, and nobody listening there (a probe
	 * that may not connect, EACCES, leaves the identity to decide). */
	if (lstat(ls->path, &st) < 0)
		r = errno == ENOENT ? 1 : -errno;
	else if (st.st_dev == ls->bound_dev && st.st_ino == ls->bound_ino &&
	         st.st_ctim.tv_sec == ls->bound_ctime.tv_sec &&
	         st.st_ctim.tv_nsec == ls->bound_ctime.tv_nsec &&
	         listen_probe_unix(&sun, ls->bound_type) <= 0)
		r = unlink(ls->path) < 0 ? -errno : 0;
	if (dfd >= 0)
		close(dfd);
	return r;
}

static int listen_bind_inet(const struct listen_spec *ls, int type, int backlog)
{
	struct addrinfo hints = { .ai_socktype = type, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int fd = -EADDRNOTAVAIL;

	hints.ai_family = ls->kind == LISTEN_INET6 ? AF_INET6 : AF_INET;
	if (getaddrinfo(ls->host[0] ? ls->host : NULL, ls->port, &hints, &res) != 0)
		return -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int one = 1;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			fd = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    (type != SOCK_STREAM || listen(fd, backlog) == 0))
			break;
		int e = -errno;
		close(fd);
		fd = e;
	}
	freeaddrinfo(res);
	return fd;
}

int listen_bind(struct listen_spec *ls, int type, int backlog)
{
	if (ls->kind == LISTEN_UNIX)
		return listen_bind_unix(ls, type, backlog);
	return listen_bind_inet(ls, type, backlog);
}

int listen_adopt_systemd(int type, int *fds, size_t max)
{
#ifdef HAVE_SYSTEMD
	int n = sd_listen_fds(1);
	if (n <= 0)
		return n;
	if ((size_t)n > max)
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		int r = sd_is_socket(fd, AF_UNSPEC, type, type == SOCK_STREAM ? 1 : -1);
		if (r < 0)
			return r;
		if (r == 0)
			return -ENOTSOCK;
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
		fds[i] = fd;
	}
	return n;
#else
	(void)type;
	(void)fds;
	(void)max;
	return getenv("LISTEN_FDS") ? -EPROTONOSUPPORT : 0;
#endif
}

int listen_set_owner(struct listen_spec *ls, const char *user, const char *group)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	if (user && *user) {
		struct passwd *pw = getpwnam(user);
		if (!pw)
			return -ENOENT;
		uid = pw->pw_uid;
	}
	if (group && *group) {
		struct group *g = getgrnam(group);
		if (!g)
			return -ENOENT;
		gid = g->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(ls->path, uid, gid) < 0)
		return -errno;
	if (chmod(ls->path, ls->mode) < 0)
		return -errno;
	return listen_note_file(ls);
}
