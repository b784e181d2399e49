/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_username.c: the login name rules and account name lookups. */
#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "unit.h"
#include "username.h"

/* One expected name: user, local part, domain (NULL: none). */
struct want {
    const char *user, *local, *domain;
};

/* Check the exact sequence of names tried for LOGIN (N of them). */
static void expect_tries(const char *login, const char *ldomain,
                         const struct username_rules *r, size_t n,
                         const struct want *w)
{
    struct username_tries t;
    const char *err = NULL;

    ck_assert_msg(username_tries(login, ldomain, r, &t, &err) == 0,
                  "%s refused: %s", login, err);
    ck_assert_msg(t.count == n, "%s: %zu names, expected %zu", login,
                  t.count, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(t.names[i].user, w[i].user);
        ck_assert_str_eq(t.names[i].local_part, w[i].local);
        if (w[i].domain)
            ck_assert_str_eq(t.names[i].domain, w[i].domain);
        else
            ck_assert_ptr_null(t.names[i].domain);
    }
    username_tries_free(&t);
    ck_assert_uint_eq(t.count, 0);
}

#define TRIES(login, ldomain, rules, ...) do { \
        const struct want w_[] = { __VA_ARGS__ }; \
        expect_tries(login, ldomain, rules, sizeof w_ / sizeof w_[0], w_); \
    } while (0)

/* Parse LOGIN and check the first name (NULL: expect NULL). */
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
    struct username_tries t;
    const char *err = NULL;

    ck_assert_msg(username_parse(login, ldomain, r, &u, &err) == -1,
                  "accepted %s", login);
    ck_assert_str_eq(err, why);
    ck_assert_ptr_null(u.user);
    ck_assert_ptr_null(u.local_part);
    ck_assert_ptr_null(u.domain);
    err = NULL;
    ck_assert_int_eq(username_tries(login, ldomain, r, &t, &err), -1);
    ck_assert_str_eq(err, why);
    ck_assert_uint_eq(t.count, 0);
}

static const struct username_rules plain = { .separators = "@%" };
static const struct username_rules ap = { .separators = "@%",
                                          .append_domain = true };
static const struct username_rules st = { .separators = "@%",
                                          .strip_domain = true };

START_TEST(test_no_separator)
{
    TRIES("bob", NULL, &plain, { "bob", "bob", NULL });
    TRIES("bob", "example.com", &plain, { "bob", "bob", "example.com" });
    /* Case is kept without lowercase-user. */
    TRIES("Bob", NULL, &plain, { "Bob", "Bob", NULL });
    expect("bob", "example.com", &plain, "bob", "bob", "example.com");
}
END_TEST

START_TEST(test_separators)
{
    TRIES("bob@example.com", NULL, &plain,
          { "bob@example.com", "bob", "example.com" });
    /* '%' is a separator too, and the user is written with '@'. */
    TRIES("bob%example.com", NULL, &plain,
          { "bob@example.com", "bob", "example.com" });
    /* The name's own domain wins over the listener's. */
    TRIES("bob@example.com", "other.org", &plain,
          { "bob@example.com", "bob", "example.com" });
    /* Split at the first separator only. */
    TRIES("a%b@c", NULL, &plain, { "a@b@c", "a", "b@c" });
    expect("bob%example.com", "x.org", &plain, "bob@example.com", "bob",
           "example.com");
}
END_TEST

START_TEST(test_custom_separators)
{
    const struct username_rules plus = { .separators = "+" };
    const struct username_rules none = { .separators = "" };
    const struct username_rules null = { .separators = NULL };
    const struct username_rules none_ap = { .separators = "",
                                            .append_domain = true,
                                            .strip_domain = true };

    TRIES("bob+example.com", NULL, &plus,
          { "bob@example.com", "bob", "example.com" });
    /* '@' is an ordinary character when it is not a separator. */
    TRIES("bob@example.com", NULL, &plus,
          { "bob@example.com", "bob@example.com", NULL });
    TRIES("bob@example.com", "x.org", &none,
          { "bob@example.com", "bob@example.com", "x.org" });
    TRIES("bob%x", NULL, &null, { "bob%x", "bob%x", NULL });
    /* Never split: a name has no domain, so append-domain applies and
     * strip-domain never does. */
    TRIES("bob@example.com", "x.org", &none_ap,
          { "bob@example.com", "bob@example.com", "x.org" },
          { "bob@example.com@x.org", "bob@example.com", "x.org" });
}
END_TEST

START_TEST(test_empty_parts)
{
    refuse("@example.com", NULL, &plain, "empty local part in user name");
    refuse("%example.com", "x.org", &plain, "empty local part in user name");
    refuse("bob@", NULL, &plain, "empty domain in user name");
    refuse("bob%", "x.org", &plain, "empty domain in user name");
    refuse("@", NULL, &plain, "empty local part in user name");
    /* The retry rules do not rescue a malformed name. */
    refuse("bob@", "x.org", &st, "empty domain in user name");
    refuse("@x.org", "x.org", &st, "empty local part in user name");
}
END_TEST

