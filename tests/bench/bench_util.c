/* bench_util: helpers shared by milterload and clamdraw (see bench_util.h).
 *
 * Socket specs follow both spellings the project meets: Postfix's "inet:host:port" and
 * libmilter's "inet:port@host"; unix paths with or without "unix:"/"local:".
 * Every socket gets SO_RCVTIMEO/SO_SNDTIMEO so a stuck server cannot hang a bounded run.
 * Thread safe: no shared state; struct bench_lat belongs to one thread at a time.
 * Errors are returned as -errno; nothing here logs.
 */
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_set_timeouts(int fd, int timeout_s)
{
	struct timeval tv = { .tv_sec = timeout_s };

	if (timeout_s <= 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int bench_connect_unix(const char *path, int timeout_s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	bench_set_timeouts(fd, timeout_s);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int bench_connect_inet(const char *host, const char *port, int timeout_s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	int fd = -EHOSTUNREACH;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -EINVAL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			fd = -errno;
			continue;
		}
		bench_set_timeouts(fd, timeout_s);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -errno;
	}
	freeaddrinfo(res);
	return fd;
}

int bench_connect(const char *spec, int timeout_s)
{
	char host[256], port[16];
	const char *rest, *sep;
	size_t hlen;

	if (strncmp(spec, "unix:", 5) == 0)
		return bench_connect_unix(spec + 5, timeout_s);
	if (strncmp(spec, "local:", 6) == 0)
		return bench_connect_unix(spec + 6, timeout_s);
	if (spec[0] == '/')
		return bench_connect_unix(spec, timeout_s);
	if (strncmp(spec, "inet:", 5) != 0)
		return -EINVAL;
	rest = spec + 5;
	if ((sep = strchr(rest, '@')) != NULL) {
		hlen = strlen(sep + 1);
		if ((size_t)(sep - rest) >= sizeof(port) || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(port, rest, (size_t)(sep - rest));
		port[sep - rest] = '\0';
		memcpy(host, sep + 1, hlen + 1);
	} else if ((sep = strrchr(rest, ':')) != NULL) {
		hlen = (size_t)(sep - rest);
		if (hlen >= sizeof(host) || strlen(sep + 1) >= sizeof(port))
			return -EINVAL;
		memcpy(host, rest, hlen);
		host[hlen] = '\0';
		strcpy(port, sep + 1);
	} else {
		return -EINVAL;
	}
	return bench_connect_inet(host, port, timeout_s);
}

char *bench_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *p = NULL;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	p = xmalloc((size_t)st.st_size + 1);
	if (bench_read_all(fd, p, (size_t)st.st_size) < 0)
		goto fail;
	p[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	close(fd);
	return p;
fail:
	err = errno;
	free(p);
	close(fd);
	errno = err;
	return NULL;
}

int bench_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int bench_read_all(int fd, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

void bench_lat_add(struct bench_lat *l, double s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = s;
}

void bench_lat_merge(struct bench_lat *to, const struct bench_lat *from)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		bench_lat_add(to, from->v[i]);
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_lat_pct(struct bench_lat *l, double p)
{
	size_t i;

	if (l->n == 0)
		return 0;
	qsort(l->v, l->n, sizeof(*l->v), bench_cmp_double);
	i = (size_t)((p / 100.0) * (double)(l->n - 1) + 0.5);
	if (i >= l->n)
		i = l->n - 1;
	return l->v[i] * 1000.0;
}

void bench_lat_fini(struct bench_lat *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
