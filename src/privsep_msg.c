/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep_msg.c: encoding and strict decoding of the messages between the
 * pre-login process and the monitor. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "privsep_msg.h"

#define CHALLENGE_MAX_BODY (1 + 1 + PRIVSEP_MAX_CHALLENGE + 1 + \
                            PRIVSEP_MAX_SALT + 4)
#define SCRAM_MAX_BODY (1 + POP3_MAX_USER + 1 + PRIVSEP_MAX_SALT + 4 + 2 + \
                        PRIVSEP_MAX_AUTH_MESSAGE + PRIVSEP_SCRAM_LEN)

_Static_assert(SCRAM_MAX_BODY <= PRIVSEP_MSG_MAX_BODY,
               "a SCRAM request fits the largest body");
_Static_assert(POP3_MAX_USER <= 255 && POP3_MAX_PASS <= 255 &&
               PRIVSEP_MAX_CHALLENGE <= 255 && PRIVSEP_MAX_SALT <= 255 &&
               PRIVSEP_MAX_AUTH_MESSAGE <= 65535,
               "the length fields hold every bound");

/* The largest body of each type; a header that says more is refused before
 * a byte of the body is read. */
static size_t max_body(enum privsep_msg_type type)
{
    switch (type) {
    case PRIVSEP_MSG_AUTH: return 3 + POP3_MAX_USER + POP3_MAX_PASS;
    case PRIVSEP_MSG_RESULT: return 1 + PRIVSEP_SCRAM_LEN;
    case PRIVSEP_MSG_HANDOFF:
    case PRIVSEP_MSG_RELAY: return PRIVSEP_MSG_MAX_DATA;
    case PRIVSEP_MSG_END: return 2 + POP3_MAX_USER;
    case PRIVSEP_MSG_CHALLENGE_REQ: return 1;
    case PRIVSEP_MSG_CHALLENGE: return CHALLENGE_MAX_BODY;
    case PRIVSEP_MSG_AUTH_SCRAM: return SCRAM_MAX_BODY;
    }
    return 0;
}

static bool known_type(unsigned t)
{
    return t >= PRIVSEP_MSG_AUTH && t <= PRIVSEP_MSG_AUTH_SCRAM;
}

/* A challenge or nonce: printable ASCII without space; a SCRAM nonce has
 * no comma either (it sits in a comma-separated message). */
static bool good_challenge(const char *s, size_t len, bool scram)
{
    if (len == 0 || len > PRIVSEP_MAX_CHALLENGE)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || (scram && s[i] == ','))
            return false;
    return true;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
        (uint32_t)p[2] << 8 | p[3];
}

