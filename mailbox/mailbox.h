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

/* Bytes of the digest a generated UIDL is the hex of (MD5). */
#define MAILBOX_DIGEST_LEN 16

struct conn;

/* Largest mailbox file offset a message record holds (1 TiB). */
#define MAILBOX_FROM_MAX (((uint64_t)1 << 40) - 1)
/* Largest duplicate counter: more copies of one message than this make
 * the mailbox unservable (its UIDLs could not all be unique). */
#define MAILBOX_DUP_MAX ((1u << 21) - 1)

/* One message: 28 bytes, so that a session on a mailbox of 100,000
 * messages stays within 4 MB. What can be found again cheaply from the
 * file (where the served text starts and ends) is not stored. */
struct mailbox_msg {
    unsigned char digest[MAILBOX_DIGEST_LEN];   /* MD5 the UIDL is made of */
    uint32_t size;          /* octets RETR sends before dot-stuffing; a
                               message that would need more is refused */
    uint32_t from_lo;       /* with from_hi: the file offset of its From_
                               line; use mailbox_msg_from() */
    uint32_t from_hi : 8;
    uint32_t dup : 21;      /* 0, or n >= 2: the UIDL is digest ".n" */
    uint32_t deleted : 1;   /* marked by DELE, cleared by RSET */
    uint32_t has_xuidl : 1; /* has a valid X-UIDL: value, in mailbox.xuidl */
    uint32_t use_xuidl : 1; /* ... which is its UIDL (unique) */
};

static inline uint64_t mailbox_msg_from(const struct mailbox_msg *m)
{
    return (uint64_t)m->from_hi << 32 | m->from_lo;
}

/* FROM <= MAILBOX_FROM_MAX. */
static inline void mailbox_msg_set_from(struct mailbox_msg *m, uint64_t from)
{
    m->from_lo = (uint32_t)from;
    m->from_hi = (uint32_t)(from >> 32) & 0xff;
}

/* An X-UIDL: header value, kept apart because few messages have one. */
struct mailbox_xuidl {
    size_t i;               /* the message */
    char *value;            /* 1..UIDL_MAX_LEN printable characters */
};

struct mailbox {
    const struct mailbox_driver *drv;
    char *path;
    struct mailbox_msg *msgs;
    size_t count;           /* messages, deleted ones included */
    struct mailbox_xuidl *xuidl;    /* xuidl_count entries, by message */
    size_t xuidl_count;
    void *priv;             /* the driver's */
};

/* The UIDL of message I of MB, in BUF or in MB (valid until MB is closed). */
const char *mailbox_uidl(const struct mailbox *mb, size_t i,
                         char buf[UIDL_MAX_LEN + 1]);
/* The X-UIDL value of message I (NULL when it has none). */
const char *mailbox_xuidl_find(const struct mailbox_xuidl *xu, size_t n,
                               size_t i);

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

/* True when PATH is absolute and has no "." or ".." component: such a
 * component could lead out of the spool after a substitution, and no
 * mailbox location needs one. */
bool mailbox_path_is_clean(const char *path);

/* Octets as sent by RETR for DATA (LEN bytes of a stored message): LF
 * becomes CRLF, an existing CRLF stays, a last line without a newline gets
 * CRLF. Dot-stuffing not counted. */
uint64_t msg_wire_size(const char *data, size_t len);
/* Write DATA to C as described for mailbox_driver.send. */
int msg_write(struct conn *c, const char *data, size_t len, long lines);

#endif
