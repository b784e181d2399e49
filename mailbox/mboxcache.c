/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mboxcache.c: reading, checking and writing the mailspool-index cache of a
 * BSD mailbox's index. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mboxcache.h"
#include "strbuf.h"
#include "xalloc.h"

/* The layout, all numbers little-endian:
 *   header   magic[8] version u32 flags u32 dev u64 ino u64 size u64
 *            mtime_sec u64 mtime_nsec u64 verify[16] count u64 xcount u64
 *   records  count x (from u64, size u32, digest[16])
 *   x-uidls  xcount x (message u64, length u8, value)
 *   checksum MD5 of everything before it */
static const char cache_magic[8] = "TP3DIDX\n";
#define CACHE_VERSION 1u
#define HDR_LEN 96
#define REC_LEN 28
#define SUM_LEN 16

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

char *mbox_cache_path(const char *tmpl, const char *mbox,
                      const char **error_r)
{
    const char *slash = strrchr(mbox, '/');
    struct strbuf sb;
    bool over = false;
    char *out;

    if (!slash) {
        *error_r = "mailbox path is not absolute";
        return NULL;
    }
    strbuf_init(&sb, MBOX_CACHE_PATH_MAX);
    for (const char *p = tmpl; *p; ) {
        const char *close;
        size_t n;

        if (p[0] != '$' || p[1] != '(') {
            n = strcspn(p + 1, "$") + 1;
            over |= strbuf_append(&sb, p, n) < 0;
            p += n;
            continue;
        }
        close = strchr(p + 2, ')');
        if (!close) {
            *error_r = "unterminated $( in mailspool-index";
            goto fail;
        }
        n = (size_t)(close - (p + 2));
        if (n == 4 && memcmp(p + 2, "name", 4) == 0) {
            over |= strbuf_append(&sb, mbox, strlen(mbox)) < 0;
        } else if (n == 4 && memcmp(p + 2, "path", 4) == 0) {
            over |= strbuf_append(&sb, mbox, (size_t)(slash - mbox)) < 0;
        } else if (n == 4 && memcmp(p + 2, "file", 4) == 0) {
            over |= strbuf_append(&sb, slash + 1, strlen(slash + 1)) < 0;
        } else if (n == 12 && memcmp(p + 2, "escaped_name", 12) == 0) {
            for (const char *q = mbox; *q; q++) {
                if (*q == '/')
                    over |= strbuf_append(&sb, "%2f", 3) < 0;
                else if (*q == '%')
                    over |= strbuf_append(&sb, "%25", 3) < 0;
                else
                    over |= strbuf_append(&sb, q, 1) < 0;
            }
        } else {
            *error_r = "unknown variable in mailspool-index (known: $(name), "
                       "$(path), $(file), $(escaped_name))";
            goto fail;
        }
        p = close + 1;
    }
    if (over) {
        *error_r = "mailspool-index path too long";
        goto fail;
    }
    out = strbuf_detach(&sb);
    if (out[0] != '/') {
        free(out);
        *error_r = "mailspool-index does not expand to an absolute path";
        return NULL;
    }
    return out;

fail:
    strbuf_free(&sb);
    return NULL;
}

/* MD5 of the first and the last MBOX_CACHE_VERIFY_BYTES of the LEN bytes
 * at BASE (of all of them when they overlap). */
