/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mboxindex.c: one pass over an mbox in memory: message boundaries, sizes
 * and UIDLs, with the original tpop3d's separators and digests. */
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mboxindex.h"
#include "xalloc.h"

/* OpenSSL 3 fetches an algorithm on every init unless it was fetched
 * once up front; 1.1 has only the static table. */
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
typedef EVP_MD MD5_HANDLE;
static MD5_HANDLE *md5_get(void) { return EVP_MD_fetch(NULL, "MD5", NULL); }
static void md5_put(MD5_HANDLE *md) { EVP_MD_free(md); }
#else
typedef const EVP_MD MD5_HANDLE;
static MD5_HANDLE *md5_get(void) { return EVP_md5(); }
static void md5_put(MD5_HANDLE *md) { (void)md; }
#endif

/* Where a message ends: its served bytes are [body, end), its raw region
 * runs to next (the next separator's "From ", or the end of the data). */
struct msg_span {
    size_t end, next;
    uint64_t size;
};

/* Bytes looked at together: one bit each in a uint64_t. */
#define BLOCK 64

/* How far ahead of the scan to prefetch: the best of 1, 2, 4 and 8 KB on
 * a 1 GB mailbox in the page cache (2 KB: 9% slower; the mapping is
 * populated beforehand, as a prefetch does not fault a page in). A
 * prefetch past the end is harmless. */
#define PREFETCH_AHEAD 4096

/* Which bytes of a block are LF, CR and 'F' (bit I for byte I). */
struct block_bits {
    uint64_t lf, cr, f;
};

typedef void block_bits_fn(const unsigned char *p, struct block_bits *b);

/* Portable, and what the compiler makes of it is good enough where the
 * vector versions below are not available. */
static inline void block_bits_bytes(const unsigned char *p,
                                    struct block_bits *b)
{
    b->lf = b->cr = b->f = 0;
    for (int k = 0; k < BLOCK; k++) {
        b->lf |= (uint64_t)(p[k] == '\n') << k;
        b->cr |= (uint64_t)(p[k] == '\r') << k;
        b->f |= (uint64_t)(p[k] == 'F') << k;
    }
}

/* The first separator from BODY on (base[BODY - 1] is the From_ line's
 * LF): the offset of the LF that ends the blank line before "From ", or
 * LEN when there is none. *BARE_R gets the number of LFs not preceded by
 * CR in [BODY, that offset): each becomes CRLF on the wire. One pass over
 * the bytes finds both, a block at a time: a memchr per line costs more
 * than the bytes themselves on mail of 70-byte lines. A separator ends a
 * message wherever it is, so no line structure needs tracking. Always
 * inlined, so that each caller gets BITS and popcount compiled for its
 * instruction set. */
static inline __attribute__((always_inline))
size_t find_separator_with(block_bits_fn *bits, const char *base,
                           size_t len, size_t body, bool crlf,
                           uint64_t *bare_r)
{
    size_t s = body - 1;
    uint64_t bare = 0, lf_prev = 0, cr_prev = 0;
    /* Bit 0 of the first block is the From_ line's LF: neither counted
     * nor the end of a blank line that can start a message here. */
    uint64_t keep = ~(uint64_t)1;
    unsigned char tail[BLOCK];

    for (;;) {
        const unsigned char *p = (const unsigned char *)base + s;
        struct block_bits b;
        uint64_t after_lf, after_cr, bare_lf, cand;

        if (len - s < BLOCK) {
            /* Zeros past the end match nothing. */
            memset(tail, 0, sizeof tail);
            memcpy(tail, p, len - s);
            p = tail;
        }
        /* The hardware prefetcher stops at page boundaries; the scan
         * runs at memory speed only when asked well ahead. */
        __builtin_prefetch(p + PREFETCH_AHEAD);
        bits(p, &b);
        after_lf = b.lf << 1 | lf_prev >> 63;
        after_cr = b.cr << 1 | cr_prev >> 63;
        bare_lf = b.lf & ~after_cr & keep;
        /* A blank line ends at an LF after an LF (or after CR LF in a
         * CRLF mailbox) and must be followed by "From "; the 'F' of a
         * blank line ending on bit 63 is in the next block. */
        cand = b.lf & after_lf;
        if (crlf)
            cand |= b.lf & after_cr & (b.lf << 2 | lf_prev >> 62);
        cand &= (b.f >> 1 | (uint64_t)1 << 63) & keep;
        while (cand) {
            unsigned j = (unsigned)__builtin_ctzll(cand);
            size_t q = s + j;

            if (len - q > 5 && memcmp(base + q + 1, "From ", 5) == 0) {
                *bare_r = bare + (uint64_t)__builtin_popcountll(
                              bare_lf & (((uint64_t)1 << j) - 1));
                return q;
            }
            cand &= cand - 1;
        }
        bare += (uint64_t)__builtin_popcountll(bare_lf);
        if (len - s <= BLOCK)
            break;
        lf_prev = b.lf;
        cr_prev = b.cr;
        keep = ~(uint64_t)0;
        s += BLOCK;
    }
    *bare_r = bare;
    return len;
}

