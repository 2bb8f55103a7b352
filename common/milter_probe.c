/* milter_probe: a liveness probe of a milter daemon, as an MTA would see it (see
 * milter_probe.h).
 *
 * The probe speaks the MTA side of the milter protocol's first exchange (a packet is a
 * 4-byte network-order length counting the command byte, then the command byte and its
 * payload; doc/protocols.md "Milter packets"): option negotiation 'O' with version 6 and
 * every action and step offered, the filter's 'O' reply, then QUIT 'Q', on one
 * non-blocking socket under one deadline. Who made the listening socket comes from
 * SO_PEERCRED; its name and start time from /proc. The daemon's own record in the store
 * covers what SO_PEERCRED cannot (socket activation, TCP). The two `status` hooks keep
 * the one answer a command process takes before its privilege drop. No threads, no
 * logging; returns 0 / -errno.
 */
#include "milter_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "store.h"

#define PROBE_VERSION 6
#define PROBE_ACTIONS 0x1ffu        /* every SMFIF_* action of version 6 */
#define PROBE_STEPS 0x301fffffu     /* every SMFIP_* step, and 256 KiB / 1 MiB packets */
#define PROBE_REPLY_MAX (64 * 1024) /* an 'O' reply is 13 bytes plus macro lists */

/* Milliseconds left before @deadline (clock_mono_ms() time), 0 when passed. */
static int probe_left_ms(int64_t deadline)
{
	int64_t ms = deadline - clock_mono_ms();
	return ms > 0 ? (int)ms : 0;
}

/* probe_wait() - wait for @events on @fd until @deadline. Return 0 or -errno. */
static int probe_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		int ms = probe_left_ms(deadline);
		if (ms == 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int probe_connect_addr(int fd, const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return -errno;
	int r = probe_wait(fd, POLLOUT, deadline);
	if (r < 0)
		return r;
	int err = 0;
	socklen_t el = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		return -errno;
	return err ? -err : 0;
}

/* probe_connect() - a connected non-blocking socket to @ls, or -errno. */
static int probe_connect(const struct listen_spec *ls, int64_t deadline)
{
	if (ls->kind == LISTEN_UNIX) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ls->path);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		int r = probe_connect_addr(fd, (struct sockaddr *)&sun, sizeof(sun), deadline);
		if (r < 0) {
			close(fd);
			return r;
		}
		return fd;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		                  .ai_family = ls->kind == LISTEN_INET6 ? AF_INET6 : AF_INET };
	struct addrinfo *ai = NULL;
	if (getaddrinfo(ls->host, ls->port, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	int r = -EHOSTUNREACH;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                a->ai_protocol);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		r = probe_connect_addr(fd, a->ai_addr, a->ai_addrlen, deadline);
		if (r == 0) {
			r = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return r;
}

static int probe_write(int fd, const unsigned char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		int r = probe_wait(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

static int probe_read(int fd, unsigned char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t got = recv(fd, p, n, 0);
		if (got > 0) {
			p += got;
			n -= (size_t)got;
			continue;
		}
		if (got == 0)
			return -EPROTO;
		if (errno != EAGAIN && errno != EINTR)
			return errno == ECONNRESET ? -EPROTO : -errno;
		int r = probe_wait(fd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

static void probe_put32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t probe_get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return ntohl(v);
}

/* probe_negotiate() - the 'O' exchange and QUIT on a connected @fd. */
int milter_probe_parse_reply(const unsigned char *pkt, size_t len, struct milter_probe_result *res)
{
	if (len < 13 || len > PROBE_REPLY_MAX || pkt[0] != 'O')
		return -EPROTO;
	res->version = probe_get32(pkt + 1);
	res->actions = probe_get32(pkt + 5);
	res->steps = probe_get32(pkt + 9);
	return 0;
}

/* One `"name":<digits>` member at *@p: the number, or -1 when it is not there or too big. */
static long long probe_json_num(const char **p, const char *name)
{
	size_t n = strlen(name);
	if (**p != '"' || strncmp(*p + 1, name, n) != 0 || strncmp(*p + 1 + n, "\":", 2) != 0)
		return -1;
	const char *d = *p + n + 3;
	long long v = 0;
	if (*d < '0' || *d > '9')
		return -1;
	for (; *d >= '0' && *d <= '9'; d++) {
		if (v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*d - '0');
	}
	*p = d;
	return v;
}

int milter_probe_parse_record(const char *v, pid_t *pid, time_t *started)
{
	const char *p = v;
	if (*p++ != '{')
		return -EPROTO;
	long long pp = probe_json_num(&p, "pid");
	if (pp <= 0 || pp > INT_MAX || *p++ != ',')
		return -EPROTO;
	long long t = probe_json_num(&p, "started");
	if (t < 0 || strcmp(p, "}") != 0)
		return -EPROTO;
	*pid = (pid_t)pp;
	*started = (time_t)t;
	return 0;
}

static int probe_negotiate(int fd, struct milter_probe_result *res, int64_t deadline)
{
	unsigned char req[17], hdr[4], *reply = NULL;
	int r;

	probe_put32(req, 13);
	req[4] = 'O';
	probe_put32(req + 5, PROBE_VERSION);
	probe_put32(req + 9, PROBE_ACTIONS);
	probe_put32(req + 13, PROBE_STEPS);
	if ((r = probe_write(fd, req, sizeof(req), deadline)) < 0)
		goto out;
	if ((r = probe_read(fd, hdr, sizeof(hdr), deadline)) < 0)
		goto out;
	uint32_t len = probe_get32(hdr);
	if (len < 13 || len > PROBE_REPLY_MAX) {
		r = -EPROTO;
		goto out;
	}
	reply = malloc(len);
	if (!reply) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = probe_read(fd, reply, len, deadline)) < 0)
		goto out;
	if ((r = milter_probe_parse_reply(reply, len, res)) < 0)
		goto out;
	probe_put32(req, 1);
	req[4] = 'Q';
	r = probe_write(fd, req, 5, deadline);
out:
	free(reply);
	return r;
}

int milter_probe(const struct listen_spec *ls, int timeout_ms, struct milter_probe_result *res)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	memset(res, 0, sizeof(*res));
	int fd = probe_connect(ls, deadline);
	if (fd < 0)
		return fd;
	if (ls->kind == LISTEN_UNIX) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
			res->peer_pid = cred.pid;
	}
	int r = probe_negotiate(fd, res, deadline);
	close(fd);
	return r;
}

