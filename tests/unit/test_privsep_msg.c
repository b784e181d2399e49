/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_privsep_msg.c: unit tests of privsep_msg.c, the messages between the
 * pre-login process and the monitor. */
#include <string.h>

#include "privsep_msg.h"
#include "unit.h"

static unsigned char wire[PRIVSEP_MSG_MAX];
static struct privsep_msg in, out;

/* Encode M, check its header, decode its body into OUT. */
static int roundtrip(const struct privsep_msg *m, size_t *len_r)
{
    enum privsep_msg_type type;
    const char *err = NULL;
    size_t n = privsep_msg_encode(m, wire, sizeof wire, &err), len;

    if (len_r)
        *len_r = n;
    if (n == 0)
        return -1;
    ck_assert_int_eq(privsep_msg_header(wire, &type, &len, &err), 0);
    ck_assert_uint_eq(len, n - PRIVSEP_MSG_HDR);
    ck_assert_int_eq(type, m->type);
    return privsep_msg_decode(type, wire + PRIVSEP_MSG_HDR, len, &out, &err);
}

/* Decode a hand-made body of TYPE. */
static int decode(enum privsep_msg_type type, const char *body, size_t len)
{
    const char *err = NULL;
    int r = privsep_msg_decode(type, (const unsigned char *)body, len, &out, &err);

    if (r < 0)
        ck_assert_ptr_nonnull(err);
    return r;
}

static void auth_msg(uint8_t method, const char *login, const char *secret)
{
    memset(&in, 0, sizeof in);
    in.type = PRIVSEP_MSG_AUTH;
    in.method = method;
    memcpy(in.login, login, strlen(login) + 1);
    memcpy(in.secret, secret, strlen(secret) + 1);
}

START_TEST(auth_pass_roundtrip)
{
    size_t n;

    auth_msg(PRIVSEP_METHOD_PASS, "alice@example.org", "pass word");
    ck_assert_int_eq(roundtrip(&in, &n), 0);
    ck_assert_uint_eq(n, 4 + 3 + 17 + 9);
    ck_assert_uint_eq(wire[0], PRIVSEP_MSG_AUTH);
    ck_assert_uint_eq(wire[1], 0);
    ck_assert_uint_eq(wire[2], 0);
    ck_assert_uint_eq(wire[3], 3 + 17 + 9);
    ck_assert_uint_eq(out.method, PRIVSEP_METHOD_PASS);
    ck_assert_str_eq(out.login, "alice@example.org");
    ck_assert_str_eq(out.secret, "pass word");
}
END_TEST

START_TEST(auth_empty_password)
{
    auth_msg(PRIVSEP_METHOD_PASS, "bob", "");
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_str_eq(out.secret, "");
}
END_TEST

START_TEST(auth_apop_roundtrip)
{
    auth_msg(PRIVSEP_METHOD_APOP, "bob", "c4c9334bac560ecc979e58001b3e22fb");
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_uint_eq(out.method, PRIVSEP_METHOD_APOP);
    ck_assert_str_eq(out.secret, "c4c9334bac560ecc979e58001b3e22fb");
}
END_TEST

START_TEST(auth_bounds)
{
    char login[POP3_MAX_USER + 1], secret[POP3_MAX_PASS + 1];
    const char *err;

    memset(login, 'u', POP3_MAX_USER);
    login[POP3_MAX_USER] = 0;
    memset(secret, 'p', POP3_MAX_PASS);
    secret[POP3_MAX_PASS] = 0;
    auth_msg(PRIVSEP_METHOD_PASS, login, secret);
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_uint_eq(strlen(out.login), POP3_MAX_USER);
    ck_assert_uint_eq(strlen(out.secret), POP3_MAX_PASS);
    /* An empty login is not encoded. */
    auth_msg(PRIVSEP_METHOD_PASS, "", "x");
    ck_assert_uint_eq(privsep_msg_encode(&in, wire, sizeof wire, &err), 0);
    /* Too small a buffer is refused, not overrun. */
    auth_msg(PRIVSEP_METHOD_PASS, "bob", "secret");
    ck_assert_uint_eq(privsep_msg_encode(&in, wire, 10, &err), 0);
    ck_assert_str_eq(err, "buffer too small");
}
END_TEST

