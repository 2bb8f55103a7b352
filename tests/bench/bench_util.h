/* bench_util: what the load generators share: clocks, socket specs, whole-file reads,
 * full reads/writes with timeouts, and latency samples with percentiles. */
#ifndef POSTWARDEN_BENCH_UTIL_H
#define POSTWARDEN_BENCH_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* bench_now() - CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/**
 * bench_connect() - open a stream socket to @spec.
 * @spec: "unix:/path", "local:/path", "/path", "inet:host:port" or "inet:port@host"
 * @timeout_s: send/receive timeout set on the socket (0: none)
 *
 * Return: the fd, or -errno (-EINVAL for a bad spec).
 */
int bench_connect(const char *spec, int timeout_s);

/**
 * bench_read_file() - read a whole file into a malloc'd, NUL-terminated buffer.
 * @path: the file
 * @len: set to the byte count (without the NUL)
 *
 * Return: the buffer (caller frees), or NULL with errno set.
 */
char *bench_read_file(const char *path, size_t *len);

/* bench_write_all() - write @n bytes; 0 or -errno. */
int bench_write_all(int fd, const void *p, size_t n);

/* bench_read_all() - read exactly @n bytes; 0, -EPIPE on EOF, or -errno. */
int bench_read_all(int fd, void *p, size_t n);

/* Latency samples in seconds; embedded, not thread safe (one per thread, then merged). */
struct bench_lat {
	double *v;
	size_t n;
	size_t cap;
};

void bench_lat_add(struct bench_lat *l, double s);
/* bench_lat_merge() - append @from's samples to @to. */
void bench_lat_merge(struct bench_lat *to, const struct bench_lat *from);
/* bench_lat_pct() - the @p-th percentile (0..100) in milliseconds; sorts; 0 when empty. */
double bench_lat_pct(struct bench_lat *l, double p);
void bench_lat_fini(struct bench_lat *l);

#endif
