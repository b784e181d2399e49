/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_sasl.c: unit tests of sasl.c: strict base64, the PLAIN, LOGIN and
 * CRAM-MD5 responses, and SCRAM-SHA-256 against the RFC 7677 exchange. */
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "password.h"
#include "sasl.h"
#include "unit.h"
#include "xalloc.h"

/* Decode S (a C string); -1 or the length, the octets in OUT. */
static long dec(const char *s, unsigned char *out, size_t max)
{
    return sasl_b64_decode(s, strlen(s), out, max);
}

START_TEST(test_b64_valid)
{
    unsigned char out[64];

    ck_assert_int_eq(dec("", out, sizeof out), 0);
    ck_assert_int_eq(dec("YQ==", out, sizeof out), 1);
    ck_assert_mem_eq(out, "a", 1);
    ck_assert_int_eq(dec("YWI=", out, sizeof out), 2);
    ck_assert_mem_eq(out, "ab", 2);
    ck_assert_int_eq(dec("YWJj", out, sizeof out), 3);
    ck_assert_mem_eq(out, "abc", 3);
    /* Nothing is written past the decoded octets. */
    memset(out, 'x', sizeof out);
    ck_assert_int_eq(dec("YWI=", out, 2), 2);
    ck_assert_uint_eq(out[2], 'x');
    ck_assert_int_eq(dec("AHRpbQB0YW5zdGFhZg==", out, sizeof out), 13);
    ck_assert_mem_eq(out, "\0tim\0tanstaaf", 13);
    ck_assert_int_eq(dec("+/+/", out, sizeof out), 3);
    ck_assert_mem_eq(out, "\xfb\xff\xbf", 3);
    /* Exactly MAX octets fit; one more does not. */
    ck_assert_int_eq(dec("YWJj", out, 3), 3);
    ck_assert_int_eq(dec("YWJj", out, 2), -1);
    ck_assert_int_eq(dec("YWJjZA==", out, 3), -1);
}
END_TEST

START_TEST(test_b64_strict)
{
    static const char *const bad[] = {
        "YQ",           /* no padding */
        "YQ=",          /* short padding */
        "YWJ",
        "Y===",         /* too much padding */
        "====",
        "=YQ=",
        "YQ==YQ==",     /* padding in the middle */
        "YQ==\r",
        "YR==",         /* unused bits set */
        "YWJ=",
        " YWJj",        /* whitespace */
        "YWJj ",
        "YW Jj",
        "YWJj\n",
        "YW\tJ",
        "YW-j",         /* the URL alphabet */
        "YW_j",
        "YW.j",
        "=",            /* only in the AUTH command line */
        "*",
    };
    unsigned char out[64];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(dec(bad[i], out, sizeof out) == -1,
                      "accepted '%s'", bad[i]);
    /* An embedded NUL is a bad character. */
    ck_assert_int_eq(sasl_b64_decode("YW\0j", 4, out, sizeof out), -1);
}
END_TEST

START_TEST(test_b64_roundtrip)
{
    static const char *const want[] = {
        "", "AA==", "AAE=", "AAEC", "AAECAw==", "AAECAwQ=", "AAECAwQF",
    };
    unsigned char data[8], out[16];

    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)i;
    for (size_t n = 0; n < sizeof want / sizeof want[0]; n++) {
        char *enc = sasl_b64_encode(data, n);

        ck_assert_str_eq(enc, want[n]);
        ck_assert_int_eq(dec(enc, out, sizeof out), (long)n);
        ck_assert_mem_eq(out, data, n);
        free(enc);
    }
}
END_TEST

/* PLAIN message from LEN octets of M. 0 or -1; results freed here. */
static int plain(const char *m, size_t len, const char *user,
                 const char *pass, const char *error)
{
    char *u = NULL, *p = NULL;
    const char *err = NULL;
    int r = sasl_plain_parse((const unsigned char *)m, len, &u, &p, &err);

    if (r == 0) {
        ck_assert_str_eq(u, user);
        ck_assert_str_eq(p, pass);
    } else {
        ck_assert_ptr_null(u);
        ck_assert_ptr_null(p);
        ck_assert_str_eq(err, error);
    }
    free(u);
    free(p);
    return r;
}

#define PLAIN(lit) lit, sizeof lit - 1

