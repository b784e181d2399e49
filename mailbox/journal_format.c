/* SPDX-License-Identifier: GPL-2.0-or-later */
/* journal_format.c: the plan of a commit (which byte ranges move where)
 * and its encoding in the journal file, checked on the way back in. */
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "journal_format.h"
#include "xalloc.h"

/* Over the constant words of the header and the ranges. It catches damage
 * and truncation; it is not meant to resist forgery, which the ownership
 * checks of journal_recover() are for. */
static uint64_t checksum(const unsigned char *img, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t off = 0; off + 8 <= len; off += 8) {
        if (off == OFF_SUM) {
            off = HEADER_LEN - 8;
            continue;
        }
        h ^= get64(img + off);
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return h;
}

void journal_plan_init(struct journal_plan *plan, uint64_t hole,
                       uint64_t start_size)
{
    memset(plan, 0, sizeof *plan);
    plan->start_size = start_size;
    plan->final_size = hole;
}

void journal_plan_keep(struct journal_plan *plan, uint64_t src, uint64_t len)
{
    struct journal_range *last = plan->count ? &plan->ranges[plan->count - 1]
                                             : NULL;

    if (len == 0)
        return;
    if (last && last->src + last->len == src) {
        last->len += len;
    } else if (src != plan->final_size) {
        if (plan->count == plan->cap) {
            plan->cap = plan->cap ? plan->cap * 2 : 16;
            plan->ranges = xreallocarray(plan->ranges, plan->cap,
                                         sizeof *plan->ranges);
        }
        plan->ranges[plan->count++] = (struct journal_range){
            .src = src, .dst = plan->final_size, .len = len,
        };
    }
    /* else: nothing removed before SRC yet, the bytes stay where they are */
    plan->final_size += len;
}

void journal_plan_free(struct journal_plan *plan)
{
    free(plan->ranges);
    memset(plan, 0, sizeof *plan);
}

void *journal_encode(const struct journal_plan *plan,
                     const struct journal_info *info, size_t *len_r)
{
    size_t len = HEADER_LEN + plan->count * RANGE_LEN;
    unsigned char *img = xcalloc(1, len);

    memcpy(img + OFF_MAGIC, JOURNAL_MAGIC, 8);
    put64(img + OFF_VERSION, JOURNAL_VERSION);
    put64(img + OFF_DEV, info->dev);
    put64(img + OFF_INO, info->ino);
    put64(img + OFF_START, plan->start_size);
    put64(img + OFF_FINAL, plan->final_size);
    put64(img + OFF_COUNT, plan->count);
    put64(img + OFF_MARKER_LEN, info->marker_len);
    memcpy(img + OFF_MARKER, info->marker, JOURNAL_MARKER_MAX);
    put64(img + OFF_STATE, info->state);
    put64(img + OFF_DONE, info->done);
    put64(img + OFF_TAIL_SRC, info->tail_src);
    put64(img + OFF_TAIL_DONE, info->tail_done);
    put64(img + OFF_MOVED_END, info->moved_end);
    for (size_t i = 0; i < plan->count; i++) {
        unsigned char *r = img + HEADER_LEN + i * RANGE_LEN;

        put64(r, plan->ranges[i].src);
        put64(r + 8, plan->ranges[i].dst);
        put64(r + 16, plan->ranges[i].len);
        put64(r + 24, plan->ranges[i].flags);
    }
    put64(img + OFF_SUM, checksum(img, len));
    *len_r = len;
    return img;
}

bool journal_header_ok(const unsigned char *img, size_t len)
{
    return len >= HEADER_LEN && memcmp(img + OFF_MAGIC, JOURNAL_MAGIC, 8) == 0
           && get64(img + OFF_VERSION) == JOURNAL_VERSION;
}