START_TEST(auth_malformed)
{
    /* method, login length, login, secret length, secret */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\0\3bob\2pw", 8), 0);
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\4\3bob\2pw", 8), -1);  /* method */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\3\3bob\2pw", 8), -1);  /* SCRAM has its own */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\0\0\2pw", 5), -1);     /* empty login */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\0\4bob\2pw", 8), -1);  /* login overruns */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\0\3b\0b\2pw", 8), -1); /* NUL in login */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\0\3bob\2p\0", 8), -1); /* NUL in secret */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\0\3bob\3pw", 8), -1);  /* secret overruns */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\0\3bob\1pw", 8), -1);  /* trailing byte */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\0\3bob", 5), -1);      /* no secret length */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\0\3", 2), -1);         /* short */
    /* An APOP digest is exactly 32 hex digits. */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\1\3bob\2ab", 8), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH,
        "\1\3bob\040c4c9334bac560ecc979e58001b3e22fz", 38), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH,
        "\1\3bob\040c4c9334bac560ecc979e58001b3e22fb", 38), 0);
}
END_TEST

START_TEST(result_roundtrip)
{
    memset(&in, 0, sizeof in);
    in.type = PRIVSEP_MSG_RESULT;
    for (uint8_t st = PRIVSEP_OK; st <= PRIVSEP_TEMPFAIL; st++) {
        in.status = st;
        ck_assert_int_eq(roundtrip(&in, NULL), 0);
        ck_assert_uint_eq(out.status, st);
    }
    ck_assert_int_eq(decode(PRIVSEP_MSG_RESULT, "\3", 1), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_RESULT, "", 0), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_RESULT, "\0\0", 2), -1);
}
END_TEST

START_TEST(handoff_roundtrip)
{
    size_t n;

    memset(&in, 0, sizeof in);
    in.type = PRIVSEP_MSG_HANDOFF;
    memcpy(in.data, "STAT\r\nLIST\r\n", 12);
    in.datalen = 12;
    ck_assert_int_eq(roundtrip(&in, &n), 0);
    ck_assert_uint_eq(n, PRIVSEP_MSG_HDR + 12);
    ck_assert_uint_eq(out.datalen, 12);
    ck_assert_mem_eq(out.data, "STAT\r\nLIST\r\n", 12);
    /* Empty, and the largest. */
    in.datalen = 0;
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_uint_eq(out.datalen, 0);
    in.type = PRIVSEP_MSG_RELAY;
    memset(in.data, 0, sizeof in.data);
    in.datalen = PRIVSEP_MSG_MAX_DATA;
    ck_assert_int_eq(roundtrip(&in, &n), 0);
    ck_assert_uint_eq(n, PRIVSEP_MSG_MAX);
    ck_assert_uint_eq(out.datalen, PRIVSEP_MSG_MAX_DATA);
    /* One more is refused by the encoder. */
    in.datalen = PRIVSEP_MSG_MAX_DATA + 1;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
}
END_TEST

START_TEST(end_roundtrip)
{
    memset(&in, 0, sizeof in);
    in.type = PRIVSEP_MSG_END;
    in.status = PRIVSEP_END_AUTH_FAILURES;
    memcpy(in.login, "carol", 6);
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_uint_eq(out.status, PRIVSEP_END_AUTH_FAILURES);
    ck_assert_str_eq(out.login, "carol");
    in.login[0] = 0;
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_str_eq(out.login, "");
    ck_assert_int_eq(decode(PRIVSEP_MSG_END, "\11\0", 2), -1);  /* reason */
    ck_assert_int_eq(decode(PRIVSEP_MSG_END, "\0\2a", 3), -1);  /* overrun */
    ck_assert_int_eq(decode(PRIVSEP_MSG_END, "\0\1a?", 4), -1); /* trailing */
    ck_assert_int_eq(decode(PRIVSEP_MSG_END, "\0", 1), -1);     /* short */
}
END_TEST

