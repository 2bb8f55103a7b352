/* bench_clamd: the raw clamd client steps shared by clamdraw (the raw-client limit) and
 * nullmilter's scan mode (the libmilter ceiling), so both scan exactly the same way. */
#ifndef POSTWARDEN_BENCH_CLAMD_H
#define POSTWARDEN_BENCH_CLAMD_H

#include <stddef.h>
#include <sys/types.h>

/**
 * bench_clamd_fildes() - hand @len bytes of @data to clamd as a file descriptor.
 * @fd: a connected unix socket to clamd
 * @data: the message
 * @len: its length
 *
 * Writes @data into a fresh memfd (never a disk file), sends "zFILDES" and then the memfd
 * with SCM_RIGHTS; the memfd is closed here (clamd holds its own copy).
 *
 * Return: 0 or -errno.
 */
int bench_clamd_fildes(int fd, const void *data, size_t len);

/**
 * bench_clamd_reply() - read one NUL-terminated clamd reply.
 * @fd: the clamd connection
 * @buf: receives the reply, always NUL-terminated
 * @size: size of @buf (at least 1)
 *
 * Reads until a NUL, EOF, a full buffer or the socket's receive timeout.
 *
 * Return: the reply length (0: clamd closed without a reply), or -errno.
 */
ssize_t bench_clamd_reply(int fd, char *buf, size_t size);

/* bench_clamd_verdict() - "<source>: OK" -> 0, "<source>: <name> FOUND" -> 1, else -EPROTO. */
int bench_clamd_verdict(const char *reply);

#endif
