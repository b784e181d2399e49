/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bulletin_private.h: what bulletin.c shares with its mailbox writer
 * (bulletin_mbox.c) and its sendmail delivery (bulletin_sendmail.c). */
#ifndef TPOP3D_BULLETIN_PRIVATE_H
#define TPOP3D_BULLETIN_PRIVATE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth.h"
#include "bulletin.h"
#include "config.h"

/* Largest bulletin file, in bytes: a notice to every user, not a place for
 * attachments, and it is held in memory twice while it is delivered. */
#define BULLETIN_MAX_SIZE       (1024 * 1024)

/* Envelope sender of every bulletin, as MTAs use for their own mail. */
#define BULLETIN_SENDER         "MAILER-DAEMON"

enum delivery { DELIVER_MAILBOX, DELIVER_SENDMAIL };

/* One login's work. */
struct job {
    const struct config *cfg;
    const struct auth_result *res;
    const char *clienthost, *serverhost;
    const char *dir;
    int dirfd;
    char *key;                  /* local_part@domain, or the user name */
    enum delivery how;
    unsigned lock_wait_ms;      /* for the user's mailbox */
    char who[128];              /* the user, sanitized for the log */
};

/* One bulletin, loaded and checked. */
struct bulletin {
    char *name;                 /* NAME of NAME.msg */
    char *data;                 /* the message, line ends made LF */
    size_t len;
    char id[BULLETIN_ID_LEN + 1];
};

/* Call bulletin_step_hook, when set, with S and NAME. */
void bulletin_step(enum bulletin_step s, const char *name);

/* Sleep MS milliseconds, through signals. */
void bulletin_sleep_ms(long ms);

/* Milliseconds on the monotonic clock. */
int64_t bulletin_now_ms(void);

/* Keep the signals that stop an overrunning onlogin action waiting while a
 * step that must not be cut in two runs; *OLD gets the mask to restore. */
void bulletin_hold_stops(sigset_t *old);

/* Store (or with STATE BULLETIN_NONE, remove) the record of J's user for
 * bulletin NAME and flush it to disk. With INSERT, only when there is none
 * yet. 0; 1 when INSERT found one; -1 with *ERROR_R (allocated). */
int bulletin_db_put(struct job *j, const char *name,
                    enum bulletin_state state, const char *id, bool insert,
                    char **error_r);

/* The record of J's user for bulletin NAME into *REC (BULLETIN_NONE when
 * there is none), read as a WRITER (current) or a reader. 0, or -1 with
 * *ERROR_R (allocated). */
int bulletin_db_read(struct job *j, const char *name, bool writer,
                     struct bulletin_record *rec, char **error_r);

/* Deliver B into the user's mailbox through a child running as the user.
 * 0 (delivered or already there), or -1 with *ERROR_R (allocated). */
int bulletin_deliver_mailbox(struct job *j, const struct bulletin *b,
                             char **error_r);

/* Hand B to bulletin-sendmail-program unless a record says it was (or may
 * have been) handed over already. 0, or -1 with *ERROR_R (allocated). */
int bulletin_deliver_sendmail(struct job *j, const struct bulletin *b,
                              char **error_r);

#endif