START_TEST(header_checks)
{
    unsigned char h[PRIVSEP_MSG_HDR];
    enum privsep_msg_type type;
    const char *err;
    size_t len;

    memcpy(h, "\5\0\1\1", 4);       /* END of 257 bytes: the largest */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), 0);
    ck_assert_uint_eq(len, 2 + POP3_MAX_USER);
    memcpy(h, "\5\0\1\2", 4);       /* one more */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    memcpy(h, "\2\0\0\042", 4);     /* RESULT is 1 byte, 33 with a signature */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    memcpy(h, "\2\0\0\041", 4);
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), 0);
    memcpy(h, "\6\0\0\2", 4);       /* CHALLENGE_REQ is one byte */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    memcpy(h, "\7\0\0\346", 4);     /* CHALLENGE of 230: the largest */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), 0);
    memcpy(h, "\7\0\0\347", 4);
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    /* AUTH_SCRAM: 1 + 255 + 1 + 64 + 4 + 2 + 3400 + 32 = 3759 */
    memcpy(h, "\10\0\016\257", 4);
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), 0);
    ck_assert_uint_eq(len, 3759);
    memcpy(h, "\10\0\016\260", 4);
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    memcpy(h, "\1\0\2\2", 4);       /* AUTH of 514 */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    memcpy(h, "\1\0\2\1", 4);       /* AUTH of 513: the largest */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), 0);
    memcpy(h, "\3\0\100\0", 4);     /* HANDOFF of 16384 */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), 0);
    ck_assert_uint_eq(len, PRIVSEP_MSG_MAX_DATA);
    memcpy(h, "\3\0\100\1", 4);
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    memcpy(h, "\0\0\0\0", 4);       /* unknown types */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    memcpy(h, "\11\0\0\0", 4);
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    memcpy(h, "\2\1\0\1", 4);       /* the zero byte is not zero */
    ck_assert_int_eq(privsep_msg_header(h, &type, &len, &err), -1);
    /* decode refuses a length over the type's bound on its own too */
    ck_assert_int_eq(decode(PRIVSEP_MSG_RESULT, "\0\0\0", 3), -1);
    ck_assert_int_eq(decode((enum privsep_msg_type)9, "", 0), -1);
}
END_TEST

START_TEST(auth_cram_roundtrip)
{
    auth_msg(PRIVSEP_METHOD_CRAM_MD5, "bob", "b913a602c7eda7a495b4e6e7334d3890");
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_uint_eq(out.method, PRIVSEP_METHOD_CRAM_MD5);
    ck_assert_str_eq(out.secret, "b913a602c7eda7a495b4e6e7334d3890");
    /* The digest is exactly 32 hex digits, as for APOP. */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH, "\2\3bob\2ab", 8), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH,
        "\2\3bob\041b913a602c7eda7a495b4e6e7334d38900", 39), -1);
}
END_TEST

START_TEST(result_signature)
{
    size_t n;

    memset(&in, 0, sizeof in);
    in.type = PRIVSEP_MSG_RESULT;
    in.status = PRIVSEP_OK;
    in.with_signature = 1;
    for (size_t i = 0; i < PRIVSEP_SCRAM_LEN; i++)
        in.signature[i] = (unsigned char)(0xa0 + i);
    ck_assert_int_eq(roundtrip(&in, &n), 0);
    ck_assert_uint_eq(n, PRIVSEP_MSG_HDR + 1 + PRIVSEP_SCRAM_LEN);
    ck_assert_uint_eq(out.with_signature, 1);
    ck_assert_mem_eq(out.signature, in.signature, PRIVSEP_SCRAM_LEN);
    /* Without one the flag is clear. */
    in.with_signature = 0;
    ck_assert_int_eq(roundtrip(&in, &n), 0);
    ck_assert_uint_eq(n, PRIVSEP_MSG_HDR + 1);
    ck_assert_uint_eq(out.with_signature, 0);
    /* A signature comes only with OK, on either side. */
    in.with_signature = 1;
    in.status = PRIVSEP_NO;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    memset(wire, 0, 1 + PRIVSEP_SCRAM_LEN);
    wire[0] = PRIVSEP_NO;
    ck_assert_int_eq(decode(PRIVSEP_MSG_RESULT, (char *)wire, 1 + PRIVSEP_SCRAM_LEN), -1);
    wire[0] = PRIVSEP_OK;
    ck_assert_int_eq(decode(PRIVSEP_MSG_RESULT, (char *)wire, 1 + PRIVSEP_SCRAM_LEN), 0);
    ck_assert_int_eq(decode(PRIVSEP_MSG_RESULT, (char *)wire, PRIVSEP_SCRAM_LEN), -1);
}
END_TEST

START_TEST(challenge_request)
{
    memset(&in, 0, sizeof in);
    in.type = PRIVSEP_MSG_CHALLENGE_REQ;
    in.method = PRIVSEP_METHOD_SCRAM;
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_uint_eq(out.method, PRIVSEP_METHOD_SCRAM);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE_REQ, "\2", 1), 0);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE_REQ, "\0", 1), -1);  /* PASS */
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE_REQ, "\1", 1), -1);  /* APOP */
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE_REQ, "\4", 1), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE_REQ, "", 0), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE_REQ, "\2\2", 2), -1);
}
END_TEST

