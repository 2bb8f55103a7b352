/* dkim: what milter-dkim's glue files share: the daemon-wide gate table and
 * the milter callbacks (struct milter_ops). */
#ifndef POSTWARDEN_DKIM_H
#define POSTWARDEN_DKIM_H

#include "conf.h"
#include "daemon.h"
#include "selector_table.h"

struct milter_ops;

/* dnspass_table() - the process-wide gate table (created on first use, dnspass.c). */
struct selector_table *dnspass_table(void);

/* The DNS pass (dnspass.c): the daemon's started, reloaded and tick hooks. */
void dnspass_started(struct daemon *d);
void dnspass_reloaded(struct daemon *d);
void dnspass_tick(struct daemon *d, bool stopping);

extern const struct milter_ops dkim_milter_ops;
extern const struct daemon_cmd dkim_commands[];

#endif
