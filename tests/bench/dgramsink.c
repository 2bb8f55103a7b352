/* dgramsink: the ceiling for datagram benchmarks: a bare recv() loop on an AF_UNIX
 * SOCK_DGRAM socket that only counts, no queue, no threads, no parsing. Binds -s PATH (an
 * existing file there is replaced; mode 0666), asks for a 4 MiB SO_RCVBUF, prints `ready`
 * once bound, and at SIGTERM/SIGINT prints `result received= bytes= truncated=` and exits
 * 0, removing the socket file. Datagrams over -m bytes (default 65536) count as truncated.
 * Not installed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t dgramsink_stop;

static void dgramsink_on_signal(int sig)
{
	(void)sig;
	dgramsink_stop = 1;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	size_t max = 65536;
	int c;

	while ((c = getopt(argc, argv, "s:m:")) != -1) {
		if (c == 's')
			path = optarg;
		else if (c == 'm')
			max = strtoul(optarg, NULL, 10);
		else
			path = NULL;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (!path || max == 0 || strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: dgramsink -s PATH [-m MAXLEN]\n");
		return 64;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);

	struct sigaction sa = { .sa_handler = dgramsink_on_signal }; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("dgramsink: socket");
		return 71;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0666) < 0) {
		fprintf(stderr, "dgramsink: %s: %s\n", path, strerror(errno));
		return 71;
	}
	int want = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	struct timeval tv = { 0, 200000 }; /* a stop between two datagrams is seen within this */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("ready\n");
	fflush(stdout);

	char *buf = malloc(max);
	unsigned long long n = 0, bytes = 0, truncated = 0;
	while (!dgramsink_stop) {
		struct iovec iov = { buf, max };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t k = recvmsg(fd, &msg, 0);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			perror("dgramsink: recvmsg");
			break;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			truncated++;
			continue;
		}
		n++;
		bytes += (unsigned long long)k;
	}
	/* what the kernel still holds was accepted too */
	for (;;) {
		struct iovec iov = { buf, max };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t k = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (k < 0)
			break;
		if (msg.msg_flags & MSG_TRUNC) {
			truncated++;
		} else {
			n++;
			bytes += (unsigned long long)k;
		}
	}
	printf("result received=%llu bytes=%llu truncated=%llu\n", n, bytes, truncated);
	close(fd);
	unlink(path);
	free(buf);
	return 0;
}
