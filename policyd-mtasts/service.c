/* service: the socketmap side of policyd-mtasts (socketmap_table(5)), on the stream runner.
 *
 * Each Postfix connection is a loop of `<name> <key>` netstring requests, answered in
 * order (pipelined requests are fine: common/server_socketmap.c runs the loop). The map
 * name picks the answer format (`postfix`, `postfix-tlsrpt`); another name is answered PERM.
 * A key that is not a domain (a parent probe `.example.com` that Postfix sends after
 * NOTFOUND, `[host]:port`, an address) is NOTFOUND at once, with no lookup.
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "mtasts.h"
#include "server_socketmap.h"

static void mtasts_answer(struct daemon *d, const struct socketmap_request *req, struct buf *out)
{
	enum sts_format fmt;
	char domain[MTASTS_DOMAIN_MAX];

	if (sts_format_from_name(req->name, req->name_len, &fmt) < 0) {
		socketmap_reply_perm(out, "unknown map name (use postfix or postfix-tlsrpt)");
		return;
	}
	if (sts_key_parse(req->key, req->key_len, domain) != 0) {
		socketmap_reply_notfound(out);
		return;
	}
	if (mtasts_cache_answer(d, domain, fmt, out) == 0)
		socketmap_reply_notfound(out);
}

static void mtasts_conn(struct daemon *d, struct server_conn *c)
{
	server_socketmap_serve(d, c, mtasts_answer);
}

const struct server_ops mtasts_server_ops = {
	.conn = mtasts_conn,
};
