/* dkim: what milter-dkim's glue files share: the daemon-wide gate table and
 * the libmilter callbacks table. */
#ifndef POSTWARDEN_DKIM_H
#define POSTWARDEN_DKIM_H

#include <libmilter/mfapi.h>

#include "conf.h"
#include "daemon.h"
#include "gate.h"

/* dkim_gate() - the process-wide gate table (created before serving). */
struct gate *dkim_gate(void);

extern struct smfiDesc dkim_milter_desc;
extern const struct daemon_cmd dkim_commands[];

#endif
