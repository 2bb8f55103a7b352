/* clamdraw: the raw clamd client used as the limit in the milter-av benchmark: scans one
 * message file over and over with no milter in between.
 *
 * Modes (clamd(8); doc/protocols.md, "clamd commands and streams"): "instream" sends zINSTREAM then
 * <uint32 length><data> chunks and a zero-length chunk; "fildes" writes the message into a fresh
 * memfd (as a milter streaming a message would, never a disk file), sends zFILDES and the fd
 * (SCM_RIGHTS) over a unix socket (bench_clamd.c, shared with nullmilter's scan mode). One
 * connection per scan, as milters do. Replies ("stream: OK", "fd[N]: <name> FOUND") are
 * NUL-terminated; anything else counts as an error.
 * Threads: -c workers claim scans from one atomic counter, bounded by -n and -t.
 * Output: one "result key=value ..." line on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_clamd.h"
#include "bench_util.h"
#include "xalloc.h"

struct cr_run {
	const char *socket;
	const char *data;
	size_t len;
	size_t chunk;
	bool fildes;
	long total;
	int timeout;
	atomic_long next;
	double deadline;
	double start;
};

struct cr_worker {
	struct cr_run *run;
	pthread_t tid;
	long ok, found, errors;
	struct bench_lat lat;
	double last_done;
	char err[160];
};

static int cr_send_instream(struct cr_run *r, int fd)
{
	unsigned char len[4];
	size_t off, n;
	int rc;

	if ((rc = bench_write_all(fd, "zINSTREAM", 10)) < 0)
		return rc;
	for (off = 0; off < r->len; off += n) {
		n = r->len - off < r->chunk ? r->len - off : r->chunk;
		len[0] = (unsigned char)(n >> 24);
		len[1] = (unsigned char)(n >> 16);
		len[2] = (unsigned char)(n >> 8);
		len[3] = (unsigned char)n;
		if ((rc = bench_write_all(fd, len, 4)) < 0 ||
		    (rc = bench_write_all(fd, r->data + off, n)) < 0)
			return rc;
	}
	return bench_write_all(fd, "\0\0\0\0", 4);
}

/* cr_scan: one scan; 0 clean, 1 found, -errno (-EPROTO: an unexpected reply). */
static int cr_scan(struct cr_worker *w)
{
	struct cr_run *r = w->run;
	char reply[512];
	ssize_t n;
	int fd, rc;

	fd = bench_connect(r->socket, r->timeout);
	if (fd < 0)
		return fd;
	rc = r->fildes ? bench_clamd_fildes(fd, r->data, r->len) : cr_send_instream(r, fd);
	/* clamd may have closed early with an error reply: read it either way */
	n = bench_clamd_reply(fd, reply, sizeof(reply));
	close(fd);
	if (n <= 0)
		return rc < 0 ? rc : n < 0 ? (int)n : -EPIPE;
	rc = bench_clamd_verdict(reply);
	if (rc < 0 && !w->err[0])
		snprintf(w->err, sizeof(w->err), "unexpected reply: %.100s", reply);
	return rc;
}

static void *cr_worker_main(void *arg)
{
	struct cr_worker *w = arg;
	struct cr_run *r = w->run;
	double t0, now;
	int rc;

	while (bench_now() < r->deadline && atomic_fetch_add(&r->next, 1) < r->total) {
		t0 = bench_now();
		rc = cr_scan(w);
		if (rc < 0) {
			w->errors++;
			if (!w->err[0])
				snprintf(w->err, sizeof(w->err), "%s", strerror(-rc));
			continue;
		}
		now = bench_now();
		if (rc == 0)
			w->ok++;
		else
			w->found++;
		bench_lat_add(&w->lat, now - t0);
		w->last_done = now;
	}
	return NULL;
}

static void cr_usage(void)
{
	fprintf(stderr, "usage: clamdraw -s CLAMD_SOCKET -m FILE [-M instream|fildes] [-c CONNS] "
	                "[-n TOTAL] [-t SECONDS] [-C CHUNK] [-T TIMEOUT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct cr_run r = { .chunk = 256 * 1024, .total = 1000, .timeout = 30 };
	struct bench_lat all = { 0 };
	struct cr_worker *w;
	const char *file = NULL, *mode = "instream";
	long ok = 0, found = 0, errors = 0;
	double seconds = 10, end;
	int conns = 16, ch, i;

	while ((ch = getopt(argc, argv, "s:m:M:c:n:t:C:T:")) != -1) {
		switch (ch) {
		case 's':
			r.socket = optarg;
			break;
		case 'm':
			file = optarg;
			break;
		case 'M':
			mode = optarg;
			break;
		case 'c':
			conns = atoi(optarg);
			break;
		case 'n':
			r.total = atol(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'C':
			r.chunk = (size_t)atol(optarg);
			break;
		case 'T':
			r.timeout = atoi(optarg);
			break;
		default:
			cr_usage();
		}
	}
	if (!r.socket || !file || conns < 1 || conns > 1024 || r.total < 1 || seconds <= 0 ||
	    r.chunk < 1 || optind != argc)
		cr_usage();
	if (strcmp(mode, "fildes") == 0)
		r.fildes = true;
	else if (strcmp(mode, "instream") != 0)
		cr_usage();
	r.data = bench_read_file(file, &r.len);
	if (!r.data) {
		fprintf(stderr, "clamdraw: %s: %s\n", file, strerror(errno));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	w = xcalloc((size_t)conns, sizeof(*w));
	r.start = bench_now();
	r.deadline = r.start + seconds;
	for (i = 0; i < conns; i++) {
		w[i].run = &r;
		if (pthread_create(&w[i].tid, NULL, cr_worker_main, &w[i]) != 0) {
			fprintf(stderr, "clamdraw: pthread_create failed\n");
			return 2;
		}
	}
	end = r.start;
	for (i = 0; i < conns; i++) {
		pthread_join(w[i].tid, NULL);
		ok += w[i].ok;
		found += w[i].found;
		errors += w[i].errors;
		bench_lat_merge(&all, &w[i].lat);
		bench_lat_fini(&w[i].lat);
		if (w[i].last_done > end)
			end = w[i].last_done;
		if (w[i].err[0])
			fprintf(stderr, "clamdraw: worker %d: first error: %s\n", i, w[i].err);
	}
	printf("result mode=%s messages=%ld errors=%ld seconds=%.3f rate=%.1f p50_ms=%.2f "
	       "p99_ms=%.2f ok=%ld found=%ld\n",
	       mode, ok + found, errors, end - r.start,
	       end > r.start ? (double)(ok + found) / (end - r.start) : 0.0,
	       bench_lat_pct(&all, 50), bench_lat_pct(&all, 99), ok, found);
	bench_lat_fini(&all);
	free(w);
	free((void *)r.data);
	return errors == 0 && ok + found > 0 ? 0 : 1;
}
