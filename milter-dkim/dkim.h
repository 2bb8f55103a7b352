/* dkim: what milter-dkim's glue files share: the daemon-wide gate table and
 * the milter callbacks (struct milter_ops). */
#ifndef POSTWARDEN_DKIM_H
#define POSTWARDEN_DKIM_H

#include "conf.h"
#include "daemon.h"
#include "gate.h"

struct milter_ops;

/* dkim_gate() - the process-wide gate table (created before serving). */
struct gate *dkim_gate(void);

extern const struct milter_ops dkim_milter_ops;
extern const struct daemon_cmd dkim_commands[];

#endif
