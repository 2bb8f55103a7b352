/* fetch: bounded HTTPS GET and POST on libcurl (MTA-STS policies, TLSRPT report upload).
 *
 * HTTPS only, no redirects, no proxy, explicit connect and total timeouts, a body size limit
 * enforced while reading. Errors come back as -errno with a one-line reason for the log in
 * the caller's struct buf *err (buf.h's error convention).
 * With CURLOPT_NOSIGNAL set, the process must ignore SIGPIPE (the daemon skeleton does).
 */
#ifndef POSTWARDEN_FETCH_H
#define POSTWARDEN_FETCH_H

#include <stddef.h>

#include "buf.h"

struct fetch;

#define FETCH_CONNECT_TIMEOUT_MS_DEFAULT 10000
#define FETCH_TIMEOUT_MS_DEFAULT 60000
#define FETCH_MAX_SIZE_DEFAULT (64 * 1024) /* RFC 8461 3.3 policy limit */

struct fetch_opts {
	const char *ca_file;    /* PEM CA file, the only trust store when set (CAPATH unset);
	                         * NULL = libcurl's built-in system store */
	const char *connect_to; /* test override "HOST:PORT:CONNECT_HOST:CONNECT_PORT"
	                         * (CURLOPT_CONNECT_TO: URL, SNI and name check unchanged) */
	int connect_timeout_ms; /* <= 0 = FETCH_CONNECT_TIMEOUT_MS_DEFAULT */
	int timeout_ms;         /* whole transfer; <= 0 = FETCH_TIMEOUT_MS_DEFAULT */
	size_t max_size;        /* response body limit; 0 = FETCH_MAX_SIZE_DEFAULT */
	const char *user_agent; /* NULL = "postwarden/VERSION" */
};

struct fetch_response {
	long status; /* HTTP status; 0 if none was received */
	char *body;  /* owned, NUL-terminated (not counted in len); NULL if none */
	size_t len;
	char *content_type; /* owned, as sent (parameters included); NULL if none */
};

/**
 * fetch_new() - make a client with fixed settings.
 * @opts: copied; NULL = defaults
 *
 * Initialises libcurl once per process (thread safe). One client may be used by any number
 * of threads at once: each request runs on its own curl handle.
 *
 * Return: the client, or NULL with errno EIO if libcurl cannot be initialised.
 */
struct fetch *fetch_new(const struct fetch_opts *opts);

/* fetch_free() - free a client; NULL is fine. */
void fetch_free(struct fetch *f);

/**
 * fetch_get() - GET @url and accept only "200".
 * @f: client
 * @url: an https:// URL
 * @resp: initialised with fetch_response_init(); filled as far as the transfer got (status,
 *        content type and body are kept on a bad status too). Caller calls
 *        fetch_response_fini().
 * @err: on failure, gets one line saying why, for the log; may be NULL
 *
 * Return: 0 on status 200; -EPROTO for another status (resp->status set) or a TLS failure
 * (resp->status 0); -ETIMEDOUT; -EMSGSIZE (body over the limit, announced or not);
 * -ECONNREFUSED or the connect errno; -EHOSTUNREACH (name not resolved); -ECONNRESET
 * (connection lost); -EPROTONOSUPPORT (not https); -ENOENT (CA file unreadable); -EINVAL
 * (bad URL); -ENOMEM; -EIO otherwise.
 */
int fetch_get(struct fetch *f, const char *url, struct fetch_response *resp, struct buf *err);

/**
 * fetch_post() - POST @len bytes of @body with @content_type to @url; accept any 2xx.
 *
 * As fetch_get() otherwise (the response body is subject to the same limit).
 */
int fetch_post(struct fetch *f, const char *url, const char *content_type, const void *body,
               size_t len, struct fetch_response *resp, struct buf *err);

void fetch_response_init(struct fetch_response *resp);
/* fetch_response_fini() - free what @resp owns and reinitialise it (reusable). */
void fetch_response_fini(struct fetch_response *resp);

#endif
