/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_password.c: password schemes against vectors made by other tools
 * (openssl passwd, mkpasswd, Python's hashlib), APOP, CRAM-MD5, SCRAM and
 * the dummy check (the drivers' side is test_flatfile.c). */
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
/* openssl passwd -5 -salt saltsalt secret5 */
#define SHA256_CRYPT "$5$saltsalt$708Qd1GA5FblAgceNooXo6mCmXw7DIUSz5IHtzs/2E6"
/* openssl passwd -1 -salt abcdefgh secret1 */
#define MD5_CRYPT "$1$abcdefgh$ywpTNDTYPzAT3Ohgseebp/"
/* mkpasswd -m yescrypt secrety */
#define YESCRYPT "$y$j9T$pPmM7KQLsxu0jaM5Qq9Vi0$8GkXD2opvZi0v1YsRKBQ6fWPyqh" \
    "B4LjQt5whVx8lsRB"
/* mkpasswd -m descrypt -S ab secretd */
#define DES_CRYPT "abTMS5.F7c4qg"
/* mkpasswd -m bcrypt secretb */
#define BCRYPT "$2b$05$1xDAXijeF/BJ6CyzQ.Q.T.UxU7sJX6UXKj6hyJMJRsJwPnBOfB/lm"

/* hashlib.md5(b"secretm"), hex and base64 */
#define MD5_HEX "b52328d7451bfeace80c4b8c338106f9"
#define MD5_B64 "tSMo10Ub/qzoDEuMM4EG+Q=="
/* hashlib.sha1(b"secrets") */
#define SHA1_HEX "fe86558143c0bd528f649a153bdc32b8fa90301c"
#define SHA1_B64 "/oZVgUPAvVKPZJoVO9wyuPqQMBw="
/* hashlib.sha256(b"secret256"), base64; hashlib.sha512(b"secret512"), hex */
#define SHA256_B64 "yiDJ6CY9Llja3UeIgSiXjG2ziNls+FsskDQSrsyDJRs="
#define SHA512_HEX "4316354193f9c0b9f14a0a4e8ab29dfdc07694e50d1406ee83f04dc0" \
    "f08585c1c16f708479ef75a2d50b97e4e13d3f56cc331fca4aa5a910bb09d80a86afc8f5"
/* base64(H(password + salt) + salt), salt b"\x01\x02saltySALT\xff" */
#define SSHA256 "JnP+Nvg1xvpUezBKEQaRXPSN3v+HpBJKttAJB7Ckk+cBAnNhbHR5U0FMVP8="
#define SSHA512 "cs9IXjRz7m6/mqxMeBhEi+PIPaxv2TznMZieV4RUzsWMoMtpv/AsrIoEUy" \
    "DnyRmhHiaZHtUtfX7ybBqRnM7HbQECc2FsdHlTQUxU/w=="
#define SSHA1 "jhBPScVsOLjHdQaXHWiHNLN436IBAnNhbHR5U0FMVP8="
/* MariaDB PASSWORD('password') as documented, and of 'secretq' */
#define MYSQL_PASSWORD "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
#define MYSQL_SECRETQ "*EF310AB7BC8EE01179ABD0B20B7B1085D15E0D47"

static enum password_result verify(const char *given, const char *stored)
{
    const char *err = "unset";
    enum password_result r = password_verify(given, stored,
                                             PASSWORD_SCHEME_CRYPT, false,
                                             &err);

    /* A reason exactly when the outcome needs one. */
    if (r == PASSWORD_UNUSABLE)
        ck_assert_ptr_nonnull(err);
    if (r == PASSWORD_MATCH)
        ck_assert_ptr_null(err);
    return r;
}

/* GOOD matches STORED; a wrong password and a near miss do not. */
static void pair(const char *good, const char *stored)
{
    char near[POP3_MAX_PASS + 2];
    size_t n = strlen(good);

    ck_assert_msg(verify(good, stored) == PASSWORD_MATCH, "%s vs %s", good,
                  stored);
    ck_assert_msg(verify("wrong", stored) == PASSWORD_MISMATCH, "wrong vs %s",
                  stored);
    ck_assert_msg(verify("", stored) == PASSWORD_MISMATCH, "empty vs %s",
                  stored);
    memcpy(near, good, n + 1);
    near[n - 1] ^= 1;
    ck_assert_msg(verify(near, stored) == PASSWORD_MISMATCH, "%s vs %s",
                  near, stored);
}

START_TEST(test_crypt_default)
{
    pair("secret6", SHA512_CRYPT);
    pair("secret5", SHA256_CRYPT);
    pair("secret1", MD5_CRYPT);
    pair("secrety", YESCRYPT);
    pair("secretd", DES_CRYPT);
    pair("secretb", BCRYPT);
}
END_TEST

START_TEST(test_crypt_prefixes)
{
    pair("secret6", "{crypt}" SHA512_CRYPT);
    pair("secret6", "{CRYPT}" SHA512_CRYPT);
    pair("secret1", "{crypt_md5}" MD5_CRYPT);
    pair("secret1", "{MD5-CRYPT}" MD5_CRYPT);
    pair("secret6", "{SHA512-CRYPT}" SHA512_CRYPT);
    pair("secret5", "{SHA256-CRYPT}" SHA256_CRYPT);
    pair("secret5", "{sha256-crypt}" SHA256_CRYPT);
    pair("secretb", "{BLF-CRYPT}" BCRYPT);
    pair("secrety", "{Crypt}" YESCRYPT);
    /* Dovecot writes MD5-crypt as {MD5}. */
    pair("secret1", "{MD5}" MD5_CRYPT);
}
END_TEST

START_TEST(test_locked)
{
    const char *err = NULL;

    ck_assert_int_eq(password_verify("secret6", "!" SHA512_CRYPT,
                                     PASSWORD_SCHEME_CRYPT, false, &err),
                     PASSWORD_MISMATCH);
    ck_assert_str_eq(err, "account is locked");
    err = NULL;
    ck_assert_int_eq(password_verify("secret6", "*", PASSWORD_SCHEME_CRYPT,
                                     false, &err), PASSWORD_MISMATCH);
    ck_assert_str_eq(err, "account is locked");
    ck_assert_int_eq(verify("x", "!!"), PASSWORD_MISMATCH);
    ck_assert_int_eq(verify("", "*"), PASSWORD_MISMATCH);
    ck_assert_int_eq(verify("secret6", "{crypt}!" SHA512_CRYPT),
                     PASSWORD_MISMATCH);
    ck_assert_int_eq(verify("*LK*", "*LK*"), PASSWORD_MISMATCH);
}
END_TEST

START_TEST(test_crypt_malformed)
{
    ck_assert_int_eq(verify("x", "x"), PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secret", "$9$nonsense$abc"), PASSWORD_UNUSABLE);
    /* Truncated, or with trailing noise: it could never match. */
    ck_assert_int_eq(verify("secret6", "$6$saltsalt$LMtDgChSrV"),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secret6", SHA512_CRYPT "\n"),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secret6", "{crypt}$6$"), PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secretd", DES_CRYPT "x"), PASSWORD_UNUSABLE);
}
END_TEST

START_TEST(test_plain)
{
    pair("tanstaaf", "{plaintext}tanstaaf");
    pair("tanstaaf", "{PLAIN}tanstaaf");
    pair("tanstaaf", "{cleartext}tanstaaf");
    /* Everything after the prefix is the password, braces included. */
    pair("a}b{c", "{plain}a}b{c");
    ck_assert_int_eq(verify("tanstaafl", "{plain}tanstaaf"),
                     PASSWORD_MISMATCH);
    ck_assert_int_eq(verify("tanstaa", "{plain}tanstaaf"), PASSWORD_MISMATCH);
    ck_assert_int_eq(verify("TANSTAAF", "{plain}tanstaaf"),
                     PASSWORD_MISMATCH);
    ck_assert_int_eq(password_verify("abc", "abc", PASSWORD_SCHEME_PLAIN,
                                     false, &(const char *){ NULL }),
                     PASSWORD_MATCH);
}
END_TEST

START_TEST(test_md5)
{
    pair("secretm", "{md5}" MD5_HEX);
    pair("secretm", "{MD5}" MD5_HEX);
    pair("secretm", "{md5}B52328D7451BFEACE80C4B8C338106F9");
    pair("secretm", "{md5}" MD5_B64);
    pair("secretm", "{md5}tSMo10Ub/qzoDEuMM4EG+Q");
    pair("secretm", "{PLAIN-MD5}" MD5_HEX);
    pair("secretm", "{LDAP-MD5}" MD5_B64);
    ck_assert_int_eq(password_verify("secretm", MD5_HEX, PASSWORD_SCHEME_MD5,
                                     false, &(const char *){ NULL }),
                     PASSWORD_MATCH);
    ck_assert_int_eq(password_verify("secretn", MD5_HEX, PASSWORD_SCHEME_MD5,
                                     false, &(const char *){ NULL }),
                     PASSWORD_MISMATCH);
    /* Without a prefix, a crypt default does not read hex as MD5. */
    ck_assert_int_eq(verify("secretm", MD5_HEX), PASSWORD_UNUSABLE);
}
END_TEST

/* Decode S (a C string) with base64_decode; -1 or the length. */
static long b64(const char *s, unsigned char *out, size_t max, bool lenient)
{
    return base64_decode(s, strlen(s), out, max, lenient);
}

START_TEST(test_base64_both)
{
    unsigned char out[16];

    for (int lenient = 0; lenient <= 1; lenient++) {
        ck_assert_int_eq(b64("", out, sizeof out, lenient), 0);
        ck_assert_int_eq(b64("YQ==", out, sizeof out, lenient), 1);
        ck_assert_mem_eq(out, "a", 1);
        ck_assert_int_eq(b64("YWI=", out, sizeof out, lenient), 2);
        ck_assert_mem_eq(out, "ab", 2);
        ck_assert_int_eq(b64("+/+/", out, sizeof out, lenient), 3);
        ck_assert_mem_eq(out, "\xfb\xff\xbf", 3);
        /* Exactly MAX octets fit, and nothing is written past them. */
        memset(out, 'x', sizeof out);
        ck_assert_int_eq(b64("YWJj", out, 3, lenient), 3);
        ck_assert_uint_eq(out[3], 'x');
        ck_assert_int_eq(b64("YWJj", out, 2, lenient), -1);
        ck_assert_int_eq(b64("YWJjZA==", out, 3, lenient), -1);
        ck_assert_int_eq(b64("YWJjZA", out, 3, lenient), -1);
        /* Refused either way. */
        ck_assert_int_eq(b64("YQ=", out, sizeof out, lenient), -1);
        ck_assert_int_eq(b64("Y===", out, sizeof out, lenient), -1);
        ck_assert_int_eq(b64("YQ==YQ==", out, sizeof out, lenient), -1);
        ck_assert_int_eq(b64("YR==", out, sizeof out, lenient), -1);
        ck_assert_int_eq(b64("YWJj\n", out, sizeof out, lenient), -1);
        ck_assert_int_eq(b64("YW-j", out, sizeof out, lenient), -1);
        ck_assert_int_eq(b64("Y", out, sizeof out, lenient), -1);
        ck_assert_int_eq(base64_decode("YW\0j", 4, out, sizeof out, lenient),
                         -1);
    }
}
END_TEST

START_TEST(test_base64_padding)
{
    unsigned char out[16];

    /* Stored digests are written without padding by some tools. */
    ck_assert_int_eq(b64("YQ", out, sizeof out, true), 1);
    ck_assert_mem_eq(out, "a", 1);
    ck_assert_int_eq(b64("YWI", out, sizeof out, true), 2);
    ck_assert_mem_eq(out, "ab", 2);
    ck_assert_int_eq(b64("YWJjZA", out, sizeof out, true), 4);
    ck_assert_mem_eq(out, "abcd", 4);
    /* SASL requires it. */
    ck_assert_int_eq(b64("YQ", out, sizeof out, false), -1);
    ck_assert_int_eq(b64("YWI", out, sizeof out, false), -1);
    ck_assert_int_eq(b64("YWJjZA", out, sizeof out, false), -1);
    /* Unused bits must be zero without padding too. */
    ck_assert_int_eq(b64("YR", out, sizeof out, true), -1);
    ck_assert_int_eq(b64("YWJ", out, sizeof out, true), -1);
}
END_TEST

/* Every string of up to 6 characters from a small set: the strict reading
 * is the lenient one restricted to whole quanta, with the same octets. */
START_TEST(test_base64_modes_agree)
{
    static const char set[] = "AQYg/=-";
    const size_t nset = sizeof set - 1;
    char s[7];

    for (size_t len = 0; len <= 6; len++) {
        size_t total = 1;

        for (size_t i = 0; i < len; i++)
            total *= nset;
        for (size_t k = 0; k < total; k++) {
            unsigned char a[8], b[8];
            long la, lb;

            for (size_t i = 0, r = k; i < len; i++, r /= nset)
                s[i] = set[r % nset];
            s[len] = '\0';
            la = b64(s, a, sizeof a, false);
            lb = b64(s, b, sizeof b, true);
            if (len % 4 != 0) {
                ck_assert_msg(la == -1, "strict accepted '%s'", s);
                continue;
            }
            ck_assert_msg(la == lb, "'%s': %ld vs %ld", s, la, lb);
            if (la > 0)
                ck_assert_mem_eq(a, b, (size_t)la);
        }
    }
}
END_TEST

START_TEST(test_md5_malformed)
{
    ck_assert_int_eq(verify("secretm", "{md5}b52328d7451bfeace80c4b8c338106f"),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secretm",
                            "{md5}b52328d7451bfeace80c4b8c338106f9a"),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secretm",
                            "{md5}g52328d7451bfeace80c4b8c338106f9"),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secretm", "{md5}tSMo10Ub/qzoDEuMM4EG+Q=!"),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secretm", "{md5}tSMo10Ub/qzoDEuMM4EG+Q==="),
                     PASSWORD_UNUSABLE);
    /* Non-zero trailing bits: not a canonical encoding. */
    ck_assert_int_eq(verify("secretm", "{md5}tSMo10Ub/qzoDEuMM4EG+R=="),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secretm", "{md5} " MD5_HEX), PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secretm", "{md5}"), PASSWORD_UNUSABLE);
}
END_TEST

