/* SPDX-License-Identifier: GPL-2.0-or-later */
/* onlogin.h: the actions run after every successful login (the drivers'
 * onlogin parts, POP-before-SMTP relay grants, bulletins), bounded in time
 * and never able to fail or block the login. */
#ifndef TPOP3D_ONLOGIN_H
#define TPOP3D_ONLOGIN_H

#include <stdbool.h>
#include <sys/types.h>

#include "auth.h"
#include "config.h"

/* Run every configured onlogin action for the login described by RES:
 * the onlogin part of each enabled driver that has one configured (in the
 * order of auth_drivers[]), then relay_grant() when relay-grant-enable,
 * then bulletin_deliver() when bulletin-enable.
 *
 * Called as root in the session child after authentication and before
 * privileges are dropped or the mailbox is opened. When no action is
 * configured it returns at once without forking. Otherwise the actions run
 * in a forked process (which closes CLIENT_FD, the client's socket, or -1
 * for none, so that it can never keep the connection open after the
 * session has ended), each in a worker of its own
 * bounded by onlogin-timeout. With onlogin-child-wait this returns when
 * they have finished or been stopped (at most about the number of actions
 * times onlogin-timeout); otherwise it returns at once and the actions run
 * detached, leaving no zombie behind. Failures and overruns are logged;
 * the login goes on regardless. */
void onlogin_run(const struct config *cfg, const struct auth_result *res,
                 const char *clienthost, const char *serverhost,
                 int client_fd);

/* Check the directives of the built-in actions (relay grants, bulletins)
 * the way tpop3d -t, start-up and SIGHUP do: 0, or -1 with *ERROR_R
 * (allocated, naming the directive's file:line). */
int onlogin_check_config(const struct config *cfg, char **error_r);

/* The number of actions onlogin_run() would run for CFG (0: it forks
 * nothing). */
size_t onlogin_count(const struct config *cfg);

/* The bounded-process machinery under onlogin_run(), public for its unit
 * tests. */

enum onlogin_end {
    ONLOGIN_END_EXITED,     /* it ended by itself; see the wait status */
    ONLOGIN_END_STOPPED,    /* it overran and SIGTERM ended it */
    ONLOGIN_END_KILLED,     /* it overran and ignored SIGTERM: SIGKILL */
};

/* Wait up to TIMEOUT_MS for the child PID to end; past that, send SIGTERM,
 * wait up to GRACE_MS more, then send SIGKILL. When PID leads a process
 * group, the signals go to the whole group, and whatever is left of the
 * group once PID has ended is killed too, so nothing it started outlives
 * it. Always reaps PID; *STATUS_R gets its wait status. */
enum onlogin_end onlogin_reap(pid_t pid, long timeout_ms, long grace_ms,
                              int *status_r);

/* Fork a worker that leads a process group of its own, with default
 * signal handling (SIGPIPE ignored) and no signal blocked, and runs
 * FN(ARG); it exits with status 0 when FN returns 0 and 1 otherwise. The
 * caller waits for it with onlogin_reap(TIMEOUT_MS, GRACE_MS). Returns
 * 0 with *END_R and *STATUS_R set, or -1 when fork fails (errno set). */
int onlogin_bounded(int (*fn)(void *arg), void *arg, long timeout_ms,
                    long grace_ms, enum onlogin_end *end_r, int *status_r);

#endif
