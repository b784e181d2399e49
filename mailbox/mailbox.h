/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mailbox.h: the mailbox interface the session uses, and the driver table.
 * The session never knows the on-disk format. */
#ifndef TPOP3D_MAILBOX_H
#define TPOP3D_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "limits.h"

struct conn;

struct mailbox_msg {
    uint64_t offset;        /* file offset of the first byte served */
    uint64_t length;        /* bytes in the file that are served */
    uint64_t size;          /* octets RETR sends before dot-stuffing */
    char uidl[UIDL_MAX_LEN + 1];
    bool deleted;           /* marked by DELE, cleared by RSET */
};

struct mailbox {
    const struct mailbox_driver *drv;
    char *path;
    struct mailbox_msg *msgs;
    size_t count;           /* messages, deleted ones included */
    void *priv;             /* the driver's */
};

enum mailbox_status {
    MAILBOX_OK,
    MAILBOX_INUSE,      /* locked by another session or an MDA */
    MAILBOX_TEMPFAIL,   /* could not be read now */
    MAILBOX_PERMFAIL,   /* refused: unsafe path, wrong owner, not a mailbox */
};

struct mailbox_options {
    bool dotlock;               /* create NAME.lock as well as fcntl/flock */
    unsigned lock_wait_ms;      /* how long to retry a held lock */
    uid_t owner;                /* the mailbox must belong to this uid */
    bool durable;               /* mailspool-durable-commit: flush to disk
                                   before commit returns */
    bool use_x_uidl;            /* mailspool-use-x-uidl */
    const char *index_template; /* mailspool-index, unexpanded, or NULL */
};

struct mailbox_driver {
    const char *name;           /* "bsd", "empty", ... */
    bool compiled;
    /* Open and lock PATH, index it. A missing file is an empty mailbox.
     * On MAILBOX_OK *MB_R is set; otherwise *ERROR_R gets an allocated
     * message for the log (not for the client). */
    enum mailbox_status (*open)(const char *path,
                                const struct mailbox_options *opts,
                                struct mailbox **mb_r, char **error_r);
    /* Send message I (0-based) to C: all of it when LINES < 0, else the
     * headers, the blank line and LINES lines of the body. Line endings
     * become CRLF, lines starting "." are dot-stuffed, and the terminating
     * ".\r\n" is written. 0, or -1 when the connection failed. */
    int (*send)(struct mailbox *mb, size_t i, long lines, struct conn *c);
    /* Remove the messages marked deleted, keeping everything else
     * byte-identical (mail appended since the open included). 0, or -1
     * with *ERROR_R set (allocated). */
    int (*commit)(struct mailbox *mb, char **error_r);
    /* Unlock, unmap and free MB. */
    void (*close)(struct mailbox *mb);
};

extern const struct mailbox_driver *const mailbox_drivers[];

/* The drivers, each in mailbox/NAME.c. */
extern const struct mailbox_driver mailbox_driver_bsd;
extern const struct mailbox_driver mailbox_driver_empty;

const struct mailbox_driver *mailbox_driver_find(const char *name);

/* Open SPEC, "type:path" (a bare path means "bsd:"). */
enum mailbox_status mailbox_open(const char *spec,
                                 const struct mailbox_options *opts,
                                 struct mailbox **mb_r, char **error_r);
/* Close and free *MB (may be NULL); sets *MB to NULL. */
void mailbox_close(struct mailbox **mb);

/* Octets as sent by RETR for DATA (LEN bytes of a stored message): LF
 * becomes CRLF, an existing CRLF stays, a last line without a newline gets
 * CRLF. Dot-stuffing not counted. */
uint64_t msg_wire_size(const char *data, size_t len);
/* Write DATA to C as described for mailbox_driver.send. */
int msg_write(struct conn *c, const char *data, size_t len, long lines);

#endif