const char *journal_check_plan(const struct journal_plan *p)
{
    uint64_t prev_end = 0, dst;

    if (p->count == 0)
        return "journal with an empty plan";
    if (p->final_size >= p->start_size)
        return "journal plan removes nothing";
    dst = p->ranges[0].dst;
    for (size_t i = 0; i < p->count; i++) {
        const struct journal_range *r = &p->ranges[i];

        if (r->len == 0 || r->dst != dst || r->dst >= r->src
            || r->src < prev_end || r->src > p->start_size
            || r->len > p->start_size - r->src
            || (r->flags & ~JOURNAL_RANGE_FROM) != 0)
            return "journal plan with a bad range";
        prev_end = r->src + r->len;
        dst += r->len;
    }
    if (dst != p->final_size)
        return "journal plan does not add up to its final size";
    return NULL;
}

int journal_decode(const void *buf, size_t len, struct journal_plan *plan_r,
                   struct journal_info *info_r, const char **error_r)
{
    const unsigned char *img = buf;
    struct journal_plan p;
    struct journal_info in;
    uint64_t count, moved;
    const char *why;

    memset(plan_r, 0, sizeof *plan_r);
    memset(info_r, 0, sizeof *info_r);
    if (len < HEADER_LEN) {
        *error_r = "journal truncated (incomplete header)";
        return -1;
    }
    if (memcmp(img + OFF_MAGIC, JOURNAL_MAGIC, 8) != 0) {
        *error_r = "not a journal (bad magic)";
        return -1;
    }
    if (get64(img + OFF_VERSION) != JOURNAL_VERSION) {
        *error_r = "journal of an unknown version";
        return -1;
    }
    count = get64(img + OFF_COUNT);
    if (count > (len - HEADER_LEN) / RANGE_LEN) {
        *error_r = "journal truncated (plan incomplete)";
        return -1;
    }
    if (len != HEADER_LEN + count * RANGE_LEN) {
        *error_r = "journal longer than its plan";
        return -1;
    }
    if (get64(img + OFF_SUM) != checksum(img, len)) {
        *error_r = "journal checksum mismatch";
        return -1;
    }

    memset(&p, 0, sizeof p);
    p.start_size = get64(img + OFF_START);
    p.final_size = get64(img + OFF_FINAL);
    p.count = p.cap = (size_t)count;
    p.ranges = xcalloc(p.count ? p.count : 1, sizeof *p.ranges);
    for (size_t i = 0; i < p.count; i++) {
        const unsigned char *r = img + HEADER_LEN + i * RANGE_LEN;
        uint64_t flags = get64(r + 24);

        p.ranges[i].src = get64(r);
        p.ranges[i].dst = get64(r + 8);
        p.ranges[i].len = get64(r + 16);
        p.ranges[i].flags = flags > UINT32_MAX ? UINT32_MAX : (uint32_t)flags;
    }
    why = journal_check_plan(&p);

    in.dev = get64(img + OFF_DEV);
    in.ino = get64(img + OFF_INO);
    memcpy(in.marker, img + OFF_MARKER, JOURNAL_MARKER_MAX);
    in.marker_len = get64(img + OFF_MARKER_LEN);
    in.state = get64(img + OFF_STATE);
    in.done = get64(img + OFF_DONE);
    in.tail_src = get64(img + OFF_TAIL_SRC);
    in.tail_done = get64(img + OFF_TAIL_DONE);
    in.moved_end = get64(img + OFF_MOVED_END);
    moved = why ? 0 : p.final_size - p.ranges[0].dst;
    if (!why) {
        uint64_t gap = p.start_size - p.final_size;

        if (in.marker_len != min64(gap, JOURNAL_MARKER_MAX)
            || in.marker[0] != 0)
            why = "journal with a bad marker";
        else if (in.state < JOURNAL_PREPARING || in.state > JOURNAL_DONE)
            why = "journal in an unknown state";
        else if (in.done > moved || in.tail_src < p.start_size
                 || in.tail_done > UINT64_MAX - in.tail_src)
            why = "journal progress out of range";
        else if (in.state >= JOURNAL_MOVED
                 && (in.done != moved || in.moved_end < p.final_size))
            why = "journal progress out of range";
    }
    if (why) {
        journal_plan_free(&p);
        *error_r = why;
        return -1;
    }
    *plan_r = p;
    *info_r = in;
    return 0;
}
