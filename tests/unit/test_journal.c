/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_journal.c: the commit journal's plans and its file format, with
 * the refusals of damaged or senseless journals; commits killed and
 * recovered are in test_journal_kill.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "unit.h"

/* ---- plans ---------------------------------------------------------- */

static void range_is(const struct journal_plan *p, size_t i, uint64_t src,
                     uint64_t dst, uint64_t len)
{
    ck_assert_uint_lt(i, p->count);
    ck_assert_uint_eq(p->ranges[i].src, src);
    ck_assert_uint_eq(p->ranges[i].dst, dst);
    ck_assert_uint_eq(p->ranges[i].len, len);
}

START_TEST(plan_building)
{
    struct journal_plan p;

    /* Messages at 0, 100, 150, 300, 400, 450 (end 500); 100 and 300 go. */
    journal_plan_init(&p, 100, 500);
    ck_assert_uint_eq(p.final_size, 100);
    journal_plan_keep(&p, 150, 150);
    journal_plan_keep(&p, 400, 50);
    journal_plan_keep(&p, 450, 50);
    journal_plan_keep(&p, 500, 0);
    ck_assert_uint_eq(p.count, 2);
    range_is(&p, 0, 150, 100, 150);
    range_is(&p, 1, 400, 250, 100);
    ck_assert_uint_eq(p.final_size, 350);
    ck_assert_uint_eq(p.start_size, 500);
    journal_plan_free(&p);
    ck_assert_ptr_null(p.ranges);
    ck_assert_uint_eq(p.count, 0);

    /* Bytes before the first removed one stay where they are. */
    journal_plan_init(&p, 0, 100);
    journal_plan_keep(&p, 0, 10);
    journal_plan_keep(&p, 10, 10);
    ck_assert_uint_eq(p.count, 0);
    journal_plan_keep(&p, 30, 5);
    ck_assert_uint_eq(p.count, 1);
    range_is(&p, 0, 30, 20, 5);
    ck_assert_uint_eq(p.final_size, 25);
    journal_plan_free(&p);

    /* Removing everything from the hole on: no range, a truncation. */
    journal_plan_init(&p, 40, 100);
    journal_plan_keep(&p, 100, 0);
    ck_assert_uint_eq(p.count, 0);
    ck_assert_uint_eq(p.final_size, 40);
    journal_plan_free(&p);
}
END_TEST

START_TEST(plan_coalesces)
{
    /* 100000 messages of 1000 bytes, three deleted (one of them the
     * last): a plan of two ranges, not one per message. */
    const size_t n = 100000;
    struct journal_plan p;
    size_t del[] = { 10, 5000, n - 1 };
    size_t d = 1;

    journal_plan_init(&p, del[0] * 1000, (uint64_t)n * 1000);
    for (size_t i = del[0] + 1; i < n; i++) {
        if (d < 3 && i == del[d]) {
            d++;
            continue;
        }
        journal_plan_keep(&p, (uint64_t)i * 1000, 1000);
    }
    ck_assert_uint_eq(p.count, 2);
    range_is(&p, 0, 11000, 10000, (5000 - 11) * 1000);
    range_is(&p, 1, 5001000, 4999000, (uint64_t)(n - 1 - 5001) * 1000);
    ck_assert_uint_eq(p.final_size, (uint64_t)(n - 3) * 1000);
    journal_plan_free(&p);

    /* Every other one deleted: one range per kept message. */
    journal_plan_init(&p, 0, 20 * 100);
    for (size_t i = 1; i < 20; i += 2)
        journal_plan_keep(&p, i * 100, 100);
    ck_assert_uint_eq(p.count, 10);
    range_is(&p, 9, 1900, 900, 100);
    journal_plan_free(&p);
}
END_TEST

/* ---- the journal file ----------------------------------------------- */

static void sample(struct journal_plan *p, struct journal_info *in)
{
    journal_plan_init(p, 1000, 90000);
    journal_plan_keep(p, 1500, 2000);
    journal_plan_keep(p, 4000, 30000);
    journal_plan_keep(p, 80000, 10000);
    p->ranges[0].flags = JOURNAL_RANGE_FROM;
    p->ranges[2].flags = JOURNAL_RANGE_FROM;
    memset(in, 0, sizeof *in);
    in->dev = 0x0123456789abcdefULL;
    in->ino = 4242;
    in->marker_len = JOURNAL_MARKER_MAX;
    for (int i = 1; i < JOURNAL_MARKER_MAX; i++)
        in->marker[i] = (unsigned char)(i * 37);
    in->state = JOURNAL_MOVING;
    in->done = 2100;
    in->tail_src = 90000;
    in->tail_done = 0;
}

