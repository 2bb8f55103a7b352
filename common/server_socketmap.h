/* server_socketmap: the connection loop of a socketmap_table(5) server on the stream
 * runner, so a socketmap daemon writes only its answers.
 *
 * Requests are read with server_netstring (pipelined or split, at most
 * SOCKETMAP_REQUEST_MAX bytes) and parsed with socketmap_request_parse(); a payload that
 * does not parse gets `PERM malformed request` and the connection goes on. Replies to
 * requests that arrived together go out in one write once no request is pending (or the
 * replies reach SOCKETMAP_REPLY_MAX). A framing error (not a netstring, too long) gets one
 * PERM and ends the connection. How a connection ended is logged at info level, with the
 * peer: "stopping: closed while idle", "bad request: ...", "connection ended: ...".
 */
#ifndef POSTWARDEN_SERVER_SOCKETMAP_H
#define POSTWARDEN_SERVER_SOCKETMAP_H

#include "buf.h"
#include "daemon.h"
#include "server.h"
#include "socketmap.h"

/* An answer: append exactly one reply to @out (socketmap_reply_*() or a netstring made by
 * them). Runs on the connection's thread. */
typedef void (*server_socketmap_fn)(struct daemon *d, const struct socketmap_request *req,
                                    struct buf *out);

/* server_socketmap_serve() - answer @c's requests with @answer until the client is done,
 * a stop closes it while idle, or an error ends it. */
void server_socketmap_serve(struct daemon *d, struct server_conn *c, server_socketmap_fn answer);

#endif
