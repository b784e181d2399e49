/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bsd.c: the "bsd" mailbox driver: a BSD mbox file, locked, mapped and
 * indexed on open, rewritten in place under a journal on commit. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "mailbox.h"
#include "mboxcache.h"
#include "mboxindex.h"
#include "xalloc.h"


/* Bytes moved per read/write pair when a commit without a journal closes
 * the gaps. */
#define BSD_COPY_CHUNK (1024 * 1024)

struct bsd {
    int fd;                 /* -1: the file does not exist */
    struct mbox_lock lock;
    char *map;              /* the indexed bytes, NULL when there are none */
    size_t maplen;
    bool crlf;              /* as the index found it (mboxindex.h) */
    char *cache_path;       /* the mailspool-index cache, or NULL */
    bool committed;         /* the file no longer matches the index */
    bool durable;           /* flush a commit to disk before it returns */
};

static struct mailbox *bsd_new(const char *path, struct bsd *b)
{
    struct mailbox *mb = xcalloc(1, sizeof *mb);

    mb->drv = &mailbox_driver_bsd;
    mb->path = xstrdup(path);
    mb->priv = b;
    return mb;
}

/* Where message I's raw region (mboxindex.h) starts: its From_ line. */
static uint64_t raw_start(const struct mailbox *mb, size_t i)
{
    return mailbox_msg_from(&mb->msgs[i]);
}

/* Where message I's raw region ends: the next From_ line, or the end. */
static uint64_t raw_end(const struct mailbox *mb, size_t i)
{
    const struct bsd *b = mb->priv;

    return i + 1 < mb->count ? raw_start(mb, i + 1) : b->maplen;
}

/* Index the mapped file, through the cache when there is one: an
 * unchanged mailbox is not read at all, one that grew only from its last
 * cached message on. A cache that cannot be used or written is only worth
 * a notice: the index is made from the file as without one. */
static int index_mapped(struct bsd *b, const char *path,
                        const struct mailbox_options *opts,
                        const struct stat *sb, struct mbox_index *idx,
                        const char **error_r)
{
    unsigned flags = opts->use_x_uidl ? MBOX_INDEX_X_UIDL : 0;
    enum mbox_cache_result cr = MBOX_CACHE_MISS;
    const char *why = "";
    uint64_t start = 0;
    char *err = NULL;
    int r;

    if (opts->index_template && b->maplen > 0) {
        b->cache_path = mbox_cache_path(opts->index_template, path, &why);
        if (!b->cache_path)
            log_notice("%s: mailspool-index: %s", path, why);
    }
    if (b->cache_path) {
        cr = mbox_cache_load(b->cache_path, sb, b->map, b->maplen, flags,
                             idx, &start, &why);
        if (cr == MBOX_CACHE_MISS && *why)
            log_notice("%s: ignoring it (%s)", b->cache_path, why);
    }
    if (cr == MBOX_CACHE_HIT)
        return 0;
    if (b->map) {
        madvise(b->map, b->maplen, MADV_SEQUENTIAL);
#ifdef MADV_POPULATE_READ
        /* All the page tables in one call rather than a fault every
         * 64 KB (a small gain, within the noise of our measurements).
         * Kernels before 5.14 refuse it, and the faults happen anyway. */
        madvise(b->map, b->maplen, MADV_POPULATE_READ);
#endif
    }
    if (cr == MBOX_CACHE_GREW)
        r = mbox_index_extend(b->map, b->maplen, (size_t)start, flags, idx,
                              error_r);
    else
        r = -1;
    if (r < 0)
        r = mbox_index_build(b->map, b->maplen, 0, flags, idx, error_r);
    if (b->map)
        madvise(b->map, b->maplen, MADV_NORMAL);
    if (r == 0 && b->cache_path
        && mbox_cache_store(b->cache_path, sb, b->map, b->maplen, flags, idx,
                            &err) < 0) {
        log_notice("mailspool-index: %s", err);
        free(err);
    }
    return r;
}

