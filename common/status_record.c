/* status_record: a daemon's counters in the store (see status_record.h). */
#include "status_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

int status_record_write(struct store *st, const char *ns, json_t *fields)
{
	char host[256], key[STORE_KEY_MAX];

	if (!fields)
		return -ENOMEM;
	store_host_name(host, sizeof(host));
	json_object_set_new(fields, "pid", json_integer(getpid()));
	json_object_set_new(fields, "updated", json_integer((json_int_t)time(NULL)));
	char *text = json_dumps(fields, JSON_COMPACT);
	json_decref(fields);
	if (!text)
		return -ENOMEM;
	snprintf(key, sizeof(key), "pw:%s:status:%s", ns, host);
	int rc = store_set(st, key, text, strlen(text), STATUS_RECORD_TTL_S);
	free(text);
	return rc;
}
