/* SPDX-License-Identifier: GPL-2.0-or-later */
/* listener.h: the root process: listening sockets, the poll loop, one
 * forked child per connection, signals. */
#ifndef TPOP3D_LISTENER_H
#define TPOP3D_LISTENER_H

#include <stdbool.h>

#include "config.h"

/* Bind every listen-address of CFG. Returns 0, or -1 after logging what
 * failed (with the directive's file:line). */
int listener_open(const struct config *cfg);

/* Serve until SIGTERM/SIGINT. *CFG may be replaced on SIGHUP (re-read from
 * CFG_PATH); the old one is freed. Removes PIDFILE (may be NULL) on the
 * way out. Returns the process exit status. */
int listener_loop(struct config **cfg, const char *cfg_path,
                  const char *pidfile, bool verbose);

#endif