static int verify_hash(const char *base, uint64_t len,
                       unsigned char out[SUM_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char lenbuf[8];
    uint64_t head = len < MBOX_CACHE_VERIFY_BYTES ? len
                                                  : MBOX_CACHE_VERIFY_BYTES;
    uint64_t tail = len - head < MBOX_CACHE_VERIFY_BYTES
                    ? len - head : MBOX_CACHE_VERIFY_BYTES;
    unsigned dlen = 0;
    int ok;

    put64(lenbuf, len);
    ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL)
         && EVP_DigestUpdate(ctx, lenbuf, sizeof lenbuf)
         && EVP_DigestUpdate(ctx, base, (size_t)head)
         && EVP_DigestUpdate(ctx, base + len - tail, (size_t)tail)
         && EVP_DigestFinal_ex(ctx, out, &dlen) && dlen == SUM_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

static int checksum(const void *p, size_t n, unsigned char out[SUM_LEN])
{
    unsigned dlen = 0;

    return EVP_Digest(p, n, out, &dlen, EVP_md5(), NULL) && dlen == SUM_LEN
           ? 0 : -1;
}

/* Decode the cache image P (N bytes) into IDX, checking everything that
 * does not need the mailbox. NULL, or why not. */
static const char *decode(const unsigned char *p, size_t n, uint64_t size,
                          struct mbox_index *idx)
{
    unsigned char sum[SUM_LEN];
    const unsigned char *r, *end;
    uint64_t count, xcount, prev = 0;

    if (n < HDR_LEN + SUM_LEN || memcmp(p, cache_magic, 8) != 0)
        return "not a cache file";
    if (get32(p + 8) != CACHE_VERSION)
        return "another version";
    if (checksum(p, n - SUM_LEN, sum) < 0
        || memcmp(sum, p + n - SUM_LEN, SUM_LEN) != 0)
        return "bad checksum";
    count = get64(p + 72);
    xcount = get64(p + 80);
    if (count > (n - HDR_LEN - SUM_LEN) / REC_LEN || xcount > count)
        return "bad counts";
    memset(idx, 0, sizeof *idx);
    if (count == 0)
        return "no messages";
    idx->msgs = xreallocarray(NULL, (size_t)count, sizeof *idx->msgs);
    idx->cap = (size_t)count;
    r = p + HDR_LEN;
    end = p + n - SUM_LEN;
    for (uint64_t i = 0; i < count; i++, r += REC_LEN) {
        struct mailbox_msg *m = &idx->msgs[i];
        uint64_t from = get64(r);

        /* Each message starts after the previous one, with room for its
         * "From " inside the data it claims to index. */
        if ((i == 0 ? from != 0 : from <= prev) || from >= size
            || size - from < 5 || from > MAILBOX_FROM_MAX)
            goto bad;
        memset(m, 0, sizeof *m);
        mailbox_msg_set_from(m, from);
        m->size = get32(r + 8);
        memcpy(m->digest, r + 12, MAILBOX_DIGEST_LEN);
        prev = from;
        idx->count++;
    }
    for (uint64_t k = 0; k < xcount; k++) {
        uint64_t i;
        size_t vn;

        if (end - r < 9)
            goto bad;
        i = get64(r);
        vn = r[8];
        r += 9;
        if ((size_t)(end - r) < vn || i >= count
            || (k > 0 && i <= idx->xuidl[k - 1].i)
            || !mbox_xuidl_valid((const char *)r, vn))
            goto bad;
        if (idx->xuidl_count == idx->xuidl_cap) {
            idx->xuidl_cap = idx->xuidl_cap ? 2 * idx->xuidl_cap : 16;
            idx->xuidl = xreallocarray(idx->xuidl, idx->xuidl_cap,
                                       sizeof *idx->xuidl);
        }
        idx->xuidl[k].i = (size_t)i;
        idx->xuidl[k].value = xstrndup((const char *)r, vn);
        idx->xuidl_count++;
        idx->msgs[i].has_xuidl = 1;
        r += vn;
    }
    if (r != end)
        goto bad;
    return NULL;

bad:
    mbox_index_free(idx);
    return "bad records";
}

enum mbox_cache_result mbox_cache_load(const char *cpath,
                                       const struct stat *sb,
                                       const char *base, size_t len,
                                       unsigned flags, struct mbox_index *idx,
                                       uint64_t *start_r, const char **why_r)
{
    enum mbox_cache_result res = MBOX_CACHE_MISS;
    unsigned char vh[SUM_LEN];
    const unsigned char *p;
    struct stat cs;
    uint64_t csize;
    void *map;
    int fd;

    memset(idx, 0, sizeof *idx);
    *start_r = 0;
    *why_r = "";
    fd = open(cpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY
                     | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            *why_r = errno == ELOOP ? "a symbolic link" : "cannot be opened";
        return MBOX_CACHE_MISS;
    }
    if (fstat(fd, &cs) < 0 || !S_ISREG(cs.st_mode)) {
        *why_r = "not a regular file";
        goto out_close;
    }
    if (cs.st_uid != geteuid() || (cs.st_mode & 022)) {
        *why_r = "not owned by the user, or writable by others";
        goto out_close;
    }
    if ((uint64_t)cs.st_size > MBOX_CACHE_MAX_BYTES
        || cs.st_size < HDR_LEN + SUM_LEN) {
        *why_r = "bad size";
        goto out_close;
    }
    map = mmap(NULL, (size_t)cs.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        *why_r = "cannot be mapped";
        goto out_close;
    }
    p = map;
    *why_r = decode(p, (size_t)cs.st_size, len, idx);
    if (*why_r)
        goto out_unmap;
    /* From here the cache is intact; is it this mailbox's? */
    csize = get64(p + 32);
    if (get32(p + 12) != flags || get64(p + 16) != (uint64_t)sb->st_dev
        || get64(p + 24) != (uint64_t)sb->st_ino) {
        *why_r = "made for another file or other settings";
        goto out_free;
    }
    if (csize > len) {
        *why_r = "the mailbox shrank";
        goto out_free;
    }
    if (mailbox_msg_from(&idx->msgs[idx->count - 1]) >= csize) {
        *why_r = "bad records";
        goto out_free;
    }
    if (verify_hash(base, csize, vh) < 0 || memcmp(vh, p + 56, SUM_LEN)) {
        *why_r = "the mailbox changed";
        goto out_free;
    }
    if (csize == len && get64(p + 40) == (uint64_t)sb->st_mtim.tv_sec
        && get64(p + 48) == (uint64_t)sb->st_mtim.tv_nsec) {
        const char *nl = memchr(base, '\n', len);

        idx->crlf = nl && nl > base && nl[-1] == '\r';
        idx->end = len;
        if (!mbox_uidl_unique(idx->msgs, idx->count, idx->xuidl,
                              idx->xuidl_count)) {
            *why_r = "too many copies of one message";
            goto out_free;
        }
        res = MBOX_CACHE_HIT;
        goto out_unmap;
    }
    if (csize == len) {
        *why_r = "the mailbox changed";
        goto out_free;
    }
    /* Grew: the last cached message may have grown too (more text, or its
     * final blank line now a separator), so it is indexed again. */
    *start_r = mailbox_msg_from(&idx->msgs[idx->count - 1]);
    if (memcmp(base + *start_r, "From ", 5) != 0) {
        *why_r = "the mailbox changed";
        goto out_free;
    }
    idx->count--;
    res = MBOX_CACHE_GREW;
    goto out_unmap;

out_free:
    mbox_index_free(idx);
out_unmap:
    munmap(map, (size_t)cs.st_size);
out_close:
    close(fd);
    return res;
}

/* Output through a fixed buffer, with the checksum kept as it goes. */
struct wr {
    int fd;
    EVP_MD_CTX *ctx;
    unsigned char buf[65536];
    size_t used;
    bool failed;
};

static void wr_flush(struct wr *w)
{
    const unsigned char *p = w->buf;
    size_t n = w->used;

    if (!w->failed && !EVP_DigestUpdate(w->ctx, w->buf, w->used))
        w->failed = true;
    while (n > 0 && !w->failed) {
        ssize_t k = write(w->fd, p, n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->failed = true;
            break;
        }
        p += k;
        n -= (size_t)k;
    }
    w->used = 0;
}

static void wr_put(struct wr *w, const void *p, size_t n)
{
    const unsigned char *s = p;

    while (n > 0) {
        size_t k = sizeof w->buf - w->used;

        if (k > n)
            k = n;
        memcpy(w->buf + w->used, s, k);
        w->used += k;
        s += k;
        n -= k;
        if (w->used == sizeof w->buf)
            wr_flush(w);
    }
}

int mbox_cache_store(const char *cpath, const struct stat *sb,
                     const char *base, size_t len, unsigned flags,
                     const struct mbox_index *idx, char **error_r)
{
    unsigned char hdr[HDR_LEN], sum[SUM_LEN];
    struct wr *w;
    char *tmp;
    unsigned dlen = 0;
    int err = 0, ret = -1;

    *error_r = NULL;
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, cache_magic, 8);
    put32(hdr + 8, CACHE_VERSION);
    put32(hdr + 12, flags);
    put64(hdr + 16, (uint64_t)sb->st_dev);
    put64(hdr + 24, (uint64_t)sb->st_ino);
    put64(hdr + 32, len);
    put64(hdr + 40, (uint64_t)sb->st_mtim.tv_sec);
    put64(hdr + 48, (uint64_t)sb->st_mtim.tv_nsec);
    if (verify_hash(base, len, hdr + 56) < 0) {
        *error_r = xasprintf("%s: MD5 not available", cpath);
        return -1;
    }
    put64(hdr + 72, idx->count);
    put64(hdr + 80, idx->xuidl_count);

    tmp = xasprintf("%s.XXXXXX", cpath);
    w = xcalloc(1, sizeof *w);
    /* mkostemp: O_EXCL, so no link is followed, and mode 0600. */
    w->fd = mkostemp(tmp, O_CLOEXEC);
    if (w->fd < 0) {
        *error_r = xasprintf("%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    w->ctx = EVP_MD_CTX_new();
    if (!w->ctx || !EVP_DigestInit_ex(w->ctx, EVP_md5(), NULL))
        w->failed = true;
    wr_put(w, hdr, sizeof hdr);
    for (size_t i = 0; i < idx->count; i++) {
        unsigned char r[REC_LEN];

        put64(r, mailbox_msg_from(&idx->msgs[i]));
        put32(r + 8, idx->msgs[i].size);
        memcpy(r + 12, idx->msgs[i].digest, MAILBOX_DIGEST_LEN);
        wr_put(w, r, sizeof r);
    }
    for (size_t k = 0; k < idx->xuidl_count; k++) {
        unsigned char r[9];
        size_t vn = strlen(idx->xuidl[k].value);

        put64(r, idx->xuidl[k].i);
        r[8] = (unsigned char)vn;   /* <= UIDL_MAX_LEN */
        wr_put(w, r, sizeof r);
        wr_put(w, idx->xuidl[k].value, vn);
    }
    wr_flush(w);
    if (!w->failed && (!EVP_DigestFinal_ex(w->ctx, sum, &dlen)
                       || dlen != SUM_LEN))
        w->failed = true;
    if (!w->failed) {
        /* The checksum is not part of what it covers. */
        while (!w->failed) {
            ssize_t k = write(w->fd, sum, SUM_LEN);

            if (k < 0 && errno == EINTR)
                continue;
            if (k != SUM_LEN)
                w->failed = true;
            break;
        }
    }
    err = errno;
    if (close(w->fd) < 0 && !w->failed) {
        err = errno;
        w->failed = true;
    }
    if (w->failed) {
        *error_r = xasprintf("%s: cannot write: %s", tmp,
                             err ? strerror(err) : "digest failed");
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, cpath) < 0) {
        *error_r = xasprintf("%s: cannot rename to %s: %s", tmp, cpath,
                             strerror(errno));
        unlink(tmp);
        goto out;
    }
    ret = 0;

out:
    EVP_MD_CTX_free(w->ctx);
    free(w);
    free(tmp);
    return ret;
}
