/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_flatfile.c: the password checks as the flatfile and passwd drivers
 * make them through the authswitch: files, rules, APOP, CRAM-MD5 and
 * SCRAM-SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth.h"
#include "config.h"
#include "limits.h"
#include "password.h"
#include "strbuf.h"
#include "unit.h"
#include "xalloc.h"

/* openssl passwd -6 -salt saltsalt secret6 */
#define SHA512_CRYPT "$6$saltsalt$LMtDgChSrV.wGnnrAr7LXtxT9OYdesYYRBi0J7VAO0U" \
    "oNpOTX5uxqMPmQ0Gkk2HMqd/t1jYDOamm5q1ro0ZhX/"
/* RFC 1939 section 7's APOP timestamp */
#define RFC_TS "<1896.697170952@dbc.mtview.ca.us>"

/* The authswitch with the flatfile driver, on files in a fresh directory. */

static char *ffdir;

/* One file for all domains; the last line has no newline. */
#define ALL_PASSWD "bob@example.com:{plain}one\n" \
                   "bob@other.org:{plain}two\n" \
                   "plainbob:{plain}three"

static void ff_setup(void)
{
    char path[512], big[6000];
    FILE *fp;

    ffdir = unit_tmpdir();
    snprintf(path, sizeof path, "%s/example.com.passwd", ffdir);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    /* A long line that would name dave if it were read. */
    memset(big, 'x', sizeof big);
    fprintf(fp, "# users of example.com\n"
                "\n"
                "bob:{plain}bobpass\n"
                "alice:%s:1000:1000::/home/alice:/bin/sh\r\n"
                "dave:{plain}davepass:%.*s\n"
                "carol:{plaintext}tanstaaf\n"
                "nopass:\n"
                "bob:{plain}second-bob-entry\n"
                "erin:{rot13}x\n"
                "george\n"
                "frank:{plain}frankpass", SHA512_CRYPT, (int)sizeof big, big);
    ck_assert_int_eq(fclose(fp), 0);

    /* fopen() opens a directory, reading it fails: a read error. */
    snprintf(path, sizeof path, "%s/broken.org.passwd", ffdir);
    ck_assert_int_eq(mkdir(path, 0700), 0);

    snprintf(path, sizeof path, "%s/all.passwd", ffdir);
    unit_write_file(path, ALL_PASSWD, strlen(ALL_PASSWD));
}

static void ff_teardown(void)
{
    auth_close();
    unit_rmtree(ffdir);
    free(ffdir);
}

/* A config from TEXT with "@DIR@" replaced by the test directory. */
static struct config *ff_config(const char *text)
{
    struct strbuf sb;
    const char *at;
    struct config *cfg;
    char *err = NULL;

    strbuf_init(&sb, 65536);
    while ((at = strstr(text, "@DIR@")) != NULL) {
        ck_assert_int_eq(strbuf_append(&sb, text, (size_t)(at - text)), 0);
        ck_assert_int_eq(strbuf_appends(&sb, ffdir), 0);
        text = at + 5;
    }
    ck_assert_int_eq(strbuf_appends(&sb, text), 0);
    cfg = config_parse(strbuf_str(&sb), sb.len, "test.conf", &err);
    ck_assert_msg(cfg != NULL, "config: %s", err);
    strbuf_free(&sb);
    return cfg;
}