static enum mailbox_status bsd_open(const char *path,
                                    const struct mailbox_options *opts,
                                    struct mailbox **mb_r, char **error_r)
{
    enum mailbox_status st;
    struct mbox_index idx;
    struct stat sb;
    struct bsd *b;
    const char *ierr;
    char *notice = NULL;
    int fd;

    *mb_r = NULL;
    *error_r = NULL;
    if (!mailbox_path_is_clean(path)) {
        *error_r = xasprintf("mailbox path \"%s\" is not an absolute path "
                             "without . or .. components", path);
        return MAILBOX_PERMFAIL;
    }

    fd = open(path, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;

        if (err == ENOENT) {
            b = xcalloc(1, sizeof *b);
            b->fd = -1;
            b->lock.fd = -1;
            *mb_r = bsd_new(path, b);
            return MAILBOX_OK;
        }
        *error_r = xasprintf("%s: %s%s", path, strerror(err),
                             err == ELOOP ? " (symbolic links are refused)" : "");
        return err == ELOOP || err == EACCES || err == EPERM
               || err == ENOTDIR || err == EISDIR
               ? MAILBOX_PERMFAIL : MAILBOX_TEMPFAIL;
    }

    if (fstat(fd, &sb) < 0) {
        *error_r = xasprintf("%s: fstat: %s", path, strerror(errno));
        st = MAILBOX_TEMPFAIL;
        goto out_close;
    }
    if (!S_ISREG(sb.st_mode)) {
        *error_r = xasprintf("%s: not a regular file", path);
        st = MAILBOX_PERMFAIL;
        goto out_close;
    }
    if (opts->owner != (uid_t)-1 && sb.st_uid != opts->owner) {
        *error_r = xasprintf("%s: owned by uid %lu, expected uid %lu", path,
                             (unsigned long)sb.st_uid,
                             (unsigned long)opts->owner);
        st = MAILBOX_PERMFAIL;
        goto out_close;
    }

    b = xcalloc(1, sizeof *b);
    b->fd = fd;
    b->durable = opts->durable;
    st = mbox_lock(&b->lock, fd, path, opts, &notice, error_r);
    if (notice) {
        log_notice("%s", notice);
        free(notice);
    }
    if (st != MAILBOX_OK)
        goto out_free;

    /* A commit killed half way is finished before anything is read. */
    if (journal_recover(path, fd, opts->durable, &notice, error_r) < 0) {
        st = MAILBOX_TEMPFAIL;
        goto out_unlock;
    }
    if (notice) {
        log_notice("%s", notice);
        free(notice);
    }

    /* The size only now: whatever an MDA delivered before we got the lock
     * is included, and nothing can be appended while we hold it. */
    if (fstat(fd, &sb) < 0) {
        *error_r = xasprintf("%s: fstat: %s", path, strerror(errno));
        st = MAILBOX_TEMPFAIL;
        goto out_unlock;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        *error_r = xasprintf("%s: too large to map", path);
        st = MAILBOX_TEMPFAIL;
        goto out_unlock;
    }
    b->maplen = (size_t)sb.st_size;
    if (b->maplen > 0) {
        void *m = mmap(NULL, b->maplen, PROT_READ, MAP_SHARED, fd, 0);

        if (m == MAP_FAILED) {
            *error_r = xasprintf("%s: mmap: %s", path, strerror(errno));
            st = MAILBOX_TEMPFAIL;
            goto out_unlock;
        }
        b->map = m;
    }
    if (index_mapped(b, path, opts, &sb, &idx, &ierr) < 0) {
        *error_r = xasprintf("%s: %s", path, ierr);
        st = MAILBOX_PERMFAIL;
        goto out_unmap;
    }

    /* The index's arrays become the mailbox's: one copy only. */
    b->crlf = idx.crlf;
    *mb_r = bsd_new(path, b);
    (*mb_r)->msgs = idx.msgs;
    (*mb_r)->count = idx.count;
    (*mb_r)->xuidl = idx.xuidl;
    (*mb_r)->xuidl_count = idx.xuidl_count;
    return MAILBOX_OK;

out_unmap:
    if (b->map)
        munmap(b->map, b->maplen);
out_unlock:
    mbox_unlock(&b->lock);
out_free:
    free(b->cache_path);
    free(b);
out_close:
    close(fd);
    return st;
}

