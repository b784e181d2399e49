/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mboxcache.h: the mailspool-index cache of a BSD mailbox's index, so an
 * unchanged mailbox is not read again and one that grew is read only from
 * its last message on. No logging: failures come back as messages. */
#ifndef TPOP3D_MBOXCACHE_H
#define TPOP3D_MBOXCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mboxindex.h"

/* Bytes at each end of the indexed data that a cache's verification hash
 * covers: enough to catch a mailbox rewritten to the same size (its first
 * and last messages differ), little enough that checking costs two pages. */
#define MBOX_CACHE_VERIFY_BYTES 4096

/* Largest cache file read: 28 bytes a message, so far more than any
 * mailbox this daemon can serve. */
#define MBOX_CACHE_MAX_BYTES ((uint64_t)1 << 30)

/* Longest cache file name (PATH_MAX on Linux). */
#define MBOX_CACHE_PATH_MAX 4096

/* Expand the mailspool-index template TMPL for the mailbox MBOX (an
 * absolute path): $(name) the path, $(path) its directory, $(file) its
 * file name, $(escaped_name) the path with '%' written %25 and '/' %2f.
 * Returns the allocated cache path, or NULL with *ERROR_R set (static) when
 * the template has an unknown or unterminated variable or the result is
 * not an absolute path of at most MBOX_CACHE_PATH_MAX bytes. */
char *mbox_cache_path(const char *tmpl, const char *mbox,
                      const char **error_r);

enum mbox_cache_result {
    MBOX_CACHE_MISS,        /* unusable: index from scratch; *WHY_R says why */
    MBOX_CACHE_HIT,         /* IDX is the index of the unchanged mailbox */
    MBOX_CACHE_GREW,        /* the mailbox grew: IDX holds the messages
                               before *START_R, the last cached message's
                               From_ line; mbox_index_extend() from there */
};

/* Look at the cache CPATH for the mailbox whose fstat() is SB, mapped as
 * LEN bytes at BASE (LEN == SB->st_size), indexed with FLAGS
 * (mboxindex.h). A cache is used only when it is a regular file owned by
 * the effective uid and writable by no one else, intact (magic, version,
 * checksum, sane records), made with the same FLAGS for this file (device
 * and inode), and either the file is unchanged (size, mtime and the
 * verification hash of its ends) or it grew with the cached range's hash
 * unchanged. Only the ends of the mailbox are read. *WHY_R is a static
 * message on MISS ("" when there is simply no cache). */
enum mbox_cache_result mbox_cache_load(const char *cpath,
                                       const struct stat *sb,
                                       const char *base, size_t len,
                                       unsigned flags, struct mbox_index *idx,
                                       uint64_t *start_r, const char **why_r);

/* Write the cache of IDX (the index of the mailbox SB, BASE, LEN, made with
 * FLAGS) to CPATH atomically: a new file (mode 0600) beside it, renamed
 * over it. 0, or -1 with *ERROR_R set (allocated); nothing is left behind
 * on failure. */
int mbox_cache_store(const char *cpath, const struct stat *sb,
                     const char *base, size_t len, unsigned flags,
                     const struct mbox_index *idx, char **error_r);

#endif
