/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xalloc.h: allocation wrappers that exit the process when memory runs out.
 * For the session child and start-up code; the listener allocates nothing
 * per connection. */
#ifndef TPOP3D_XALLOC_H
#define TPOP3D_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
/* Checks N * SIZE for overflow. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
/* The first N bytes of S, or fewer when a NUL comes first; S need not be
 * NUL-terminated. */
char *xstrndup(const char *s, size_t n);
/* asprintf that exits on failure. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Overwrite N bytes at P in a way the compiler keeps, then free(P). P may be
 * NULL. For passwords and other secrets. */
void freezero(void *p, size_t n);
/* freezero(s, strlen(s) + 1) for a NUL-terminated secret; S may be NULL. */
void strfreezero(char *s);

#endif
