/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xalloc.c: allocation that never returns NULL. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        fatalx("out of memory allocating %zu bytes", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        fatalx("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
    void *q;

    if (size && n > SIZE_MAX / size)
        fatalx("allocation overflow: %zu x %zu", n, size);
    q = realloc(p, (n && size) ? n * size : 1);
    if (!q)
        fatalx("out of memory allocating %zu x %zu bytes", n, size);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    /* Not strndup(): callers pass counted buffers with no NUL after them
     * (GDBM values, decoded base64), and strndup may look for one. */
    const char *nul = memchr(s, 0, n);
    size_t len = nul ? (size_t)(nul - s) : n;
    char *p = malloc(len + 1);

    if (!p)
        fatalx("out of memory copying a string");
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        fatalx("out of memory formatting a string");
    return s;
}

void freezero(void *p, size_t n)
{
    if (!p)
        return;
    explicit_bzero(p, n);
    free(p);
}

void strfreezero(char *s)
{
    if (s)
        freezero(s, strlen(s) + 1);
}
