/* deliver: report delivery (RFC 8460 section 5.3: 5.3.1 mail, 5.3.2 HTTPS).
 *
 * Mail: the sendmail program is started by execve() (no shell; the config value split at
 * blanks, so "/usr/sbin/sendmail -C /etc/postfix-out" works) with "-f from -i -- rcpt", the
 * message written to its stdin while its stdout and stderr are read (the first 300 bytes
 * kept for the error line), all within one deadline; on the deadline it is killed and
 * reaped. The program starts with no signal blocked and SIGPIPE at its default. Only exit
 * status 0 is delivery. SIGPIPE must be ignored by the caller's process.
 * HTTPS: fetch_post() with application/tlsrpt+gzip; any 2xx is delivery.
 * DKIM: milter-dkim's selector records in the store (selector_policy.c: a selector signs
 * when it is published and matches its key); a domain with none may not get reports sent
 * in its name (RFC 8460 section 3: report mail MUST carry a DKIM signature).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "fetch.h"
#include "store.h"
#include "xalloc.h"

#define DELIVER_ARGS_MAX 32
#define DELIVER_STDERR_KEEP 300

extern char **environ;

static long long deliver_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Split @cmd at blanks into @argv (pointers into @copy). Return the count, or -EINVAL. */
static int deliver_split(char *copy, char **argv, int max)
{
	int n = 0;
	for (char *save = NULL, *t = strtok_r(copy, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return -EINVAL;
		argv[n++] = t;
	}
	return n ? n : -EINVAL;
}

/* Feed @msg to @in and read @out until it closes or @deadline. Return 0 or -errno. */
static int deliver_pump(int in, int out, const char *msg, size_t len, long long deadline,
                        struct buf *said)
{
	size_t off = 0;
	if (len == 0) {
		close(in);
		in = -1;
	}
	while (out >= 0 || in >= 0) {
		struct pollfd p[2] = { { .fd = in, .events = POLLOUT },
			               { .fd = out, .events = POLLIN } };
		long long left = deadline - deliver_now_ms();
		if (left <= 0) {
			if (in >= 0)
				close(in);
			return -ETIMEDOUT;
		}
		int r = poll(p, 2, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (in >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in, msg + off, len - off);
			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close(in); /* it stopped reading: its exit status says why */
				in = -1;
			} else if (w > 0 && (off += (size_t)w) == len) {
				close(in);
				in = -1;
			}
		}
		if (out >= 0 && (p[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			char b[512];
			ssize_t n = read(out, b, sizeof(b));
			if (n > 0 && said->len < DELIVER_STDERR_KEEP)
				buf_append(said, b,
				           (size_t)n < DELIVER_STDERR_KEEP - said->len
				                   ? (size_t)n
				                   : DELIVER_STDERR_KEEP - said->len);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				out = -1; /* closed by the caller */
		}
	}
	return 0;
}

/* Wait for @pid until @deadline; kill it then. Return its wait status or -ETIMEDOUT. */
static int deliver_reap(pid_t pid, long long deadline)
{
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (deliver_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* One line of what the program said: control characters as blanks, trimmed. */
static void deliver_said(struct buf *said)
{
	for (size_t i = 0; i < said->len; i++)
		if ((unsigned char)said->data[i] < 0x20 || (unsigned char)said->data[i] == 0x7f)
			said->data[i] = ' ';
	while (said->len && said->data[said->len - 1] == ' ')
		said->len--;
	buf_putc(said, '\0');
	said->len--;
}

int tlsrpt_deliver_sendmail(const char *sendmail, const char *from, const char *rcpt,
                            const void *msg, size_t len, int timeout_ms, struct buf *err)
{
	char *copy = xstrdup(sendmail), *argv[DELIVER_ARGS_MAX + 6];
	int n = deliver_split(copy, argv, DELIVER_ARGS_MAX);
	if (n < 0 || argv[0][0] != '/') {
		buf_add_line(err, "sendmail = '%s': not an absolute program path (and arguments)",
		             sendmail);
		free(copy);
		return -EINVAL;
	}
	argv[n++] = "-f";
	argv[n++] = (char *)from;
	argv[n++] = "-i";
	argv[n++] = "--";
	argv[n++] = (char *)rcpt;
	argv[n] = NULL;

	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0) {
		int e = errno;
		free(copy);
		buf_add_line(err, "pipe: %s", strerror(e));
		return -e;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		int e = errno;
		close(in[0]);
		close(in[1]);
		free(copy);
		buf_add_line(err, "pipe: %s", strerror(e));
		return -e;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL); /* a daemon thread blocks them all */
		signal(SIGPIPE, SIG_DFL);
		execve(argv[0], argv, environ);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	int e = errno;
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		free(copy);
		buf_add_line(err, "fork: %s", strerror(e));
		return -e;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (timeout_ms <= 0)
		timeout_ms = TLSRPT_SENDMAIL_TIMEOUT_MS;
	long long deadline = deliver_now_ms() + timeout_ms;
	struct buf said;
	buf_init(&said);
	int rc = deliver_pump(in[1], out[0], msg, len, deadline, &said);
	close(out[0]);
	int status = deliver_reap(pid, rc < 0 ? deliver_now_ms() : deadline);
	deliver_said(&said);
	if (rc == -ETIMEDOUT || status == -ETIMEDOUT) {
		buf_add_line(err, "%s timed out after %d ms (killed)%s%s", argv[0], timeout_ms,
		             said.len ? ": " : "", buf_cstr(&said));
		rc = -ETIMEDOUT;
	} else if (status < 0) {
		buf_add_line(err, "%s: waitpid: %s", argv[0], strerror(-status));
		rc = status;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = 0;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 &&
	           strncmp(buf_cstr(&said), "cannot run ", 11) == 0) {
		buf_add_line(err, "%s", buf_cstr(&said));
		rc = -ENOENT;
	} else {
		if (WIFEXITED(status))
			buf_add_line(err, "%s exited with status %d%s%s", argv[0],
			             WEXITSTATUS(status), said.len ? ": " : "", buf_cstr(&said));
		else
			buf_add_line(err, "%s killed by signal %d%s%s", argv[0], WTERMSIG(status),
			             said.len ? ": " : "", buf_cstr(&said));
		rc = -EIO;
	}
	buf_fini(&said);
	free(copy);
	return rc;
}

int tlsrpt_deliver_https(struct fetch *f, const char *url, const void *gz, size_t len,
                         struct buf *err)
{
	struct fetch_response resp;
	fetch_response_init(&resp);
	int rc = fetch_post(f, url, "application/tlsrpt+gzip", gz, len, &resp, err);
	fetch_response_fini(&resp);
	return rc;
}

struct dkim_scan {
	char *sel;
	size_t selsz;
	size_t prefix;
	bool found;
};

static int dkim_scan_one(const char *key, const char *val, size_t len, void *arg)
{
	struct dkim_scan *s = arg;
	json_t *o = json_loadb(val, len, 0, NULL);
	bool active = json_is_true(json_object_get(o, "published")) &&
	              json_is_true(json_object_get(o, "matches"));
	json_decref(o);
	if (!active)
		return 0;
	snprintf(s->sel, s->selsz, "%s", key + s->prefix);
	s->found = true;
	return 1;
}

int tlsrpt_dkim_selector(struct store *st, const char *domain, char *sel, size_t selsz)
{
	const char *d = domain;
	while (d && *d) {
		char prefix[STORE_KEY_MAX];
		struct dkim_scan s = { .sel = sel,
			               .selsz = selsz,
			               .prefix = strlen("pw:dkim:sel:") };
		snprintf(prefix, sizeof(prefix), "pw:dkim:sel:%s:", d);
		int rc = store_scan(st, prefix, dkim_scan_one, &s);
		if (s.found)
			return 0;
		if (rc < 0)
			return rc;
		d = strchr(d, '.');
		if (d)
			d++;
		if (d && !strchr(d, '.'))
			break; /* a top-level domain signs nothing */
	}
	return 1;
}