int milter_probe_cfg(const struct cfg *cfg, int timeout_ms, char *listen, size_t listensz,
                     struct listen_spec *ls, struct milter_probe_result *res)
{
	size_t n;
	const char *const *l = cfg_list(cfg, NULL, "listen", &n);
	memset(res, 0, sizeof(*res));
	snprintf(listen, listensz, "%s", n ? l[0] : "");
	if (!n || listen_parse(l[0], ls) < 0) {
		memset(ls, 0, sizeof(*ls));
		snprintf(ls->path, sizeof(ls->path), "%s", listen);
		return -EINVAL;
	}
	return milter_probe(ls, timeout_ms, res);
}

void milter_probe_where(const struct listen_spec *ls, char *out, size_t outsz)
{
	if (ls->kind == LISTEN_UNIX)
		snprintf(out, outsz, "%s", ls->path);
	else
		listen_format(ls, out, outsz);
}

/* probe_boot_time() - the system's boot time from /proc/stat, or -errno. */
static long long probe_boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	long long bt = -ENOENT;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

int milter_probe_proc(pid_t pid, char *comm, size_t commsz, time_t *started)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *open = strchr(buf, '('), *close_p = strrchr(buf, ')');
	if (!open || !close_p || close_p < open)
		return -EINVAL;
	if (comm)
		snprintf(comm, commsz, "%.*s", (int)(close_p - open - 1), open + 1);
	if (started) {
		/* fields after the name: state (3) ... starttime (22), in clock ticks since boot */
		unsigned long long ticks = 0;
		char *p = close_p + 1;
		for (int field = 3; field <= 22 && p; field++) {
			p += strspn(p, " ");
			if (field == 22)
				ticks = strtoull(p, NULL, 10);
			p = strchr(p, ' ');
		}
		long long bt = probe_boot_time();
		long hz = sysconf(_SC_CLK_TCK);
		if (bt < 0 || hz <= 0 || !ticks)
			return -EINVAL;
		*started = (time_t)(bt + (long long)(ticks / (unsigned long long)hz));
	}
	return 0;
}

static void probe_record_key(const char *name, const char *listen, char *out, size_t outsz)
{
	char host[256];
	store_host_name(host, sizeof(host));
	snprintf(out, outsz, "pw:daemon:%s:%s:%s", name, host, listen);
}

int milter_probe_record(struct store *st, const char *name, const char *listen, pid_t pid,
                        time_t started)
{
	char key[STORE_KEY_MAX + 1], val[96];
	probe_record_key(name, listen, key, sizeof(key));
	int n = snprintf(val, sizeof(val), "{\"pid\":%d,\"started\":%lld}", (int)pid,
	                 (long long)started);
	return store_set(st, key, val, (size_t)n, 0);
}