START_TEST(test_lowercase)
{
    const struct username_rules lc = { .lowercase = true, .separators = "@%" };

    TRIES("BoB@ExAmple.COM", NULL, &lc,
          { "bob@example.com", "bob", "example.com" });
    /* Only the name the client gave is folded; bytes >= 0x80 are kept. */
    TRIES("ALICE", "Example.COM", &lc, { "alice", "alice", "Example.COM" });
    TRIES("J\xc3\x96RG", NULL, &lc, { "j\xc3\x96rg", "j\xc3\x96rg", NULL });
}
END_TEST

START_TEST(test_append_domain)
{
    /* The name as given first, then with the listener's domain. */
    TRIES("bob", "example.com", &ap,
          { "bob", "bob", "example.com" },
          { "bob@example.com", "bob", "example.com" });
    /* Nothing to append without a listener domain. */
    TRIES("bob", NULL, &ap, { "bob", "bob", NULL });
    /* A name with its own domain keeps it, and is tried once. */
    TRIES("bob@other.org", "example.com", &ap,
          { "bob@other.org", "bob", "other.org" });
    TRIES("bob%other.org", "example.com", &ap,
          { "bob@other.org", "bob", "other.org" });
    /* The first name alone, for callers that want one. */
    expect("bob", "example.com", &ap, "bob", "bob", "example.com");
}
END_TEST

START_TEST(test_strip_domain)
{
    /* The name as given first, then its bare local part, which takes the
     * listener's domain (none here), never the one the client gave. */
    TRIES("bob@example.com", NULL, &st,
          { "bob@example.com", "bob", "example.com" },
          { "bob", "bob", NULL });
    TRIES("bob%other.org", "example.com", &st,
          { "bob@other.org", "bob", "other.org" },
          { "bob", "bob", "example.com" });
    /* A name without a domain has nothing to strip. */
    TRIES("bob", "example.com", &st, { "bob", "bob", "example.com" });
    TRIES("bob", NULL, &st, { "bob", "bob", NULL });
    /* Only the first separator counts: the rest stays in the domain. */
    TRIES("a@b@c", "x.org", &st,
          { "a@b@c", "a", "b@c" }, { "a", "a", "x.org" });
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
    const struct username_rules ap_st = { .separators = "@%",
                                          .append_domain = true,
                                          .strip_domain = true };

    /* append-domain applies to names without a domain, strip-domain to
     * names with one: never both, so never more than two names. */
    TRIES("BOB", "example.com", &all,
          { "bob", "bob", "example.com" },
          { "bob@example.com", "bob", "example.com" });
    TRIES("Bob%Example.com", "x.org", &all,
          { "bob@example.com", "bob", "example.com" },
          { "bob", "bob", "x.org" });
    /* The stripped name is not tried with the listener's domain
     * appended: one retry, as in the original tpop3d. */
    TRIES("bob@other.org", "example.com", &ap_st,
          { "bob@other.org", "bob", "other.org" },
          { "bob", "bob", "example.com" });
    TRIES("bob", NULL, &all, { "bob", "bob", NULL });
    /* The listener's domain is never folded. */
    TRIES("BOB", "Example.com", &lc_ap,
          { "bob", "bob", "Example.com" },
          { "bob@Example.com", "bob", "Example.com" });
    TRIES("BOB@X.ORG", "example.com", &lc_ap,
          { "bob@x.org", "bob", "x.org" });
    TRIES("BOB@X.ORG", "example.com", &ap_st,
          { "BOB@X.ORG", "BOB", "X.ORG" },
          { "BOB", "BOB", "example.com" });
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
    /* The listener's domain can reach the drivers whatever the name. */
    refuse("bob@x.org", "ex/ample", &st, "invalid listener domain");
    refuse("bob", "ex\nample", &ap, "invalid listener domain");

    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    refuse(longname, NULL, &plain, "user name too long");

    memset(maxname, 'a', sizeof maxname - 1);
    maxname[sizeof maxname - 1] = '\0';
    TRIES(maxname, NULL, &plain, { maxname, maxname, NULL });
}
END_TEST

START_TEST(test_append_too_long)
{
    char name[POP3_MAX_USER + 1];
    char fits[POP3_MAX_USER - 4 + 1];
    char joined[POP3_MAX_USER + 1];

    /* The login fits, the login plus "@example.com" does not: the retry
     * is left out, the name as given is still tried. */
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    TRIES(name, "example.com", &ap, { name, name, "example.com" });

    /* Exactly POP3_MAX_USER with "@x.y" appended: kept. */
    memset(fits, 'b', sizeof fits - 1);
    fits[sizeof fits - 1] = '\0';
    snprintf(joined, sizeof joined, "%s@x.y", fits);
    ck_assert_uint_eq(strlen(joined), POP3_MAX_USER);
    TRIES(fits, "x.y", &ap, { fits, fits, "x.y" }, { joined, fits, "x.y" });
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
