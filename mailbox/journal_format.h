/* SPDX-License-Identifier: GPL-2.0-or-later */
/* journal_format.h: the on-disk layout of a commit journal, shared by the
 * plan/format code (journal_format.c) and the engine (journal.c). Not for
 * other modules: they use journal.h. */
#ifndef TPOP3D_JOURNAL_FORMAT_H
#define TPOP3D_JOURNAL_FORMAT_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "journal.h"

/* The journal file: 16 little-endian 64-bit words of header, then four
 * words (src, dst, len, flags) per range. Words 0-9 and the ranges never
 * change and are covered by the checksum in word 10; words 11-15 are the
 * progress, each updated with a single aligned store. */
#define JOURNAL_MAGIC "TP3DJRNL"
#define JOURNAL_VERSION 1
#define OFF_MAGIC       0
#define OFF_VERSION     8
#define OFF_DEV         16
#define OFF_INO         24
#define OFF_START       32
#define OFF_FINAL       40
#define OFF_COUNT       48
#define OFF_MARKER_LEN  56
#define OFF_MARKER      64      /* JOURNAL_MARKER_MAX bytes */
#define OFF_SUM         80
#define OFF_STATE       88
#define OFF_DONE        96
#define OFF_TAIL_SRC    104
#define OFF_TAIL_DONE   112
#define OFF_MOVED_END   120
#define HEADER_LEN      128
#define RANGE_LEN       32

/* A plan is at most one range per two messages; this bounds what recovery
 * reads into memory from a file it does not trust yet. */
#define JOURNAL_READ_MAX ((size_t)256 * 1024 * 1024)

_Static_assert(OFF_MARKER + JOURNAL_MARKER_MAX == OFF_SUM, "marker size");

static inline uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static inline uint64_t get64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof v);
    return le64toh(v);
}

static inline void put64(unsigned char *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, sizeof v);
}

/* Magic and version, the part a journal cut short while being written
 * still has. */
bool journal_header_ok(const unsigned char *img, size_t len);

/* NULL when PLAN is consistent (ranges ordered, moving down, adding up to
 * its final size), else what is wrong with it. */
const char *journal_check_plan(const struct journal_plan *plan);

#endif
