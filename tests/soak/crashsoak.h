/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crashsoak.h: the parts of the crash soak shared between its files. */
#ifndef TPOP3D_CRASHSOAK_H
#define TPOP3D_CRASHSOAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"

/* One message of the pristine mailbox: its raw region (From_ line to the
 * next one) and the hash of those bytes. */
struct msg {
    uint64_t off, len, hash;
};

/* Mail delivered after a kill. */
struct late {
    char *text;
    uint64_t len, hash;
    uint32_t num;           /* its marker, late-NUM */
};

/* What a child tells the parent through shared memory. */
struct shared {
    int committed;          /* commit returned */
    uint64_t commit_us;     /* how long it took */
};

struct soak {
    char *dir, *pristine, *work, *journal, *dotlock;
    struct msg *msgs;
    size_t count, big;
    uint64_t size;
    struct mailbox_options opts;
    volatile struct shared *sh; /* shared with the children */
    double fixed_us, us_per_byte;
    uint64_t t_start;
    unsigned trials, killed, recovered, discarded, losses;
    unsigned late, twice, twice_tried, twice_killed, late_kills;
    unsigned outcome_kept;
    unsigned outcome_original;
    bool evidence;          /* a failed trial's files were kept */
};

/* Print "crashsoak: " and the message to stderr and exit(2): the soak
 * itself failed (no room, a system call), which is not a loss. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
    __attribute__((noreturn));

/* A 64-bit hash of N bytes at P; messages are compared by length and this
 * hash. */
uint64_t soak_hash(const char *p, size_t n);

/* Report a loss in trial T (the first few described, the rest counted)
 * and keep the files of the first failed trial. */
void lose(struct soak *s, unsigned t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Trial T after the next session opened and closed the work mailbox,
 * counting NSEEN messages: the file must hold exactly the pristine
 * messages not in DEL, or all of them, in order and whole, then LATE if
 * given; and which of the two must agree with what the commit child did
 * (KILLED, s->sh->committed) and with JSTATE, the journal's state found
 * after the kill. Counts the outcome in S, or reports a loss. */
void check_recovered(struct soak *s, unsigned t, const bool *del,
                     const struct late *late, size_t nseen, bool killed,
                     uint64_t jstate);

#endif
