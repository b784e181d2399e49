/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_username.c: the login name rules and account name lookups. */
#include <string.h>

#include "limits.h"
#include "unit.h"
#include "username.h"

/* Parse LOGIN and check the three outputs (NULL: expect NULL). */
static void expect(const char *login, const char *ldomain,
                   const struct username_rules *r, const char *user,
                   const char *local, const char *domain)
{
    struct username u;
    const char *err = NULL;

    ck_assert_msg(username_parse(login, ldomain, r, &u, &err) == 0,
                  "%s refused: %s", login, err);
    ck_assert_str_eq(u.user, user);
    ck_assert_str_eq(u.local_part, local);
    if (domain)
        ck_assert_str_eq(u.domain, domain);
    else
        ck_assert_ptr_null(u.domain);
    username_free(&u);
    ck_assert_ptr_null(u.user);
    ck_assert_ptr_null(u.local_part);
    ck_assert_ptr_null(u.domain);
}

static void refuse(const char *login, const char *ldomain,
                   const struct username_rules *r, const char *why)
{
    struct username u;
    const char *err = NULL;

    ck_assert_msg(username_parse(login, ldomain, r, &u, &err) == -1,
                  "accepted %s", login);
    ck_assert_str_eq(err, why);
    ck_assert_ptr_null(u.user);
    ck_assert_ptr_null(u.local_part);
    ck_assert_ptr_null(u.domain);
}

static const struct username_rules plain = { .separators = "@%" };

START_TEST(test_no_separator)
{
    expect("bob", NULL, &plain, "bob", "bob", NULL);
    expect("bob", "example.com", &plain, "bob", "bob", "example.com");
    /* Case is kept without lowercase-user. */
    expect("Bob", NULL, &plain, "Bob", "Bob", NULL);
}
END_TEST

START_TEST(test_separators)
{
    expect("bob@example.com", NULL, &plain, "bob@example.com", "bob",
           "example.com");
    /* '%' is a separator too, and the user is written with '@'. */
    expect("bob%example.com", NULL, &plain, "bob@example.com", "bob",
           "example.com");
    /* The name's own domain wins over the listener's. */
    expect("bob@example.com", "other.org", &plain, "bob@example.com", "bob",
           "example.com");
    /* Split at the first separator only. */
    expect("a%b@c", NULL, &plain, "a@b@c", "a", "b@c");
}
END_TEST

START_TEST(test_custom_separators)
{
    const struct username_rules plus = { .separators = "+" };
    const struct username_rules none = { .separators = "" };
    const struct username_rules null = { .separators = NULL };

    expect("bob+example.com", NULL, &plus, "bob@example.com", "bob",
           "example.com");
    /* '@' is an ordinary character when it is not a separator. */
    expect("bob@example.com", NULL, &plus, "bob@example.com",
           "bob@example.com", NULL);
    expect("bob@example.com", "x.org", &none, "bob@example.com",
           "bob@example.com", "x.org");
    expect("bob%x", NULL, &null, "bob%x", "bob%x", NULL);
}
END_TEST

START_TEST(test_empty_parts)
{
    refuse("@example.com", NULL, &plain, "empty local part in user name");
    refuse("%example.com", "x.org", &plain, "empty local part in user name");
    refuse("bob@", NULL, &plain, "empty domain in user name");
    refuse("bob%", "x.org", &plain, "empty domain in user name");
    refuse("@", NULL, &plain, "empty local part in user name");
}
END_TEST

START_TEST(test_lowercase)
{
    const struct username_rules lc = { .lowercase = true, .separators = "@%" };

    expect("BoB@ExAmple.COM", NULL, &lc, "bob@example.com", "bob",
           "example.com");
    /* Only the name the client gave is folded; bytes >= 0x80 are kept. */
    expect("ALICE", "Example.COM", &lc, "alice", "alice", "Example.COM");
    expect("J\xc3\x96RG", NULL, &lc, "j\xc3\x96rg", "j\xc3\x96rg", NULL);
}
END_TEST

START_TEST(test_append_domain)
{
    const struct username_rules ap = { .separators = "@%",
                                       .append_domain = true };

    expect("bob", "example.com", &ap, "bob@example.com", "bob",
           "example.com");
    /* Nothing to append without a listener domain. */
    expect("bob", NULL, &ap, "bob", "bob", NULL);
    /* A name with its own domain keeps it. */
    expect("bob@other.org", "example.com", &ap, "bob@other.org", "bob",
           "other.org");
    expect("bob%other.org", "example.com", &ap, "bob@other.org", "bob",
           "other.org");
}
END_TEST

START_TEST(test_strip_domain)
{
    const struct username_rules st = { .separators = "@%",
                                       .strip_domain = true };

    expect("bob@example.com", NULL, &st, "bob", "bob", "example.com");
    expect("bob", "example.com", &st, "bob", "bob", "example.com");
    expect("bob", NULL, &st, "bob", "bob", NULL);
}
END_TEST