START_TEST(test_plain)
{
    char big[POP3_MAX_USER + 20];

    ck_assert_int_eq(plain(PLAIN("\0tim\0tanstaaf"), "tim", "tanstaaf", NULL),
                     0);
    /* An authorization identity equal to the user is harmless. */
    ck_assert_int_eq(plain(PLAIN("tim\0tim\0tans taaf"), "tim", "tans taaf",
                           NULL), 0);
    ck_assert_int_eq(plain(PLAIN("bob\0tim\0tanstaaf"), NULL, NULL,
                           "authorization identity must be empty or the "
                           "user name"), -1);
    ck_assert_int_eq(plain(PLAIN("tim2\0tim\0tanstaaf"), NULL, NULL,
                           "authorization identity must be empty or the "
                           "user name"), -1);
    ck_assert_int_eq(plain(PLAIN("\0\0tanstaaf"), NULL, NULL,
                           "empty user name or password"), -1);
    ck_assert_int_eq(plain(PLAIN("\0tim\0"), NULL, NULL,
                           "empty user name or password"), -1);
    ck_assert_int_eq(plain(PLAIN("\0tim"), NULL, NULL,
                           "malformed PLAIN message"), -1);
    ck_assert_int_eq(plain(PLAIN("tim tanstaaf"), NULL, NULL,
                           "malformed PLAIN message"), -1);
    ck_assert_int_eq(plain(PLAIN("\0tim\0tans\0taaf"), NULL, NULL,
                           "malformed PLAIN message"), -1);
    ck_assert_int_eq(plain("", 0, NULL, NULL, "malformed PLAIN message"), -1);

    /* The limits of USER and PASS. */
    memset(big, 'u', sizeof big);
    big[0] = 0;
    big[POP3_MAX_USER + 1] = 0;
    big[POP3_MAX_USER + 2] = 'p';
    ck_assert_int_eq(plain(big, POP3_MAX_USER + 3, big + 1, "p", NULL), 0);
    big[POP3_MAX_USER + 1] = 'u';
    big[POP3_MAX_USER + 2] = 0;
    big[POP3_MAX_USER + 3] = 'p';
    ck_assert_int_eq(plain(big, POP3_MAX_USER + 4, NULL, NULL,
                           "user name or password too long"), -1);
}
END_TEST

START_TEST(test_login)
{
    char *v = NULL, big[POP3_MAX_PASS + 1];
    const char *err = NULL;

    ck_assert_int_eq(sasl_login_parse((const unsigned char *)"tim", 3,
                                      POP3_MAX_USER, &v, &err), 0);
    ck_assert_str_eq(v, "tim");
    free(v);
    v = NULL;
    ck_assert_int_eq(sasl_login_parse((const unsigned char *)"", 0,
                                      POP3_MAX_USER, &v, &err), -1);
    ck_assert_str_eq(err, "empty or malformed LOGIN response");
    ck_assert_int_eq(sasl_login_parse((const unsigned char *)"t\0m", 3,
                                      POP3_MAX_USER, &v, &err), -1);
    ck_assert_ptr_null(v);
    memset(big, 'p', sizeof big);
    ck_assert_int_eq(sasl_login_parse((unsigned char *)big, POP3_MAX_PASS,
                                      POP3_MAX_PASS, &v, &err), 0);
    ck_assert_uint_eq(strlen(v), POP3_MAX_PASS);
    free(v);
    v = NULL;
    ck_assert_int_eq(sasl_login_parse((unsigned char *)big, POP3_MAX_PASS + 1,
                                      POP3_MAX_PASS, &v, &err), -1);
    ck_assert_str_eq(err, "user name or password too long");
    ck_assert_ptr_null(v);
}
END_TEST

/* RFC 2195 section 2. */
#define CRAM_CHALLENGE "<1896.697170952@postoffice.reston.mci.net>"
#define CRAM_RESPONSE "tim b913a602c7eda7a495b4e6e7334d3890"

static int cram(const char *m, const char *user, const char *digest)
{
    char *u = NULL, d[33];
    const char *err = NULL;
    int r = sasl_cram_parse((const unsigned char *)m, strlen(m), &u, d, &err);

    if (r == 0) {
        ck_assert_str_eq(u, user);
        ck_assert_str_eq(d, digest);
    } else {
        ck_assert_ptr_null(u);
        ck_assert_ptr_nonnull(err);
    }
    free(u);
    return r;
}

