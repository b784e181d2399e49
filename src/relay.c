/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relay.c: POP-before-SMTP relay grants in a GDBM file. */
#include <stdlib.h>

#include "relay.h"
#include "xalloc.h"

int relay_grant(const struct config *cfg, const char *clienthost,
                const char *user, char **error_r)
{
    (void)cfg; (void)clienthost; (void)user;
    *error_r = xstrdup("relay grants are not implemented");
    return -1;
}
