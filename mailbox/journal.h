/* SPDX-License-Identifier: GPL-2.0-or-later */
/* journal.h: crash-safe compaction of a mailbox file in place: the plan of
 * kept byte ranges, the journal file that records it with the progress made,
 * and the recovery that finishes an interrupted commit on the next open. */
#ifndef TPOP3D_JOURNAL_H
#define TPOP3D_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The journal of mailbox PATH is PATH JOURNAL_SUFFIX, in the same
 * directory, so it needs what a dotlock needs: a spool writable by the
 * session's uid. */
#define JOURNAL_SUFFIX ".tpop3d-journal"

/* Largest step of a move. Steps are also never longer than the distance a
 * range moves, so a step never overwrites its own source and one cut short
 * by a kill can be done again from the original bytes. 1 MiB keeps the
 * per-step overhead negligible when gaps are large. */
#define JOURNAL_CHUNK_MAX ((uint64_t)1024 * 1024)

/* Bytes of the marker written just past the data before the truncation:
 * at most this, and no more than the bytes the commit removes. */
#define JOURNAL_MARKER_MAX 16

/* The range starts with a "From " line (checked again by recovery). */
#define JOURNAL_RANGE_FROM 1u

struct journal_range {
    uint64_t src;           /* where the kept bytes are at the start */
    uint64_t dst;           /* where they end up; always below src */
    uint64_t len;           /* > 0 */
    uint32_t flags;         /* JOURNAL_RANGE_*; set by journal_commit() */
};

/* Everything from the first removed byte up to start_size is either
 * removed or in one of the ranges, which are in file order and laid end to
 * end from that first removed byte on. */
struct journal_plan {
    uint64_t start_size;    /* the file's size when the commit starts */
    uint64_t final_size;    /* its size after the commit */
    struct journal_range *ranges;
    size_t count;
    size_t cap;
};

/* Start an empty plan for a file of START_SIZE bytes whose first removed
 * byte is at HOLE (HOLE <= START_SIZE): keeping nothing more makes the file
 * HOLE bytes long. */
void journal_plan_init(struct journal_plan *plan, uint64_t hole,
                       uint64_t start_size);
/* Keep the LEN bytes at SRC. Calls come in file order, each SRC at or past
 * the end of the previous kept bytes and at or past HOLE; adjacent kept
 * bytes are merged into one range, so a plan has one range per run of
 * kept messages, not one per message. LEN 0 does nothing. */
void journal_plan_keep(struct journal_plan *plan, uint64_t src, uint64_t len);
/* Free the ranges and zero PLAN. */
void journal_plan_free(struct journal_plan *plan);

/* Where a commit is, as the journal's state word records it. */
enum journal_state {
    JOURNAL_PREPARING = 1,  /* being written; no byte of the mailbox moved */
    JOURNAL_MOVING = 2,     /* moving data; progress in done / tail_done */
    JOURNAL_MOVED = 3,      /* all moved, marker at moved_end; truncate next */
    JOURNAL_DONE = 4,       /* truncated; only the journal is left to remove */
};

/* The journal apart from the plan: identity, marker and progress. */
struct journal_info {
    uint64_t dev, ino;      /* the mailbox file's */
    unsigned char marker[JOURNAL_MARKER_MAX];
    uint64_t marker_len;    /* min(JOURNAL_MARKER_MAX, start - final size) */
    uint64_t state;         /* enum journal_state */
    uint64_t done;          /* bytes of the ranges moved, in plan order */
    uint64_t tail_src;      /* start of data appended past the plan */
    uint64_t tail_done;     /* bytes of it moved down */
    uint64_t moved_end;     /* JOURNAL_MOVED: where the data ends */
};

/* The journal file's image for PLAN and INFO: a header and the ranges, all
 * little-endian 64-bit words, with a checksum over the constant part.
 * Allocated; *LEN_R gets its length. */
