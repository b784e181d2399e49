/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privs.c: the only place the session gives up root, and proves it. */
#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "privs.h"

int privs_drop(uid_t uid, gid_t gid, const char **error_r)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;

    if (uid == 0) {
        *error_r = "refusing to run a session as root";
        return -1;
    }
    if (geteuid() != 0) {
        if (getuid() == uid && geteuid() == uid && getgid() == gid)
            return 0;
        *error_r = "not running as root: cannot change to the mail user";
        return -1;
    }
    if (setgroups(1, &gid) < 0) {
        *error_r = "setgroups failed";
        return -1;
    }
    if (setresgid(gid, gid, gid) < 0) {
        *error_r = "setresgid failed";
        return -1;
    }
    if (setresuid(uid, uid, uid) < 0) {
        *error_r = "setresuid failed";
        return -1;
    }
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
        ru != uid || eu != uid || su != uid ||
        rg != gid || eg != gid || sg != gid) {
        *error_r = "privileges were not dropped completely";
        return -1;
    }
    /* Paranoia: if root could be regained, the drop did not happen. */
    if (setuid(0) == 0 || seteuid(0) == 0) {
        *error_r = "root could be regained after dropping privileges";
        return -1;
    }
    return 0;
}
