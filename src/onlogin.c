/* SPDX-License-Identifier: GPL-2.0-or-later */
/* onlogin.c: run the actions after a successful login in a bounded child. */
#include "onlogin.h"

void onlogin_run(const struct config *cfg, const struct auth_result *res,
                 const char *clienthost, const char *serverhost)
{
    (void)cfg; (void)res; (void)clienthost; (void)serverhost;
}
