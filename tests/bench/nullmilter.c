/* nullmilter: the "null milter", a plain libmilter filter that accepts every message and
 * does nothing else: the ceiling the milter protocol itself allows (benchmarks only).
 *
 * It asks for no actions and for every event (no SMFIP_NO* flags: the MTA still sends the
 * whole message, so 1 MB runs measure the transfer), with SMFIP_NR_* for every stage
 * the MTA offers it for, and answers SMFIS_NOREPLY there (SMFIS_CONTINUE where the MTA did
 * not offer NR), SMFIS_ACCEPT at end of message (doc/protocols.md, "Milter negotiation
 * and no-reply stages").
 * Threads: libmilter's, one per connection; the granted flags live in each connection's
 * private data. Usage: nullmilter unix:/path | inet:port@host. Stops on SIGTERM.
 *
 * Scan mode (nullmilter SOCKET CLAMD_SOCKET MESSAGE_FILE): the least work any libmilter
 * virus-scanning milter can do, the ceiling for milter-av. The MTA must still send what a
 * scanner needs (headers, body, end of message, each with its macros) but every other event
 * is turned off (SMFIP_NO*) and nothing received is kept: at end of message the file read at
 * start is handed to clamd over FILDES exactly as clamdraw's fildes mode does (one
 * connection per scan); OK accepts, FOUND rejects, anything else tempfails.
 */
#include <errno.h>
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_clamd.h"
#include "bench_util.h"
#include "xalloc.h"

/* scan mode: everything but headers, body and end of message is off */
#define NULL_SCAN_OFF                                                                              \
	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NODATA |             \
	 SMFIP_NOUNKNOWN)
#define NULL_SCAN_TIMEOUT 30

static const char *scan_socket; /* scan mode when set */
static char *scan_data;
static size_t scan_len;

#define NULL_WANTED                                                                                \
	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA |           \
	 SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static sfsistat null_reply(SMFICTX *ctx, unsigned long flag)
{
	unsigned long *granted = smfi_getpriv(ctx);

	return granted && (*granted & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                               unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                               unsigned long *pf2, unsigned long *pf3)
{
	unsigned long *granted = smfi_getpriv(ctx);

	if (!granted) {
		granted = xmalloc(sizeof(*granted));
		smfi_setpriv(ctx, granted);
	}
	*granted = f1 & NULL_WANTED;
	*pf0 = 0;
	*pf1 = *granted | (scan_socket ? f1 & NULL_SCAN_OFF : 0);
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	return null_reply(ctx, SMFIP_NR_CONN);
}

static sfsistat null_helo(SMFICTX *ctx, char *helo)
{
	return null_reply(ctx, SMFIP_NR_HELO);
}

static sfsistat null_mail(SMFICTX *ctx, char **argv)
{
	return null_reply(ctx, SMFIP_NR_MAIL);
}

static sfsistat null_rcpt(SMFICTX *ctx, char **argv)
{
	return null_reply(ctx, SMFIP_NR_RCPT);
}

static sfsistat null_data(SMFICTX *ctx)
{
	return null_reply(ctx, SMFIP_NR_DATA);
}

static sfsistat null_unknown(SMFICTX *ctx, const char *cmd)
{
	return null_reply(ctx, SMFIP_NR_UNKN);
}

static sfsistat null_header(SMFICTX *ctx, char *name, char *value)
{
	return null_reply(ctx, SMFIP_NR_HDR);
}

static sfsistat null_eoh(SMFICTX *ctx)
{
	return null_reply(ctx, SMFIP_NR_EOH);
}

static sfsistat null_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	return null_reply(ctx, SMFIP_NR_BODY);
}

/* null_scan: one clamd scan of the message file; SMFIS_ACCEPT, _REJECT or _TEMPFAIL. */
static sfsistat null_scan(void)
{
	char reply[512];
	ssize_t n;
	int fd, rc;

	fd = bench_connect(scan_socket, NULL_SCAN_TIMEOUT);
	if (fd < 0)
		return SMFIS_TEMPFAIL;
	rc = bench_clamd_fildes(fd, scan_data, scan_len);
	n = bench_clamd_reply(fd, reply, sizeof(reply));
	close(fd);
	if (rc < 0 || n <= 0)
		return SMFIS_TEMPFAIL;
	rc = bench_clamd_verdict(reply);
	return rc == 0 ? SMFIS_ACCEPT : rc == 1 ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

static sfsistat null_eom(SMFICTX *ctx)
{
	return scan_socket ? null_scan() : SMFIS_ACCEPT;
}

static sfsistat null_abort(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat null_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc null_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = null_connect,
	.xxfi_helo = null_helo,
	.xxfi_envfrom = null_mail,
	.xxfi_envrcpt = null_rcpt,
	.xxfi_header = null_header,
	.xxfi_eoh = null_eoh,
	.xxfi_body = null_body,
	.xxfi_eom = null_eom,
	.xxfi_abort = null_abort,
	.xxfi_close = null_close,
	.xxfi_unknown = null_unknown,
	.xxfi_data = null_data,
	.xxfi_negotiate = null_negotiate,
};

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: nullmilter unix:/path | inet:port@host "
		                "[CLAMD_SOCKET MESSAGE_FILE]\n");
		return 64;
	}
	if (argc == 4) {
		scan_socket = argv[2];
		scan_data = bench_read_file(argv[3], &scan_len);
		if (!scan_data) {
			fprintf(stderr, "nullmilter: %s: %s\n", argv[3], strerror(errno));
			return 66;
		}
	}
	umask(0111);
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(null_desc) == MI_FAILURE ||
	    smfi_setbacklog(256) == MI_FAILURE || smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