START_TEST(test_cram)
{
    unsigned char out[128];
    char *user = NULL, digest[33];
    const char *err;
    long n;

    /* The RFC's exchange, from base64 to the check. */
    n = dec("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", out,
            sizeof out);
    ck_assert_int_eq(n, (long)strlen(CRAM_RESPONSE));
    ck_assert_int_eq(sasl_cram_parse(out, (size_t)n, &user, digest, &err), 0);
    ck_assert_str_eq(user, "tim");
    ck_assert(cram_md5_verify(CRAM_CHALLENGE, "tanstaaftanstaaf", digest));
    ck_assert(!cram_md5_verify(CRAM_CHALLENGE, "tanstaaf", digest));
    free(user);

    ck_assert_int_eq(cram("tim B913A602C7EDA7A495B4E6E7334D3890", "tim",
                          "b913a602c7eda7a495b4e6e7334d3890"), 0);
    ck_assert_int_eq(cram("tim smith b913a602c7eda7a495b4e6e7334d3890",
                          "tim smith", "b913a602c7eda7a495b4e6e7334d3890"), 0);
    ck_assert_int_eq(cram("timb913a602c7eda7a495b4e6e7334d3890", NULL, NULL),
                     -1);
    ck_assert_int_eq(cram(" b913a602c7eda7a495b4e6e7334d3890", NULL, NULL), -1);
    ck_assert_int_eq(cram("tim b913a602c7eda7a495b4e6e7334d389", NULL, NULL),
                     -1);
    ck_assert_int_eq(cram("tim b913a602c7eda7a495b4e6e7334d38900", NULL, NULL),
                     -1);
    ck_assert_int_eq(cram("tim g913a602c7eda7a495b4e6e7334d3890", NULL, NULL),
                     -1);
    ck_assert_int_eq(cram("tim  913a602c7eda7a495b4e6e7334d3890", NULL, NULL),
                     -1);
    ck_assert_int_eq(cram("", NULL, NULL), -1);
    ck_assert_int_eq(sasl_cram_parse((const unsigned char *)"t\0m b913a602c7e"
                                     "da7a495b4e6e7334d3890", 37, &user,
                                     digest, &err), -1);
}
END_TEST

/* RFC 7677 section 3. */
#define R7677_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define R7677_SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define R7677_SERVER_FIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)" \
    "hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define R7677_NONCE "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define R7677_CLIENT_FINAL "c=biws,r=" R7677_NONCE \
    ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define R7677_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static int first(struct sasl_scram *sc, const char *m, const char **err_r)
{
    return sasl_scram_client_first(sc, (const unsigned char *)m, strlen(m),
                                   err_r);
}

static int final(struct sasl_scram *sc, const char *m, const char **err_r)
{
    return sasl_scram_client_final(sc, (const unsigned char *)m, strlen(m),
                                   err_r);
}

/* SC after the RFC's client-first and server-first messages. */
static void rfc_start(struct sasl_scram *sc)
{
    unsigned char salt[16];
    const char *err = NULL;

    memset(sc, 0, sizeof *sc);
    ck_assert_int_eq(first(sc, R7677_CLIENT_FIRST, &err), 0);
    ck_assert_int_eq(dec("W22ZaJ0SNY7soEsUEjb6gQ==", salt, sizeof salt), 16);
    ck_assert_str_eq(sasl_scram_server_first(sc, salt, sizeof salt, 4096,
                                             R7677_SERVER_NONCE),
                     R7677_SERVER_FIRST);
}

