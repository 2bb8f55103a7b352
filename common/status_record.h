/* status_record: a daemon's counters in the store, for its `status` command: the key
 * pw:<ns>:status:<host> (gethostname()) holds the given JSON object plus "pid" and
 * "updated" (Unix seconds), and lives STATUS_RECORD_TTL_S, so the record of a daemon that
 * stopped renewing it (gone, or cut off from the store) disappears by itself. Written by a
 * daemon's tick; read with store_scan() on "pw:<ns>:status:".
 */
#ifndef POSTWARDEN_STATUS_RECORD_H
#define POSTWARDEN_STATUS_RECORD_H

#include <jansson.h>

struct store;

#define STATUS_RECORD_TTL_S 60

/* status_record_write() - write @fields (an object; its reference is taken) as this host's
 * record under @ns ("mtasts"). Return 0 or -errno. */
int status_record_write(struct store *st, const char *ns, json_t *fields);

#endif
