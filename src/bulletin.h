/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bulletin.h: site-wide bulletins delivered exactly once to every user who
 * logs in, each bulletin's deliveries recorded in a GDBM file beside it. */
#ifndef TPOP3D_BULLETIN_H
#define TPOP3D_BULLETIN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "strbuf.h"

/* Check the bulletin directives of CFG: when bulletin-enable is set,
 * bulletin-directory must be an absolute path, bulletin-delivery "mailbox"
 * or "sendmail", bulletin-sendmail-program an absolute path, and GDBM
 * compiled in. For start-up, -t and SIGHUP. 0, or -1 with *ERROR_R
 * (allocated, "file:line: directive: reason"). */
int bulletin_check_config(const struct config *cfg, char **error_r);

/* Deliver to the user of RES every bulletin of bulletin-directory not yet
 * recorded as delivered to them, in the byte order of their names. Runs as
 * root in the onlogin process; writes into the user's mailbox only from a
 * child that has become the user. A malformed bulletin is skipped and
 * logged. Stops at the first failure (the rest wait for the next login).
 * Logs each delivery. 0, or -1 with *ERROR_R (allocated). */
int bulletin_deliver(const struct config *cfg, const struct auth_result *res,
                     const char *clienthost, const char *serverhost,
                     char **error_r);

/* The rest is the inside of bulletin.c, declared for the unit tests. */

/* The header every delivered copy carries, "X-Tpop3d-Bulletin: NAME <ID>";
 * a later login looks for it after an interrupted delivery. */
#define BULLETIN_HEADER "X-Tpop3d-Bulletin"

/* Whether DATA (LEN bytes, line ends already LF) is a bulletin we deliver:
 * not empty, no NUL byte, header lines ("Name: value" or continuations)
 * up to a blank line. 0, or -1 with *ERROR_R (static) saying why not. */
int bulletin_check_message(const char *data, size_t len,
                           const char **error_r);

/* Append to OUT the copy of bulletin NAME (DATA, LEN bytes, checked) for a
 * BSD mailbox: a From_ line with envelope sender MAILER-DAEMON and the
 * time WHEN, the BULLETIN_HEADER line with ID, the message with every line
 * that starts "From " written ">From ", a final newline if it had none,
 * and the blank line that ends an mbox message. With MBOX false, only the
 * header line and the message as they are (for a sendmail program). 0, or
 * -1 when OUT's maximum is reached. */
int bulletin_frame(const char *name, const char *id, const char *data,
                   size_t len, time_t when, bool mbox, struct strbuf *out);

/* What a delivery record says. */
enum bulletin_state {
    BULLETIN_NONE,          /* no record: never tried */
    BULLETIN_PENDING,       /* being delivered, or interrupted */
    BULLETIN_DELIVERED,
    BULLETIN_UNKNOWN,       /* interrupted sendmail delivery: not retried */
};

/* Length of a copy's ID: hex of 128 bits. */
#define BULLETIN_ID_LEN 32

struct bulletin_record {
    enum bulletin_state state;
    char id[BULLETIN_ID_LEN + 1];
    long long when;         /* time of the last change */
    long pid;               /* process that wrote it */
};

/* A record's value is "STATE ID TIME PID", e.g. "delivered 0f1e...c 1764450000
 * 4242"; STATE is pending, delivered or unknown. 0, or -1 when VALUE
 * (LEN bytes, no NUL needed) is not one. */
int bulletin_record_parse(const char *value, size_t len,
                          struct bulletin_record *rec);
/* The value for REC, in BUF of SIZE bytes (at least 96). */
const char *bulletin_record_format(const struct bulletin_record *rec,
                                   char *buf, size_t size);

/* Where a delivery stands, for the tests' fault injection. */
enum bulletin_step {
    BULLETIN_STEP_LOCKED,   /* writer child: mailbox locked, not reported */
    BULLETIN_STEP_PENDING,  /* pending recorded, nothing appended yet */
    BULLETIN_STEP_WRITTEN,  /* writer child: appended and synced, not
                               reported to the parent */
    BULLETIN_STEP_APPENDED, /* delivered (appended or accepted by the
                               sendmail program), not yet recorded */
    BULLETIN_STEP_RECORDED, /* recorded as delivered */
};

/* When set, called at each step above with the bulletin's name (a test
 * may _exit() there to play a crash). NULL in the daemon. */
extern void (*bulletin_step_hook)(enum bulletin_step step, const char *name);

#endif
