/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_strbuf.c: the growable string and its hard maximum. */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "unit.h"

START_TEST(test_empty)
{
    struct strbuf sb;

    strbuf_init(&sb, 10);
    ck_assert_ptr_null(sb.buf);
    ck_assert_uint_eq(sb.len, 0);
    ck_assert_str_eq(strbuf_str(&sb), "");
    ck_assert_int_eq(strbuf_append(&sb, "", 0), 0);
    ck_assert_str_eq(strbuf_str(&sb), "");
    ck_assert_uint_eq(sb.len, 0);
    strbuf_free(&sb);
    ck_assert_ptr_null(sb.buf);
}
END_TEST

START_TEST(test_append)
{
    struct strbuf sb;

    strbuf_init(&sb, 100);
    ck_assert_int_eq(strbuf_appends(&sb, "abc"), 0);
    ck_assert_int_eq(strbuf_appendc(&sb, '-'), 0);
    ck_assert_int_eq(strbuf_append(&sb, "xyz!!", 3), 0);
    ck_assert_str_eq(strbuf_str(&sb), "abc-xyz");
    ck_assert_uint_eq(sb.len, 7);
    ck_assert_int_eq(sb.buf[sb.len], '\0');
    /* Embedded NUL bytes are data. */
    ck_assert_int_eq(strbuf_append(&sb, "a\0b", 3), 0);
    ck_assert_uint_eq(sb.len, 10);
    ck_assert_int_eq(memcmp(sb.buf, "abc-xyza\0b", 11), 0);
    strbuf_free(&sb);
}
END_TEST

START_TEST(test_max_enforced)
{
    struct strbuf sb;

    strbuf_init(&sb, 5);
    ck_assert_int_eq(strbuf_appends(&sb, "hel"), 0);
    /* One byte too many: refused, nothing written. */
    ck_assert_int_eq(strbuf_appends(&sb, "lo!"), -1);
    ck_assert_str_eq(strbuf_str(&sb), "hel");
    ck_assert_uint_eq(sb.len, 3);
    /* Exactly up to the maximum is fine. */
    ck_assert_int_eq(strbuf_appends(&sb, "lo"), 0);
    ck_assert_str_eq(strbuf_str(&sb), "hello");
    ck_assert_int_eq(strbuf_appendc(&sb, '!'), -1);
    ck_assert_int_eq(strbuf_append(&sb, "x", 1), -1);
    ck_assert_int_eq(strbuf_appendf(&sb, "%d", 1), -1);
    ck_assert_str_eq(strbuf_str(&sb), "hello");
    ck_assert_uint_eq(sb.len, 5);
    ck_assert_uint_le(sb.alloc, 6);
    /* Appending nothing at the maximum still succeeds. */
    ck_assert_int_eq(strbuf_append(&sb, "", 0), 0);
    /* A length that would wrap size_t arithmetic is refused too. */
    ck_assert_int_eq(strbuf_append(&sb, "x", (size_t)-1), -1);
    ck_assert_str_eq(strbuf_str(&sb), "hello");
    strbuf_free(&sb);
}
END_TEST

START_TEST(test_large_growth)
{
    struct strbuf sb;
    char chunk[1000];

    memset(chunk, 'q', sizeof chunk);
    strbuf_init(&sb, 100000);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(strbuf_append(&sb, chunk, sizeof chunk), 0);
    ck_assert_uint_eq(sb.len, 100000);
    ck_assert_uint_eq(strlen(strbuf_str(&sb)), 100000);
    ck_assert_int_eq(strbuf_appendc(&sb, 'q'), -1);
    ck_assert_uint_eq(sb.len, 100000);
    strbuf_free(&sb);
}
END_TEST

