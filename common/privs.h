/* privs: drop root to the daemon's user and group (OpenSMTPD order:
 * initgroups -> setresgid -> setresuid, then verify). No-op when not root. */
#ifndef POSTWARDEN_PRIVS_H
#define POSTWARDEN_PRIVS_H

#include <stdbool.h>

/**
 * privs_drop() - when running as root, become @user with primary group @group
 * (plus @user's supplementary groups). Not root: nothing happens, returns 0.
 * Return: 0, -ENOENT (no such user/group), or -errno from the set*id calls;
 * -EPERM if root could be regained afterwards.
 */
int privs_drop(const char *user, const char *group);
bool privs_is_root(void);

#endif
