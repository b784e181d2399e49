/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_subst.c: $(name) substitution, its errors and the path-safety rule. */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "subst.h"
#include "unit.h"

static const struct subst_vars vars = {
    .user = "alice@example.com",
    .local_part = "alice",
    .domain = "example.com",
    .home = "/home/alice",
    .clienthost = "192.0.2.1",
    .serverhost = "2001:db8::2",
};

/* Expand T with V and FLAGS; the result (allocated) or NULL with *ERR. */
static char *expand(const char *t, const struct subst_vars *v, unsigned flags,
                    const char **err)
{
    struct strbuf sb;

    *err = NULL;
    strbuf_init(&sb, 256);
    if (subst_expand(t, v, flags, &sb, err) < 0) {
        ck_assert_ptr_nonnull(*err);
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_detach(&sb);
}

#define ck_expand(t, want) do {                                         \
        const char *err_;                                               \
        char *got_ = expand((t), &vars, 0, &err_);                      \
        ck_assert_msg(got_ != NULL, "%s: %s", (t), err_);               \
        ck_assert_str_eq(got_, (want));                                 \
        free(got_);                                                     \
    } while (0)

#define ck_expand_fails(t, v, flags, want) do {                         \
        const char *err_;                                               \
        char *got_ = expand((t), (v), (flags), &err_);                  \
        ck_assert_msg(got_ == NULL, "%s gave %s", (t), got_);           \
        ck_assert_str_eq(err_, (want));                                 \
    } while (0)

START_TEST(test_variables)
{
    ck_expand("$(user)", "alice@example.com");
    ck_expand("$(local_part)", "alice");
    ck_expand("$(domain)", "example.com");
    ck_expand("$(home)", "/home/alice");
    ck_expand("$(clienthost)", "192.0.2.1");
    ck_expand("$(serverhost)", "2001:db8::2");
    ck_expand("/var/spool/$(domain)/$(local_part)/mbox",
              "/var/spool/example.com/alice/mbox");
    ck_expand("$(local_part)$(local_part)", "alicealice");
    ck_expand("", "");
    ck_expand("plain text", "plain text");
}
END_TEST

START_TEST(test_indices)
{
    ck_expand("$(user[0])", "a");
    ck_expand("$(user[-1])", "m");
    ck_expand("$(local_part[4])", "e");
    ck_expand("$(local_part[-5])", "a");
    ck_expand("/var/mail/$(local_part[0])/$(local_part[0])$(local_part[1])/$(local_part)",
              "/var/mail/a/al/alice");
    ck_expand("$(domain[-3])", "c");
    ck_expand("$(home[0])", "/");
    ck_expand("$(user[007])", "x");
    ck_expand_fails("$(local_part[5])", &vars, 0, "index out of range in $(...)");
    ck_expand_fails("$(local_part[-6])", &vars, 0, "index out of range in $(...)");
    ck_expand_fails("$(user[999999])", &vars, 0, "index out of range in $(...)");
    ck_expand_fails("$(user[1234567])", &vars, 0, "index too large in $(...)");
    ck_expand_fails("$(user[-0])", &vars, 0,
                    "malformed index in $(...): expected [N] or [-N]");
    ck_expand_fails("$(user[])", &vars, 0,
                    "malformed index in $(...): expected [N] or [-N]");
    ck_expand_fails("$(user[x])", &vars, 0,
                    "malformed index in $(...): expected [N] or [-N]");
    ck_expand_fails("$(user[+1])", &vars, 0,
                    "malformed index in $(...): expected [N] or [-N]");
    ck_expand_fails("$(user[1)", &vars, 0,
                    "malformed index in $(...): expected [N] or [-N]");
    ck_expand_fails("$(user[1]x)", &vars, 0, "unexpected character in $(...)");
    ck_expand_fails("$(user[1][2])", &vars, 0, "unexpected character in $(...)");

    /* An index on an empty value is always out of range. */
    struct subst_vars v = vars;
    v.domain = "";
    ck_expand_fails("$(domain[0])", &v, 0, "index out of range in $(...)");
    ck_expand_fails("$(domain[-1])", &v, 0, "index out of range in $(...)");
}
END_TEST

