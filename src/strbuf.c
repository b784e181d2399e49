/* SPDX-License-Identifier: GPL-2.0-or-later */
/* strbuf.c: growable strings with a hard maximum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

void strbuf_init(struct strbuf *sb, size_t max)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->alloc = 0;
    sb->max = max;
}

void strbuf_free(struct strbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->alloc = 0;
}

void strbuf_wipe(struct strbuf *sb)
{
    if (sb->buf)
        explicit_bzero(sb->buf, sb->alloc);
    strbuf_free(sb);
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = 0;
}

/* Make room for LEN more bytes plus the NUL; -1 past the maximum. */
static int strbuf_reserve(struct strbuf *sb, size_t len)
{
    size_t want;

    if (len > sb->max - sb->len)
        return -1;
    want = sb->len + len + 1;
    if (want <= sb->alloc)
        return 0;
    size_t n = sb->alloc ? sb->alloc : 64;
    while (n < want)
        n = n > SIZE_MAX / 2 ? want : n * 2;
    if (n > sb->max + 1)
        n = sb->max + 1;
    sb->buf = xreallocarray(sb->buf, n, 1);
    sb->alloc = n;
    return 0;
}

int strbuf_append(struct strbuf *sb, const void *data, size_t len)
{
    if (strbuf_reserve(sb, len) < 0)
        return -1;
    if (len)
        memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = 0;
    return 0;
}

int strbuf_appends(struct strbuf *sb, const char *s)
{
    return strbuf_append(sb, s, strlen(s));
}

int strbuf_appendc(struct strbuf *sb, char c)
{
    return strbuf_append(sb, &c, 1);
}

int strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || strbuf_reserve(sb, (size_t)n) < 0)
        return -1;
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
    return 0;
}

int strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = strbuf_vappendf(sb, fmt, ap);
    va_end(ap);
    return r;
}

const char *strbuf_str(const struct strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}

char *strbuf_detach(struct strbuf *sb)
{
    char *s = sb->buf ? sb->buf : xstrdup("");

    sb->buf = NULL;
    sb->len = sb->alloc = 0;
    return s;
}