START_TEST(test_combinations)
{
    const struct username_rules all = { .lowercase = true,
                                        .separators = "@%",
                                        .append_domain = true,
                                        .strip_domain = true };
    const struct username_rules lc_ap = { .lowercase = true,
                                          .separators = "@%",
                                          .append_domain = true };

    /* strip-domain wins over append-domain. */
    expect("BOB", "example.com", &all, "bob", "bob", "example.com");
    expect("Bob%Example.com", "x.org", &all, "bob", "bob", "example.com");
    expect("BOB", "Example.com", &lc_ap, "bob@Example.com", "bob",
           "Example.com");
    expect("BOB@X.ORG", "example.com", &lc_ap, "bob@x.org", "bob", "x.org");
}
END_TEST

START_TEST(test_hostile)
{
    char longname[POP3_MAX_USER + 2];
    char maxname[POP3_MAX_USER + 1];

    refuse("", NULL, &plain, "empty user name");
    refuse("../../etc/passwd", NULL, &plain, "'/' in user name");
    refuse("bob@../../etc", NULL, &plain, "'/' in user name");
    refuse("bob\n", NULL, &plain, "control character in user name");
    refuse("bob\r", NULL, &plain, "control character in user name");
    refuse("b\tob", NULL, &plain, "control character in user name");
    refuse("bob\x1b[2J", NULL, &plain, "control character in user name");
    refuse("bob\x7f", NULL, &plain, "control character in user name");
    refuse("bob", "ex/ample", &plain, "invalid listener domain");
    refuse("bob", "", &plain, "invalid listener domain");

    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    refuse(longname, NULL, &plain, "user name too long");

    memset(maxname, 'a', sizeof maxname - 1);
    maxname[sizeof maxname - 1] = '\0';
    expect(maxname, NULL, &plain, maxname, maxname, NULL);
}
END_TEST

START_TEST(test_append_too_long)
{
    const struct username_rules ap = { .separators = "@%",
                                       .append_domain = true };
    char name[POP3_MAX_USER + 1];

    /* The login fits, the login plus "@example.com" does not. */
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    refuse(name, "example.com", &ap, "user name too long");
}
END_TEST

START_TEST(test_lookup_user)
{
    uid_t uid = 42;
    gid_t gid = 42;
    const char *err = NULL;

    ck_assert_int_eq(username_lookup_user("root", &uid, &gid, &err), 0);
    ck_assert_uint_eq(uid, 0);
    ck_assert_uint_eq(gid, 0);
    ck_assert_int_eq(username_lookup_user("0", &uid, &gid, &err), 0);
    ck_assert_uint_eq(uid, 0);
    ck_assert_uint_eq(gid, 0);
    /* A number without a passwd entry is accepted, without a group. */
    ck_assert_int_eq(username_lookup_user("3999999", &uid, &gid, &err), 0);
    ck_assert_uint_eq(uid, 3999999);
    ck_assert_uint_eq(gid, (gid_t)-1);

    ck_assert_int_eq(username_lookup_user("no-such-user-x9", &uid, &gid,
                                          &err), -1);
    ck_assert_str_eq(err, "no such user");
    err = NULL;
    ck_assert_int_eq(username_lookup_user("", &uid, &gid, &err), -1);
    ck_assert_str_eq(err, "empty user name");
    /* Not numbers: looked up as names, and there are none such. */
    ck_assert_int_eq(username_lookup_user("-1", &uid, &gid, &err), -1);
    ck_assert_int_eq(username_lookup_user("4294967295", &uid, &gid, &err),
                     -1);
    ck_assert_int_eq(username_lookup_user("12x", &uid, &gid, &err), -1);
    ck_assert_int_eq(username_lookup_user(" 12", &uid, &gid, &err), -1);
}
END_TEST

START_TEST(test_lookup_group)
{
    gid_t gid = 42;
    const char *err = NULL;

    ck_assert_int_eq(username_lookup_group("root", &gid, &err), 0);
    ck_assert_uint_eq(gid, 0);
    ck_assert_int_eq(username_lookup_group("8", &gid, &err), 0);
    ck_assert_uint_eq(gid, 8);
    ck_assert_int_eq(username_lookup_group("4294967294", &gid, &err), 0);
    ck_assert_uint_eq(gid, 4294967294u);

    ck_assert_int_eq(username_lookup_group("no-such-group-x9", &gid, &err),
                     -1);
    ck_assert_str_eq(err, "no such group");
    ck_assert_int_eq(username_lookup_group("", &gid, &err), -1);
    ck_assert_str_eq(err, "empty group name");
    ck_assert_int_eq(username_lookup_group("4294967295", &gid, &err), -1);
    ck_assert_int_eq(username_lookup_group("99999999999999999999", &gid,
                                           &err), -1);
}
END_TEST

Suite *suite_username(void)
{
    Suite *s = suite_create("username");
    TCase *tc = tcase_create("rules");

    tcase_add_test(tc, test_no_separator);
    tcase_add_test(tc, test_separators);
    tcase_add_test(tc, test_custom_separators);
    tcase_add_test(tc, test_empty_parts);
    tcase_add_test(tc, test_lowercase);
    tcase_add_test(tc, test_append_domain);
    tcase_add_test(tc, test_strip_domain);
    tcase_add_test(tc, test_combinations);
    tcase_add_test(tc, test_hostile);
    tcase_add_test(tc, test_append_too_long);
    suite_add_tcase(s, tc);

    tc = tcase_create("lookup");
    tcase_add_test(tc, test_lookup_user);
    tcase_add_test(tc, test_lookup_group);
    suite_add_tcase(s, tc);
    return s;
}