START_TEST(test_dollars)
{
    ck_expand("$$", "$");
    ck_expand("$$$$", "$$");
    ck_expand("$$(user)", "$(user)");
    ck_expand("a$b", "a$b");
    ck_expand("cost: 5$", "cost: 5$");
    ck_expand("$", "$");
    ck_expand("$$$(local_part)", "$alice");
    ck_expand("$user", "$user");
    ck_expand("$[user]", "$[user]");
}
END_TEST

START_TEST(test_syntax_errors)
{
    ck_expand_fails("$(user", &vars, 0, "unterminated $(");
    ck_expand_fails("/x/$(", &vars, 0, "unterminated $(");
    ck_expand_fails("$(user[1]", &vars, 0, "unterminated $(");
    ck_expand_fails("$(user[", &vars, 0, "unterminated $(");
    ck_expand_fails("$(user[-", &vars, 0, "unterminated $(");
    ck_expand_fails("$()", &vars, 0, "missing variable name after $(");
    ck_expand_fails("$( user)", &vars, 0, "missing variable name after $(");
    ck_expand_fails("$(usr)", &vars, 0, "unknown variable in $(...)");
    ck_expand_fails("$(USER)", &vars, 0, "unknown variable in $(...)");
    ck_expand_fails("$(users)", &vars, 0, "unknown variable in $(...)");
    ck_expand_fails("$(use)", &vars, 0, "unknown variable in $(...)");
    ck_expand_fails("$(user )", &vars, 0, "unexpected character in $(...)");
    ck_expand_fails("$(user-1)", &vars, 0, "unexpected character in $(...)");
}
END_TEST

START_TEST(test_missing_value)
{
    struct subst_vars v = { 0 };

    ck_expand_fails("$(user)", &v, 0, "no value for $(user)");
    ck_expand_fails("$(local_part)", &v, 0, "no value for $(local_part)");
    ck_expand_fails("/m/$(domain)/x", &v, 0, "no value for $(domain)");
    ck_expand_fails("$(home)", &v, 0, "no value for $(home)");
    ck_expand_fails("$(clienthost)", &v, 0, "no value for $(clienthost)");
    ck_expand_fails("$(serverhost[0])", &v, 0, "no value for $(serverhost)");
    /* A template that does not use the missing value still works. */
    const char *err;
    char *got = expand("no variables $$", &v, SUBST_PATH_SAFE, &err);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, "no variables $");
    free(got);
}
END_TEST

START_TEST(test_path_safe)
{
    struct subst_vars v = vars;
    const char *err;
    char *got;

    got = expand("/var/mail/$(local_part)", &vars, SUBST_PATH_SAFE, &err);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, "/var/mail/alice");
    free(got);
    /* $(home) is a path and exempt. */
    got = expand("$(home)/Maildir", &vars, SUBST_PATH_SAFE, &err);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, "/home/alice/Maildir");
    free(got);
    /* IPv6 addresses have ':' but no '/'. */
    got = expand("$(serverhost)", &vars, SUBST_PATH_SAFE, &err);
    ck_assert_ptr_nonnull(got);
    free(got);

    v.local_part = "../x";
    ck_expand_fails("/var/mail/$(local_part)", &v, SUBST_PATH_SAFE,
                    "unsafe value: starts with '.'");
    v.local_part = "a/b";
    ck_expand_fails("/var/mail/$(local_part)", &v, SUBST_PATH_SAFE,
                    "unsafe value: contains '/'");
    v.local_part = ".";
    ck_expand_fails("/var/mail/$(local_part)", &v, SUBST_PATH_SAFE,
                    "unsafe value: starts with '.'");
    v.local_part = "..";
    ck_expand_fails("/var/mail/$(local_part)", &v, SUBST_PATH_SAFE,
                    "unsafe value: starts with '.'");
    v.local_part = ".hidden";
    ck_expand_fails("/var/mail/$(local_part)", &v, SUBST_PATH_SAFE,
                    "unsafe value: starts with '.'");
    v.local_part = "";
    ck_expand_fails("/var/mail/$(local_part)", &v, SUBST_PATH_SAFE,
                    "unsafe value: empty");
    v.domain = "evil/../../etc";
    ck_expand_fails("/var/mail/$(domain)", &v, SUBST_PATH_SAFE,
                    "unsafe value: contains '/'");
    /* One character taken by index is checked too. */
    v.user = "/x.";
    ck_expand_fails("$(user[0])", &v, SUBST_PATH_SAFE,
                    "unsafe value: contains '/'");
    ck_expand_fails("$(user[-1])", &v, SUBST_PATH_SAFE,
                    "unsafe value: starts with '.'");
    got = expand("$(user[1])", &v, SUBST_PATH_SAFE, &err);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, "x");
    free(got);

    /* Without the flag the same values pass untouched. */
    v.local_part = "../x";
    got = expand("/var/mail/$(local_part)", &v, 0, &err);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, "/var/mail/../x");
    free(got);
    /* Dots inside a value are fine. */
    v.local_part = "john.smith";
    got = expand("/var/mail/$(local_part)", &v, SUBST_PATH_SAFE, &err);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, "/var/mail/john.smith");
    free(got);
}
END_TEST