START_TEST(test_sha)
{
    pair("secrets", "{sha1}" SHA1_HEX);
    pair("secrets", "{SHA1}" SHA1_B64);
    pair("secrets", "{SHA}" SHA1_B64);
    pair("secret256", "{SHA256}" SHA256_B64);
    pair("secret512", "{sha512}" SHA512_HEX);
    /* The right length for another digest is malformed. */
    ck_assert_int_eq(verify("secrets", "{sha1}" MD5_HEX), PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secret256", "{sha512}" SHA256_B64),
                     PASSWORD_UNUSABLE);
}
END_TEST

START_TEST(test_ssha)
{
    pair("secret256", "{SSHA256}" SSHA256);
    pair("secret512", "{ssha512}" SSHA512);
    pair("secretss", "{SSHA}" SSHA1);
    /* A digest without a salt is not a salted value. */
    ck_assert_int_eq(verify("secret256", "{SSHA256}" SHA256_B64),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secret256", "{SSHA256}not base64!"),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("secret256", "{SSHA256}"), PASSWORD_UNUSABLE);
}
END_TEST

START_TEST(test_mysql)
{
    pair("password", "{mysql}" MYSQL_PASSWORD);
    pair("secretq", "{MySQL}" MYSQL_SECRETQ);
    pair("secretq", "{mysql}*ef310ab7bc8ee01179abd0b20b7b1085d15e0d47");
    ck_assert_int_eq(verify("password",
                            "{mysql}2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("password", "{mysql}*2470C0C06DEE42FD1618BB99"),
                     PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("password", "{mysql}"), PASSWORD_UNUSABLE);
}
END_TEST

START_TEST(test_unknown_scheme)
{
    const char *err = NULL;

    ck_assert_int_eq(password_verify("x", "{rot13}k", PASSWORD_SCHEME_CRYPT,
                                     false, &err), PASSWORD_UNUSABLE);
    ck_assert_str_eq(err, "unknown password scheme");
    ck_assert_int_eq(verify("x", "{}x"), PASSWORD_UNUSABLE);
    ck_assert_int_eq(verify("x", "{plainplainplainplainplainplainplain}x"),
                     PASSWORD_UNUSABLE);
    /* An unclosed brace is no prefix; as crypt it is malformed. */
    ck_assert_int_eq(verify("x", "{plain"), PASSWORD_UNUSABLE);
}
END_TEST

START_TEST(test_empty)
{
    const char *err = NULL;

    ck_assert_int_eq(password_verify("", "", PASSWORD_SCHEME_CRYPT, false,
                                     &err), PASSWORD_MISMATCH);
    ck_assert_str_eq(err, "empty password not permitted");
    ck_assert_int_eq(password_verify("", "", PASSWORD_SCHEME_CRYPT, true,
                                     &err), PASSWORD_MATCH);
    ck_assert_ptr_null(err);
    ck_assert_int_eq(password_verify("x", "", PASSWORD_SCHEME_CRYPT, true,
                                     &err), PASSWORD_MISMATCH);
    ck_assert_int_eq(password_verify("", "", PASSWORD_SCHEME_MD5, true,
                                     &err), PASSWORD_MATCH);
    ck_assert_int_eq(password_verify("", "{plain}", PASSWORD_SCHEME_CRYPT,
                                     true, &err), PASSWORD_MATCH);
    ck_assert_int_eq(password_verify("", "{plain}", PASSWORD_SCHEME_CRYPT,
                                     false, &err), PASSWORD_MISMATCH);
    ck_assert_int_eq(password_verify("", "{crypt}", PASSWORD_SCHEME_CRYPT,
                                     true, &err), PASSWORD_MATCH);
    ck_assert_int_eq(password_verify("a", "{crypt}", PASSWORD_SCHEME_CRYPT,
                                     true, &err), PASSWORD_MISMATCH);
    /* An empty digest is malformed, not an empty password. */
    ck_assert_int_eq(password_verify("", "{md5}", PASSWORD_SCHEME_CRYPT,
                                     true, &err), PASSWORD_UNUSABLE);
}
END_TEST

START_TEST(test_too_long)
{
    char pw[POP3_MAX_PASS + 2];
    char stored[POP3_MAX_PASS + 10];

    memset(pw, 'p', sizeof pw - 1);
    pw[sizeof pw - 1] = '\0';
    snprintf(stored, sizeof stored, "{plain}%s", pw);
    ck_assert_int_eq(verify(pw, stored), PASSWORD_MISMATCH);
    /* One byte shorter is the longest accepted. */
    pw[POP3_MAX_PASS] = '\0';
    snprintf(stored, sizeof stored, "{plain}%s", pw);
    ck_assert_int_eq(verify(pw, stored), PASSWORD_MATCH);
}
END_TEST

START_TEST(test_apop_secret)
{
    ck_assert_str_eq(password_apop_secret("{plaintext}tanstaaf",
                                          PASSWORD_SCHEME_CRYPT), "tanstaaf");
    ck_assert_str_eq(password_apop_secret("{PLAIN}tanstaaf",
                                          PASSWORD_SCHEME_CRYPT), "tanstaaf");
    ck_assert_str_eq(password_apop_secret("tanstaaf", PASSWORD_SCHEME_PLAIN),
                     "tanstaaf");
    ck_assert_ptr_null(password_apop_secret("tanstaaf",
                                            PASSWORD_SCHEME_CRYPT));
    ck_assert_ptr_null(password_apop_secret(SHA512_CRYPT,
                                            PASSWORD_SCHEME_CRYPT));
    ck_assert_ptr_null(password_apop_secret("{md5}" MD5_HEX,
                                            PASSWORD_SCHEME_PLAIN));
    ck_assert_ptr_null(password_apop_secret("{plain}", PASSWORD_SCHEME_CRYPT));
    ck_assert_ptr_null(password_apop_secret("", PASSWORD_SCHEME_PLAIN));
    ck_assert_ptr_null(password_apop_secret("{rot13}x",
                                            PASSWORD_SCHEME_PLAIN));
}
END_TEST

#define RFC_TS "<1896.697170952@dbc.mtview.ca.us>"

START_TEST(test_apop_rfc1939)
{
    ck_assert(apop_verify(RFC_TS, "tanstaaf",
                          "c4c9334bac560ecc979e58001b3e22fb"));
    ck_assert(apop_verify(RFC_TS, "tanstaaf",
                          "C4C9334BAC560ECC979E58001B3E22FB"));
    ck_assert(!apop_verify(RFC_TS, "tanstaafl",
                           "c4c9334bac560ecc979e58001b3e22fb"));
    ck_assert(!apop_verify("<1896.697170953@dbc.mtview.ca.us>", "tanstaaf",
                           "c4c9334bac560ecc979e58001b3e22fb"));
    ck_assert(!apop_verify(RFC_TS, "tanstaaf",
                           "c4c9334bac560ecc979e58001b3e22fc"));
    ck_assert(!apop_verify(RFC_TS, "tanstaaf",
                           "c4c9334bac560ecc979e58001b3e22f"));
    ck_assert(!apop_verify(RFC_TS, "tanstaaf",
                           "c4c9334bac560ecc979e58001b3e22fb0"));
    ck_assert(!apop_verify(RFC_TS, "tanstaaf",
                           "x4c9334bac560ecc979e58001b3e22fb"));
    ck_assert(!apop_verify(RFC_TS, "tanstaaf", ""));
}
END_TEST

/* LEN octets from the hex digits of S. */
/* RFC 2195 section 2. */
#define CRAM_CHALLENGE "<1896.697170952@postoffice.reston.mci.net>"

START_TEST(test_cram_md5_rfc2195)
{
    ck_assert(cram_md5_verify(CRAM_CHALLENGE, "tanstaaftanstaaf",
                              "b913a602c7eda7a495b4e6e7334d3890"));
    ck_assert(cram_md5_verify(CRAM_CHALLENGE, "tanstaaftanstaaf",
                              "B913A602C7EDA7A495B4E6E7334D3890"));
    ck_assert(!cram_md5_verify(CRAM_CHALLENGE, "tanstaaftanstaafx",
                               "b913a602c7eda7a495b4e6e7334d3890"));
    ck_assert(!cram_md5_verify("<1896.697170953@postoffice.reston.mci.net>",
                               "tanstaaftanstaaf",
                               "b913a602c7eda7a495b4e6e7334d3890"));
    ck_assert(!cram_md5_verify(CRAM_CHALLENGE, "tanstaaftanstaaf",
                               "b913a602c7eda7a495b4e6e7334d3891"));
    ck_assert(!cram_md5_verify(CRAM_CHALLENGE, "tanstaaftanstaaf",
                               "b913a602c7eda7a495b4e6e7334d389"));
    ck_assert(!cram_md5_verify(CRAM_CHALLENGE, "tanstaaftanstaaf", ""));
    /* Not APOP's digest of the same values. */
    ck_assert(!apop_verify(CRAM_CHALLENGE, "tanstaaftanstaaf",
                           "b913a602c7eda7a495b4e6e7334d3890"));
}
END_TEST

/* RFC 7677 section 3: user "user", password "pencil". */
#define RFC7677_AUTH_MESSAGE "n=user,r=rOprNGfwEbeRWgbNEkqO," \
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
/* base64 W22ZaJ0SNY7soEsUEjb6gQ==, dHzbZapW..., 6rriTRBi... in hex. */
#define RFC7677_SALT "5b6d99689d12358eeca04b141236fa81"
#define RFC7677_PROOF \
    "747cdb65aa56224e2352137e52d7bdcad6a0f738df30782caa69a2cfb0277554"
#define RFC7677_SIGNATURE \
    "eabae24d1062db75a9451ff0b6ea7e98c8546549ff741e672d3251b2397de46e"

START_TEST(test_scram_rfc7677)
{
    unsigned char salt[16], proof[SCRAM_SHA256_LEN], want[SCRAM_SHA256_LEN],
        sig[SCRAM_SHA256_LEN];
    const char *am = RFC7677_AUTH_MESSAGE;
    size_t amlen = strlen(am);

    unit_unhex(RFC7677_SALT, salt, sizeof salt);
    unit_unhex(RFC7677_PROOF, proof, sizeof proof);
    unit_unhex(RFC7677_SIGNATURE, want, sizeof want);
    memset(sig, 0, sizeof sig);
    ck_assert(scram_sha256_verify("pencil", salt, sizeof salt, 4096, am, amlen,
                                  proof, sig));
    ck_assert_mem_eq(sig, want, sizeof want);

    /* Anything else is refused, and the signature is left alone. */
    memset(sig, 0, sizeof sig);
    ck_assert(!scram_sha256_verify("pencil2", salt, sizeof salt, 4096, am,
                                   amlen, proof, sig));
    ck_assert(!scram_sha256_verify("pencil", salt, sizeof salt, 4097, am,
                                   amlen, proof, sig));
    ck_assert(!scram_sha256_verify("pencil", salt, sizeof salt - 1, 4096, am,
                                   amlen, proof, sig));
    ck_assert(!scram_sha256_verify("pencil", salt, sizeof salt, 4096, am,
                                   amlen - 1, proof, sig));
    proof[31] ^= 1;
    ck_assert(!scram_sha256_verify("pencil", salt, sizeof salt, 4096, am,
                                   amlen, proof, sig));
    proof[31] ^= 1;
    for (size_t i = 0; i < sizeof sig; i++)
        ck_assert_uint_eq(sig[i], 0);

    /* Parameters out of range are refused before any work. */
    ck_assert(!scram_sha256_verify("pencil", salt, sizeof salt,
                                   SCRAM_MIN_ITERATIONS - 1, am, amlen,
                                   proof, sig));
    ck_assert(!scram_sha256_verify("pencil", salt, sizeof salt,
                                   SCRAM_MAX_ITERATIONS + 1, am, amlen,
                                   proof, sig));
    ck_assert(!scram_sha256_verify("pencil", salt, 0, 4096, am, amlen,
                                   proof, sig));
    ck_assert(!scram_sha256_verify("pencil", salt, SCRAM_MAX_SALT + 1, 4096,
                                   am, amlen, proof, sig));
}
END_TEST

START_TEST(test_dummy)
{
    struct timespec a, b;
    double ms;

    /* It must do real work (a crypt(3) check takes milliseconds) and
     * accept any input. */
    clock_gettime(CLOCK_MONOTONIC, &a);
    password_dummy_check("guess");
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (double)(b.tv_sec - a.tv_sec) * 1e3
         + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    ck_assert_msg(ms > 0.5, "dummy check took only %.3f ms", ms);
    password_dummy_check(NULL);
    password_dummy_check("");
}
END_TEST

Suite *suite_password(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("schemes");

    tcase_add_test(tc, test_crypt_default);
    tcase_add_test(tc, test_crypt_prefixes);
    tcase_add_test(tc, test_locked);
    tcase_add_test(tc, test_crypt_malformed);
    tcase_add_test(tc, test_plain);
    tcase_add_test(tc, test_md5);
    tcase_add_test(tc, test_md5_malformed);
    tcase_add_test(tc, test_base64_both);
    tcase_add_test(tc, test_base64_padding);
    tcase_add_test(tc, test_base64_modes_agree);
    tcase_add_test(tc, test_sha);
    tcase_add_test(tc, test_ssha);
    tcase_add_test(tc, test_mysql);
    tcase_add_test(tc, test_unknown_scheme);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_too_long);
    suite_add_tcase(s, tc);

    tc = tcase_create("apop");
    tcase_add_test(tc, test_apop_secret);
    tcase_add_test(tc, test_apop_rfc1939);
    tcase_add_test(tc, test_cram_md5_rfc2195);
    tcase_add_test(tc, test_scram_rfc7677);
    tcase_add_test(tc, test_dummy);
    suite_add_tcase(s, tc);

    return s;
}
