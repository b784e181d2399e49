/* SPDX-License-Identifier: GPL-2.0-or-later */
/* msgwrite.c: a stored message as UIDL, RETR and TOP present it: its
 * unique ID, and its text rewritten straight into the connection's output
 * buffer. */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "mailbox.h"

const char *mailbox_xuidl_find(const struct mailbox_xuidl *xu, size_t n,
                               size_t i)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (xu[mid].i < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && xu[lo].i == i ? xu[lo].value : NULL;
}

const char *mailbox_uidl(const struct mailbox *mb, size_t i,
                         char buf[UIDL_MAX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    const struct mailbox_msg *m = &mb->msgs[i];
    char *o = buf;

    if (m->use_xuidl) {
        const char *v = mailbox_xuidl_find(mb->xuidl, mb->xuidl_count, i);

        if (v)
            return v;
    }
    for (size_t k = 0; k < MAILBOX_DIGEST_LEN; k++) {
        *o++ = hex[m->digest[k] >> 4];
        *o++ = hex[m->digest[k] & 15];
    }
    /* 32 digits, "." and at most 7 digits of the 21-bit counter: within
     * UIDL_MAX_LEN. */
    if (m->dup >= 2)
        snprintf(o, (size_t)(buf + UIDL_MAX_LEN + 1 - o), ".%u",
                 (unsigned)m->dup);
    else
        *o = '\0';
    return buf;
}

uint64_t msg_wire_size(const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    uint64_t size = len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        if (!nl) {
            /* Completed to CRLF, or just LF after a trailing CR, as
             * msg_write() does. */
            size += end[-1] == '\r' ? 1 : 2;
            break;
        }
        if (nl == data || nl[-1] != '\r')
            size++;
        p = nl + 1;
    }
    return size;
}

/* The free part of the connection's output buffer being filled. */
struct out {
    struct conn *c;
    char *buf;
    size_t avail;       /* bytes at buf */
    size_t used;        /* of them written, not yet committed */
};

static int out_refill(struct out *o)
{
    conn_commit_space(o->c, o->used);
    o->used = 0;
    o->buf = conn_get_space(o->c, 1, &o->avail);
    return o->buf ? 0 : -1;
}

/* Append N bytes; most calls fit and are one memcpy. A run longer than the
 * free space goes in pieces, each filling the buffer, so every write the
 * connection makes is a full buffer. */
static int out_put(struct out *o, const char *src, size_t n)
{
    while (n > o->avail - o->used) {
        size_t k = o->avail - o->used;

        memcpy(o->buf + o->used, src, k);
        o->used += k;
        src += k;
        n -= k;
        if (out_refill(o) < 0)
            return -1;
    }
    memcpy(o->buf + o->used, src, n);
    o->used += n;
    return 0;
}

/* Bytes of DATA that TOP with LINES body lines sends: the headers through
 * the first blank line, then LINES lines. No blank line: all headers. */
static size_t top_length(const char *data, size_t len, long lines)
{
    const char *p = data, *end = data + len;
    bool blank = false;

    while (p < end && !blank) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        if (!nl)
            return len;
        blank = nl == p || (nl == p + 1 && *p == '\r');
        p = nl + 1;
    }
    if (!blank)
        return len;
    while (lines-- > 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        if (!nl)
            return len;
        p = nl + 1;
    }
    return (size_t)(p - data);
}

int msg_write(struct conn *c, const char *data, size_t len, long lines)
{
    struct out o = { .c = c };
    const char *p, *run, *end;

    if (lines >= 0)
        len = top_length(data, len, lines);
    o.buf = conn_get_space(c, 1, &o.avail);
    if (!o.buf)
        return -1;

    /* The output is the input with bytes inserted: "." before a line
     * starting with ".", CR before a bare LF. Everything between two
     * insertions goes out as one run. */
    p = run = data;
    end = data + len;
    while (p < end) {
        const char *nl;

        if (*p == '.') {
            if (out_put(&o, run, (size_t)(p - run)) < 0
                || out_put(&o, ".", 1) < 0)
                return -1;
            run = p;
        }
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        if (nl == data || nl[-1] != '\r') {
            if (out_put(&o, run, (size_t)(nl - run)) < 0
                || out_put(&o, "\r", 1) < 0)
                return -1;
            run = nl;
        }
        p = nl + 1;
    }
    if (out_put(&o, run, (size_t)(end - run)) < 0)
        return -1;
    if (len > 0 && end[-1] != '\n') {
        if (end[-1] == '\r' ? out_put(&o, "\n", 1) < 0
                            : out_put(&o, "\r\n", 2) < 0)
            return -1;
    }
    if (out_put(&o, ".\r\n", 3) < 0)
        return -1;
    conn_commit_space(c, o.used);
    return 0;
}