START_TEST(challenge_cram)
{
    static const char c[] = "<0123456789abcdef.1764460800@mail.example.org>";
    size_t n;

    memset(&in, 0, sizeof in);
    in.type = PRIVSEP_MSG_CHALLENGE;
    in.method = PRIVSEP_METHOD_CRAM_MD5;
    memcpy(in.challenge, c, sizeof c);
    ck_assert_int_eq(roundtrip(&in, &n), 0);
    ck_assert_uint_eq(n, PRIVSEP_MSG_HDR + 7 + strlen(c));
    ck_assert_uint_eq(out.method, PRIVSEP_METHOD_CRAM_MD5);
    ck_assert_str_eq(out.challenge, c);
    ck_assert_uint_eq(out.salt_len, 0);
    ck_assert_uint_eq(out.iterations, 0);
    /* CRAM-MD5 has no salt or count. */
    in.iterations = 4096;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\2\2<>\0\0\0\0\0", 9), 0);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\2\2<>\0\0\0\0\1", 9), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\2\2<>\1s\0\0\0\0", 10), -1);
    /* Printable, no space, not empty, no trailing bytes. */
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\2\2< \0\0\0\0\0", 9), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\2\2<\n\0\0\0\0\0", 9), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\2\0\0\0\0\0\0", 7), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\2\2<>\0\0\0\0\0?", 10), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\2\2<>\0\0\0", 7), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\1\2<>\0\0\0\0\0", 9), -1);
    /* The longest challenge, and one more. */
    memset(in.challenge, 'x', PRIVSEP_MAX_CHALLENGE);
    in.challenge[PRIVSEP_MAX_CHALLENGE] = 0;
    in.iterations = 0;
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_uint_eq(strlen(out.challenge), PRIVSEP_MAX_CHALLENGE);
}
END_TEST

START_TEST(challenge_scram)
{
    memset(&in, 0, sizeof in);
    in.type = PRIVSEP_MSG_CHALLENGE;
    in.method = PRIVSEP_METHOD_SCRAM;
    memcpy(in.challenge, "rOprNGfwEbeRWgbNEkqO%hvY", 25);
    memcpy(in.salt, "0123456789abcdef", 16);
    in.salt_len = 16;
    in.iterations = 4096;
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    ck_assert_uint_eq(out.method, PRIVSEP_METHOD_SCRAM);
    ck_assert_str_eq(out.challenge, "rOprNGfwEbeRWgbNEkqO%hvY");
    ck_assert_uint_eq(out.salt_len, 16);
    ck_assert_mem_eq(out.salt, "0123456789abcdef", 16);
    ck_assert_uint_eq(out.iterations, 4096);
    /* SCRAM needs a salt and a count, and a nonce without a comma. */
    in.iterations = 0;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    in.iterations = 1;
    in.salt_len = 0;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    in.salt_len = PRIVSEP_MAX_SALT + 1;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    in.salt_len = PRIVSEP_MAX_SALT;
    ck_assert_int_eq(roundtrip(&in, NULL), 0);
    in.challenge[3] = ',';
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\3\2ab\1s\0\0\020\0", 10), 0);
    ck_assert_uint_eq(out.iterations, 4096);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\3\2a,\1s\0\0\020\0", 10), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\3\2ab\0\0\0\020\0", 9), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\3\2ab\1s\0\0\0\0", 10), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\3\2ab\2s\0\0\020\0", 10), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_CHALLENGE, "\3\2ab\101s\0\0\020\0", 10), -1);
}
END_TEST

static void scram_msg(const char *login, const char *am, size_t amlen)
{
    memset(&in, 0, sizeof in);
    in.type = PRIVSEP_MSG_AUTH_SCRAM;
    memcpy(in.login, login, strlen(login) + 1);
    memcpy(in.salt, "0123456789abcdef", 16);
    in.salt_len = 16;
    in.iterations = 4096;
    memcpy(in.auth_message, am, amlen);
    in.auth_message_len = amlen;
    for (size_t i = 0; i < PRIVSEP_SCRAM_LEN; i++)
        in.proof[i] = (unsigned char)i;
}

START_TEST(auth_scram_roundtrip)
{
    static const char am[] = "n=user,r=abc,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,"
                             "c=biws,r=abcdef";
    size_t n;

    scram_msg("user", am, strlen(am));
    ck_assert_int_eq(roundtrip(&in, &n), 0);
    ck_assert_uint_eq(n, PRIVSEP_MSG_HDR + 1 + 4 + 1 + 16 + 4 + 2 + strlen(am) +
                         PRIVSEP_SCRAM_LEN);
    ck_assert_str_eq(out.login, "user");
    ck_assert_uint_eq(out.salt_len, 16);
    ck_assert_mem_eq(out.salt, "0123456789abcdef", 16);
    ck_assert_uint_eq(out.iterations, 4096);
    ck_assert_uint_eq(out.auth_message_len, strlen(am));
    ck_assert_str_eq(out.auth_message, am);
    ck_assert_mem_eq(out.proof, in.proof, PRIVSEP_SCRAM_LEN);
}
END_TEST

