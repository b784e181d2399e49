/* SPDX-License-Identifier: GPL-2.0-or-later */
/* strbuf.h: a growable byte string with a hard maximum fixed at creation. */
#ifndef TPOP3D_STRBUF_H
#define TPOP3D_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *buf;      /* always NUL-terminated when non-NULL */
    size_t len;     /* bytes used, excluding the NUL */
    size_t alloc;   /* bytes allocated */
    size_t max;     /* len may never exceed this */
};

/* Initialise SB empty with maximum length MAX (> 0). No allocation yet. */
void strbuf_init(struct strbuf *sb, size_t max);
/* Free the storage and make SB empty; SB may be reused. */
void strbuf_free(struct strbuf *sb);
/* Like strbuf_free, but overwrite the bytes first (for secrets). */
void strbuf_wipe(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);

/* Each append returns 0, or -1 if the result would exceed the maximum, in
 * which case SB is left unchanged. Allocation failure exits (xalloc). */
int strbuf_append(struct strbuf *sb, const void *data, size_t len);
int strbuf_appends(struct strbuf *sb, const char *s);
int strbuf_appendc(struct strbuf *sb, char c);
int strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* The contents as a C string ("" when nothing was ever appended). */
const char *strbuf_str(const struct strbuf *sb);
/* Hand the storage to the caller (free() it) and make SB empty. Never NULL. */
char *strbuf_detach(struct strbuf *sb);

#endif
