/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bulletin.h: site-wide bulletins delivered exactly once to every user who
 * logs in, each bulletin's deliveries recorded in a GDBM file beside it. */
#ifndef TPOP3D_BULLETIN_H
#define TPOP3D_BULLETIN_H

#include "auth.h"
#include "config.h"

/* Deliver to the user of RES every bulletin of bulletin-directory not yet
 * recorded as delivered to them. Runs as root in the onlogin process;
 * writes into the user's mailbox only with the user's privileges. Stops at
 * the first failure. 0, or -1 with *ERROR_R (allocated). */
int bulletin_deliver(const struct config *cfg, const struct auth_result *res,
                     const char *clienthost, const char *serverhost,
                     char **error_r);

#endif
