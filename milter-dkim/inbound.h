/* inbound: milter-dkim's verification and ARC sealing of one message (glue between
 * the libmilter callbacks in milter.c and the pure core in auth.c / authres.c). */
#ifndef POSTWARDEN_DKIM_INBOUND_H
#define POSTWARDEN_DKIM_INBOUND_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

#include "conf.h"

struct inbound;

/* inbound_new() - start verifying a message (NULL: verify = no). */
struct inbound *inbound_new(const struct dkim_conf *c);
void inbound_free(struct inbound *in);

/* inbound_rcpt() - note a recipient's {rcpt_mailer} (NULL when Postfix sent none). */
void inbound_rcpt(struct inbound *in, const char *mailer);

/* inbound_header()/inbound_body() - the message as it streams; a header value as it
 * followed the colon (leading white space included: milter_header_raw()). */
void inbound_header(struct inbound *in, const char *name, const char *value);
void inbound_body(struct inbound *in, const unsigned char *chunk, size_t len);

/**
 * inbound_body_hash() - the relaxed body hash (for the DKIM signer: the body is hashed
 * once). Return: 0, or -errno.
 */
int inbound_body_hash(struct inbound *in, unsigned char digest[32]);

/**
 * inbound_eom() - verify, delete forged Authentication-Results, add ours, and seal
 * when the message is relayed (arc_seal); logs the outcome with @qid.
 */
void inbound_eom(struct inbound *in, SMFICTX *ctx, const struct dkim_conf *c, const char *qid);

#endif