START_TEST(test_scram_rfc7677)
{
    struct sasl_scram sc;
    unsigned char sig[SCRAM_SHA256_LEN];
    const char *err = NULL;
    char *server_final;

    rfc_start(&sc);
    ck_assert_str_eq(sc.user, "user");
    ck_assert_str_eq(sc.gs2_header, "n,,");
    ck_assert_str_eq(sc.client_first_bare, "n=user,r=rOprNGfwEbeRWgbNEkqO");
    ck_assert_str_eq(sc.nonce, R7677_NONCE);
    ck_assert_uint_eq(sc.iterations, 4096);
    ck_assert_int_eq(final(&sc, R7677_CLIENT_FINAL, &err), 0);
    ck_assert_str_eq(sc.auth_message,
                     "n=user,r=rOprNGfwEbeRWgbNEkqO," R7677_SERVER_FIRST
                     ",c=biws,r=" R7677_NONCE);
    ck_assert_uint_eq(sc.auth_message_len, strlen(sc.auth_message));

    /* What the authswitch does with the stored secret. */
    ck_assert(scram_sha256_verify("pencil", sc.salt, sc.salt_len,
                                  sc.iterations, sc.auth_message,
                                  sc.auth_message_len, sc.proof, sig));
    server_final = sasl_scram_server_final(sig);
    ck_assert_str_eq(server_final, R7677_SERVER_FINAL);
    free(server_final);
    ck_assert(!scram_sha256_verify("pencil ", sc.salt, sc.salt_len,
                                   sc.iterations, sc.auth_message,
                                   sc.auth_message_len, sc.proof, sig));
    sasl_scram_free(&sc);
    ck_assert_ptr_null(sc.user);
}
END_TEST

/* The client-first message M is refused with ERROR. */
static void first_fails(const char *m, const char *error)
{
    struct sasl_scram sc;
    const char *err = NULL;

    memset(&sc, 0, sizeof sc);
    ck_assert_msg(first(&sc, m, &err) == -1, "accepted '%s'", m);
    ck_assert_str_eq(err, error);
    ck_assert_ptr_null(sc.user);
    ck_assert_ptr_null(sc.nonce);
    sasl_scram_free(&sc);
}

/* The client-first message M is accepted for USER with header GS2. */
static void first_ok(const char *m, const char *user, const char *gs2)
{
    struct sasl_scram sc;
    const char *err = NULL;

    memset(&sc, 0, sizeof sc);
    ck_assert_msg(first(&sc, m, &err) == 0, "refused '%s': %s", m, err);
    ck_assert_str_eq(sc.user, user);
    ck_assert_str_eq(sc.gs2_header, gs2);
    sasl_scram_free(&sc);
}

START_TEST(test_scram_client_first)
{
    const char *bad = "malformed SCRAM message";
    char big[POP3_MAX_USER + 1], *m;

    first_ok("y,,n=user,r=abc", "user", "y,,");
    first_ok("n,a=user,n=user,r=abc", "user", "n,a=user,");
    first_ok("n,,n=us=2Cer=3D,r=abc", "us,er=", "n,,");
    first_ok("n,,n=user,r=abc,x=ext,Y=more", "user", "n,,");

    first_fails("p=tls-unique,,n=user,r=abc",
                "channel binding is not supported");
    first_fails("n,a=bob,n=user,r=abc",
                "authorization identity must be the user name");
    first_fails("n,,m=ext,n=user,r=abc",
                "mandatory SCRAM extensions are not supported");
    first_fails("x,,n=user,r=abc", bad);
    first_fails("n,n=user,r=abc", bad);
    first_fails("n,,", bad);
    first_fails("", bad);
    first_fails("n,,n=user", bad);
    first_fails("n,,n=user,", bad);
    first_fails("n,,n=user,r=", bad);
    first_fails("n,,n=user,r=abc,", bad);
    first_fails("n,,n=user,r=abc,1=x", bad);
    first_fails("n,,n=user,r=abc,x=", bad);
    first_fails("n,,n=user,r=ab c", bad);
    first_fails("n,,n=,r=abc", bad);
    first_fails("n,,n=us=41er,r=abc", bad);
    first_fails("n,,n=user=,r=abc", bad);
    first_fails("n,,r=abc,n=user", bad);
    first_fails("n,b=user,n=user,r=abc", bad);
    first_fails("n,a=,n=user,r=abc", bad);

    /* A user name as long as USER allows, and one octet longer. */
    memset(big, 'u', POP3_MAX_USER);
    big[POP3_MAX_USER] = 0;
    m = xasprintf("n,,n=%s,r=a", big);
    first_ok(m, big, "n,,");
    free(m);
    m = xasprintf("n,,n=%su,r=a", big);
    first_fails(m, bad);
    free(m);
}
END_TEST

/* After the RFC's first two messages, the client-final M is refused with
 * ERROR. */
static void final_fails(const char *m, const char *error)
{
    struct sasl_scram sc;
    const char *err = NULL;

    rfc_start(&sc);
    ck_assert_msg(final(&sc, m, &err) == -1, "accepted '%s'", m);
    ck_assert_str_eq(err, error);
    ck_assert_ptr_null(sc.auth_message);
    sasl_scram_free(&sc);
}

