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
#include "server.h"
#include "socketmap.h"

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
	struct server_netstring ns;
	struct buf out;
	const char *p;
	size_t len;
	int rc;

	server_netstring_init(&ns, SOCKETMAP_REQUEST_MAX);
	buf_init(&out);
	while ((rc = server_netstring_read(c, &ns, &p, &len)) == 1) {
		mtasts_reply(d, p, len, &out);
		if (server_netstring_idle(&ns) || out.len > SOCKETMAP_REPLY_MAX) {
			/* nothing more pipelined behind this request: send what is due */
			if (server_conn_write_all(c, out.data, out.len) < 0)
				break;
			buf_reset(&out);
		}
	}
	if (rc == -EINVAL || rc == -EMSGSIZE) {
		log_warnx("%s: bad request (%s): closing", server_conn_peer(c),
		          rc == -EINVAL ? "not a netstring" : "longer than 10000 bytes");
		socketmap_reply_perm(&out, rc == -EINVAL ? "not a netstring" : "request too long");
	}
	if (out.len)
		server_conn_write_all(c, out.data, out.len);
	buf_fini(&out);
	server_netstring_fini(&ns);
}

const struct server_ops mtasts_server_ops = {
	.conn = mtasts_conn,
};