int milter_probe_recorded(struct store *st, const char *name, const char *listen, pid_t *pid,
                          time_t *started)
{
	char key[STORE_KEY_MAX + 1], *v = NULL;
	size_t len;
	probe_record_key(name, listen, key, sizeof(key));
	int r = store_get(st, key, &v, &len);
	if (r == 0 && milter_probe_parse_record(v, pid, started) < 0)
		r = STORE_NOTFOUND;
	free(v);
	return r;
}

int milter_probe_unrecord(struct store *st, const char *name, const char *listen, pid_t pid)
{
	pid_t p;
	time_t t;
	int r = milter_probe_recorded(st, name, listen, &p, &t);
	if (r != 0)
		return r;
	if (p != pid)
		return STORE_NOTFOUND;
	char key[STORE_KEY_MAX + 1];
	probe_record_key(name, listen, key, sizeof(key));
	return store_del(st, key);
}

/* probe_is_daemon() - @pid is a live process named @name; its start time into @started. */
static int probe_is_daemon(pid_t pid, const char *name, time_t *started)
{
	char comm[64];
	int r = milter_probe_proc(pid, comm, sizeof(comm), started);
	if (r < 0)
		return r;
	return strncmp(comm, name, 15) == 0 ? 0 : -ESRCH;
}

int milter_probe_describe(const char *name, const char *listen, const struct listen_spec *ls,
                          int probe, const struct milter_probe_result *res, struct store *st,
                          struct buf *out)
{
	char where[400];
	if (probe < 0) {
		milter_probe_where(ls, where, sizeof(where));
		buf_printf(out, "daemon: NOT REACHABLE at %s (%s)\n", where, strerror(-probe));
		return 1;
	}
	pid_t pid = 0, rec_pid;
	time_t started = 0, rec_started;
	if (res->peer_pid > 0 && probe_is_daemon(res->peer_pid, name, &started) == 0) {
		pid = res->peer_pid;
	} else if (st && milter_probe_recorded(st, name, listen, &rec_pid, &rec_started) == 0) {
		int r = probe_is_daemon(rec_pid, name, &started);
		if (r == 0 || r == -EACCES) {
			pid = rec_pid;
			if (r < 0)
				started = rec_started;
		}
	}
	if (!pid) {
		buf_puts(out, "daemon: running (pid unknown)\n");
		return 0;
	}
	char since[64];
	struct tm tm;
	gmtime_r(&started, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(out, "daemon: running (pid %d, since %s)\n", (int)pid, since);
	return 0;
}

/* The answer milter_probe_status_before() took, for milter_probe_status_print(). */
static struct {
	char listen[512];
	struct listen_spec ls;
	struct milter_probe_result pr;
	int r;
} probe_status;

void milter_probe_status_before(struct daemon *d)
{
	struct daemon_conf *dc = daemon_conf_get(d);
	probe_status.r =
	        milter_probe_cfg(dc->cfg, MILTER_PROBE_TIMEOUT_MS, probe_status.listen,
	                         sizeof(probe_status.listen), &probe_status.ls, &probe_status.pr);
	daemon_conf_put(dc);
}

int milter_probe_status_print(struct daemon *d, struct store *st)
{
	struct buf line;
	buf_init(&line);
	int rc = milter_probe_describe(daemon_spec(d)->name, probe_status.listen, &probe_status.ls,
	                               probe_status.r, &probe_status.pr, st, &line);
	fputs(buf_cstr(&line), stdout);
	buf_fini(&line);
	return rc;
}

void milter_probe_serving(struct daemon *d, char *listen, size_t listensz)
{
	struct store *st = daemon_store(d);
	struct daemon_conf *c = daemon_conf_get(d);
	size_t n;
	const char *const *l = cfg_list(c->cfg, NULL, "listen", &n);
	snprintf(listen, listensz, "%s", n ? l[0] : "");
	daemon_conf_put(c);
	time_t started;
	if (!st || !*listen)
		return;
	if (milter_probe_proc(getpid(), NULL, 0, &started) < 0)
		started = time(NULL);
	int r = milter_probe_record(st, daemon_spec(d)->name, listen, getpid(), started);
	if (r < 0)
		log_warn_e(r, "store: pid not recorded for `status` (serving is not affected)");
}

void milter_probe_stopped(struct daemon *d, const char *listen)
{
	if (daemon_store(d) && *listen)
		milter_probe_unrecord(daemon_store(d), daemon_spec(d)->name, listen, getpid());
}