START_TEST(test_scram_client_final)
{
    const char *bad = "malformed SCRAM message";
    const char *proof = ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    struct sasl_scram sc;
    const char *err = NULL;
    char *m;

    /* Extensions before the proof are ignored, but signed. */
    rfc_start(&sc);
    m = xasprintf("c=biws,r=%s,x=1%s", R7677_NONCE, proof);
    ck_assert_int_eq(final(&sc, m, &err), 0);
    ck_assert_str_eq(sc.auth_message + strlen(sc.auth_message) - 4, ",x=1");
    free(m);
    sasl_scram_free(&sc);

    final_fails("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1"
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                "wrong SCRAM nonce");
    final_fails("c=biws,r=rOprNGfwEbeRWgbNEkqO"
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                "wrong SCRAM nonce");
    /* "y,," and "n,a=user," are other headers than the one sent. */
    final_fails("c=eSws,r=" R7677_NONCE
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                "SCRAM channel binding does not match");
    final_fails("c=bixhPXVzZXIs,r=" R7677_NONCE
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                "SCRAM channel binding does not match");
    final_fails("c=biwsAAAA,r=" R7677_NONCE
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                "SCRAM channel binding does not match");
    final_fails("c=biws,r=" R7677_NONCE, "SCRAM proof missing");
    final_fails("c=biws,r=" R7677_NONCE ",x=1", "SCRAM proof missing");
    final_fails("c=biws,r=" R7677_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgs",
                "malformed SCRAM proof");
    final_fails("c=biws,r=" R7677_NONCE ",p=", "malformed SCRAM proof");
    final_fails("c=biws,r=" R7677_NONCE
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
                "malformed SCRAM proof");
    final_fails("c=biws,r=" R7677_NONCE
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1", bad);
    final_fails("c=biw,r=" R7677_NONCE
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", bad);
    final_fails("r=" R7677_NONCE
                ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", bad);
    final_fails("c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", bad);
    final_fails("c=biws,r=" R7677_NONCE ",,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHg"
                "sqmmiz7AndVQ=", bad);
    final_fails("", bad);

    /* No final message before the server's first one. */
    memset(&sc, 0, sizeof sc);
    ck_assert_int_eq(first(&sc, R7677_CLIENT_FIRST, &err), 0);
    ck_assert_int_eq(final(&sc, R7677_CLIENT_FINAL, &err), -1);
    sasl_scram_free(&sc);
}
END_TEST

/* A "y,," client: c= carries its header. */
START_TEST(test_scram_y_flag)
{
    struct sasl_scram sc;
    const unsigned char salt[4] = "salt";
    const char *err = NULL;
    char *m;

    memset(&sc, 0, sizeof sc);
    ck_assert_int_eq(first(&sc, "y,,n=user,r=abc", &err), 0);
    ck_assert_str_eq(sasl_scram_server_first(&sc, salt, sizeof salt, 4096,
                                             "def"),
                     "r=abcdef,s=c2FsdA==,i=4096");
    m = xasprintf("c=eSws,r=abcdef,p=%s",
                  "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    ck_assert_int_eq(final(&sc, m, &err), 0);
    ck_assert_str_eq(sc.auth_message, "n=user,r=abc,r=abcdef,s=c2FsdA==,"
                                      "i=4096,c=eSws,r=abcdef");
    free(m);
    sasl_scram_free(&sc);
}
END_TEST

Suite *suite_sasl(void)
{
    Suite *s = suite_create("sasl");
    TCase *tc = tcase_create("base64");

    tcase_add_test(tc, test_b64_valid);
    tcase_add_test(tc, test_b64_strict);
    tcase_add_test(tc, test_b64_roundtrip);
    suite_add_tcase(s, tc);

    tc = tcase_create("mechanisms");
    tcase_add_test(tc, test_plain);
    tcase_add_test(tc, test_login);
    tcase_add_test(tc, test_cram);
    tcase_add_test(tc, test_scram_rfc7677);
    tcase_add_test(tc, test_scram_client_first);
    tcase_add_test(tc, test_scram_client_final);
    tcase_add_test(tc, test_scram_y_flag);
    suite_add_tcase(s, tc);
    return s;
}
