/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon.h: detaching from the terminal and the pidfile. */
#ifndef TPOP3D_DAEMON_H
#define TPOP3D_DAEMON_H

/* Fork into the background: setsid, chdir("/"), umask 022, standard
 * descriptors to /dev/null. The parent exits 0 once the child runs.
 * Returns 0 in the daemon, -1 on failure (still in the foreground). */
int daemon_detach(void);

/* Write our pid to PATH. Refuses (-1, *ERROR_R) when PATH names a running
 * process; replaces a stale file. */
int pidfile_write(const char *path, const char **error_r);
void pidfile_remove(const char *path);

#endif
