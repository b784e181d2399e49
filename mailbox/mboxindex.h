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

struct mbox_index {
    struct mailbox_msg *msgs;   /* count entries; deleted all false */
    /* count + 1 entries. raw[i] is the offset of message i's From_ line;
     * raw[i + 1] ends its raw region, which so includes the blank line
     * that separates it from the next message. raw[count] is the end of
     * the indexed data (LEN). */
    uint64_t *raw;
    size_t count;
    bool crlf;                  /* the first From_ line ends in CRLF */
};

/* Index the LEN bytes at BASE, from offset START on. START is 0 for a
 * whole mailbox, or the offset of a From_ line found by an earlier index of
 * the same file (for example the last message's, to index only what was
 * appended since). A separator is a line starting "From " at START or right
 * after a blank line ("\n\n"; also "\r\n\r\n" in a CRLF mailbox, one whose
 * first From_ line ends in CRLF). Each message is served from after its
 * From_ line up to, not including, the blank line before the next
 * separator; at the end of the data, one trailing blank line is likewise
 * left out. UIDLs are the lower-case hex MD5 of at most MBOX_UIDL_BYTES
 * from the From_ line, within the raw region, made unique with
 * mbox_uidl_unique().
 *
 * Returns 0 with *IDX filled in (free with mbox_index_free()), or -1 with
 * *ERROR_R set to a static message when the data is not an mbox (non-empty
 * and not starting with "From " at START) or START is out of range.
 * No bytes at all (START == LEN) is a valid index of 0 messages. */
int mbox_index_build(const char *base, size_t len, size_t start,
                     struct mbox_index *idx, const char **error_r);

/* Free what mbox_index_build() allocated and zero IDX. */
void mbox_index_free(struct mbox_index *idx);

/* Make the UIDLs of MSGS unique, keeping the file order: the first message
 * with a given digest keeps the plain 32-hex-digit UIDL, later ones get
 * ".2", ".3", ... appended. Any suffix already present (everything from
 * the first '.') is ignored and recomputed, so indexes of a mailbox's head
 * and tail may be joined and passed through this again. */
void mbox_uidl_unique(struct mailbox_msg *msgs, size_t count);

#endif
