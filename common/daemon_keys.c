/* daemon_keys: the config keys every daemon on the skeleton has (see daemon.h).
 *
 * One table shared by every daemon's schema as cfg_schema.base; `listen` and
 * `user` have no default here: each schema sets its own in base_defaults. The
 * skeleton (daemon.c) reads these keys; nothing here has state.
 */
#include "daemon.h"

const struct cfg_key daemon_keys[] = {
	{ "listen", CFG_LIST, NULL, 0, 0, 0, NULL,
	  "where to listen: unix:/path[:mode] inet:host:port inet6:[addr]:port" },
	{ "listen_group", CFG_STRING, "postfix", 0, 0, 0, NULL,
	  "group of the unix socket (set only when started as root)" },
	{ "store", CFG_STRING, "lmdb:/var/lib/postwarden/state", 0, 0, 0, NULL,
	  "state store: lmdb:DIR, redis://host:port/db, redis+unix:///path" },
	{ "user", CFG_STRING, NULL, 0, 0, 0, NULL, "user to run as when started as root" },
	{ "group", CFG_STRING, "postwarden", 0, 0, 0, NULL,
	  "group to run as when started as root" },
	CFG_KEY_END,
};
