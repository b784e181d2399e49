/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_authcache.c: the shared cache of successful logins. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authcache.h"
#include "unit.h"

#define LIFE 10000

static struct auth_request pass_req(const char *user, const char *password,
                                    const char *host)
{
    return (struct auth_request){
        .method = AUTH_METHOD_PASS,
        .user = user,
        .local_part = user,
        .clienthost = host,
        .serverhost = "127.0.0.1",
        .password = password,
    };
}

static struct auth_result sample_result(const char *user)
{
    return (struct auth_result){
        .uid = 1234,
        .gid = 567,
        .user = (char *)user,
        .local_part = (char *)"alice",
        .domain = (char *)"example.com",
        .home = NULL,
        .mailbox = (char *)"bsd:/var/spool/vmail/example.com/alice",
        .driver = "mysql",
    };
}

static struct authcache *make(size_t nslots, bool use_host)
{
    char *err = NULL;
    struct authcache *c = authcache_create(nslots, LIFE, use_host, &err);

    ck_assert_msg(c != NULL, "authcache_create: %s", err ? err : "?");
    return c;
}

static bool hit(struct authcache *c, const char *user, const char *pw,
                const char *host, int64_t now)
{
    struct auth_request req = pass_req(user, pw, host);
    struct auth_result res;
    bool found;

    memset(&res, 0xa5, sizeof res);
    found = authcache_lookup(c, &req, now, &res);
    if (found)
        auth_result_free(&res);
    return found;
}

static void put(struct authcache *c, const char *user, const char *pw,
                const char *host, int64_t now)
{
    struct auth_request req = pass_req(user, pw, host);
    struct auth_result res = sample_result(user);

    ck_assert(authcache_store(c, &req, &res, now));
}

START_TEST(hit_returns_the_result)
{
    struct authcache *c = make(64, false);
    struct auth_request req = pass_req("alice@example.com", "Pw-1", "192.0.2.1");
    struct auth_result in = sample_result("alice@example.com"), out;

    ck_assert(authcache_store(c, &req, &in, 1000));
    ck_assert_uint_eq(authcache_count(c), 1);
    ck_assert(authcache_lookup(c, &req, 2000, &out));
    ck_assert_uint_eq(out.uid, 1234);
    ck_assert_uint_eq(out.gid, 567);
    ck_assert_str_eq(out.user, "alice@example.com");
    ck_assert_str_eq(out.local_part, "alice");
    ck_assert_str_eq(out.domain, "example.com");
    ck_assert_ptr_null(out.home);
    ck_assert_str_eq(out.mailbox, "bsd:/var/spool/vmail/example.com/alice");
    /* The static name from the driver table, not a copy. */
    ck_assert_ptr_eq(out.driver, auth_driver_mysql.name);
    auth_result_free(&out);
    authcache_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(misses)
{
    struct authcache *c = make(64, false);
    struct auth_request apop = {
        .method = AUTH_METHOD_APOP, .user = "alice", .local_part = "alice",
        .timestamp = "<1.2@h>", .digest = "00000000000000000000000000000000",
    };
    struct auth_result res = sample_result("alice");

    put(c, "alice", "Pw-1", NULL, 1000);
    ck_assert(hit(c, "alice", "Pw-1", NULL, 1001));
    ck_assert(!hit(c, "alice", "Pw-2", NULL, 1001));
    ck_assert(!hit(c, "alice", "Pw-", NULL, 1001));
    ck_assert(!hit(c, "alice", "Pw-11", NULL, 1001));
    ck_assert(!hit(c, "alice", "", NULL, 1001));
    ck_assert(!hit(c, "Alice", "Pw-1", NULL, 1001));
    ck_assert(!hit(c, "bob", "Pw-1", NULL, 1001));
    /* APOP is neither stored nor answered. */
    ck_assert(!authcache_store(c, &apop, &res, 1000));
    ck_assert(!authcache_lookup(c, &apop, 1001, &res));
    ck_assert_uint_eq(authcache_count(c), 1);
    authcache_destroy(&c);
}
END_TEST

START_TEST(expiry)
{
    struct authcache *c = make(64, false);

    put(c, "alice", "Pw-1", NULL, 5000);
    ck_assert(hit(c, "alice", "Pw-1", NULL, 5000));
    ck_assert(hit(c, "alice", "Pw-1", NULL, 5000 + LIFE - 1));
    ck_assert(!hit(c, "alice", "Pw-1", NULL, 5000 + LIFE));
    ck_assert(!hit(c, "alice", "Pw-1", NULL, 5000 + 10 * LIFE));
    /* A stamp later than the clock is not trusted. */
    ck_assert(!hit(c, "alice", "Pw-1", NULL, 4999));
    /* A hit does not extend the entry: the driver must say yes again. */
    ck_assert(hit(c, "alice", "Pw-1", NULL, 5000 + LIFE - 2));
    ck_assert(!hit(c, "alice", "Pw-1", NULL, 5000 + LIFE));
    authcache_destroy(&c);
}
END_TEST

START_TEST(new_password_replaces_old)
{
    struct authcache *c = make(64, false);

    put(c, "alice", "Old-pw", NULL, 1000);
    put(c, "alice", "New-pw", NULL, 2000);
    ck_assert_uint_eq(authcache_count(c), 1);
    ck_assert(hit(c, "alice", "New-pw", NULL, 2001));
    ck_assert(!hit(c, "alice", "Old-pw", NULL, 2001));
    authcache_destroy(&c);
}
END_TEST

START_TEST(client_host_keying)
{
    struct authcache *byhost = make(64, true), *any = make(64, false);

    put(byhost, "alice", "Pw-1", "192.0.2.1", 1000);
    ck_assert(hit(byhost, "alice", "Pw-1", "192.0.2.1", 1001));
    ck_assert(!hit(byhost, "alice", "Pw-1", "192.0.2.10", 1001));
    ck_assert(!hit(byhost, "alice", "Pw-1", "2001:db8::1", 1001));
    ck_assert(!hit(byhost, "alice", "Pw-1", NULL, 1001));
    /* One entry per address. */
    put(byhost, "alice", "Pw-1", "2001:db8::1", 1000);
    ck_assert_uint_eq(authcache_count(byhost), 2);
    ck_assert(hit(byhost, "alice", "Pw-1", "2001:db8::1", 1001));

    put(any, "alice", "Pw-1", "192.0.2.1", 1000);
    ck_assert(hit(any, "alice", "Pw-1", "192.0.2.99", 1001));
    ck_assert(hit(any, "alice", "Pw-1", NULL, 1001));
    authcache_destroy(&byhost);
    authcache_destroy(&any);
}
END_TEST

START_TEST(full_table_evicts_oldest)
{
    /* Eight slots: every key's neighbourhood is the whole table. */
    struct authcache *c = make(8, false);
    char name[16];

    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "user%d", i);
        put(c, name, "Pw", NULL, 1000 + i);
    }
    ck_assert_uint_eq(authcache_count(c), 8);
    put(c, "user8", "Pw", NULL, 2000);
    ck_assert_uint_eq(authcache_count(c), 8);
    ck_assert(!hit(c, "user0", "Pw", NULL, 2001));
    for (int i = 1; i <= 8; i++) {
        snprintf(name, sizeof name, "user%d", i);
        ck_assert_msg(hit(c, name, "Pw", NULL, 2001), "%s evicted", name);
    }
    /* A one-slot table still works. */
    authcache_destroy(&c);
    c = make(1, false);
    put(c, "a", "Pw", NULL, 1);
    put(c, "b", "Pw", NULL, 2);
    ck_assert(!hit(c, "a", "Pw", NULL, 3));
    ck_assert(hit(c, "b", "Pw", NULL, 3));
    authcache_destroy(&c);
}
END_TEST

