/* service: the socketmap side of policyd-mtasts (socketmap_table(5)), on the stream runner.
 *
 * Each Postfix connection is a loop of `<name> <key>` netstring requests, answered in
 * order (pipelined requests are fine). The map name picks the answer format (`postfix`,
 * `postfix-tlsrpt`); another name is answered PERM. A key that is not a domain (a parent
 * probe `.example.com` that Postfix sends after NOTFOUND, `[host]:port`, an address) is
 * NOTFOUND at once, with no lookup. A request that is not a netstring, or too long, ends
 * the connection after a PERM (Postfix reconnects). Nothing from the request is logged
 * unescaped.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "mtasts.h"
#include "netstring.h"
#include "server.h"
#include "socketmap.h"

#define MTASTS_READ_CHUNK 4096

static void mtasts_reply(struct daemon *d, const char *p, size_t n, struct buf *out)
{
	struct socketmap_request req;
	enum sts_format fmt;
	char domain[MTASTS_DOMAIN_MAX];
	struct buf data;

	if (socketmap_request_parse(p, n, &req) < 0) {
		socketmap_reply_perm(out, "malformed request");
		return;
	}
	if (sts_format_from_name(req.name, req.name_len, &fmt) < 0) {
		socketmap_reply_perm(out, "unknown map name (use postfix or postfix-tlsrpt)");
		return;
	}
	if (sts_key_parse(req.key, req.key_len, domain) != 0) {
		socketmap_reply_notfound(out);
		return;
	}
	buf_init(&data);
	if (mtasts_cache_answer(d, domain, fmt, &data) > 0)
		socketmap_reply_ok(out, data.data, data.len);
	else
		socketmap_reply_notfound(out);
	buf_fini(&data);
}

static void mtasts_conn(struct daemon *d, struct server_conn *c)
{
	struct netstring_decoder dec;
	struct buf out;
	char in[MTASTS_READ_CHUNK];

	netstring_decoder_init(&dec, SOCKETMAP_REQUEST_MAX);
	buf_init(&out);
	for (;;) {
		ssize_t n = server_conn_read(c, in, sizeof(in), netstring_decoder_idle(&dec));
		if (n <= 0) {
			if (n < 0 && n != -ECANCELED && n != -ETIMEDOUT && n != -ECONNRESET)
				log_debug("%s: read: %s", server_conn_peer(c), strerror((int)-n));
			break;
		}
		size_t off = 0;
		int rc = 0;
		while (off < (size_t)n) {
			size_t used = 0;
			rc = netstring_decoder_feed(&dec, in + off, (size_t)n - off, &used);
			off += used;
			if (rc < 0)
				break;
			if (rc == 0)
				continue;
			size_t len;
			const char *p = netstring_decoder_payload(&dec, &len);
			mtasts_reply(d, p, len, &out);
		}
		if (rc < 0) {
			log_warnx("%s: bad request: %s; closing", server_conn_peer(c),
			          netstring_strerror(rc));
			socketmap_reply_perm(&out, netstring_strerror(rc));
		}
		if (out.len && server_conn_write_all(c, out.data, out.len) < 0)
			break;
		buf_reset(&out);
		if (rc < 0)
			break;
	}
	buf_fini(&out);
	netstring_decoder_fini(&dec);
}

const struct server_ops mtasts_server_ops = {
	.conn = mtasts_conn,
};