size_t privsep_msg_encode(const struct privsep_msg *m, unsigned char *buf,
                          size_t size, const char **error_r)
{
    size_t n = PRIVSEP_MSG_HDR, body, l1, l2;

    if (!known_type(m->type)) {
        *error_r = "unknown message type";
        return 0;
    }
    /* Every branch checks its fields' bounds, then that the whole message
     * fits in SIZE, before it writes. */
    switch (m->type) {
    case PRIVSEP_MSG_AUTH:
        l1 = strnlen(m->login, sizeof m->login);
        l2 = strnlen(m->secret, sizeof m->secret);
        if (l1 == 0 || l1 > POP3_MAX_USER || l2 > POP3_MAX_PASS) {
            *error_r = "login or secret out of bounds";
            return 0;
        }
        if (n + 3 + l1 + l2 > size)
            goto too_small;
        buf[n++] = m->method;
        buf[n++] = (unsigned char)l1;
        memcpy(buf + n, m->login, l1);
        n += l1;
        buf[n++] = (unsigned char)l2;
        memcpy(buf + n, m->secret, l2);
        n += l2;
        break;
    case PRIVSEP_MSG_RESULT:
        if (m->with_signature && m->status != PRIVSEP_OK) {
            *error_r = "a signature comes only with OK";
            return 0;
        }
        if (n + 1 + (m->with_signature ? PRIVSEP_SCRAM_LEN : 0) > size)
            goto too_small;
        buf[n++] = m->status;
        if (m->with_signature) {
            memcpy(buf + n, m->signature, PRIVSEP_SCRAM_LEN);
            n += PRIVSEP_SCRAM_LEN;
        }
        break;
    case PRIVSEP_MSG_CHALLENGE_REQ:
        if (n + 1 > size)
            goto too_small;
        buf[n++] = m->method;
        break;
    case PRIVSEP_MSG_CHALLENGE: {
        bool scram = m->method == PRIVSEP_METHOD_SCRAM;

        l1 = strnlen(m->challenge, sizeof m->challenge);
        if ((!scram && m->method != PRIVSEP_METHOD_CRAM_MD5) ||
            !good_challenge(m->challenge, l1, scram) ||
            (scram ? m->salt_len == 0 || m->salt_len > PRIVSEP_MAX_SALT ||
                     m->iterations == 0
                   : m->salt_len != 0 || m->iterations != 0)) {
            *error_r = "challenge out of bounds";
            return 0;
        }
        if (n + 7 + l1 + m->salt_len > size)
            goto too_small;
        buf[n++] = m->method;
        buf[n++] = (unsigned char)l1;
        memcpy(buf + n, m->challenge, l1);
        n += l1;
        buf[n++] = (unsigned char)m->salt_len;
        memcpy(buf + n, m->salt, m->salt_len);
        n += m->salt_len;
        put32(buf + n, m->iterations);
        n += 4;
        break;
    }
    case PRIVSEP_MSG_AUTH_SCRAM:
        l1 = strnlen(m->login, sizeof m->login);
        l2 = m->auth_message_len;
        if (l1 == 0 || l1 > POP3_MAX_USER || m->salt_len == 0 ||
            m->salt_len > PRIVSEP_MAX_SALT || m->iterations == 0 || l2 == 0 ||
            l2 > PRIVSEP_MAX_AUTH_MESSAGE || memchr(m->auth_message, 0, l2)) {
            *error_r = "SCRAM request out of bounds";
            return 0;
        }
        if (n + 8 + l1 + m->salt_len + l2 + PRIVSEP_SCRAM_LEN > size)
            goto too_small;
        buf[n++] = (unsigned char)l1;
        memcpy(buf + n, m->login, l1);
        n += l1;
        buf[n++] = (unsigned char)m->salt_len;
        memcpy(buf + n, m->salt, m->salt_len);
        n += m->salt_len;
        put32(buf + n, m->iterations);
        n += 4;
        buf[n++] = (unsigned char)(l2 >> 8);
        buf[n++] = (unsigned char)(l2 & 0xff);
        memcpy(buf + n, m->auth_message, l2);
        n += l2;
        memcpy(buf + n, m->proof, PRIVSEP_SCRAM_LEN);
        n += PRIVSEP_SCRAM_LEN;
        break;
    case PRIVSEP_MSG_HANDOFF:
    case PRIVSEP_MSG_RELAY:
        if (m->datalen > PRIVSEP_MSG_MAX_DATA) {
            *error_r = "data out of bounds";
            return 0;
        }
        if (n + m->datalen > size)
            goto too_small;
        memcpy(buf + n, m->data, m->datalen);
        n += m->datalen;
        break;
    case PRIVSEP_MSG_END:
        l1 = strnlen(m->login, sizeof m->login);
        if (l1 > POP3_MAX_USER) {
            *error_r = "login out of bounds";
            return 0;
        }
        if (n + 2 + l1 > size)
            goto too_small;
        buf[n++] = m->status;
        buf[n++] = (unsigned char)l1;
        memcpy(buf + n, m->login, l1);
        n += l1;
        break;
    }
    body = n - PRIVSEP_MSG_HDR;
    buf[0] = (unsigned char)m->type;
    buf[1] = 0;
    buf[2] = (unsigned char)(body >> 8);
    buf[3] = (unsigned char)(body & 0xff);
    return n;

too_small:
    *error_r = "buffer too small";
    return 0;
}

int privsep_msg_header(const unsigned char *hdr, enum privsep_msg_type *type_r,
                       size_t *len_r, const char **error_r)
{
    size_t len = (size_t)hdr[2] << 8 | hdr[3];

    if (!known_type(hdr[0]) || hdr[1] != 0) {
        *error_r = "malformed message header";
        return -1;
    }
    if (len > max_body((enum privsep_msg_type)hdr[0])) {
        *error_r = "message body too long";
        return -1;
    }
    *type_r = (enum privsep_msg_type)hdr[0];
    *len_r = len;
    return 0;
}

/* Take a string of LEN bytes at *P (within END) into DST of DSTSIZE:
 * no NUL inside, and it must fit. Advances *P only on success. */
static int take_string(const unsigned char **p, const unsigned char *end,
                       size_t len, char *dst, size_t dstsize)
{
    if (len >= dstsize || (size_t)(end - *p) < len || memchr(*p, 0, len))
        return -1;
    memcpy(dst, *p, len);
    dst[len] = 0;
    *p += len;
    return 0;
}

static bool is_digest(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return false;
    return n == PRIVSEP_DIGEST_LEN;
}

