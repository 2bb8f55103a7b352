/* privs: irreversible privilege drop after binding (see privs.h). Called once
 * from the skeleton before any thread starts, so the set*id calls apply to the
 * whole process. Verifies the drop by trying to regain uid 0. */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

bool privs_is_root(void)
{
	return geteuid() == 0;
}

int privs_drop(const char *user, const char *group)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (!privs_is_root())
		return 0;
	pw = getpwnam(user);
	if (!pw)
		return -ENOENT;
	gid = pw->pw_gid;
	if (group && *group) {
		gr = getgrnam(group);
		if (!gr)
			return -ENOENT;
		gid = gr->gr_gid;
	}
	if (initgroups(pw->pw_name, gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return -errno;
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	return 0;
}
