/* dgramload: a datagram load generator for AF_UNIX SOCK_DGRAM collectors (the tlsrpt
 * collector, tests/integration/dgramd, dgramsink), sending as libtlsrpt does: one sendto()
 * per datagram to the path, never connected; with --dontwait each send uses MSG_DONTWAIT
 * (libtlsrpt's default) and an EAGAIN counts as lost, else the send blocks (at most -T
 * seconds, then it counts as lost too). Datagrams come from -f FILE, one per line, cycled;
 * without it, a captured libtlsrpt datagram (an STS failure). -r paces the sends (per
 * second; 0: as fast as possible). Prints
 * `result sent= lost= errors= seconds= rate=` (rate: datagrams sent per second).
 * Not installed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "bench_util.h"

#define DGRAMLOAD_COUNT_MAX 100000000UL
#define DGRAMLOAD_LINES_MAX 100000

static const char dgramload_default[] =
        "{\"dpv\": \"1\",\"d\": \"d1.test\",\"pr\": \"v=TLSRPTv1; rua=mailto:tlsrpt@d1.test\","
        "\"policies\":[{\"policy-type\":2,\"policy-domain\": \"d1.test\",\"policy-string\":"
        "[\"version: STSv1\",\"mode: enforce\",\"mx: mx1.d1.test\",\"max_age: 86400\"],"
        "\"mx-host\":[\"mx1.d1.test\"],\"failure-details\":[{\"c\":204,\"s\": \"127.0.0.1\","
        "\"n\": \"mx1.d1.test\",\"h\": \"mx1.d1.test\",\"r\": \"127.0.18.25\",\"f\": "
        "\"certificate has expired\"}],\"t\":1,\"f\":1}]}";

struct dgramload_msg {
	const char *p;
	size_t n;
};

static void dgramload_usage(void)
{
	fprintf(stderr, "usage: dgramload -s PATH -n COUNT [-r RATE] [--dontwait] [-f FILE] "
	                "[-T SECONDS]\n");
	exit(64);
}

/* dgramload_lines() - split @text into its non-empty lines (at most DGRAMLOAD_LINES_MAX). */
static size_t dgramload_lines(char *text, size_t len, struct dgramload_msg *out)
{
	size_t n = 0;
	char *p = text, *end = text + len;
	while (p < end && n < DGRAMLOAD_LINES_MAX) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		if (e > p)
			out[n++] = (struct dgramload_msg){ p, (size_t)(e - p) };
		p = e + 1;
	}
	return n;
}

static void dgramload_sleep(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dontwait", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *file = NULL;
	unsigned long count = 0;
	double rate = 0;
	int timeout_s = 10, flags = 0, c;

	while ((c = getopt_long(argc, argv, "s:n:r:f:T:", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		case 'f':
			file = optarg;
			break;
		case 'T':
			timeout_s = atoi(optarg);
			break;
		case 'D':
			flags = MSG_DONTWAIT;
			break;
		default:
			dgramload_usage();
		}
	}
	if (!path || count == 0 || count > DGRAMLOAD_COUNT_MAX || rate < 0 || timeout_s < 1)
		dgramload_usage();

	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "dgramload: path too long: %s\n", path);
		return 64;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);

	static struct dgramload_msg msgs[DGRAMLOAD_LINES_MAX];
	size_t nmsgs = 1;
	char *text = NULL;
	msgs[0] = (struct dgramload_msg){ dgramload_default, sizeof(dgramload_default) - 1 };
	if (file) {
		size_t len;
		if (!(text = bench_read_file(file, &len))) {
			fprintf(stderr, "dgramload: %s: %s\n", file, strerror(errno));
			return 66;
		}
		if ((nmsgs = dgramload_lines(text, len, msgs)) == 0) {
			fprintf(stderr, "dgramload: %s: no datagram in it\n", file);
			return 65;
		}
	}

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("dgramload: socket");
		return 71;
	}
	struct timeval tv = { timeout_s, 0 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	unsigned long sent = 0, lost = 0, errors = 0;
	int last_errno = 0;
	double t0 = bench_now();
	for (unsigned long i = 0; i < count; i++) {
		if (rate > 0) {
			double ahead = t0 + (double)i / rate - bench_now();
			if (ahead > 0)
				dgramload_sleep(ahead);
		}
		const struct dgramload_msg *m = &msgs[i % nmsgs];
		ssize_t k;
		do
			k = sendto(fd, m->p, m->n, flags, (struct sockaddr *)&sun, sizeof(sun));
		while (k < 0 && errno == EINTR);
		if (k >= 0)
			sent++;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			lost++;
		else {
			errors++;
			last_errno = errno;
		}
	}
	double secs = bench_now() - t0;
	printf("result sent=%lu lost=%lu errors=%lu seconds=%.3f rate=%.0f\n", sent, lost, errors,
	       secs, secs > 0 ? (double)sent / secs : 0.0);
	if (errors)
		fprintf(stderr, "dgramload: %lu send errors, the last: %s\n", errors,
		        strerror(last_errno));
	free(text);
	return errors ? 1 : 0;
}
