/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep_msg.c: encoding and strict decoding of the messages between the
 * pre-login process and the monitor. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "privsep_msg.h"

/* The largest body of each type; a header that says more is refused before
 * a byte of the body is read. */
static size_t max_body(enum privsep_msg_type type)
{
    switch (type) {
    case PRIVSEP_MSG_AUTH: return 3 + POP3_MAX_USER + POP3_MAX_PASS;
    case PRIVSEP_MSG_RESULT: return 1;
    case PRIVSEP_MSG_HANDOFF:
    case PRIVSEP_MSG_RELAY: return PRIVSEP_MSG_MAX_DATA;
    case PRIVSEP_MSG_END: return 2 + POP3_MAX_USER;
    }
    return 0;
}

static bool known_type(unsigned t)
{
    return t >= PRIVSEP_MSG_AUTH && t <= PRIVSEP_MSG_END;
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
        if (n + 1 > size)
            goto too_small;
        buf[n++] = m->status;
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
        if (m->method != PRIVSEP_METHOD_PASS && m->method != PRIVSEP_METHOD_APOP) {
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
        if (m->method == PRIVSEP_METHOD_APOP && !is_digest(m->secret)) {
            *error_r = "malformed APOP digest";
            return -1;
        }
        break;
    case PRIVSEP_MSG_RESULT:
        if (len != 1 || *p > PRIVSEP_TEMPFAIL) {
            *error_r = "malformed result";
            return -1;
        }
        m->status = *p++;
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
