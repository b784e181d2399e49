/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mboxindex.c: one pass over an mbox in memory: message boundaries, sizes
 * and UIDLs, with the original tpop3d's separators and digests. */
#include <stdio.h>
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

/* Walk the lines of the message whose text starts at BODY, up to the next
 * separator, working out its wire size on the way. One memchr per line:
 * the sizes need every line end anyway, and this pass finds the
 * separators as well, at half the cost of a separate memmem scan for
 * "\nFrom " (measured on a 1 GB mailbox). */
static void scan_message(const char *base, size_t len, size_t body,
                         bool crlf, struct msg_span *sp)
{
    size_t p = body, bare = 0, last = len, last_bare = 0;

    sp->next = sp->end = len;
    while (p < len) {
        const char *q = memchr(base + p, '\n', len - p);
        size_t nl;
        bool lf_bare, blank;

        if (!q) {
            /* A last line without a newline gets CRLF (or LF after CR). */
            sp->size = (len - body) + bare + (base[len - 1] == '\r' ? 1 : 2);
            return;
        }
        nl = (size_t)(q - base);
        /* nl >= body >= 1: the From_ line's newline is before it. */
        lf_bare = base[nl - 1] != '\r';
        bare += lf_bare;
        blank = nl == p || (crlf && nl == p + 1 && base[p] == '\r');
        if (blank && len - nl > 5 && memcmp(base + nl + 1, "From ", 5) == 0) {
            /* The blank line belongs to the separator. */
            sp->next = nl + 1;
            sp->end = p;
            sp->size = (p - body) + bare - lf_bare;
            return;
        }
        if (blank) {
            last = p;
            last_bare = lf_bare;
        } else {
            last = len;
        }
        p = nl + 1;
    }
    /* The data ends with a newline. A final blank line is the MDA's
     * separator, as before a From_ line. */
    if (last < len) {
        sp->end = last;
        bare -= last_bare;
    }
    sp->size = (sp->end - body) + bare;
}

static void hex_digest(char *out, const unsigned char *md, unsigned n)
{
    static const char hex[] = "0123456789abcdef";

    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * n] = '\0';
}

int mbox_index_build(const char *base, size_t len, size_t start,
                     struct mbox_index *idx, const char **error_r)
{
    EVP_MD_CTX *ctx = NULL;
    MD5_HANDLE *md5 = NULL;
    size_t cap, from;
    int ret = -1;

    memset(idx, 0, sizeof *idx);
    if (start > len) {
        *error_r = "index start beyond the end of the data";
        return -1;
    }
    if (start == len) {
        idx->raw = xcalloc(1, sizeof *idx->raw);
        idx->raw[0] = len;
        return 0;
    }
    if (len - start < 5 || memcmp(base + start, "From ", 5) != 0) {
        *error_r = "not an mbox: data does not start with a \"From \" line";
        return -1;
    }

    md5 = md5_get();
    ctx = EVP_MD_CTX_new();
    if (!md5 || !ctx) {
        *error_r = "MD5 digest not available";
        goto out;
    }

    {
        const char *nl = memchr(base + start, '\n', len - start);
        idx->crlf = nl && nl > base + start && nl[-1] == '\r';
    }

    /* Most mailboxes hold messages of a few kilobytes; start there and
     * let the arrays double. */
    cap = (len - start) / 4096 + 16;
    idx->msgs = xreallocarray(NULL, cap, sizeof *idx->msgs);
    idx->raw = xreallocarray(NULL, cap + 1, sizeof *idx->raw);

    for (from = start; from < len; ) {
        struct mailbox_msg *m;
        const char *nl = memchr(base + from, '\n', len - from);
        struct msg_span sp;
        size_t body, next, hashlen;
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned dlen = 0;

        if (idx->count == cap) {
            cap *= 2;
            idx->msgs = xreallocarray(idx->msgs, cap, sizeof *idx->msgs);
            idx->raw = xreallocarray(idx->raw, cap + 1, sizeof *idx->raw);
        }

        if (nl) {
            body = (size_t)(nl - base) + 1;
            scan_message(base, len, body, idx->crlf, &sp);
        } else {
            /* A From_ line cut off at the end: a message with no text. */
            body = sp.end = sp.next = len;
            sp.size = 0;
        }
        next = sp.next;

        m = &idx->msgs[idx->count];
        memset(m, 0, sizeof *m);
        m->offset = body;
        m->length = sp.end - body;
        m->size = sp.size;

        hashlen = next - from;
        if (hashlen > MBOX_UIDL_BYTES)
            hashlen = MBOX_UIDL_BYTES;
        if (!EVP_DigestInit_ex(ctx, md5, NULL)
            || !EVP_DigestUpdate(ctx, base + from, hashlen)
            || !EVP_DigestFinal_ex(ctx, digest, &dlen)
            || dlen * 2 > UIDL_MAX_LEN) {
            *error_r = "MD5 digest failed";
            goto out;
        }
        hex_digest(m->uidl, digest, dlen);

        idx->raw[idx->count++] = from;
        from = next;
    }
    idx->raw[idx->count] = len;
    mbox_uidl_unique(idx->msgs, idx->count);
    ret = 0;

out:
    EVP_MD_CTX_free(ctx);
    md5_put(md5);
    if (ret < 0)
        mbox_index_free(idx);
    return ret;
}

void mbox_index_free(struct mbox_index *idx)
{
    free(idx->msgs);
    free(idx->raw);
    memset(idx, 0, sizeof *idx);
}

struct uidl_ref {
    size_t keylen;      /* the UIDL up to its first '.' */
    size_t i;           /* position in the mailbox */
    const char *key;
};

static int uidl_ref_cmp(const void *a, const void *b)
{
    const struct uidl_ref *x = a, *y = b;
    size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
    int c = memcmp(x->key, y->key, n);

    if (c)
        return c;
    if (x->keylen != y->keylen)
        return x->keylen < y->keylen ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Room for "." and the decimal digits of any size_t. */
#define UIDL_SUFFIX_MAX 21

void mbox_uidl_unique(struct mailbox_msg *msgs, size_t count)
{
    struct uidl_ref *refs;
    size_t i, j;

    if (count == 0)
        return;
    refs = xreallocarray(NULL, count, sizeof *refs);
    for (i = 0; i < count; i++) {
        char *u = msgs[i].uidl;
        size_t k = strcspn(u, ".");

        /* Leave room for a suffix; a 32-digit digest always has it. */
        if (k > UIDL_MAX_LEN - UIDL_SUFFIX_MAX)
            k = UIDL_MAX_LEN - UIDL_SUFFIX_MAX;
        u[k] = '\0';
        refs[i].keylen = k;
        refs[i].i = i;
        refs[i].key = u;
    }
    qsort(refs, count, sizeof *refs, uidl_ref_cmp);

    for (i = 0; i < count; i = j) {
        for (j = i + 1; j < count && refs[j].keylen == refs[i].keylen
             && memcmp(refs[j].key, refs[i].key, refs[i].keylen) == 0; j++) {
            char *u = msgs[refs[j].i].uidl;
            size_t k = refs[j].keylen;

            /* k <= UIDL_MAX_LEN - UIDL_SUFFIX_MAX, so this never cuts. */
            snprintf(u + k, sizeof msgs->uidl - k, ".%zu", j - i + 1);
        }
    }
    free(refs);
}