START_TEST(auth_scram_bounds)
{
    static char am[PRIVSEP_MAX_AUTH_MESSAGE + 1];
    size_t n;

    memset(am, 'a', sizeof am);
    scram_msg("user", am, PRIVSEP_MAX_AUTH_MESSAGE);
    ck_assert_int_eq(roundtrip(&in, &n), 0);
    ck_assert_uint_eq(out.auth_message_len, PRIVSEP_MAX_AUTH_MESSAGE);
    in.auth_message_len = PRIVSEP_MAX_AUTH_MESSAGE + 1;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    in.auth_message_len = 0;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    scram_msg("user", "a\0b", 3);         /* NUL in the AuthMessage */
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    scram_msg("", "ab", 2);                 /* no login */
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    scram_msg("user", "ab", 2);
    in.iterations = 0;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    in.iterations = 1;
    in.salt_len = PRIVSEP_MAX_SALT + 1;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    in.salt_len = 0;
    ck_assert_int_eq(roundtrip(&in, NULL), -1);
    /* A buffer one byte short. */
    in.salt_len = 1;
    ck_assert_uint_eq(privsep_msg_encode(&in, wire, PRIVSEP_MSG_HDR + 1 + 4 + 1 +
                                         1 + 4 + 2 + 2 + PRIVSEP_SCRAM_LEN - 1,
                                         &(const char *){ NULL }), 0);
}
END_TEST

START_TEST(auth_scram_malformed)
{
    /* login length, login, salt length, salt, count, AuthMessage length,
     * AuthMessage, 32 bytes of proof */
    static const char good[] = "\1u\1s\0\0\020\0\0\2am"
        "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP";
    char b[sizeof good + 1];
    size_t n = sizeof good - 1;

    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, good, n), 0);
    ck_assert_str_eq(out.login, "u");
    ck_assert_uint_eq(out.iterations, 4096);
    ck_assert_str_eq(out.auth_message, "am");
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, good, n - 1), -1);  /* short proof */
    memcpy(b, good, n);
    b[n] = 'x';
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, b, n + 1), -1);     /* trailing */
    memcpy(b, good, n);
    b[0] = 0;                                                          /* empty login */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, b, n), -1);
    memcpy(b, good, n);
    b[2] = 0;                                                          /* empty salt */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, b, n), -1);
    memcpy(b, good, n);
    b[6] = 0;                                                          /* count 0 */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, b, n), -1);
    memcpy(b, good, n);
    b[9] = 0;                                                          /* empty AuthMessage */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, b, n), -1);
    memcpy(b, good, n);
    b[9] = 40;                                                         /* overruns */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, b, n), -1);
    memcpy(b, good, n);
    b[8] = 0x0e;                                                       /* 3586: over the bound */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, b, n), -1);
    memcpy(b, good, n);
    b[11] = 0;                                                         /* NUL inside */
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, b, n), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, "\1u", 3), -1);
    ck_assert_int_eq(decode(PRIVSEP_MSG_AUTH_SCRAM, "", 0), -1);
}
END_TEST

Suite *suite_privsep_msg(void)
{
    Suite *s = suite_create("privsep_msg");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, auth_pass_roundtrip);
    tcase_add_test(tc, auth_empty_password);
    tcase_add_test(tc, auth_apop_roundtrip);
    tcase_add_test(tc, auth_bounds);
    tcase_add_test(tc, auth_malformed);
    tcase_add_test(tc, result_roundtrip);
    tcase_add_test(tc, handoff_roundtrip);
    tcase_add_test(tc, end_roundtrip);
    tcase_add_test(tc, header_checks);
    tcase_add_test(tc, auth_cram_roundtrip);
    tcase_add_test(tc, result_signature);
    tcase_add_test(tc, challenge_request);
    tcase_add_test(tc, challenge_cram);
    tcase_add_test(tc, challenge_scram);
    tcase_add_test(tc, auth_scram_roundtrip);
    tcase_add_test(tc, auth_scram_bounds);
    tcase_add_test(tc, auth_scram_malformed);
    suite_add_tcase(s, tc);
    return s;
}