int privsep_msg_decode(enum privsep_msg_type type, const unsigned char *body,
                       size_t len, struct privsep_msg *m,
                       const char **error_r)
{
    const unsigned char *p = body, *end = body + len;
    size_t l;

    memset(m, 0, offsetof(struct privsep_msg, data));
    m->type = type;
    if (!known_type(type) || len > max_body(type)) {
        *error_r = "malformed message";
        return -1;
    }
    switch (type) {
    case PRIVSEP_MSG_AUTH:
        if (len < 3) {
            *error_r = "short login message";
            return -1;
        }
        m->method = *p++;
        if (m->method != PRIVSEP_METHOD_PASS && m->method != PRIVSEP_METHOD_APOP &&
            m->method != PRIVSEP_METHOD_CRAM_MD5) {
            *error_r = "unknown login method";
            return -1;
        }
        l = *p++;
        if (l == 0 || l > POP3_MAX_USER ||
            take_string(&p, end, l, m->login, sizeof m->login) < 0) {
            *error_r = "malformed login name";
            return -1;
        }
        if (p == end) {
            *error_r = "short login message";
            return -1;
        }
        l = *p++;
        if (l > POP3_MAX_PASS ||
            take_string(&p, end, l, m->secret, sizeof m->secret) < 0) {
            *error_r = "malformed secret";
            return -1;
        }
        if (m->method != PRIVSEP_METHOD_PASS && !is_digest(m->secret)) {
            *error_r = "malformed digest";
            return -1;
        }
        break;
    case PRIVSEP_MSG_RESULT:
        if ((len != 1 && len != 1 + PRIVSEP_SCRAM_LEN) || *p > PRIVSEP_TEMPFAIL ||
            (len != 1 && *p != PRIVSEP_OK)) {
            *error_r = "malformed result";
            return -1;
        }
        m->status = *p++;
        if (len != 1) {
            m->with_signature = 1;
            memcpy(m->signature, p, PRIVSEP_SCRAM_LEN);
            p += PRIVSEP_SCRAM_LEN;
        }
        break;
    case PRIVSEP_MSG_CHALLENGE_REQ:
        if (len != 1 || (*p != PRIVSEP_METHOD_CRAM_MD5 &&
                         *p != PRIVSEP_METHOD_SCRAM)) {
            *error_r = "malformed challenge request";
            return -1;
        }
        m->method = *p++;
        break;
    case PRIVSEP_MSG_CHALLENGE: {
        bool scram;

        if (len < 7) {
            *error_r = "short challenge";
            return -1;
        }
        m->method = *p++;
        scram = m->method == PRIVSEP_METHOD_SCRAM;
        l = *p++;
        if ((!scram && m->method != PRIVSEP_METHOD_CRAM_MD5) ||
            take_string(&p, end, l, m->challenge, sizeof m->challenge) < 0 ||
            !good_challenge(m->challenge, l, scram) || end - p < 5) {
            *error_r = "malformed challenge";
            return -1;
        }
        m->salt_len = *p++;
        if (m->salt_len > PRIVSEP_MAX_SALT || (size_t)(end - p) < m->salt_len + 4) {
            *error_r = "malformed challenge";
            return -1;
        }
        memcpy(m->salt, p, m->salt_len);
        p += m->salt_len;
        m->iterations = get32(p);
        p += 4;
        if (scram ? m->salt_len == 0 || m->iterations == 0
                  : m->salt_len != 0 || m->iterations != 0) {
            *error_r = "malformed challenge";
            return -1;
        }
        break;
    }
    case PRIVSEP_MSG_AUTH_SCRAM:
        if (len < 1) {
            *error_r = "short SCRAM request";
            return -1;
        }
        l = *p++;
        if (l == 0 || l > POP3_MAX_USER ||
            take_string(&p, end, l, m->login, sizeof m->login) < 0) {
            *error_r = "malformed login name";
            return -1;
        }
        if (p == end || (m->salt_len = *p++) == 0 ||
            m->salt_len > PRIVSEP_MAX_SALT ||
            (size_t)(end - p) < m->salt_len + 6) {
            *error_r = "malformed SCRAM salt";
            return -1;
        }
        memcpy(m->salt, p, m->salt_len);
        p += m->salt_len;
        m->iterations = get32(p);
        p += 4;
        l = (size_t)p[0] << 8 | p[1];
        p += 2;
        if (m->iterations == 0 || l == 0 || l > PRIVSEP_MAX_AUTH_MESSAGE ||
            take_string(&p, end, l, m->auth_message,
                        sizeof m->auth_message) < 0) {
            *error_r = "malformed SCRAM AuthMessage";
            return -1;
        }
        m->auth_message_len = l;
        if ((size_t)(end - p) < PRIVSEP_SCRAM_LEN) {
            *error_r = "short SCRAM proof";
            return -1;
        }
        memcpy(m->proof, p, PRIVSEP_SCRAM_LEN);
        p += PRIVSEP_SCRAM_LEN;
        break;
    case PRIVSEP_MSG_HANDOFF:
    case PRIVSEP_MSG_RELAY:
        memcpy(m->data, p, len);
        m->datalen = len;
        p += len;
        break;
    case PRIVSEP_MSG_END:
        if (len < 2 || p[0] >= PRIVSEP_END__COUNT) {
            *error_r = "malformed end message";
            return -1;
        }
        m->status = *p++;
        l = *p++;
        if (l > POP3_MAX_USER ||
            take_string(&p, end, l, m->login, sizeof m->login) < 0) {
            *error_r = "malformed login name";
            return -1;
        }
        break;
    }
    if (p != end) {
        *error_r = "trailing bytes in message";
        return -1;
    }
    return 0;
}
