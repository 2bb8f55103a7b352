/* server_netstring: one netstring request after another from a server conn (see
 * server.h). The framing is D. J. Bernstein's netstring as Postfix's socketmap client
 * sends it; common/netstring.c decodes, this file only feeds it blocks read from the
 * client, keeps what a block held beyond one netstring (pipelined requests) for the
 * next call, and tells server_conn_read() whether a request has begun (the I/O
 * timeout) or not (the idle timeout, and a stop ends the wait). One struct per
 * connection, used by one thread. No logging.
 */
#include "server.h"

#include <errno.h>
#include <string.h>

void server_netstring_init(struct server_netstring *ns, size_t max)
{
	netstring_decoder_init(&ns->dec, max);
	ns->off = ns->end = 0;
}

void server_netstring_fini(struct server_netstring *ns)
{
	netstring_decoder_fini(&ns->dec);
}

bool server_netstring_idle(const struct server_netstring *ns)
{
	return ns->off == ns->end && netstring_decoder_idle(&ns->dec);
}

size_t server_netstring_push(struct server_netstring *ns, const void *p, size_t n)
{
	if (ns->off > 0) {
		memmove(ns->in, ns->in + ns->off, ns->end - ns->off);
		ns->end -= ns->off;
		ns->off = 0;
	}
	size_t room = sizeof(ns->in) - ns->end;
	if (n > room)
		n = room;
	memcpy(ns->in + ns->end, p, n);
	ns->end += n;
	return n;
}

int server_netstring_take(struct server_netstring *ns, const char **payload, size_t *len)
{
	size_t used = 0;
	if (ns->off == ns->end)
		return 0;
	int r = netstring_decoder_feed(&ns->dec, ns->in + ns->off, ns->end - ns->off, &used);
	ns->off += used;
	if (ns->off == ns->end)
		ns->off = ns->end = 0;
	if (r == 1)
		*payload = netstring_decoder_payload(&ns->dec, len);
	return r;
}

int server_netstring_read(struct server_conn *c, struct server_netstring *ns, const char **payload,
                          size_t *len)
{
	for (;;) {
		int r = server_netstring_take(ns, payload, len);
		if (r != 0)
			return r;
		bool idle = server_netstring_idle(ns);
		ssize_t k = server_conn_read(c, ns->in, sizeof(ns->in), idle);
		if (k == 0)
			return idle ? 0 : -EPROTO;
		if (k < 0)
			return (int)k;
		ns->off = 0;
		ns->end = (size_t)k;
	}
}
