/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crashsoak_check.c: checks a mailbox after a killed commit and its
 * recovery: split into messages, compared with what must be there, and a
 * failed trial's files kept as evidence. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashsoak.h"
#include "journal.h"
#include "xalloc.h"

/* Losses described one by one; the rest are only counted. */
#define SOAK_LOSSES_SHOWN 10

/* A message found in a mailbox after recovery. */
struct seen {
    char kind;              /* 's' soak-NUM, 'l' late-NUM, '?' no marker */
    uint32_t num;
    uint64_t len, hash;
};

static uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

/* A 64-bit hash of N bytes at P. Each step is a bijection of the state,
 * so two inputs differing in one word always hash differently; four lanes
 * keep it at memory speed, which matters at 100 MB per trial. */
uint64_t soak_hash(const char *p, size_t n)
{
    uint64_t h[4] = { 1, 2, 3, 4 }, r = n;
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];

        memcpy(w, p + i, sizeof w);
        for (int k = 0; k < 4; k++)
            h[k] = mix(h[k], w[k]);
    }
    for (int k = 0; k < 4; k++)
        r = mix(r, h[k]);
    for (; i + 8 <= n; i += 8) {
        uint64_t w;

        memcpy(&w, p + i, sizeof w);
        r = mix(r, w);
    }
    if (i < n) {
        uint64_t w = 0;

        memcpy(&w, p + i, n - i);
        r = mix(r, w);
    }
    return mix(r, 0x5bd1e9955bd1e995ULL);
}

static void name_of(char *buf, size_t size, char kind, uint32_t num)
{
    snprintf(buf, size, "%s-%07u", kind == 's' ? "soak" : kind == 'l'
             ? "late" : "unmarked", num);
}

/* Split the mailbox at LEN bytes of BASE into messages, each from its
 * From_ line to the next one found after a blank line. */
static struct seen *split(const char *base, size_t len, size_t *n_r)
{
    struct seen *v = NULL;
    size_t n = 0, cap = 0, p = 0;

    while (p < len) {
        const char *q = memmem(base + p + 1, len - p - 1, "\n\nFrom ", 7);
        size_t end = q ? (size_t)(q - base) + 2 : len;
        struct seen *e;
        const char *c = base + p;
        size_t k;

        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = xreallocarray(v, cap, sizeof *v);
        }
        e = &v[n++];
        e->kind = '?';
        e->num = 0;
        e->len = end - p;
        e->hash = soak_hash(c, end - p);
        if (end - p > 18 && memcmp(c, "From ", 5) == 0
            && (memcmp(c + 5, "soak-", 5) == 0
                || memcmp(c + 5, "late-", 5) == 0)) {
            for (k = 10; k < 17 && c[k] >= '0' && c[k] <= '9'; k++)
                e->num = e->num * 10 + (uint32_t)(c[k] - '0');
            if (k == 17 && c[17] == '@')
                e->kind = c[5] == 's' ? 's' : 'l';
        }
        p = end;
    }
    *n_r = n;
    return v;
}

/* Whether SEEN (N messages) is exactly the pristine messages not in DEL
 * (all of them when ALL), in order, then L if given. If not, WHY gets the
 * first difference. */
static bool matches(const struct soak *s, const struct seen *seen, size_t n,
                    const bool *del, bool all, const struct late *l,
                    char *why, size_t whysize)
{
    char want[32], got[32];
    size_t k = 0;

    for (size_t i = 0; i <= s->count; i++) {
        char kind = i < s->count ? 's' : 'l';
        uint32_t num = i < s->count ? (uint32_t)i : l ? l->num : 0;
        uint64_t len = i < s->count ? s->msgs[i].len : l ? l->len : 0;
        uint64_t hash = i < s->count ? s->msgs[i].hash : l ? l->hash : 0;

        if (i < s->count ? !all && del[i] : !l)
            continue;
        name_of(want, sizeof want, kind, num);
        if (k == n) {
            snprintf(why, whysize, "%s and everything after it are missing",
                     want);
            return false;
        }
        name_of(got, sizeof got, seen[k].kind, seen[k].num);
        if (seen[k].kind != kind || seen[k].num != num) {
            snprintf(why, whysize, "message %zu is %s where %s belongs", k + 1,
                     got, want);
            return false;
        }
        if (seen[k].len != len || seen[k].hash != hash) {
            snprintf(why, whysize, "%s is torn: %llu bytes%s, want %llu", got,
                     (unsigned long long)seen[k].len,
                     seen[k].len == len ? " with other contents" : "",
                     (unsigned long long)len);
            return false;
        }
        k++;
    }
    if (k < n) {
        name_of(got, sizeof got, seen[k].kind, seen[k].num);
        snprintf(why, whysize, "%zu more messages at the end, the first %s "
                 "(%llu bytes)", n - k, got, (unsigned long long)seen[k].len);
        return false;
    }
    return true;
}