START_TEST(test_result_cap)
{
    struct strbuf sb;
    const char *err = NULL;

    strbuf_init(&sb, 10);
    ck_assert_int_eq(strbuf_appends(&sb, "X:"), 0);
    /* Appends to what is there. */
    ck_assert_int_eq(subst_expand("$(local_part)", &vars, 0, &sb, &err), 0);
    ck_assert_str_eq(strbuf_str(&sb), "X:alice");
    /* Too long: fails and leaves the buffer as it was. */
    ck_assert_int_eq(subst_expand("-$(local_part)", &vars, 0, &sb, &err), -1);
    ck_assert_str_eq(err, "result too long");
    ck_assert_str_eq(strbuf_str(&sb), "X:alice");
    ck_assert_uint_eq(sb.len, 7);
    /* Literal text counts as well. */
    ck_assert_int_eq(subst_expand("abcd", &vars, 0, &sb, &err), -1);
    ck_assert_str_eq(err, "result too long");
    ck_assert_int_eq(subst_expand("$$$$$$$$", &vars, 0, &sb, &err), -1);
    ck_assert_str_eq(strbuf_str(&sb), "X:alice");
    /* Exactly to the cap is fine. */
    ck_assert_int_eq(subst_expand("abc", &vars, 0, &sb, &err), 0);
    ck_assert_str_eq(strbuf_str(&sb), "X:aliceabc");
    /* A later error also rolls back the text expanded before it. */
    strbuf_reset(&sb);
    ck_assert_int_eq(subst_expand("ab$(nope)", &vars, 0, &sb, &err), -1);
    ck_assert_str_eq(err, "unknown variable in $(...)");
    ck_assert_str_eq(strbuf_str(&sb), "");
    ck_assert_uint_eq(sb.len, 0);
    strbuf_free(&sb);
}
END_TEST

START_TEST(test_check)
{
    const char *err = NULL;

    ck_assert_int_eq(subst_check("/var/mail/$(user)", &err), 0);
    ck_assert_int_eq(subst_check("$(home)/Maildir", &err), 0);
    ck_assert_int_eq(subst_check("/m/$(domain)/$(local_part[0])/$(local_part[-1])",
                                 &err), 0);
    ck_assert_int_eq(subst_check("$(clienthost) $(serverhost) $$ $", &err), 0);
    ck_assert_int_eq(subst_check("", &err), 0);
    /* No values needed, so no range check: [50] is fine here. */
    ck_assert_int_eq(subst_check("$(user[50])", &err), 0);

    ck_assert_int_eq(subst_check("$(usr)", &err), -1);
    ck_assert_str_eq(err, "unknown variable in $(...)");
    ck_assert_int_eq(subst_check("/var/$(user", &err), -1);
    ck_assert_str_eq(err, "unterminated $(");
    ck_assert_int_eq(subst_check("$(user[a])", &err), -1);
    ck_assert_str_eq(err, "malformed index in $(...): expected [N] or [-N]");
    ck_assert_int_eq(subst_check("$()", &err), -1);
    ck_assert_str_eq(err, "missing variable name after $(");
}
END_TEST

Suite *suite_subst(void)
{
    Suite *s = suite_create("subst");
    TCase *tc = tcase_create("subst");

    tcase_add_test(tc, test_variables);
    tcase_add_test(tc, test_indices);
    tcase_add_test(tc, test_dollars);
    tcase_add_test(tc, test_syntax_errors);
    tcase_add_test(tc, test_missing_value);
    tcase_add_test(tc, test_path_safe);
    tcase_add_test(tc, test_result_cap);
    tcase_add_test(tc, test_check);
    suite_add_tcase(s, tc);
    return s;
}
