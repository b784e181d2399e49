/* SPDX-License-Identifier: GPL-2.0-or-later */
/* session.h: one POP3 session, run in its own child process. */
#ifndef TPOP3D_SESSION_H
#define TPOP3D_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "conn.h"
#include "mailbox.h"
#include "pop3.h"

enum session_state {
    STATE_AUTHORIZATION,
    STATE_TRANSACTION,
    STATE_UPDATE,
    STATE_DONE,
};

struct privsep;

struct session {
    struct conn conn;
    const struct config *cfg;
    enum session_state state;
    bool verbose;                   /* -v: log the dialogue */
    struct privsep *privsep;        /* the split at login (privsep.c) */

    char timestamp[128];            /* APOP <...>, "" when not offered */
    char *user;                     /* from USER, until PASS */
    unsigned bad_commands;
    unsigned auth_failures;

    struct auth_result auth;        /* valid in TRANSACTION */
    struct mailbox *mb;
    size_t live_count;              /* messages not marked deleted */
    uint64_t live_size;

    /* For the end-of-session log line. */
    struct timespec started;
    size_t retrieved_msgs, deleted_msgs;
    uint64_t retrieved_bytes;
    const char *end_reason;         /* QUIT, timeout, drop, error, ... */

    /* The reply the dispatch loop writes for a handler's outcome. */
    const char *resp_code;          /* "IN-USE", "AUTH", ... or NULL */
    char resp[256];
    /* Written after a +OK status line (multi-line replies), when set. */
    int (*resp_body)(struct session *s, size_t arg, long lines);
    size_t resp_arg;
    long resp_lines;
};

/* Serve the connected socket FD until the session ends; the caller (the
 * forked child) exits afterwards. DOMAIN is the listener's (domain). */
void session_run(int fd, const char *domain, const struct config *cfg,
                 bool verbose);

/* Set the reply text for the dispatch loop (printf-style). */
void session_reply(struct session *s, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The one place the state changes; logged at debug level. */
void session_set_state(struct session *s, enum session_state state);

/* The mailbox of the user of A as "type:path": the driver's choice; else
 * the first location of the mailbox directive whose mailbox exists; else the
 * first whose directory exists; else NULL with *ERROR_R (static). Paths are
 * checked with the caller's privileges: call it as the user. */
char *session_choose_mailbox(const struct config *cfg,
                             const struct auth_result *a,
                             const char *clienthost, const char *serverhost,
                             const char **error_r);

/* Authenticate ATT (through the monitor in the pre-login process), then
 * session_login_finish(). ATT->password, when set, is wiped as soon as it
 * has been checked (before any process is forked), so callers pass a
 * writable copy they own. Returns the outcome to send for
 * PASS/APOP/AUTH. */
enum pop3_outcome session_login(struct session *s,
                                const struct auth_attempt *att);

/* After a successful authentication (S->auth filled in): onlogin actions,
 * drop privileges, open the mailbox. Returns the outcome of the login. */
enum pop3_outcome session_login_finish(struct session *s);

#endif