static size_t find_separator_bytes(const char *base, size_t len, size_t body,
                                   bool crlf, uint64_t *bare_r)
{
    return find_separator_with(block_bits_bytes, base, len, body, crlf,
                               bare_r);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_FIND_SEPARATOR_AVX2 1

static inline __attribute__((always_inline, target("avx2")))
void block_bits_avx2(const unsigned char *p, struct block_bits *b)
{
    const __m256i lf = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r'),
                  f = _mm256_set1_epi8('F');
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));

#define BITS(v, c) ((uint64_t)(uint32_t)_mm256_movemask_epi8( \
                        _mm256_cmpeq_epi8((v), (c))))
    b->lf = BITS(lo, lf) | BITS(hi, lf) << 32;
    b->cr = BITS(lo, cr) | BITS(hi, cr) << 32;
    b->f = BITS(lo, f) | BITS(hi, f) << 32;
#undef BITS
}

/* Most x86-64 machines since 2013; chosen at run time. */
__attribute__((target("avx2,popcnt")))
static size_t find_separator_avx2(const char *base, size_t len, size_t body,
                                  bool crlf, uint64_t *bare_r)
{
    return find_separator_with(block_bits_avx2, base, len, body, crlf,
                               bare_r);
}
#endif

typedef size_t find_separator_fn(const char *base, size_t len, size_t body,
                                 bool crlf, uint64_t *bare_r);

static find_separator_fn *find_separator_pick(void)
{
#ifdef HAVE_FIND_SEPARATOR_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"))
        return find_separator_avx2;
#endif
    return find_separator_bytes;
}

/* Where the message whose text starts at BODY ends, and its wire size. */
static void scan_message(const char *base, size_t len, size_t body,
                         bool crlf, struct msg_span *sp)
{
    static find_separator_fn *find_separator;
    uint64_t bare;
    size_t q;

    if (!find_separator)
        find_separator = find_separator_pick();
    q = find_separator(base, len, body, crlf, &bare);

    if (q < len) {
        /* The blank line belongs to the separator; its LF is not counted
         * in BARE, and in a CRLF line there is no bare LF. */
        sp->next = q + 1;
        sp->end = base[q - 1] == '\n' ? q : q - 1;
        sp->size = (sp->end - body) + bare;
        return;
    }
    sp->next = sp->end = len;
    sp->size = (len - body) + bare;
    if (len == body)
        return;
    if (base[len - 1] != '\n') {
        /* A last line without a newline gets CRLF (or LF after CR). */
        sp->size += base[len - 1] == '\r' ? 1 : 2;
    } else if (base[len - 2] == '\n') {
        /* A final blank line is the MDA's separator, as before a From_
         * line. base[body - 1] is an LF, so len - 2 >= body - 1. */
        sp->end = len - 1;
        sp->size = (sp->end - body) + bare - 1;
    } else if (crlf && len - body >= 2 && base[len - 2] == '\r'
               && base[len - 3] == '\n') {
        sp->end = len - 2;
        sp->size = (sp->end - body) + bare;
    }
}

