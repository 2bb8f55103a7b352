/* bench_clamd: raw clamd client steps for the benchmark tools (see bench_clamd.h).
 *
 * Spec: clamd(8) and doc/protocols.md, "clamd commands and streams" (ClamAV 1.4: "z" commands and
 * NUL-terminated replies; FILDES passes an open fd with SCM_RIGHTS on a unix socket; replies are
 * "<source>: OK" or "<source>: <name> FOUND", the source being "stream" or "fd[N]").
 * Thread safe: no shared state. Timeouts are the socket's (bench_connect sets them).
 * Errors are returned as -errno; nothing here logs.
 */
#include "bench_clamd.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

int bench_clamd_fildes(int fd, const void *data, size_t len)
{
	char dummy = 0;
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov,
		              .msg_iovlen = 1,
		              .msg_control = ctl.buf,
		              .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm;
	int mfd, rc;

	mfd = memfd_create("bench-clamd", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	if ((rc = bench_write_all(mfd, data, len)) < 0)
		goto out;
	if (lseek(mfd, 0, SEEK_SET) < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = bench_write_all(fd, "zFILDES", 8)) < 0)
		goto out;
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
	rc = sendmsg(fd, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
out:
	close(mfd);
	return rc;
}

ssize_t bench_clamd_reply(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t got;

	while (n < size - 1) {
		got = read(fd, buf + n, size - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			buf[n] = '\0';
			return -errno;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (memchr(buf, '\0', n))
			break;
	}
	buf[n] = '\0';
	return (ssize_t)strlen(buf);
}

static int bench_ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int bench_clamd_verdict(const char *reply)
{
	if (!strstr(reply, ": "))
		return -EPROTO;
	if (bench_ends(reply, " OK"))
		return 0;
	if (bench_ends(reply, " FOUND"))
		return 1;
	return -EPROTO;
}
