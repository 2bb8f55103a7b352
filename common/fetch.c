/* fetch: HTTPS GET/POST with libcurl, bounded in time and size.
 *
 * Implements the transport rules of RFC 8461 3.3 (HTTPS with a valid PKIX certificate, no
 * redirects, only 200 accepted) and serves RFC 8460 3 report upload (POST, any 2xx).
 * libcurl 7.88 pitfalls (doc/protocols.md, "libcurl 7.88"): CURLOPT_MAXFILESIZE checks only
 * Content-Length, so the limit is also enforced in the write callback; a 3xx is CURLE_OK without
 * FOLLOWLOCATION, so the status is checked here. NOSIGNAL is set, so SIGPIPE must be ignored
 * by the process.
 *
 * Threads: curl_global_init() runs once (pthread_once); every request uses its own easy
 * handle, so a struct fetch (read-only after fetch_new) is shared freely.
 * Ownership: the caller owns struct fetch_response and frees it with fetch_response_fini().
 */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

struct fetch {
	char *ca_file;
	char *connect_to;
	char *user_agent;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_size;
};

struct sink {
	struct buf body;
	size_t max;
	bool too_big;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct fetch *fetch_new(const struct fetch_opts *opts)
{
	static const struct fetch_opts defaults = { 0 };
	struct fetch *f;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		errno = EIO;
		return NULL;
	}
	if (!opts)
		opts = &defaults;
	f = xcalloc(1, sizeof(*f));
	f->ca_file = opts->ca_file && *opts->ca_file ? xstrdup(opts->ca_file) : NULL;
	f->connect_to = opts->connect_to && *opts->connect_to ? xstrdup(opts->connect_to) : NULL;
	f->user_agent =
	        xstrdup(opts->user_agent ? opts->user_agent : "postwarden/" POSTWARDEN_VERSION);
	f->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
	                                                     : FETCH_CONNECT_TIMEOUT_MS_DEFAULT;
	f->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : FETCH_TIMEOUT_MS_DEFAULT;
	f->max_size = opts->max_size ? opts->max_size : FETCH_MAX_SIZE_DEFAULT;
	return f;
}

void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	free(f->ca_file);
	free(f->connect_to);
	free(f->user_agent);
	free(f);
}

void fetch_response_init(struct fetch_response *resp)
{
	memset(resp, 0, sizeof(*resp));
}

void fetch_response_fini(struct fetch_response *resp)
{
	free(resp->body);
	free(resp->content_type);
	fetch_response_init(resp);
}

static size_t sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (len > s->max - s->body.len) {
		s->too_big = true;
		return 0; /* != len: CURLE_WRITE_ERROR */
	}
	buf_append(&s->body, p, len);
	return len;
}

static int errno_from_curl(CURLcode rc, long os_errno, bool too_big)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return os_errno > 0 ? -(int)os_errno : -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_FILESIZE_EXCEEDED:
		return -EMSGSIZE;
	case CURLE_WRITE_ERROR:
		return too_big ? -EMSGSIZE : -EIO;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return -EPROTO;
	case CURLE_SSL_CACERT_BADFILE:
		return -ENOENT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTONOSUPPORT;
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return os_errno > 0 ? -(int)os_errno : -ECONNRESET;
	default:
		return -EIO;
	}
}

/* Every option; CURLE_OK only if all were accepted. */
static CURLcode request_setup(const struct fetch *f, CURL *c, const char *url,
                              struct curl_slist *connect_to, struct sink *s, char *errbuf)
{
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(c, opt, val);                                        \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (f->ca_file) {
		SET(CURLOPT_CAINFO, f->ca_file);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	if (connect_to)
		SET(CURLOPT_CONNECT_TO, connect_to);
	SET(CURLOPT_CONNECTTIMEOUT_MS, f->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, f->timeout_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_size);
	SET(CURLOPT_USERAGENT, f->user_agent);
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	SET(CURLOPT_WRITEDATA, s);
#undef SET
	return rc;
}

/* request_run() - one transfer; on failure, the line in @why (CURL_ERROR_SIZE bytes, libcurl's
 * error buffer while it runs) says why. */
static int request_run(struct fetch *f, const char *url, const char *ctype, const void *body,
                       size_t len, struct fetch_response *resp, char *why)
{
	struct sink s = { .max = f->max_size };
	struct curl_slist *connect_to = NULL, *headers = NULL;
	long os_errno = 0;
	char *ct = NULL;
	CURL *c;
	CURLcode cc;
	int rc;

	fetch_response_fini(resp);
	buf_init(&s.body);
	c = curl_easy_init();
	if (!c) {
		snprintf(why, CURL_ERROR_SIZE, "curl_easy_init failed");
		return -ENOMEM;
	}
	if (f->connect_to)
		connect_to = curl_slist_append(NULL, f->connect_to);
	cc = request_setup(f, c, url, connect_to, &s, why);
	if (cc == CURLE_OK && body) {
		char *h = xasprintf("Content-Type: %s", ctype ? ctype : "application/octet-stream");
		headers = curl_slist_append(NULL, h);
		free(h);
		cc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		if (cc == CURLE_OK)
			cc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		if (cc == CURLE_OK)
			cc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	}
	if (cc != CURLE_OK || (f->connect_to && !connect_to) || (body && !headers)) {
		if (!why[0])
			snprintf(why, CURL_ERROR_SIZE, "setup: %s", curl_easy_strerror(cc));
		rc = cc == CURLE_OUT_OF_MEMORY || cc == CURLE_OK ? -ENOMEM : -EINVAL;
		goto out;
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		resp->content_type = xstrdup(ct);
	rc = errno_from_curl(cc, os_errno, s.too_big);
	if (rc < 0) {
		if (s.too_big)
			snprintf(why, CURL_ERROR_SIZE, "body exceeds %zu bytes", f->max_size);
		else if (!why[0])
			snprintf(why, CURL_ERROR_SIZE, "%s", curl_easy_strerror(cc));
		goto out;
	}
	if (body ? resp->status / 100 != 2 : resp->status != 200) {
		snprintf(why, CURL_ERROR_SIZE, "HTTP status %ld", resp->status);
		rc = -EPROTO;
	}
	resp->body = buf_steal(&s.body, &resp->len);
out:
	buf_fini(&s.body);
	curl_slist_free_all(connect_to);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	return rc;
}

static int request(struct fetch *f, const char *url, const char *ctype, const void *body,
                   size_t len, struct fetch_response *resp, struct buf *err)
{
	char why[CURL_ERROR_SIZE] = "";
	int rc = request_run(f, url, ctype, body, len, resp, why);
	if (rc < 0)
		buf_add_line(err, "%s", why);
	return rc;
}

int fetch_get(struct fetch *f, const char *url, struct fetch_response *resp, struct buf *err)
{
	return request(f, url, NULL, NULL, 0, resp, err);
}

int fetch_post(struct fetch *f, const char *url, const char *content_type, const void *body,
               size_t len, struct fetch_response *resp, struct buf *err)
{
	return request(f, url, content_type, body ? body : "", len, resp, err);
}