/* The first X-UIDL: header of the header section of the text at P (N
 * bytes), trimmed; false when there is none or it is not valid. */
static bool find_xuidl(const char *p, size_t n, const char **v_r,
                       size_t *vn_r)
{
    const char *end = p + (n < MBOX_XUIDL_SCAN ? n : MBOX_XUIDL_SCAN);

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *v;

        if (le > p && le[-1] == '\r')
            le--;
        if (le == p)
            return false;       /* the blank line ends the headers */
        if (le - p >= 7 && strncasecmp(p, "X-UIDL:", 7) == 0) {
            v = p + 7;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            while (le > v && (le[-1] == ' ' || le[-1] == '\t'))
                le--;
            if (!mbox_xuidl_valid(v, (size_t)(le - v)))
                return false;
            *v_r = v;
            *vn_r = (size_t)(le - v);
            return true;
        }
        if (!nl)
            return false;
        p = nl + 1;
    }
    return false;
}

bool mbox_xuidl_valid(const char *v, size_t n)
{
    if (n < 1 || n > UIDL_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
            return false;
    return true;
}

void mbox_msg_text(const char *base, uint64_t from, uint64_t next, bool crlf,
                   uint64_t *off_r, uint64_t *len_r)
{
    const char *nl = memchr(base + from, '\n', (size_t)(next - from));
    uint64_t body, end = next;

    if (!nl) {
        /* A From_ line cut off at the end: no text. */
        *off_r = next;
        *len_r = 0;
        return;
    }
    body = (uint64_t)(nl - base) + 1;
    /* The raw region ends in the separating (or final) blank line, when
     * there is one; base[body - 1] is the From_ line's newline, so the
     * look-behind stays inside the region. */
    if (next > body && base[next - 1] == '\n') {
        uint64_t q = next - 1;

        if (base[q - 1] == '\n')
            end = q;
        else if (crlf && q - 1 >= body && base[q - 1] == '\r'
                 && base[q - 2] == '\n')
            end = q - 1;
    }
    *off_r = body;
    *len_r = end - body;
}

static void xuidl_add(struct mbox_index *idx, size_t i, const char *v,
                      size_t n)
{
    if (idx->xuidl_count == idx->xuidl_cap) {
        idx->xuidl_cap = idx->xuidl_cap ? 2 * idx->xuidl_cap : 16;
        idx->xuidl = xreallocarray(idx->xuidl, idx->xuidl_cap,
                                   sizeof *idx->xuidl);
    }
    idx->xuidl[idx->xuidl_count].i = i;
    idx->xuidl[idx->xuidl_count].value = xstrndup(v, n);
    idx->xuidl_count++;
}

int mbox_index_build(const char *base, size_t len, size_t start,
                     unsigned flags, struct mbox_index *idx,
                     const char **error_r)
{
    memset(idx, 0, sizeof *idx);
    return mbox_index_extend(base, len, start, flags, idx, error_r);
}

int mbox_index_extend(const char *base, size_t len, size_t start,
                      unsigned flags, struct mbox_index *idx,
                      const char **error_r)
{
    EVP_MD_CTX *ctx = NULL;
    MD5_HANDLE *md5 = NULL;
    size_t from;
    int ret = -1;

    idx->end = len;
    if (start > len) {
        *error_r = "index start beyond the end of the data";
        goto out;
    }
    /* The head must end where the new part starts. */
    while (idx->xuidl_count > 0
           && idx->xuidl[idx->xuidl_count - 1].i >= idx->count)
        free(idx->xuidl[--idx->xuidl_count].value);
    if (start == len) {
        ret = 0;
        goto out;
    }
    if (len - 1 > MAILBOX_FROM_MAX) {
        *error_r = "mailbox over 1 TB";
        goto out;
    }
    if (len - start < 5 || memcmp(base + start, "From ", 5) != 0) {
        *error_r = "not an mbox: data does not start with a \"From \" line";
        goto out;
    }

    md5 = md5_get();
    ctx = EVP_MD_CTX_new();
    if (!md5 || !ctx) {
        *error_r = "MD5 digest not available";
        goto out;
    }

    {
        const char *nl = memchr(base, '\n', len);
        idx->crlf = nl && nl > base && nl[-1] == '\r';
    }

    if (idx->cap == 0) {
        /* Most mailboxes hold messages of a few kilobytes; start there
         * and let the array grow. */
        idx->cap = (len - start) / 4096 + 16;
        idx->msgs = xreallocarray(idx->msgs, idx->cap, sizeof *idx->msgs);
    }

    for (from = start; from < len; ) {
        struct mailbox_msg *m;
        const char *nl = memchr(base + from, '\n', len - from);
        struct msg_span sp;
        size_t body, next, hashlen;
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned dlen = 0;

        if (idx->count == idx->cap) {
            /* Half again, not double: the array is most of a session's
             * memory. */
            idx->cap += idx->cap / 2 + 16;
            idx->msgs = xreallocarray(idx->msgs, idx->cap, sizeof *idx->msgs);
        }

        if (nl) {
            body = (size_t)(nl - base) + 1;
            scan_message(base, len, body, idx->crlf, &sp);
        } else {
            body = sp.end = sp.next = len;
            sp.size = 0;
        }
        next = sp.next;
        if (sp.size > UINT32_MAX) {
            *error_r = "a message is over 4 GB on the wire: not servable";
            goto out;
        }

        m = &idx->msgs[idx->count];
        memset(m, 0, sizeof *m);
        mailbox_msg_set_from(m, from);
        m->size = (uint32_t)sp.size;

        hashlen = next - from;
        if (hashlen > MBOX_UIDL_BYTES)
            hashlen = MBOX_UIDL_BYTES;
        if (!EVP_DigestInit_ex(ctx, md5, NULL)
            || !EVP_DigestUpdate(ctx, base + from, hashlen)
            || !EVP_DigestFinal_ex(ctx, digest, &dlen)
            || dlen != MAILBOX_DIGEST_LEN) {
            *error_r = "MD5 digest failed";
            goto out;
        }
        memcpy(m->digest, digest, MAILBOX_DIGEST_LEN);

        if (flags & MBOX_INDEX_X_UIDL) {
            const char *v;
            size_t vn;

            if (find_xuidl(base + body, sp.end - body, &v, &vn)) {
                m->has_xuidl = 1;
                xuidl_add(idx, idx->count, v, vn);
            }
        }
        idx->count++;
        from = next;
    }
    ret = 0;

out:
    EVP_MD_CTX_free(ctx);
    md5_put(md5);
    if (ret < 0) {
        mbox_index_free(idx);
        return -1;
    }
    /* Give back the slack: the array lives as long as the session. */
    if (idx->count < idx->cap && idx->count > 0) {
        idx->msgs = xreallocarray(idx->msgs, idx->count, sizeof *idx->msgs);
        idx->cap = idx->count;
    }
    if (!mbox_uidl_unique(idx->msgs, idx->count, idx->xuidl,
                          idx->xuidl_count)) {
        *error_r = "too many copies of one message for unique UIDLs";
        mbox_index_free(idx);
        return -1;
    }
    return 0;
}

void mbox_index_free(struct mbox_index *idx)
{
    for (size_t i = 0; i < idx->xuidl_count; i++)
        free(idx->xuidl[i].value);
    free(idx->xuidl);
    free(idx->msgs);
    memset(idx, 0, sizeof *idx);
}

static const struct mailbox_msg *sort_msgs;

/* By digest, then file position. */
static int by_digest(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = memcmp(sort_msgs[x].digest, sort_msgs[y].digest,
                   MAILBOX_DIGEST_LEN);

    if (c)
        return c;
    return x < y ? -1 : x > y;
}

static const struct mailbox_xuidl *sort_xu;

/* By value, then file position. */
static int by_value(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(sort_xu[x].value, sort_xu[y].value);

    if (c)
        return c;
    return sort_xu[x].i < sort_xu[y].i ? -1 : sort_xu[x].i > sort_xu[y].i;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Whether V has the form of a generated UIDL and one of MSGS (ORDER sorted
 * by digest) has it. */
static bool is_generated(const char *v, const struct mailbox_msg *msgs,
                         const size_t *order, size_t count)
{
    unsigned char d[MAILBOX_DIGEST_LEN];
    unsigned long long dup = 0;
    size_t lo = 0, hi = count;

    for (int k = 0; k < 2 * MAILBOX_DIGEST_LEN; k++) {
        int h = hexval((unsigned char)v[k]);

        if (h < 0)
            return false;
        if (k % 2 == 0)
            d[k / 2] = (unsigned char)(h << 4);
        else
            d[k / 2] |= (unsigned char)h;
    }
    v += 2 * MAILBOX_DIGEST_LEN;
    if (*v == '.') {
        /* Exactly as printed: digits, no leading zero, at least 2. */
        if (v[1] < '1' || v[1] > '9')
            return false;
        for (v++; *v >= '0' && *v <= '9'; v++) {
            dup = dup * 10 + (unsigned)(*v - '0');
            if (dup > MAILBOX_DUP_MAX)
                return false;
        }
        if (*v || dup < 2)
            return false;
    } else if (*v) {
        return false;
    }
    /* The first message with digest D, then its duplicates in order: the
     * one with counter DUP (>= 2) is DUP - 1 places after it. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (memcmp(msgs[order[mid]].digest, d, sizeof d) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (dup >= 2)
        lo += (size_t)dup - 1;
    return lo < count && memcmp(msgs[order[lo]].digest, d, sizeof d) == 0;
}

bool mbox_uidl_unique(struct mailbox_msg *msgs, size_t count,
                      const struct mailbox_xuidl *xu, size_t xn)
{
    size_t *order, i, j;
    bool ok = true;

    if (count == 0)
        return true;
    order = xreallocarray(NULL, count, sizeof *order);
    for (i = 0; i < count; i++) {
        order[i] = i;
        msgs[i].use_xuidl = 0;
    }
    sort_msgs = msgs;
    qsort(order, count, sizeof *order, by_digest);
    for (i = 0; i < count; i = j) {
        msgs[order[i]].dup = 0;
        for (j = i + 1; j < count && memcmp(msgs[order[j]].digest,
                                            msgs[order[i]].digest,
                                            MAILBOX_DIGEST_LEN) == 0; j++) {
            if (j - i + 1 > MAILBOX_DUP_MAX)
                ok = false;
            msgs[order[j]].dup = (uint32_t)(j - i + 1) & MAILBOX_DUP_MAX;
        }
    }

    if (xn > 0) {
        size_t *vo = xreallocarray(NULL, xn, sizeof *vo);

        for (i = 0; i < xn; i++)
            vo[i] = i;
        sort_xu = xu;
        qsort(vo, xn, sizeof *vo, by_value);
        for (i = 0; i < xn; i = j) {
            bool taken = false;

            /* Equal values in file order: the first one not clashing with
             * a generated UIDL wins. */
            for (j = i; j < xn && strcmp(xu[vo[j]].value,
                                         xu[vo[i]].value) == 0; j++) {
                size_t m = xu[vo[j]].i;

                if (taken || m >= count)
                    continue;
                if (j == i && is_generated(xu[vo[i]].value, msgs, order,
                                           count))
                    taken = true;   /* the generated one has it */
                else {
                    msgs[m].use_xuidl = 1;
                    taken = true;
                }
            }
        }
        free(vo);
    }
    free(order);
    return ok;
}