/* auth_init() fails with ERR for config TEXT. */
static void init_fails(const char *text, const char *want)
{
    struct config *cfg = ff_config(text);
    char *err = NULL;

    ck_assert_int_eq(auth_init(cfg, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
    ck_assert(!auth_can_apop());
    free(err);
    config_free(&cfg);
}

/* A driver configure left out is known by name and refused clearly. */
START_TEST(test_not_compiled)
{
#ifndef AUTH_PASSWD
    init_fails("auth-passwd-enable: yes\n",
               "test.conf:1: auth-passwd-enable: the passwd driver is not "
               "compiled in (configure with --enable-auth-passwd)");
#endif
#ifndef AUTH_FLATFILE
    init_fails("\nauth-flatfile-enable: yes\n",
               "test.conf:2: auth-flatfile-enable: the flatfile driver is not "
               "compiled in (configure with --enable-auth-flatfile)");
#endif
}
END_TEST

START_TEST(test_ff_table)
{
    const char *names[] = { "passwd", "flatfile", "pam", "mysql", "gdbm",
                            "other" };
    size_t i;

    for (i = 0; auth_drivers[i]; i++) {
        ck_assert_uint_lt(i, sizeof names / sizeof names[0]);
        ck_assert_str_eq(auth_drivers[i]->name, names[i]);
        ck_assert_ptr_nonnull(auth_drivers[i]->description);
    }
    ck_assert_uint_eq(i, sizeof names / sizeof names[0]);
    ck_assert_int_eq(auth_drivers[0]->enable_key, CFG_AUTH_PASSWD_ENABLE);
    ck_assert_int_eq(auth_drivers[1]->enable_key, CFG_AUTH_FLATFILE_ENABLE);
    ck_assert_int_eq(auth_drivers[2]->enable_key, CFG_AUTH_PAM_ENABLE);
    ck_assert_int_eq(auth_drivers[3]->enable_key, CFG_AUTH_MYSQL_ENABLE);
    ck_assert_int_eq(auth_drivers[4]->enable_key, CFG_AUTH_GDBM_ENABLE);
    ck_assert_int_eq(auth_drivers[5]->enable_key, CFG_AUTH_OTHER_ENABLE);
}
END_TEST

#if defined(AUTH_FLATFILE) || defined(AUTH_PASSWD)
static enum auth_status ff_pass(const struct config *cfg, const char *login,
                                const char *password, const char *ldomain,
                                struct auth_result *res)
{
    const struct auth_attempt att = {
        .method = AUTH_METHOD_PASS,
        .login = login,
        .password = password,
        .clienthost = "192.0.2.1",
        .serverhost = "192.0.2.2",
        .listener_domain = ldomain,
    };

    return auth_authenticate(cfg, &att, res);
}
#endif

#ifdef AUTH_FLATFILE
#define FF_PER_DOMAIN \
    "auth-flatfile-enable: yes\n" \
    "auth-flatfile-passwd-file: @DIR@/$(domain).passwd\n" \
    "auth-flatfile-mail-user: 4321\n" \
    "auth-flatfile-mail-group: 4322\n"

static struct config *ff_start(const char *extra)
{
    struct config *cfg;
    char *text = xasprintf("%s%s", FF_PER_DOMAIN, extra);
    char *err = NULL;

    cfg = ff_config(text);
    free(text);
    ck_assert_msg(auth_init(cfg, &err) == 0, "auth_init: %s", err);
    return cfg;
}

static enum auth_status ff_apop(const struct config *cfg, const char *login,
                                const char *digest, struct auth_result *res)
{
    const struct auth_attempt att = {
        .method = AUTH_METHOD_APOP,
        .login = login,
        .timestamp = RFC_TS,
        .digest = digest,
        .clienthost = "192.0.2.1",
        .serverhost = "192.0.2.2",
    };

    return auth_authenticate(cfg, &att, res);
}

START_TEST(test_ff_init_errors)
{
    init_fails("", "no authentication driver is enabled (set "
                   "auth-flatfile-enable or auth-passwd-enable)");
    init_fails("auth-flatfile-enable: yes\n"
               "auth-flatfile-mail-user: 4321\n",
               "auth-flatfile-passwd-file: must be set");
    init_fails("auth-flatfile-enable: yes\n"
               "auth-flatfile-passwd-file: /x\n",
               "auth-flatfile-mail-user: must be set");
    init_fails("auth-flatfile-enable: yes\n"
               "auth-flatfile-passwd-file: /x\n"
               "auth-flatfile-mail-user: root\n",
               "test.conf:3: auth-flatfile-mail-user: root: mailboxes may "
               "not be accessed as root");
    init_fails("auth-flatfile-enable: yes\n"
               "auth-flatfile-passwd-file: /x\n"
               "auth-flatfile-mail-user: 0\n", "as root");
    init_fails("auth-flatfile-enable: yes\n"
               "auth-flatfile-passwd-file: /x\n"
               "auth-flatfile-mail-user: no-such-user-x9\n",
               "auth-flatfile-mail-user: no-such-user-x9: no such user");
    init_fails("auth-flatfile-enable: yes\n"
               "auth-flatfile-passwd-file: /x\n"
               "auth-flatfile-mail-user: 4321\n",
               "auth-flatfile-mail-group: must be set");
    init_fails("auth-flatfile-enable: yes\n"
               "auth-flatfile-passwd-file: /x\n"
               "auth-flatfile-mail-user: 4321\n"
               "auth-flatfile-mail-group: no-such-group-x9\n",
               "auth-flatfile-mail-group: no-such-group-x9: no such group");
}
END_TEST

START_TEST(test_ff_pass)
{
    struct config *cfg = ff_start("");
    struct auth_result res;

    ck_assert(auth_can_apop());
    ck_assert_int_eq(ff_pass(cfg, "bob@example.com", "bobpass", NULL, &res),
                     AUTH_OK);
    ck_assert_uint_eq(res.uid, 4321);
    ck_assert_uint_eq(res.gid, 4322);
    ck_assert_str_eq(res.user, "bob@example.com");
    ck_assert_str_eq(res.local_part, "bob");
    ck_assert_str_eq(res.domain, "example.com");
    ck_assert_ptr_null(res.home);
    ck_assert_ptr_null(res.mailbox);
    ck_assert_str_eq(res.driver, "flatfile");
    auth_result_free(&res);
    ck_assert_ptr_null(res.user);

    /* The first entry wins. */
    ck_assert_int_eq(ff_pass(cfg, "bob@example.com", "second-bob-entry", NULL,
                             &res), AUTH_NO);
    /* A crypt hash followed by more fields and a CR LF line end. */
    ck_assert_int_eq(ff_pass(cfg, "alice%example.com", "secret6", NULL, &res),
                     AUTH_OK);
    ck_assert_str_eq(res.user, "alice@example.com");
    auth_result_free(&res);
    /* The listener's domain picks the file. */
    ck_assert_int_eq(ff_pass(cfg, "alice", "secret6", "example.com", &res),
                     AUTH_OK);
    ck_assert_str_eq(res.user, "alice");
    ck_assert_str_eq(res.domain, "example.com");
    auth_result_free(&res);

    ck_assert_int_eq(ff_pass(cfg, "bob@example.com", "wrong", NULL, &res),
                     AUTH_NO);
    ck_assert_ptr_null(res.user);
    ck_assert_int_eq(ff_pass(cfg, "Bob@example.com", "bobpass", NULL, &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_pass(cfg, "nobody@example.com", "x", NULL, &res),
                     AUTH_NO);
    /* The over-long line was skipped, the unterminated last one read. */
    ck_assert_int_eq(ff_pass(cfg, "dave@example.com", "davepass", NULL,
                             &res), AUTH_NO);
    ck_assert_int_eq(ff_pass(cfg, "frank@example.com", "frankpass", NULL,
                             &res), AUTH_OK);
    auth_result_free(&res);
    ck_assert_int_eq(ff_pass(cfg, "george@example.com", "", NULL, &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_pass(cfg, "erin@example.com", "x", NULL, &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_pass(cfg, "nopass@example.com", "", NULL, &res),
                     AUTH_NO);
    /* No file for the domain; no domain at all; hostile domains. */
    ck_assert_int_eq(ff_pass(cfg, "bob@example.net", "bobpass", NULL, &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_pass(cfg, "bob", "bobpass", NULL, &res), AUTH_NO);
    ck_assert_int_eq(ff_pass(cfg, "bob@..", "bobpass", NULL, &res), AUTH_NO);
    ck_assert_int_eq(ff_pass(cfg, "bob@../example.com", "bobpass", NULL,
                             &res), AUTH_NO);
    ck_assert_int_eq(ff_pass(cfg, "bob@example.com\n", "bobpass", NULL,
                             &res), AUTH_NO);
    /* A file that cannot be read is a temporary failure. */
    ck_assert_int_eq(ff_pass(cfg, "bob@broken.org", "bobpass", NULL, &res),
                     AUTH_TEMPFAIL);
    ck_assert_ptr_null(res.user);
    config_free(&cfg);
}
END_TEST

START_TEST(test_ff_rules)
{
    struct config *cfg = ff_start("lowercase-user: yes\n"
                                  "permit-empty-password: yes\n");
    struct auth_result res;

    ck_assert_int_eq(ff_pass(cfg, "BOB@EXAMPLE.COM", "bobpass", NULL, &res),
                     AUTH_OK);
    ck_assert_str_eq(res.user, "bob@example.com");
    auth_result_free(&res);
    ck_assert_int_eq(ff_pass(cfg, "nopass@example.com", "", NULL, &res),
                     AUTH_OK);
    auth_result_free(&res);
    ck_assert_int_eq(ff_pass(cfg, "nopass@example.com", "x", NULL, &res),
                     AUTH_NO);
    config_free(&cfg);
}
END_TEST

START_TEST(test_ff_apop)
{
    struct config *cfg = ff_start("");
    struct auth_result res;

    ck_assert_int_eq(ff_apop(cfg, "carol@example.com",
                             "c4c9334bac560ecc979e58001b3e22fb", &res),
                     AUTH_OK);
    ck_assert_str_eq(res.user, "carol@example.com");
    ck_assert_str_eq(res.driver, "flatfile");
    auth_result_free(&res);
    ck_assert_int_eq(ff_apop(cfg, "carol@example.com",
                             "c4c9334bac560ecc979e58001b3e22fc", &res),
                     AUTH_NO);
    /* Only plaintext entries can do APOP. */
    ck_assert_int_eq(ff_apop(cfg, "alice@example.com",
                             "c4c9334bac560ecc979e58001b3e22fb", &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_apop(cfg, "nobody@example.com",
                             "c4c9334bac560ecc979e58001b3e22fb", &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_apop(cfg, "carol@example.com", NULL, &res), AUTH_NO);
    config_free(&cfg);
}
END_TEST

/* carol's secret is tanstaaf; values from Python's hmac and hashlib. */
#define CAROL_CRAM "c02dd90e04576e500bb447ed7476be15"
#define CAROL_AUTH_MESSAGE "n=carol@example.com,r=abc,r=abcdef," \
    "s=MDEyMzQ1Njc4OWFiY2RlZg==,i=4096,c=biws,r=abcdef"
#define CAROL_PROOF \
    "6d3bc7c01eca9169801a927de3d725ad14dc8774f83048b7c4664850e56796c7"
#define CAROL_SIGNATURE \
    "9d6f5868a89027cb0a0f747e0f710e78465d48573e6a91154ed0a4b1bb2d4b53"

static enum auth_status ff_cram(const struct config *cfg, const char *login,
                                const char *digest, struct auth_result *res)
{
    const struct auth_attempt att = {
        .method = AUTH_METHOD_CRAM_MD5,
        .login = login,
        .timestamp = RFC_TS,
        .digest = digest,
        .clienthost = "192.0.2.1",
        .serverhost = "192.0.2.2",
    };

    return auth_authenticate(cfg, &att, res);
}

static enum auth_status ff_scram(const struct config *cfg, const char *login,
                                 const unsigned char *proof,
                                 unsigned char *sig, struct auth_result *res)
{
    const struct auth_scram sc = {
        .salt = (const unsigned char *)"0123456789abcdef",
        .salt_len = 16,
        .iterations = 4096,
        .auth_message = CAROL_AUTH_MESSAGE,
        .auth_message_len = strlen(CAROL_AUTH_MESSAGE),
        .client_proof = proof,
        .server_signature = sig,
    };
    const struct auth_attempt att = {
        .method = AUTH_METHOD_SCRAM_SHA256,
        .login = login,
        .scram = &sc,
        .clienthost = "192.0.2.1",
        .serverhost = "192.0.2.2",
    };

    return auth_authenticate(cfg, &att, res);
}

/* CRAM-MD5 and SCRAM reach the driver's secret through the authswitch. */
START_TEST(test_ff_challenge)
{
    struct config *cfg = ff_start("");
    struct auth_result res;
    unsigned char proof[SCRAM_SHA256_LEN], want[SCRAM_SHA256_LEN],
        sig[SCRAM_SHA256_LEN];

    ck_assert(auth_can_verify(AUTH_METHOD_PASS));
    ck_assert(auth_can_verify(AUTH_METHOD_APOP));
    ck_assert(auth_can_verify(AUTH_METHOD_CRAM_MD5));
    ck_assert(auth_can_verify(AUTH_METHOD_SCRAM_SHA256));

    ck_assert_int_eq(ff_cram(cfg, "carol@example.com", CAROL_CRAM, &res),
                     AUTH_OK);
    ck_assert_str_eq(res.user, "carol@example.com");
    ck_assert_str_eq(res.driver, "flatfile");
    auth_result_free(&res);
    /* The APOP digest of the same challenge is no CRAM-MD5 digest. */
    ck_assert_int_eq(ff_cram(cfg, "carol@example.com",
                             "c4c9334bac560ecc979e58001b3e22fb", &res),
                     AUTH_NO);
    /* Hashed entries and unknown users fail; so does a missing digest. */
    ck_assert_int_eq(ff_cram(cfg, "alice@example.com", CAROL_CRAM, &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_cram(cfg, "nobody@example.com", CAROL_CRAM, &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_cram(cfg, "carol@example.com", NULL, &res), AUTH_NO);

    unit_unhex(CAROL_PROOF, proof, sizeof proof);
    unit_unhex(CAROL_SIGNATURE, want, sizeof want);
    memset(sig, 0, sizeof sig);
    ck_assert_int_eq(ff_scram(cfg, "carol@example.com", proof, sig, &res),
                     AUTH_OK);
    ck_assert_str_eq(res.user, "carol@example.com");
    ck_assert_mem_eq(sig, want, sizeof want);
    auth_result_free(&res);
    proof[0] ^= 0x80;
    ck_assert_int_eq(ff_scram(cfg, "carol@example.com", proof, sig, &res),
                     AUTH_NO);
    proof[0] ^= 0x80;
    ck_assert_int_eq(ff_scram(cfg, "bob@example.com", proof, sig, &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_scram(cfg, "alice@example.com", proof, sig, &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_scram(cfg, "nobody@example.com", proof, sig, &res),
                     AUTH_NO);
    config_free(&cfg);
}
END_TEST

START_TEST(test_ff_single_file)
{
    struct config *cfg = ff_config("auth-flatfile-enable: yes\n"
                                   "auth-flatfile-passwd-file: @DIR@/all.passwd\n"
                                   "auth-flatfile-mail-user: 4321\n"
                                   "auth-flatfile-mail-group: 4322\n"
                                   "append-domain: yes\n");
    struct auth_result res;
    char *err = NULL;

    ck_assert_msg(auth_init(cfg, &err) == 0, "auth_init: %s", err);
    /* One file for every domain: its lines name whole users. */
    ck_assert_int_eq(ff_pass(cfg, "bob@example.com", "one", NULL, &res),
                     AUTH_OK);
    auth_result_free(&res);
    ck_assert_int_eq(ff_pass(cfg, "bob@other.org", "two", NULL, &res),
                     AUTH_OK);
    auth_result_free(&res);
    ck_assert_int_eq(ff_pass(cfg, "bob@other.org", "one", NULL, &res),
                     AUTH_NO);
    ck_assert_int_eq(ff_pass(cfg, "bob", "one", "example.com", &res),
                     AUTH_OK);
    ck_assert_str_eq(res.user, "bob@example.com");
    auth_result_free(&res);
    ck_assert_int_eq(ff_pass(cfg, "plainbob", "three", NULL, &res), AUTH_OK);
    auth_result_free(&res);
    config_free(&cfg);
}
END_TEST
#endif

#ifdef AUTH_PASSWD
START_TEST(test_passwd_init_errors)
{
    init_fails("auth-passwd-enable: yes\n"
               "auth-passwd-mail-group: no-such-group-x9\n",
               "test.conf:2: auth-passwd-mail-group: no-such-group-x9: "
               "no such group");
}
END_TEST

START_TEST(test_passwd_driver)
{
    struct config *cfg = ff_config("auth-passwd-enable: yes\n"
                                   "auth-passwd-mail-group: 8\n");
    struct auth_result res;
    char *err = NULL;

    ck_assert_msg(auth_init(cfg, &err) == 0, "auth_init: %s", err);
    ck_assert(!auth_can_apop());
    ck_assert_int_eq(ff_pass(cfg, "no-such-user-x9", "x", NULL, &res),
                     AUTH_NO);
    /* Refused whatever root's password is (and the shadow file may be
     * unreadable to whoever runs the tests). */
    ck_assert_int_ne(ff_pass(cfg, "root", "x", NULL, &res), AUTH_OK);
    ck_assert_int_ne(ff_pass(cfg, "root", "", NULL, &res), AUTH_OK);
    ck_assert_ptr_null(res.user);
    config_free(&cfg);
}
END_TEST
#endif

Suite *suite_flatfile(void)
{
    Suite *s = suite_create("flatfile");
    TCase *tc = tcase_create("drivers");

    tcase_add_checked_fixture(tc, ff_setup, ff_teardown);
    tcase_add_test(tc, test_ff_table);
    tcase_add_test(tc, test_not_compiled);
#ifdef AUTH_FLATFILE
    tcase_add_test(tc, test_ff_init_errors);
    tcase_add_test(tc, test_ff_pass);
    tcase_add_test(tc, test_ff_rules);
    tcase_add_test(tc, test_ff_apop);
    tcase_add_test(tc, test_ff_challenge);
    tcase_add_test(tc, test_ff_single_file);
#endif
#ifdef AUTH_PASSWD
    tcase_add_test(tc, test_passwd_init_errors);
    tcase_add_test(tc, test_passwd_driver);
#endif
    suite_add_tcase(s, tc);
    return s;
}
