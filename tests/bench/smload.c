/* smload: a socketmap (Postfix socketmap_table(5)) load generator, to measure a
 * socketmap server's queries/s, latency and CPU cost per query.
 *
 * Each of -c workers keeps one persistent connection and asks one request at a time,
 * as Postfix's dict_sockmap client does (no pipelining): the netstring `<map> <key>`,
 * then one netstring reply, whose status word is counted (OK, NOTFOUND, TEMP, PERM,
 * other: TIMEOUT or an unknown word). An I/O or framing error counts as an error and
 * the worker reconnects. Keys: -k KEY, or -K FILE (one per line), cycled. The run is
 * bounded by -n requests and -T seconds, whichever ends first. With -p PID (up to 8),
 * the CPU time (utime + stime in /proc/PID/stat) those processes used during the run is
 * divided by the queries answered: us/query.
 * Output (stdout): one human line, then one "result key=value ..." line.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "buf.h"
#include "netstring.h"
#include "socketmap.h"
#include "xalloc.h"

#define SL_MAX_PIDS 8

enum sl_kind { K_OK, K_NOTFOUND, K_TEMP, K_PERM, K_OTHER, K_MAX };
static const char *const sl_kind_names[K_MAX] = { "ok", "notfound", "temp", "perm", "other" };

struct sl_opts {
	const char *socket, *map, *key, *keyfile;
	int conns, timeout;
	long total;
	double seconds;
	pid_t pids[SL_MAX_PIDS];
	int npids;
};

struct sl_run {
	struct sl_opts o;
	char **keys;
	size_t nkeys;
	char *keytext; /* -K's contents, which keys[] point into */
	double start, deadline;
	atomic_long next;
};

struct sl_worker {
	struct sl_run *run;
	pthread_t tid;
	int id;
	long replies[K_MAX];
	long errors;
	double last_done;
	struct bench_lat lat;
	char err[160];
};

static bool sl_claim(struct sl_run *run, long *seq)
{
	if (bench_now() >= run->deadline)
		return false;
	*seq = atomic_fetch_add(&run->next, 1);
	return *seq < run->o.total;
}

/* sl_read_reply() - one netstring reply from @fd into @d; @in holds bytes read past the
 * previous reply (none: replies are not pipelined, but a server may write oddly).
 * Return 1 with the payload in @d, or -errno (-EPIPE at EOF, -EPROTO bad framing). */
static int sl_read_reply(int fd, struct netstring_decoder *d)
{
	char in[4096];
	for (;;) {
		ssize_t k = read(fd, in, sizeof(in));
		if (k == 0)
			return -EPIPE;
		if (k < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		size_t used;
		int r = netstring_decoder_feed(d, in, (size_t)k, &used);
		if (r < 0)
			return -EPROTO;
		if (r == 1)
			return used == (size_t)k ? 1 : -EPROTO;
	}
}

static enum sl_kind sl_kind_of(const char *p, size_t n)
{
	enum socketmap_status st;
	const char *data;
	size_t len;
	if (socketmap_reply_parse(p, n, &st, &data, &len) < 0)
		return K_OTHER;
	switch (st) {
	case SOCKETMAP_OK:
		return K_OK;
	case SOCKETMAP_NOTFOUND:
		return K_NOTFOUND;
	case SOCKETMAP_TEMP:
		return K_TEMP;
	case SOCKETMAP_PERM:
		return K_PERM;
	default:
		return K_OTHER;
	}
}

static void sl_fail(struct sl_worker *w, const char *what, int err)
{
	w->errors++;
	if (!w->err[0])
		snprintf(w->err, sizeof(w->err), "%s: %s", what, strerror(-err));
}

static void *sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	struct sl_run *run = w->run;
	struct netstring_decoder d;
	struct buf req;
	int fd = -1;
	long seq;

	netstring_decoder_init(&d, SOCKETMAP_REPLY_MAX);
	buf_init(&req);
	while (sl_claim(run, &seq)) {
		const char *key = run->keys[(size_t)seq % run->nkeys];
		double t0 = bench_now();
		if (fd < 0 && (fd = bench_connect(run->o.socket, run->o.timeout)) < 0) {
			sl_fail(w, "connect", fd);
			fd = -1;
			usleep(10000);
			continue;
		}
		buf_reset(&req);
		int r = socketmap_request_encode(&req, run->o.map, key, strlen(key));
		if (r == 0)
			r = bench_write_all(fd, req.data, req.len);
		netstring_decoder_reset(&d);
		if (r == 0)
			r = sl_read_reply(fd, &d);
		if (r < 0) {
			sl_fail(w, "request", r);
			close(fd);
			fd = -1;
			continue;
		}
		size_t n;
		const char *p = netstring_decoder_payload(&d, &n);
		w->replies[sl_kind_of(p, n)]++;
		w->last_done = bench_now();
		bench_lat_add(&w->lat, w->last_done - t0);
	}
	if (fd >= 0)
		close(fd);
	buf_fini(&req);
	netstring_decoder_fini(&d);
	return NULL;
}

