/* mlmsg: an RFC 5322 message file split the way an MTA hands it to a milter: header
 * fields (name, raw value with LF between folded lines) and a CRLF body. Immutable after
 * mlmsg_load(), so all load-generator threads share one. */
#ifndef POSTWARDEN_MLMSG_H
#define POSTWARDEN_MLMSG_H

#include <stdbool.h>
#include <stddef.h>

struct mlmsg_hdr {
	char *name;
	char *value; /* everything after the colon, leading space kept, folds as "\n" */
};

struct mlmsg {
	struct mlmsg_hdr *hdr;
	size_t nhdr;
	char *body; /* CRLF line ends */
	size_t body_len;
};

/**
 * mlmsg_load() - read and split a message file (LF or CRLF line ends).
 * @path: the file
 *
 * Return: the message (free with mlmsg_free()), or NULL with errno set (EINVAL: no
 * header field or a line that is neither a field nor a continuation).
 */
struct mlmsg *mlmsg_load(const char *path);
void mlmsg_free(struct mlmsg *m);

/* One header field a filter added (SMFIR_ADDHEADER / SMFIR_INSHEADER). */
struct mlmsg_add {
	bool insert;    /* 'i' at @index, else 'h' (appended) */
	unsigned index; /* 0 = top */
	char *name;
	char *value; /* as the filter sent it */
};

/**
 * mlmsg_write_modified() - write @m with the added fields applied, CRLF throughout,
 * as the MTA would deliver it (so a DKIM verifier can check a signature made under load).
 * @m: the message
 * @adds: the added fields in the order the filter sent them
 * @nadds: how many
 * @leadspc: SMFIP_HDR_LEADSPC was negotiated (values carry their own leading space)
 * @path: output file (created or truncated)
 *
 * Return: 0 or -errno.
 */
int mlmsg_write_modified(const struct mlmsg *m, const struct mlmsg_add *adds, size_t nadds,
                         bool leadspc, const char *path);

#endif