void *journal_encode(const struct journal_plan *plan,
                     const struct journal_info *info, size_t *len_r);

/* Parse and check the LEN bytes at BUF: magic, version, length, checksum,
 * and a plan and progress that make sense (ranges in order, moving down,
 * laid end to end, within the start size; progress within bounds). 0 with
 * *PLAN_R (free with journal_plan_free()) and *INFO_R filled in, or -1 with
 * *ERROR_R set to a static message. */
int journal_decode(const void *buf, size_t len, struct journal_plan *plan_r,
                   struct journal_info *info_r, const char **error_r);

enum journal_result {
    JOURNAL_COMMITTED,      /* the file now holds the plan's result */
    JOURNAL_UNAVAILABLE,    /* no journal could be made (no permission,
                               read-only, over quota, no space); nothing
                               was changed, and committing without a
                               journal is the caller's choice */
    JOURNAL_FAILED,         /* not done; the mailbox is either untouched or
                               left with its journal for the next open to
                               finish (the message says which) */
};

/* Carry out PLAN on the mailbox PATH, open read-write as FD and locked by
 * the caller, whose size must still be PLAN->start_size: write the journal
 * (O_EXCL, mode 0600), move every range down, then any data appended past
 * start_size, truncate, remove the journal. A kill at any instant leaves a
 * state journal_recover() finishes. With DURABLE, the result (the file and
 * the journal's removal) is flushed to disk before returning; without it,
 * nothing is. Fills in PLAN's range flags. PLAN must have at least one
 * range (a plan with none is a bare truncation, which needs no journal).
 * Nothing is logged; on JOURNAL_UNAVAILABLE and JOURNAL_FAILED *ERROR_R
 * gets an allocated message. */
enum journal_result journal_commit(const char *path, int fd,
                                   struct journal_plan *plan, bool durable,
                                   char **error_r);

/* Look for the journal of the mailbox PATH, open read-write as FD and
 * locked by the caller, and deal with it before the mailbox is read:
 * 0: there is none.
 * 1: there was one and it is gone, the interrupted commit finished (or it
 *    had not moved anything); *NOTICE_R says what happened, for the log.
 *    With DURABLE the result is flushed to disk as by journal_commit().
 * -1: it cannot be trusted (corrupt, truncated, not this file's, not owned
 *    by the mailbox's owner or this uid, last written before the system
 *    booted, or the file does not look as the journal says it must) or
 *    finishing failed: the mailbox must not be opened; *ERROR_R names the
 *    journal file for the administrator.
 * Messages are allocated; the other pointer is set to NULL.
 *
 * Why a journal from before the last boot is refused: progress is recorded
 * in the page cache, which is exact after a kill but not after a crash,
 * when the disk may hold moved data newer than the progress it holds, and
 * doing a step again from a stale position would copy from a source a
 * later step has overwritten. After a clean shutdown the disk was
 * consistent: an administrator who knows that can touch the journal, and
 * the next open then finishes the commit. */
int journal_recover(const char *path, int fd, bool durable, char **notice_r,
                    char **error_r);

/* Points of a commit at which journal_step_hook is called. */
enum journal_step {
    JOURNAL_STEP_WRITTEN,   /* journal on disk, state still PREPARING */
    JOURNAL_STEP_STARTED,   /* state MOVING, nothing moved yet */
    JOURNAL_STEP_CHUNK,     /* one step moved and its progress recorded */
    JOURNAL_STEP_MARKED,    /* marker written past the data, still MOVING */
    JOURNAL_STEP_MOVED,     /* state MOVED, not truncated */
    JOURNAL_STEP_TRUNCATED, /* truncated, state still MOVED */
    JOURNAL_STEP_DONE,      /* state DONE, journal not yet removed */
};

/* Fault injection for the tests: when set, called at each of the points
 * above, in commits and recoveries alike. NULL in the daemon. */
extern void (*journal_step_hook)(enum journal_step step);

#endif
