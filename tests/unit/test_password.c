/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_password.c: password schemes against vectors made by other tools
 * (openssl passwd, mkpasswd, Python's hashlib), APOP and the dummy check;
 * then the same checks as the flatfile driver makes them through the
 * authswitch. */
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
static void unhex(const char *s, unsigned char *out, size_t len)
{
    ck_assert_uint_eq(strlen(s), 2 * len);
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        char pair[3] = { s[2 * i], s[2 * i + 1], 0 };
        char *end;

        v = (unsigned)strtoul(pair, &end, 16);
        ck_assert(*end == 0);
        out[i] = (unsigned char)v;
    }
}

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

    unhex(RFC7677_SALT, salt, sizeof salt);
    unhex(RFC7677_PROOF, proof, sizeof proof);
    unhex(RFC7677_SIGNATURE, want, sizeof want);
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

    unhex(CAROL_PROOF, proof, sizeof proof);
    unhex(CAROL_SIGNATURE, want, sizeof want);
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

    tc = tcase_create("drivers");
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
