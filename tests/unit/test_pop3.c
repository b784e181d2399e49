/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pop3.c: command-line and message-number parsing. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "pop3.h"
#include "unit.h"

static int parse(const char *line, struct pop3_cmd *cmd, const char **err)
{
    static char buf[POP3_MAX_LINE + 1];

    snprintf(buf, sizeof buf, "%s", line);
    return pop3_parse_command(buf, cmd, err);
}

START_TEST(test_verb_case_and_args)
{
    struct pop3_cmd cmd;
    const char *err;

    ck_assert_int_eq(parse("retr 1", &cmd, &err), 0);
    ck_assert_str_eq(cmd.verb, "RETR");
    ck_assert_uint_eq(cmd.argc, 1);
    ck_assert_str_eq(cmd.argv[0], "1");

    ck_assert_int_eq(parse("ToP 3 10", &cmd, &err), 0);
    ck_assert_str_eq(cmd.verb, "TOP");
    ck_assert_uint_eq(cmd.argc, 2);
    ck_assert_str_eq(cmd.argv[1], "10");

    ck_assert_int_eq(parse("STAT", &cmd, &err), 0);
    ck_assert_uint_eq(cmd.argc, 0);
    ck_assert_str_eq(cmd.rest, "");

    /* Runs of spaces and trailing spaces, as some clients send. */
    ck_assert_int_eq(parse("LIST  2 ", &cmd, &err), 0);
    ck_assert_uint_eq(cmd.argc, 1);
    ck_assert_str_eq(cmd.argv[0], "2");
}
END_TEST

START_TEST(test_pass_rest_whole)
{
    struct pop3_cmd cmd;
    const char *err;

    ck_assert_int_eq(parse("PASS my secret  pass phrase", &cmd, &err), 0);
    ck_assert_str_eq(cmd.rest, "my secret  pass phrase");
    ck_assert_uint_eq(cmd.argc, POP3_MAX_ARGS + 1);
    ck_assert_int_eq(parse("PASS %s%n%x", &cmd, &err), 0);
    ck_assert_str_eq(cmd.rest, "%s%n%x");
}
END_TEST

START_TEST(test_bad_verbs)
{
    struct pop3_cmd cmd;
    const char *err;

    ck_assert_int_eq(parse("", &cmd, &err), -1);
    ck_assert_str_eq(err, "empty command");
    ck_assert_int_eq(parse("RETRX 1", &cmd, &err), -1);
    ck_assert_int_eq(parse("RE", &cmd, &err), -1);
    ck_assert_int_eq(parse("R3TR 1", &cmd, &err), -1);
    ck_assert_int_eq(parse(" RETR 1", &cmd, &err), -1);
    ck_assert_int_eq(parse("\x01\x02\x03", &cmd, &err), -1);
}
END_TEST

START_TEST(test_msgnum_strict)
{
    const char *err;
    size_t n = 0;

    ck_assert_int_eq(pop3_parse_msgnum("1", 5, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(pop3_parse_msgnum("5", 5, &n, &err), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(pop3_parse_msgnum("0005", 5, &n, &err), 0);
    ck_assert_uint_eq(n, 5);

    /* The classic: 2^32 + 1 must not wrap to message 1. */
    ck_assert_int_eq(pop3_parse_msgnum("4294967297", 5, &n, &err), -1);
    ck_assert_str_eq(err, "no such message");
    ck_assert_int_eq(pop3_parse_msgnum("18446744073709551617", 5, &n, &err), -1);
    ck_assert_str_eq(err, "no such message");
    ck_assert_int_eq(pop3_parse_msgnum("99999999999999999999999999", 5, &n, &err), -1);
    ck_assert_int_eq(pop3_parse_msgnum("6", 5, &n, &err), -1);
    ck_assert_str_eq(err, "no such message");
    ck_assert_int_eq(pop3_parse_msgnum("0", 5, &n, &err), -1);
    ck_assert_str_eq(err, "no such message");
    ck_assert_int_eq(pop3_parse_msgnum("1", 0, &n, &err), -1);

    ck_assert_int_eq(pop3_parse_msgnum("-1", 5, &n, &err), -1);
    ck_assert_str_eq(err, "invalid message number");
    ck_assert_int_eq(pop3_parse_msgnum("+1", 5, &n, &err), -1);
    ck_assert_int_eq(pop3_parse_msgnum("1x", 5, &n, &err), -1);
    ck_assert_str_eq(err, "invalid message number");
    ck_assert_int_eq(pop3_parse_msgnum(" 1", 5, &n, &err), -1);
    ck_assert_int_eq(pop3_parse_msgnum("0x1", 5, &n, &err), -1);
    ck_assert_int_eq(pop3_parse_msgnum("", 5, &n, &err), -1);
    ck_assert_str_eq(err, "missing message number");
}
END_TEST

START_TEST(test_count)
{
    const char *err;
    long n = -1;

    ck_assert_int_eq(pop3_parse_count("0", &n, &err), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(pop3_parse_count("10", &n, &err), 0);
    ck_assert_int_eq(n, 10);
    ck_assert_int_eq(pop3_parse_count("99999999999999999999999", &n, &err), 0);
    ck_assert_int_eq(n, LONG_MAX);
    ck_assert_int_eq(pop3_parse_count("-1", &n, &err), -1);
    ck_assert_int_eq(pop3_parse_count("1x", &n, &err), -1);
    ck_assert_int_eq(pop3_parse_count("", &n, &err), -1);
}
END_TEST

START_TEST(test_tables)
{
    ck_assert_ptr_nonnull(pop3_find(pop3_auth_commands, "USER"));
    ck_assert_ptr_null(pop3_find(pop3_auth_commands, "RETR"));
    ck_assert_ptr_nonnull(pop3_find(pop3_trans_commands, "RETR"));
    ck_assert_ptr_null(pop3_find(pop3_trans_commands, "PASS"));
    ck_assert(pop3_known_verb("UIDL"));
    ck_assert(!pop3_known_verb("XYZZ"));
}
END_TEST

Suite *suite_pop3(void)
{
    Suite *s = suite_create("pop3");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, test_verb_case_and_args);
    tcase_add_test(tc, test_pass_rest_whole);
    tcase_add_test(tc, test_bad_verbs);
    tcase_add_test(tc, test_msgnum_strict);
    tcase_add_test(tc, test_count);
    tcase_add_test(tc, test_tables);
    suite_add_tcase(s, tc);
    return s;
}
