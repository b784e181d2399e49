/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon.h: detaching from the terminal and the pidfile. */
#ifndef TPOP3D_DAEMON_H
#define TPOP3D_DAEMON_H

/* Fork into the background: setsid, chdir("/"), umask 022, standard
 * descriptors to /dev/null. The parent waits for daemon_ready().
 * Returns 0 in the daemon, -1 on failure (still in the foreground). */
int daemon_detach(void);

/* In the daemon: tell the waiting parent that start-up is complete (the
 * pidfile is written); it then exits 0. If the daemon exits first, the
 * parent exits 1. No-op when not detached. */
void daemon_ready(void);

/* Write our pid to PATH. Refuses (-1, *ERROR_R) when PATH names a running
 * process; replaces a stale file. */
int pidfile_write(const char *path, const char **error_r);
void pidfile_remove(const char *path);

#endif