START_TEST(oversized_results_not_cached)
{
    struct authcache *c = make(64, false);
    struct auth_request req = pass_req("alice", "Pw-1", NULL);
    struct auth_result res = sample_result("alice");
    char *longpath = malloc(AUTHCACHE_MAX_PATH + 1);

    memset(longpath, 'a', AUTHCACHE_MAX_PATH);
    longpath[AUTHCACHE_MAX_PATH] = '\0';
    res.home = longpath;
    ck_assert(!authcache_store(c, &req, &res, 1000));
    ck_assert(!hit(c, "alice", "Pw-1", NULL, 1001));
    longpath[AUTHCACHE_MAX_PATH - 1] = '\0';        /* now it just fits */
    ck_assert(authcache_store(c, &req, &res, 1000));
    ck_assert(hit(c, "alice", "Pw-1", NULL, 1001));
    res.home = NULL;
    res.driver = "a-driver-with-a-long-name";
    req = pass_req("bob", "Pw-1", NULL);
    ck_assert(!authcache_store(c, &req, &res, 1000));
    /* A driver name not in the table is never answered. */
    res.driver = "nosuch";
    req = pass_req("carol", "Pw-1", NULL);
    ck_assert(authcache_store(c, &req, &res, 1000));
    ck_assert(!hit(c, "carol", "Pw-1", NULL, 1001));
    free(longpath);
    authcache_destroy(&c);
}
END_TEST

START_TEST(shared_with_children)
{
    struct authcache *c = make(64, false);
    pid_t pid = fork();
    int status;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct auth_request req = pass_req("alice", "Pw-1", NULL);
        struct auth_result res = sample_result("alice");

        _exit(authcache_store(c, &req, &res, 1000) ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert(hit(c, "alice", "Pw-1", NULL, 1001));
    authcache_destroy(&c);
}
END_TEST

START_TEST(dead_lock_holder_does_not_wedge)
{
    struct authcache *c = make(64, false);
    int pfd[2];
    char b;
    pid_t pid;

    put(c, "alice", "Pw-1", NULL, 1000);
    ck_assert_int_eq(pipe(pfd), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(pfd[0]);
        if (!authcache_lock_for_test(c))
            _exit(1);
        if (write(pfd[1], "L", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(pfd[1]);
    ck_assert_int_eq(read(pfd[0], &b, 1), 1);
    close(pfd[0]);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    /* Check's per-test timeout fails this test if the lock is wedged. */
    ck_assert(hit(c, "alice", "Pw-1", NULL, 1001));
    put(c, "bob", "Pw-2", NULL, 1000);
    ck_assert(hit(c, "bob", "Pw-2", NULL, 1001));
    ck_assert_uint_eq(authcache_count(c), 2);

    /* A holder that exits without unlocking, too. */
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(authcache_lock_for_test(c) ? 0 : 1);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    ck_assert(hit(c, "bob", "Pw-2", NULL, 1001));
    authcache_destroy(&c);
}
END_TEST

Suite *suite_authcache(void)
{
    Suite *s = suite_create("authcache");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, hit_returns_the_result);
    tcase_add_test(tc, misses);
    tcase_add_test(tc, expiry);
    tcase_add_test(tc, new_password_replaces_old);
    tcase_add_test(tc, client_host_keying);
    tcase_add_test(tc, full_table_evicts_oldest);
    tcase_add_test(tc, oversized_results_not_cached);
    tcase_add_test(tc, shared_with_children);
    tcase_add_test(tc, dead_lock_holder_does_not_wedge);
    suite_add_tcase(s, tc);
    return s;
}
