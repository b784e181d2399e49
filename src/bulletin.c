/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bulletin.c: deliver each bulletin once to every user. */
#include <stdlib.h>

#include "bulletin.h"
#include "xalloc.h"

int bulletin_deliver(const struct config *cfg, const struct auth_result *res,
                     const char *clienthost, const char *serverhost,
                     char **error_r)
{
    (void)cfg; (void)res; (void)clienthost; (void)serverhost;
    *error_r = xstrdup("bulletins are not implemented");
    return -1;
}
