/* clamd_scan: one message's trip to clamd. Feed it the rebuilt headers and the body as they
 * arrive (clamd_scan_header/_eoh/_write), then clamd_scan_end() gives the result.
 * One scan belongs to one thread (one SMTP session); the pool it uses is shared. */
#ifndef POSTWARDEN_AV_CLAMD_SCAN_H
#define POSTWARDEN_AV_CLAMD_SCAN_H

#include <stddef.h>

#include "buf.h"
#include "clamd.h"
#include "verdict.h"

struct clamd_scan;

enum clamd_mode {
	CLAMD_MODE_AUTO,     /* FILDES with a memfd for unix: backends, zINSTREAM for inet: */
	CLAMD_MODE_INSTREAM, /* zINSTREAM everywhere (fildes = no) */
};

/* clamd_scan_write() positive outcome: the result is already known (over max_size, or
 * no backend left); further data is ignored, call clamd_scan_end(). */
#define CLAMD_SCAN_DONE 1

/* The error detail of a scan that could not open a descriptor (EMFILE/ENFILE): no backend
 * is marked down for it. */
#define CLAMD_SCAN_NOFD "out of file descriptors"

/* INSTREAM chunk size: data is sent in chunks of this many bytes as it arrives. */
#define CLAMD_SCAN_CHUNK (256 * 1024)

struct clamd_result {
	enum verdict_status status;
	char detail[VERDICT_NAME_MAX]; /* virus/heuristic name, or the error reason */
	const char *backend; /* endpoint that answered; NULL if none (owned by the pool) */
	char version[CLAMD_VERSION_MAX]; /* that backend's zVERSION, "" if unknown */
	size_t size;        /* message bytes given to the scan (up to max_size + 1 chunk) */
	unsigned failovers; /* backends given up on during this scan */
	int fildes;         /* 1 when the answer came over FILDES */
};

/**
 * clamd_scan_begin() - start scanning one message.
 * @pool: backends (shared; must outlive the scan)
 * @mode: CLAMD_MODE_AUTO or CLAMD_MODE_INSTREAM
 * @max_size: largest message scanned; more data makes the result OVERSIZE (never a
 *            truncated scan)
 *
 * The message is kept in a memfd (memory, never a file on disk): it is what FILDES hands
 * to clamd, and what is replayed to the next backend if the current one fails mid-stream.
 * Over INSTREAM, data goes to the backend in CLAMD_SCAN_CHUNK pieces as it arrives.
 * Return: the scan (free with clamd_scan_free()), or NULL with errno from memfd_create.
 */
struct clamd_scan *clamd_scan_begin(struct clamd_pool *pool, enum clamd_mode mode, size_t max_size);

/**
 * clamd_scan_write() - add message bytes (headers as rebuilt, or body).
 * Return: 0, or CLAMD_SCAN_DONE once the outcome is known (see above). Backend failures are
 * handled inside (failover) and end up in the result; never -errno.
 */
int clamd_scan_write(struct clamd_scan *scan, const void *data, size_t len);

/**
 * clamd_scan_header() - add one header as `Name: value` CRLF (doc/protocols.md,
 * "Header fields as Postfix passes them").
 * @value: as Postfix gives it (no leading space; folded lines separated by LF)
 * Return: as clamd_scan_write().
 */
int clamd_scan_header(struct clamd_scan *scan, const char *name, const char *value);
/* clamd_scan_eoh() - add the empty CRLF line that ends the headers. Return: as _write(). */
int clamd_scan_eoh(struct clamd_scan *scan);

/**
 * clamd_header_format() - append `name: value\r\n` to @out, with each bare LF in @value
 * turned into CRLF. Pure; used by clamd_scan_header().
 */
void clamd_header_format(struct buf *out, const char *name, const char *value);

/**
 * clamd_scan_end() - finish sending, wait for clamd's answer and fill @res.
 * Fails over to the next backend (re-sending the whole message) when the current one
 * cannot be reached, drops the connection, times out, answers before the end of the
 * message (except its stream size limit), or answers anything but one known reply line.
 * A known reply is final, even `... ERROR` (no failover: the next clamd would get the
 * same message). Call once.
 * Return: 0 (the outcome, including errors, is in @res->status).
 */
int clamd_scan_end(struct clamd_scan *scan, struct clamd_result *res);

/* clamd_scan_free() - close everything (NULL is fine). */
void clamd_scan_free(struct clamd_scan *scan);

#endif
