/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relay.h: POP-before-SMTP relay grants: a GDBM file of client address ->
 * grant time and user, pruned of expired grants, exported as a text map for
 * the MTA. Shared by the daemon and the tpop3d-relay command. */
#ifndef TPOP3D_RELAY_H
#define TPOP3D_RELAY_H

#include "config.h"

/* Record a grant for CLIENTHOST (numeric IPv4 or IPv6) by USER now, prune
 * expired grants, and write the export (and run its command) when one is
 * configured. Runs as root. 0, or -1 with *ERROR_R (allocated). */
int relay_grant(const struct config *cfg, const char *clienthost,
                const char *user, char **error_r);

#endif