static int bsd_send(struct mailbox *mb, size_t i, long lines, struct conn *c)
{
    struct bsd *b = mb->priv;
    uint64_t off, len;

    if (i >= mb->count || b->committed)
        return -1;
    mbox_msg_text(b->map, raw_start(mb, i), raw_end(mb, i),
                  b->crlf, &off, &len);
    return msg_write(c, b->map + off, (size_t)len, lines);
}

/* Move N bytes at SRC in the map to file offset DST < SRC. Through a
 * buffer, one chunk at a time, front to back: a chunk is read whole before
 * any of it is written, so overlapping ranges are safe, and at every
 * instant each byte is intact at its old place or already at its new one. */
static int move_mapped(struct bsd *b, char *buf, uint64_t src, uint64_t dst,
                       uint64_t n)
{
    while (n > 0) {
        size_t k = n < BSD_COPY_CHUNK ? (size_t)n : BSD_COPY_CHUNK;

        memcpy(buf, b->map + src, k);
        if (pwrite_full(b->fd, buf, k, (off_t)dst) < 0)
            return -1;
        src += k;
        dst += k;
        n -= k;
    }
    return 0;
}

/* Move everything from SRC to the end of the file down to DST; returns the
 * bytes moved, or -1. */
static int64_t move_tail(struct bsd *b, char *buf, uint64_t src, uint64_t dst)
{
    int64_t moved = 0;

    for (;;) {
        ssize_t r = pread(b->fd, buf, BSD_COPY_CHUNK, (off_t)src);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return moved;
        if (pwrite_full(b->fd, buf, (size_t)r, (off_t)dst) < 0)
            return -1;
        src += (uint64_t)r;
        dst += (uint64_t)r;
        moved += r;
    }
}

/* The commit for a spool where no journal can be made: at every instant
 * each byte is intact at its old place or already at its new one, but a
 * kill tears the message in flight and leaves the rest doubled. */
static int commit_direct(struct mailbox *mb, size_t first, char **error_r)
{
    struct bsd *b = mb->priv;
    size_t i, j;
    uint64_t dst;
    int64_t tail;
    char *buf;

    buf = xmalloc(BSD_COPY_CHUNK);
    dst = raw_start(mb, first);
    for (i = first; i < mb->count; i = j) {
        while (i < mb->count && mb->msgs[i].deleted)
            i++;
        for (j = i; j < mb->count && !mb->msgs[j].deleted; j++)
            ;
        if (i == j)
            break;
        if (move_mapped(b, buf, raw_start(mb, i), dst,
                        raw_end(mb, j - 1) - raw_start(mb, i)) < 0)
            goto fail;
        dst += raw_end(mb, j - 1) - raw_start(mb, i);
    }
    /* Mail appended since the open, if a locker let anything through. */
    tail = move_tail(b, buf, b->maplen, dst);
    if (tail < 0)
        goto fail;
    dst += (uint64_t)tail;
    free(buf);

    /* The moved data must be on disk before the truncation that drops its
     * old copy. */
    if (fdatasync(b->fd) < 0 || ftruncate(b->fd, (off_t)dst) < 0
        || fsync(b->fd) < 0) {
        *error_r = xasprintf("%s: sync or truncate: %s", mb->path,
                             strerror(errno));
        return -1;
    }
    return 0;

fail:
    *error_r = xasprintf("%s: rewriting: %s", mb->path, strerror(errno));
    free(buf);
    return -1;
}