START_TEST(encode_decode)
{
    struct journal_plan p, q;
    struct journal_info in, out;
    const char *why = NULL;
    unsigned char *img;
    size_t len;

    sample(&p, &in);
    ck_assert_uint_eq(p.count, 3);
    img = journal_encode(&p, &in, &len);
    ck_assert_uint_eq(len, 128 + 3 * 32);
    ck_assert(memcmp(img, "TP3DJRNL", 8) == 0);
    ck_assert_int_eq(journal_decode(img, len, &q, &out, &why), 0);
    ck_assert_uint_eq(q.start_size, 90000);
    ck_assert_uint_eq(q.final_size, p.final_size);
    ck_assert_uint_eq(q.count, 3);
    for (size_t i = 0; i < 3; i++) {
        range_is(&q, i, p.ranges[i].src, p.ranges[i].dst, p.ranges[i].len);
        ck_assert_uint_eq(q.ranges[i].flags, p.ranges[i].flags);
    }
    ck_assert(memcmp(&in, &out, sizeof in) == 0);
    journal_plan_free(&q);

    /* Little-endian words at fixed places, whatever the host. */
    ck_assert_uint_eq(img[88], JOURNAL_MOVING);
    ck_assert_uint_eq(img[96] | img[97] << 8, 2100);
    ck_assert_uint_eq(img[128] | img[129] << 8, 1500);
    free(img);
    journal_plan_free(&p);
}
END_TEST

static void decode_fails(const void *img, size_t len, const char *why_has)
{
    struct journal_plan q;
    struct journal_info out;
    const char *why = NULL;

    ck_assert_int_eq(journal_decode(img, len, &q, &out, &why), -1);
    ck_assert_ptr_nonnull(why);
    if (why_has && !strstr(why, why_has))
        ck_abort_msg("\"%s\" lacks \"%s\"", why, why_has);
    ck_assert_ptr_null(q.ranges);
}

START_TEST(decode_refusals)
{
    struct journal_plan p;
    struct journal_info in;
    unsigned char *img, *bad;
    size_t len;

    sample(&p, &in);
    img = journal_encode(&p, &in, &len);
    bad = malloc(len);

    /* Cut anywhere. */
    for (size_t l = 0; l < len; l++)
        decode_fails(img, l, l < 128 ? "truncated" : NULL);
    /* Longer than its plan. */
    memcpy(bad, img, len);
    {
        unsigned char *longer = calloc(1, len + 32);

        memcpy(longer, img, len);
        decode_fails(longer, len + 32, "longer");
        free(longer);
    }
    /* Any bit of the constant part changed. */
    for (size_t off = 0; off < len; off++) {
        if (off >= 80 && off < 128)
            continue;
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(bad, img, len);
            bad[off] ^= (unsigned char)(1u << bit);
            decode_fails(bad, len, NULL);
        }
    }
    memcpy(bad, img, len);
    bad[0] = 'X';
    decode_fails(bad, len, "magic");
    memcpy(bad, img, len);
    bad[8] = 2;
    decode_fails(bad, len, "version");
    memcpy(bad, img, len);
    bad[200] ^= 1;
    decode_fails(bad, len, "checksum");
    free(bad);
    free(img);

    /* Progress out of range (not under the checksum). */
    in.state = 0;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "state");
    free(img);
    in.state = JOURNAL_DONE + 1;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "state");
    free(img);
    in.state = JOURNAL_MOVING;
    in.done = p.final_size - 1000 + 1;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "progress");
    free(img);
    in.done = 0;
    in.tail_src = p.start_size - 1;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "progress");
    free(img);
    in.tail_src = p.start_size;
    in.state = JOURNAL_MOVED;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "progress");
    free(img);
    in.state = JOURNAL_MOVING;
    in.marker[0] = 'F';
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "marker");
    free(img);
    in.marker[0] = 0;
    in.marker_len = 3;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "marker");
    free(img);
    in.marker_len = JOURNAL_MARKER_MAX;

    /* Plans that make no sense, with a correct checksum. */
    p.ranges[1].dst += 1;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "range");
    free(img);
    p.ranges[1].dst -= 1;
    p.ranges[2].len = 10001;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "range");
    free(img);
    p.ranges[2].len = 10000;
    p.ranges[0].src = 1000;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "range");
    free(img);
    p.ranges[0].src = 1500;
    p.ranges[1].src = 3000;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "range");
    free(img);
    p.ranges[1].src = 4000;
    p.final_size += 1;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "final size");
    free(img);
    p.final_size -= 1;
    p.ranges[0].flags = 2;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "range");
    free(img);
    p.count = 0;
    img = journal_encode(&p, &in, &len);
    decode_fails(img, len, "empty plan");
    free(img);
    journal_plan_free(&p);
}
END_TEST

Suite *suite_journal(void)
{
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("format");

    tcase_add_test(tc, plan_building);
    tcase_add_test(tc, plan_coalesces);
    tcase_add_test(tc, encode_decode);
    tcase_add_test(tc, decode_refusals);
    suite_add_tcase(s, tc);
    return s;
}
