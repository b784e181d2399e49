/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mboxindex.h: splitting a BSD mbox held in memory into messages, with the
 * sizes and UIDLs the session serves. Pure: no I/O, no logging. */
#ifndef TPOP3D_MBOXINDEX_H
#define TPOP3D_MBOXINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"

/* How many bytes from the start of a From_ line the UIDL digest covers (the
 * original tpop3d's choice; changing it changes every UIDL). */
#define MBOX_UIDL_BYTES 512

/* How far into a message's text an X-UIDL: header is looked for: header
 * sections are a few kilobytes, and a bound keeps a hostile message from
 * making the index read megabytes of it. */
#define MBOX_XUIDL_SCAN (64 * 1024)

/* mbox_index_build() flags. */
#define MBOX_INDEX_X_UIDL 1u    /* look for X-UIDL: headers */

struct mbox_index {
    /* count entries, in file order; msgs[i].from is message i's From_
     * line, and its raw region runs to msgs[i + 1].from (or END), so it
     * includes the blank line that separates it from the next message. */
    struct mailbox_msg *msgs;
    size_t count, cap;
    struct mailbox_xuidl *xuidl;    /* candidates, in message order */
    size_t xuidl_count, xuidl_cap;
    uint64_t end;               /* end of the indexed data (LEN) */
    bool crlf;                  /* the first From_ line ends in CRLF */
};

/* Index the LEN bytes at BASE, from offset START on. START is 0 for a
 * whole mailbox, or the offset of a From_ line found by an earlier index of
 * the same file (for example the last message's, to index only what was
 * appended since). A separator is a line starting "From " at START or right
 * after a blank line ("\n\n"; also "\r\n\r\n" in a CRLF mailbox, one whose
 * first From_ line, at offset 0 of BASE, ends in CRLF). Each message is
 * served from after its From_ line up to, not including, the blank line
 * before the next separator; at the end of the data, one trailing blank
 * line is likewise left out (mbox_msg_text() finds that range again). UIDLs
 * are the lower-case hex MD5 of at most MBOX_UIDL_BYTES from the From_ line,
 * within the raw region, made unique with mbox_uidl_unique(). With
 * MBOX_INDEX_X_UIDL in FLAGS, valid X-UIDL: values become candidates.
 *
 * Returns 0 with *IDX filled in (free with mbox_index_free()), or -1 with
 * *ERROR_R set to a static message when the data is not an mbox (non-empty
 * and not starting with "From " at START), START is out of range, a
 * message would be more than 4 GB on the wire (not servable), the data is
 * over MAILBOX_FROM_MAX bytes, or over MAILBOX_DUP_MAX messages share a
 * digest.
 * No bytes at all (START == LEN) is a valid index of 0 messages. */
int mbox_index_build(const char *base, size_t len, size_t start,
                     unsigned flags, struct mbox_index *idx,
                     const char **error_r);

/* Like mbox_index_build(), but IDX already holds the messages before
 * START (a head taken from an earlier index of the same data, whose
 * following messages are dropped): the messages from START on are added
 * and uniqueness is worked out again over all of them, so the result is
 * what mbox_index_build() from 0 gives. On -1 IDX is freed. */
int mbox_index_extend(const char *base, size_t len, size_t start,
                      unsigned flags, struct mbox_index *idx,
                      const char **error_r);

/* Free what mbox_index_build() allocated and zero IDX. */
void mbox_index_free(struct mbox_index *idx);

/* Where the served text of the message whose raw region is [FROM, NEXT)
 * of BASE lies, as mbox_index_build() decided it; CRLF as in the index. */
void mbox_msg_text(const char *base, uint64_t from, uint64_t next, bool crlf,
                   uint64_t *off_r, uint64_t *len_r);

/* Work out the dup counters and which X-UIDL candidates are used: the
 * first message with a given digest keeps the plain 32-hex-digit UIDL,
 * later ones get ".2", ".3", ... in file order; an X-UIDL value is used
 * unless it equals one of those generated UIDLs (of any message) or a value
 * an earlier message uses, so every UIDL is unique. XU holds the
 * candidates (XN of them, by message). False when more than
 * MAILBOX_DUP_MAX messages share a digest: their UIDLs are not unique. */
bool mbox_uidl_unique(struct mailbox_msg *msgs, size_t count,
                      const struct mailbox_xuidl *xu, size_t xn);

/* Whether V (N bytes) is a valid X-UIDL value: 1 to UIDL_MAX_LEN
 * characters in 0x21..0x7E. */
bool mbox_xuidl_valid(const char *v, size_t n);

#endif