static int bsd_commit(struct mailbox *mb, char **error_r)
{
    struct bsd *b = mb->priv;
    struct journal_plan plan;
    struct stat sb;
    size_t first, i;
    char *err = NULL;
    int ret = -1;

    *error_r = NULL;
    for (first = 0; first < mb->count && !mb->msgs[first].deleted; first++)
        ;
    if (first == mb->count || b->fd < 0)
        return 0;
    if (b->committed) {
        *error_r = xasprintf("%s: already committed", mb->path);
        return -1;
    }

    /* We hold the locks, but a process that ignores them (or an admin with
     * an editor) may have changed the file. Writing from a stale index
     * would destroy mail, so check first and write nothing on a mismatch. */
    if (fstat(b->fd, &sb) < 0) {
        *error_r = xasprintf("%s: fstat: %s", mb->path, strerror(errno));
        return -1;
    }
    {
        struct stat named;

        /* Replaced by rename: the mail now lives in another file. */
        if (lstat(mb->path, &named) < 0 || named.st_dev != sb.st_dev
            || named.st_ino != sb.st_ino) {
            *error_r = xasprintf("%s: replaced by another file since it was "
                                 "opened; nothing deleted", mb->path);
            return -1;
        }
    }
    if ((uint64_t)sb.st_size < b->maplen) {
        *error_r = xasprintf("%s: file shrank from %zu to %lld bytes since "
                             "it was opened; nothing deleted", mb->path,
                             b->maplen, (long long)sb.st_size);
        return -1;
    }
    for (i = 0; i < mb->count; i++) {
        if (b->maplen - raw_start(mb, i) < 5
            || memcmp(b->map + raw_start(mb, i), "From ", 5) != 0) {
            *error_r = xasprintf("%s: changed since it was opened (message "
                                 "%zu no longer starts at offset %llu); "
                                 "nothing deleted", mb->path, i + 1,
                                 (unsigned long long)raw_start(mb, i));
            return -1;
        }
    }

    b->committed = true;
    /* The cache describes the old layout; the next open makes a new one. */
    if (b->cache_path)
        unlink(b->cache_path);
    journal_plan_init(&plan, raw_start(mb, first),
                      (uint64_t)sb.st_size);
    for (i = first; i < mb->count; i++)
        if (!mb->msgs[i].deleted)
            journal_plan_keep(&plan, raw_start(mb, i),
                              raw_end(mb, i) - raw_start(mb, i));
    /* Mail appended since the open, if a locker let anything through. */
    journal_plan_keep(&plan, b->maplen, (uint64_t)sb.st_size - b->maplen);

    if (plan.count == 0) {
        /* Only the end goes: a single truncation, which no kill can tear. */
        if (ftruncate(b->fd, (off_t)plan.final_size) < 0
            || (b->durable && fsync(b->fd) < 0))
            *error_r = xasprintf("%s: truncate: %s", mb->path,
                                 strerror(errno));
        else
            ret = 0;
        goto out;
    }
    switch (journal_commit(mb->path, b->fd, &plan, b->durable, &err)) {
    case JOURNAL_COMMITTED:
        ret = 0;
        break;
    case JOURNAL_UNAVAILABLE:
        /* An over-quota user must still be able to delete mail. */
        log_notice("%s; committing without it, unprotected against a crash",
                   err);
        free(err);
        ret = commit_direct(mb, first, error_r);
        break;
    case JOURNAL_FAILED:
        *error_r = err;
        break;
    }
out:
    journal_plan_free(&plan);
    return ret;
}

static void bsd_close(struct mailbox *mb)
{
    struct bsd *b = mb->priv;

    if (b) {
        if (b->map)
            munmap(b->map, b->maplen);
        mbox_unlock(&b->lock);
        if (b->fd >= 0)
            close(b->fd);
        free(b->cache_path);
        free(b);
    }
    for (size_t k = 0; k < mb->xuidl_count; k++)
        free(mb->xuidl[k].value);
    free(mb->xuidl);
    free(mb->msgs);
    free(mb->path);
    free(mb);
}

const struct mailbox_driver mailbox_driver_bsd = {
    .name = "bsd",
    .compiled = true,
    .open = bsd_open,
    .send = bsd_send,
    .commit = bsd_commit,
    .close = bsd_close,
};
