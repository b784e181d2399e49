/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep.h: privilege separation before login: an unprivileged, chrooted
 * pre-login process speaks to the client; its privileged monitor runs the
 * authentication drivers and continues the session as the mail user. */
#ifndef TPOP3D_PRIVSEP_H
#define TPOP3D_PRIVSEP_H

#include <stdbool.h>

#include "auth.h"
#include "config.h"

struct session;

/* Resolve and check privsep-user (exists, not uid or gid 0) and
 * privsep-directory (a directory owned by root, writable by nobody else,
 * empty), and keep the result for the sessions forked later. Called at
 * start, by tpop3d -t, and on each reload. Returns 0, or -1 with *ERROR_R
 * (allocated) naming the directive and how to fix it. */
int privsep_configure(const struct config *cfg, char **error_r);

enum privsep_role {
    PRIVSEP_OFF,        /* no separation (not running as root): serve the
                           whole session in this process, as before */
    PRIVSEP_PRELOGIN,   /* the pre-login process: greet, serve the
                           AUTHORIZATION state */
    PRIVSEP_LOGGED_IN,  /* the monitor, after a successful login: finish
                           it (session_login_finish), privsep_take_client,
                           then serve TRANSACTION */
    PRIVSEP_ENDED,      /* the monitor, the session ended before a login:
                           s->user and s->end_reason are set for the log */
};

/* In the session child, as root, after conn_init and the APOP timestamp:
 * fork the pre-login process and, in the parent (the monitor), serve its
 * login requests until it logs in or ends. S->auth is filled in for
 * PRIVSEP_LOGGED_IN. */
enum privsep_role privsep_start(struct session *s);

/* True in the pre-login process. */
bool privsep_prelogin(const struct session *s);

/* In the pre-login process, for session_login(): send ATT to the monitor
 * and return its verdict (AUTH_NO after the monitor's failure delay). On
 * AUTH_OK it does not return: it hands the client over to the monitor (or
 * relays it) and exits; except for SCRAM-SHA-256, where it writes the
 * ServerSignature to ATT->scram and returns AUTH_OK, and the caller ends
 * the exchange with privsep_login_complete() (or ends the session). */
enum auth_status privsep_authenticate(struct session *s,
                                      const struct auth_attempt *att);

/* In the pre-login process, as a CRAM-MD5 (METHOD AUTH_METHOD_CRAM_MD5)
 * or SCRAM-SHA-256 exchange begins: get the monitor's challenge, which the
 * next privsep_authenticate() is checked against. CHALLENGE (SIZE bytes)
 * gets the CRAM-MD5 challenge or the SCRAM server nonce; for SCRAM, SALT
 * (PRIVSEP_MAX_SALT bytes) gets the salt, with *SALT_LEN_R and
 * *ITERATIONS_R. Returns 0, or -1 when the monitor refuses (the exchange
 * fails) or is gone (the session is then set to end). */
int privsep_challenge(struct session *s, enum auth_method method,
                      char *challenge, size_t size, unsigned char *salt,
                      size_t *salt_len_r, unsigned *iterations_r);

/* In the pre-login process after a SCRAM login whose server signature the
 * client accepted: hand the client over as privsep_authenticate() does
 * for the other methods. Does not return. */
void privsep_login_complete(struct session *s) __attribute__((noreturn));

/* In the pre-login process at the end of a session without a login: tell
 * the monitor why (it writes the session's log line) and exit. */
void privsep_prelogin_end(struct session *s) __attribute__((noreturn));

/* In the monitor between a login and privsep_take_client(): the
 * descriptor that stands for the client, the socket after a handoff or the
 * channel to a relay (-1 without separation: use s->conn.fd). A process
 * forked meanwhile must close it, or the client's connection could outlive
 * the session. */
int privsep_client_fd(const struct session *s);

/* In the monitor after session_login_finish(), once it no longer runs as
 * root: take the client back with the bytes the pre-login process had read
 * beyond the login command, or switch the connection to the relay channel.
 * Returns 0, or -1 (logged) when the session must end without a reply. */
int privsep_take_client(struct session *s);

/* In the monitor after conn_close(): let a relaying pre-login process
 * finish (bounded wait). */
void privsep_finish(struct session *s);

#endif