/* Keep the files of the first failed trial for inspection. */
static void keep_evidence(struct soak *s, unsigned t)
{
    char *to;

    if (s->evidence)
        return;
    s->evidence = true;
    to = xasprintf("%s/trial-%u", s->dir, t);
    if (rename(s->work, to) == 0)
        printf("crashsoak: trial %u: the mailbox is kept as %s\n", t, to);
    free(to);
    to = xasprintf("%s/trial-%u" JOURNAL_SUFFIX, s->dir, t);
    if (rename(s->journal, to) == 0)
        printf("crashsoak: trial %u: its journal is kept as %s\n", t, to);
    free(to);
}

void lose(struct soak *s, unsigned t, const char *fmt, ...)
{
    va_list ap;

    /* The first few say enough; a broken commit would lose in every trial. */
    if (s->losses < SOAK_LOSSES_SHOWN) {
        printf("crashsoak: trial %u: LOSS: ", t);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
    } else if (s->losses == SOAK_LOSSES_SHOWN) {
        printf("crashsoak: further losses are counted, not shown\n");
    }
    fflush(stdout);
    s->losses++;
    keep_evidence(s, t);
}

void check_recovered(struct soak *s, unsigned t, const bool *del,
                     const struct late *late, size_t nseen, bool killed,
                     uint64_t jstate)
{
    bool undone_ok, kept_ok;
    char why_kept[200], why_orig[200];
    struct seen *seen;
    struct stat sb;
    int fd = open(s->work, O_RDONLY | O_CLOEXEC);
    char *map = NULL;
    size_t n;

    if (fd < 0 || fstat(fd, &sb) < 0)
        die("%s: %s", s->work, strerror(errno));
    if (sb.st_size > 0) {
        map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED)
            die("%s: mmap: %s", s->work, strerror(errno));
    }
    close(fd);
    seen = split(map, (size_t)sb.st_size, &n);
    if (map)
        munmap(map, (size_t)sb.st_size);
    kept_ok = matches(s, seen, n, del, false, late, why_kept,
                      sizeof why_kept);
    undone_ok = !kept_ok && matches(s, seen, n, del, true, late, why_orig,
                                    sizeof why_orig);
    free(seen);
    if (!kept_ok && !undone_ok) {
        lose(s, t, "neither the kept nor the original messages "
             "(%s; against the original: %s)", why_kept, why_orig);
        return;
    }
    if (nseen != n) {
        lose(s, t, "the driver counts %zu messages, the file holds %zu",
             nseen, n);
        return;
    }

    /* Which of the two it may be. */
    if (undone_ok && (!killed || s->sh->committed)) {
        lose(s, t, "the commit returned but the messages are all there");
        return;
    }
    if (undone_ok && jstate >= JOURNAL_MOVING) {
        lose(s, t, "the journal said data had moved, yet the messages are "
             "all there");
        return;
    }
    if (kept_ok && jstate == JOURNAL_PREPARING) {
        lose(s, t, "the journal said nothing had moved, yet the deleted "
             "messages are gone");
        return;
    }
    s->recovered += jstate >= JOURNAL_MOVING;
    s->discarded += jstate == JOURNAL_PREPARING;
    s->outcome_kept += kept_ok;
    s->outcome_original += undone_ok;
}