/* sl_cpu_ticks() - utime + stime of @pid in clock ticks, or -1. */
static long long sl_cpu_ticks(pid_t pid)
{
	char path[64], s[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t len = fread(s, 1, sizeof(s) - 1, f);
	fclose(f);
	s[len] = '\0';
	/* the fields after the command name, which may hold spaces; state is field 3,
	 * utime and stime are 14 and 15 */
	const char *p = strrchr(s, ')');
	unsigned long long ut, st;
	if (!p ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static long long sl_cpu_all(const struct sl_opts *o)
{
	long long sum = 0;
	for (int i = 0; i < o->npids; i++) {
		long long t = sl_cpu_ticks(o->pids[i]);
		if (t < 0)
			return -1;
		sum += t;
	}
	return sum;
}

static void sl_usage(void)
{
	fprintf(stderr, "usage: smload -s SOCKET [-c CONNS] [-n TOTAL] [-T SECONDS] [-m MAP]\n"
	                "              [-k KEY | -K KEYFILE] [-p PID]... [-t TIMEOUT]\n"
	                "  SOCKET: unix:/path | /path | inet:host:port\n"
	                "  defaults: -c 1 -n 10000000 -T 10 -m postfix -k example.org -t 10\n");
	exit(2);
}

static void sl_parse(int argc, char **argv, struct sl_opts *o)
{
	int ch;

	*o = (struct sl_opts){ .map = "postfix",
		               .key = "example.org",
		               .conns = 1,
		               .total = 10000000,
		               .seconds = 10,
		               .timeout = 10 };
	while ((ch = getopt(argc, argv, "s:c:n:T:m:k:K:p:t:")) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'c':
			o->conns = atoi(optarg);
			break;
		case 'n':
			o->total = atol(optarg);
			break;
		case 'T':
			o->seconds = atof(optarg);
			break;
		case 'm':
			o->map = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'K':
			o->keyfile = optarg;
			break;
		case 'p':
			if (o->npids == SL_MAX_PIDS || atoi(optarg) <= 0)
				sl_usage();
			o->pids[o->npids++] = (pid_t)atoi(optarg);
			break;
		case 't':
			o->timeout = atoi(optarg);
			break;
		default:
			sl_usage();
		}
	}
	if (!o->socket || o->conns < 1 || o->conns > 1024 || o->total < 1 || o->seconds <= 0 ||
	    o->seconds > 3600 || o->timeout < 1 || optind != argc)
		sl_usage();
}

/* sl_keys() - the keys to cycle through: -k, or every non-empty line of -K. */
static int sl_keys(struct sl_run *run)
{
	static char *one[1];
	if (!run->o.keyfile) {
		one[0] = (char *)run->o.key;
		run->keys = one;
		run->nkeys = 1;
		return 0;
	}
	size_t len;
	char *text = run->keytext = bench_read_file(run->o.keyfile, &len);
	if (!text)
		return -errno;
	for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		run->keys = xrealloc(run->keys, (run->nkeys + 1) * sizeof(*run->keys));
		run->keys[run->nkeys++] = line;
	}
	return run->nkeys ? 0 : -ENODATA;
}

static int sl_report(struct sl_run *run, struct sl_worker *w, long long cpu_ticks)
{
	long replies[K_MAX] = { 0 }, errors = 0, queries = 0;
	struct bench_lat all = { 0 };
	double end = run->start;

	for (int i = 0; i < run->o.conns; i++) {
		for (int k = 0; k < K_MAX; k++)
			replies[k] += w[i].replies[k];
		errors += w[i].errors;
		bench_lat_merge(&all, &w[i].lat);
		if (w[i].last_done > end)
			end = w[i].last_done;
		if (w[i].err[0])
			fprintf(stderr, "smload: connection %d: first error: %s\n", i, w[i].err);
	}
	for (int k = 0; k < K_MAX; k++)
		queries += replies[k];
	double secs = end - run->start;
	double qps = secs > 0 ? (double)queries / secs : 0;
	double cpu_s = cpu_ticks >= 0 ? (double)cpu_ticks / (double)sysconf(_SC_CLK_TCK) : -1;
	double us = cpu_s >= 0 && queries ? cpu_s * 1e6 / (double)queries : -1;
	double p50 = bench_lat_pct(&all, 50), p90 = bench_lat_pct(&all, 90);
	double p99 = bench_lat_pct(&all, 99), max = bench_lat_pct(&all, 100);

	printf("smload: %ld queries in %.2f s over %d connection%s: %.0f q/s; latency ms p50 %.3f "
	       "p90 %.3f p99 %.3f max %.3f; OK %ld NOTFOUND %ld TEMP %ld PERM %ld other %ld "
	       "errors %ld",
	       queries, secs, run->o.conns, run->o.conns == 1 ? "" : "s", qps, p50, p90, p99, max,
	       replies[K_OK], replies[K_NOTFOUND], replies[K_TEMP], replies[K_PERM],
	       replies[K_OTHER], errors);
	if (run->o.npids && us >= 0)
		printf("; server CPU %.2f s, %.1f us/query", cpu_s, us);
	printf("\nresult queries=%ld errors=%ld seconds=%.3f conns=%d qps=%.1f p50_ms=%.3f "
	       "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f",
	       queries, errors, secs, run->o.conns, qps, p50, p90, p99, max);
	for (int k = 0; k < K_MAX; k++)
		printf(" %s=%ld", sl_kind_names[k], replies[k]);
	if (run->o.npids)
		printf(" cpu_s=%.3f us_per_query=%.2f", cpu_s, us);
	printf("\n");
	bench_lat_fini(&all);
	return errors == 0 && queries > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct sl_run run = { 0 };
	struct sl_worker *w;
	int r;

	sl_parse(argc, argv, &run.o);
	signal(SIGPIPE, SIG_IGN);
	if ((r = sl_keys(&run)) < 0) {
		fprintf(stderr, "smload: %s: %s\n", run.o.keyfile, strerror(-r));
		return 2;
	}
	long long cpu0 = sl_cpu_all(&run.o);
	if (run.o.npids && cpu0 < 0) {
		fprintf(stderr, "smload: -p: no such process\n");
		return 2;
	}
	w = xcalloc((size_t)run.o.conns, sizeof(*w));
	run.start = bench_now();
	run.deadline = run.start + run.o.seconds;
	for (int i = 0; i < run.o.conns; i++) {
		w[i].run = &run;
		w[i].id = i;
		if (pthread_create(&w[i].tid, NULL, sl_worker_main, &w[i]) != 0) {
			fprintf(stderr, "smload: pthread_create failed\n");
			return 2;
		}
	}
	for (int i = 0; i < run.o.conns; i++)
		pthread_join(w[i].tid, NULL);
	long long cpu1 = sl_cpu_all(&run.o);
	r = sl_report(&run, w, cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1);
	for (int i = 0; i < run.o.conns; i++)
		bench_lat_fini(&w[i].lat);
	free(w);
	if (run.o.keyfile) {
		free(run.keytext);
		free(run.keys);
	}
	return r;
}
