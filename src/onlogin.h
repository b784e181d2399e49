/* SPDX-License-Identifier: GPL-2.0-or-later */
/* onlogin.h: the actions run after every successful login (the drivers'
 * onlogin parts, POP-before-SMTP relay grants, bulletins), bounded in time
 * and never able to fail or block the login. */
#ifndef TPOP3D_ONLOGIN_H
#define TPOP3D_ONLOGIN_H

#include "auth.h"
#include "config.h"

/* Run every configured onlogin action for the login described by RES.
 * Called as root in the session child after authentication and before
 * privileges are dropped or the mailbox is opened. The actions run in a
 * forked process, each bounded by onlogin-timeout; with onlogin-child-wait
 * this returns when they have finished (or been stopped), otherwise at
 * once. Failures are logged; the login goes on regardless. */
void onlogin_run(const struct config *cfg, const struct auth_result *res,
                 const char *clienthost, const char *serverhost);

#endif
