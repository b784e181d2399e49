/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privs.h: dropping root for good before a session touches a mailbox. */
#ifndef TPOP3D_PRIVS_H
#define TPOP3D_PRIVS_H

#include <sys/types.h>

/* Become UID/GID permanently: setgroups to GID alone, setresgid, setresuid,
 * then verify that every real/effective/saved id is the new one and that
 * root cannot be regained. UID 0 is refused. When not running as root, only
 * succeeds if we already are UID/GID (tests run unprivileged). Returns 0, or
 * -1 with *ERROR_R set to a static message. */
int privs_drop(uid_t uid, gid_t gid, const char **error_r);

#endif
