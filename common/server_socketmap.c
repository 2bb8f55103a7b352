/* server_socketmap: a socketmap server's connection loop (see server_socketmap.h). */
#include "server_socketmap.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "netstring.h"

static void server_socketmap_ended(const struct server_conn *c, int r)
{
	if (r == -ECANCELED)
		log_info("%s: stopping: closed while idle", server_conn_peer(c));
	else if (r == -EINVAL || r == -EMSGSIZE)
		log_info("%s: bad request: %s", server_conn_peer(c), netstring_strerror(r));
	else if (r < 0)
		log_info("%s: connection ended: %s", server_conn_peer(c), strerror(-r));
}

void server_socketmap_serve(struct daemon *d, struct server_conn *c, server_socketmap_fn answer)
{
	struct server_netstring ns;
	struct socketmap_request req;
	struct buf out;
	const char *p;
	size_t n;
	int r;

	server_netstring_init(&ns, SOCKETMAP_REQUEST_MAX);
	buf_init(&out);
	while ((r = server_netstring_read(c, &ns, &p, &n)) == 1) {
		if (socketmap_request_parse(p, n, &req) < 0) {
			log_info("%s: bad request: not \"<name> <key>\" (no space, a NUL, or a map "
			         "name that is not printable ASCII): PERM",
			         server_conn_peer(c));
			socketmap_reply_perm(&out, "malformed request");
		} else {
			answer(d, &req, &out);
		}
		if (!server_netstring_idle(&ns) && out.len < SOCKETMAP_REPLY_MAX)
			continue; /* more requests already here: answer them together */
		if ((r = server_conn_write_all(c, out.data, out.len)) < 0)
			break;
		buf_reset(&out);
	}
	if (r == -EINVAL || r == -EMSGSIZE)
		socketmap_reply_perm(&out, r == -EINVAL ? "not a netstring" : "request too long");
	if (out.len && r != -EPIPE && r != -ETIMEDOUT)
		server_conn_write_all(c, out.data, out.len);
	server_socketmap_ended(c, r);
	buf_fini(&out);
	server_netstring_fini(&ns);
}