START_TEST(test_appendf)
{
    struct strbuf sb;

    strbuf_init(&sb, 20);
    ck_assert_int_eq(strbuf_appendf(&sb, "%s:%u", "file", 42u), 0);
    ck_assert_str_eq(strbuf_str(&sb), "file:42");
    ck_assert_int_eq(strbuf_appendf(&sb, " %05d", 7), 0);
    ck_assert_str_eq(strbuf_str(&sb), "file:42 00007");
    ck_assert_uint_eq(sb.len, 13);
    /* 13 + 8 > 20: refused whole, not truncated. */
    ck_assert_int_eq(strbuf_appendf(&sb, "%s", "12345678"), -1);
    ck_assert_str_eq(strbuf_str(&sb), "file:42 00007");
    ck_assert_uint_eq(sb.len, 13);
    ck_assert_int_eq(strbuf_appendf(&sb, "%s", "1234567"), 0);
    ck_assert_str_eq(strbuf_str(&sb), "file:42 000071234567");
    ck_assert_int_eq(strbuf_appendf(&sb, "%s", ""), 0);
    ck_assert_uint_eq(sb.len, 20);
    strbuf_free(&sb);
}
END_TEST

START_TEST(test_reset)
{
    struct strbuf sb;

    strbuf_init(&sb, 10);
    ck_assert_int_eq(strbuf_appends(&sb, "abcdef"), 0);
    strbuf_reset(&sb);
    ck_assert_uint_eq(sb.len, 0);
    ck_assert_str_eq(strbuf_str(&sb), "");
    ck_assert_int_eq(strbuf_appends(&sb, "0123456789"), 0);
    ck_assert_str_eq(strbuf_str(&sb), "0123456789");
    strbuf_free(&sb);
    /* Reset of a never-used buffer is harmless. */
    strbuf_reset(&sb);
    ck_assert_str_eq(strbuf_str(&sb), "");
}
END_TEST

START_TEST(test_detach)
{
    struct strbuf sb;
    char *s;

    strbuf_init(&sb, 10);
    ck_assert_int_eq(strbuf_appends(&sb, "mine"), 0);
    s = strbuf_detach(&sb);
    ck_assert_str_eq(s, "mine");
    ck_assert_ptr_null(sb.buf);
    ck_assert_uint_eq(sb.len, 0);
    ck_assert_uint_eq(sb.alloc, 0);
    ck_assert_str_eq(strbuf_str(&sb), "");
    free(s);
    /* Reusable afterwards, with the same maximum. */
    ck_assert_int_eq(strbuf_appends(&sb, "0123456789"), 0);
    ck_assert_int_eq(strbuf_appendc(&sb, 'x'), -1);
    strbuf_free(&sb);
    /* Detaching an empty buffer still gives an allocated "". */
    s = strbuf_detach(&sb);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(test_wipe)
{
    struct strbuf sb;

    strbuf_init(&sb, 64);
    ck_assert_int_eq(strbuf_appends(&sb, "secret password"), 0);
    strbuf_wipe(&sb);
    ck_assert_ptr_null(sb.buf);
    ck_assert_uint_eq(sb.len, 0);
    ck_assert_uint_eq(sb.alloc, 0);
    ck_assert_uint_eq(sb.max, 64);
    ck_assert_str_eq(strbuf_str(&sb), "");
    ck_assert_int_eq(strbuf_appends(&sb, "again"), 0);
    ck_assert_str_eq(strbuf_str(&sb), "again");
    strbuf_wipe(&sb);
    /* Wiping an empty buffer is harmless. */
    strbuf_wipe(&sb);
    ck_assert_ptr_null(sb.buf);
}
END_TEST

Suite *suite_strbuf(void)
{
    Suite *s = suite_create("strbuf");
    TCase *tc = tcase_create("strbuf");

    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_append);
    tcase_add_test(tc, test_max_enforced);
    tcase_add_test(tc, test_large_growth);
    tcase_add_test(tc, test_appendf);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_detach);
    tcase_add_test(tc, test_wipe);
    suite_add_tcase(s, tc);
    return s;
}
