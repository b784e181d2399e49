/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep_private.h: declarations shared by the files of privsep.c's module only. */
#ifndef TPOP3D_PRIVSEP_PRIVATE_H
#define TPOP3D_PRIVSEP_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "conn.h"
#include "privsep_msg.h"
#include "sasl.h"

struct session;

struct privsep {
    bool prelogin;          /* this process is the pre-login process */
    int chan;               /* our end of the socketpair, or -1 */
    pid_t pid;              /* monitor: the pre-login process, or -1 */
    const char *client;     /* monitor: the client's address, for the log */
    bool relay;             /* monitor: the channel carries the session */
    bool term_sent;         /* monitor: the pre-login process was told to end */
    struct timespec term_deadline;
    size_t pending_len;     /* monitor: body length of the HANDOFF/RELAY */
    unsigned failures;      /* monitor: failed logins so far */
    /* Monitor: the challenge handed out for the next login request
     * (PRIVSEP_METHOD_CRAM_MD5 or _SCRAM; 0: none), used once. */
    uint8_t issued;
    char challenge[PRIVSEP_MAX_CHALLENGE + 1];
    unsigned char salt[SASL_SCRAM_SALT_LEN];
    unsigned challenges;    /* monitor: challenges handed out so far */
};

/* How long the monitor waits for a pre-login process to go away after it
 * was told to (SIGTERM, or its handoff) before it kills it. */
#define PRIVSEP_REAP_MS 3000

/* Send M on FD; with PASS_FD >= 0, that descriptor travels with its
 * header. 0, or -1 (an encoding error is logged). */
int privsep_send(int fd, const struct privsep_msg *m, int pass_fd);

/* Read and decode the body of a message of TYPE whose header said LEN
 * from PS's channel into M. 0, or -1 (a decoding error is logged). */
int privsep_recv_body(struct privsep *ps, enum privsep_msg_type type,
                      size_t len, struct privsep_msg *m);

/* Wait up to MS milliseconds for process PID to exit and reap it (its
 * wait status in *STATUS unless NULL); true when it did. */
bool privsep_wait_exit(pid_t pid, int ms, int *status);

/* In the monitor: wait up to PRIVSEP_REAP_MS for the pre-login process
 * to exit, then kill it, and log an abnormal end. Only while root (or
 * once it is already gone). */
void privsep_reap(struct privsep *ps);

/* In the monitor: whether FD is a TCP socket of the connection C was set
 * up for (the monitor takes back only the client it handed out). */
bool privsep_same_connection(const struct conn *c, int fd);

/* In the pre-login process after a successful login: flush the replies,
 * then hand the client back to the monitor or relay it; exits. */
void privsep_handoff(struct session *s) __attribute__((noreturn));

#endif
