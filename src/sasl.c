/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sasl.c: the POP3 AUTH command (RFC 5034) and its SASL mechanisms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "auth.h"
#include "config.h"
#include "conn.h"
#include "limits.h"
#include "log.h"
#include "password.h"
#include "privsep.h"
#include "privsep_msg.h"
#include "sasl.h"
#include "session.h"
#include "xalloc.h"

/* ---- base64 ----------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long sasl_b64_decode(const char *s, size_t len, unsigned char *out,
                     size_t max)
{
    return base64_decode(s, len, out, max, false);
}

char *sasl_b64_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    /* 4 characters per started 3 octets, and the NUL. */
    char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

    for (size_t i = 0; i < len; i += 3) {
        unsigned long acc = (unsigned long)p[i] << 16;
        size_t k = len - i < 3 ? len - i : 3;

        if (k > 1)
            acc |= (unsigned long)p[i + 1] << 8;
        if (k > 2)
            acc |= p[i + 2];
        *o++ = b64_alphabet[acc >> 18 & 63];
        *o++ = b64_alphabet[acc >> 12 & 63];
        *o++ = k > 1 ? b64_alphabet[acc >> 6 & 63] : '=';
        *o++ = k > 2 ? b64_alphabet[acc & 63] : '=';
    }
    *o = 0;
    return out;
}

/* ---- PLAIN, LOGIN, CRAM-MD5 messages ---------------------------------- */

int sasl_plain_parse(const unsigned char *msg, size_t len, char **user_r,
                     char **pass_r, const char **error_r)
{
    const unsigned char *end = msg + len, *nul1, *nul2, *user, *pass;
    size_t zlen, ulen, plen;

    nul1 = memchr(msg, 0, len);
    nul2 = nul1 ? memchr(nul1 + 1, 0, (size_t)(end - nul1 - 1)) : NULL;
    if (!nul2 || memchr(nul2 + 1, 0, (size_t)(end - nul2 - 1))) {
        *error_r = "malformed PLAIN message";
        return -1;
    }
    zlen = (size_t)(nul1 - msg);
    user = nul1 + 1;
    ulen = (size_t)(nul2 - user);
    pass = nul2 + 1;
    plen = (size_t)(end - pass);
    if (ulen == 0 || plen == 0) {
        *error_r = "empty user name or password";
        return -1;
    }
    if (ulen > POP3_MAX_USER || plen > POP3_MAX_PASS) {
        *error_r = "user name or password too long";
        return -1;
    }
    if (zlen != 0 && (zlen != ulen || memcmp(msg, user, ulen) != 0)) {
        *error_r = "authorization identity must be empty or the user name";
        return -1;
    }
    *user_r = xstrndup((const char *)user, ulen);
    *pass_r = xstrndup((const char *)pass, plen);
    return 0;
}

int sasl_login_parse(const unsigned char *msg, size_t len, size_t max,
                     char **value_r, const char **error_r)
{
    if (len == 0 || memchr(msg, 0, len)) {
        *error_r = "empty or malformed LOGIN response";
        return -1;
    }
    if (len > max) {
        *error_r = "user name or password too long";
        return -1;
    }
    *value_r = xstrndup((const char *)msg, len);
    return 0;
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
        || (c >= 'A' && c <= 'F');
}

int sasl_cram_parse(const unsigned char *msg, size_t len, char **user_r,
                    char digest_r[33], const char **error_r)
{
    const unsigned char *sp;
    size_t ulen;

    *error_r = "malformed CRAM-MD5 response";
    if (len < 34 || memchr(msg, 0, len))
        return -1;
    /* User names may hold spaces; the digest is the last word. */
    sp = msg + len - 33;
    if (*sp != ' ')
        return -1;
    ulen = (size_t)(sp - msg);
    if (ulen == 0)
        return -1;
    if (ulen > POP3_MAX_USER) {
        *error_r = "user name too long";
        return -1;
    }
    for (size_t i = 0; i < 32; i++) {
        unsigned char c = sp[1 + i];

        if (!is_hex(c))
            return -1;
        digest_r[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    }
    digest_r[32] = 0;
    *user_r = xstrndup((const char *)msg, ulen);
    return 0;
}

/* ---- SCRAM-SHA-256 messages ------------------------------------------- */

/* The text from P up to the next ',' or END. */
static const char *field_end(const char *p, const char *end)
{
    const char *comma = memchr(p, ',', (size_t)(end - p));

    return comma ? comma : end;
}

/* RFC 5802 saslname between P and END: "=2C" is ',', "=3D" is '=', any
 * other '=' is an error. Allocated, or NULL. */
static char *scram_name(const char *p, const char *end)
{
    size_t len = (size_t)(end - p), n = 0;
    char *out;

    if (len == 0)
        return NULL;
    out = xmalloc(len + 1);
    while (p < end) {
        if (*p != '=') {
            out[n++] = *p++;
            continue;
        }
        if (end - p >= 3 && p[1] == '2' && p[2] == 'C')
            out[n++] = ',';
        else if (end - p >= 3 && p[1] == '3' && p[2] == 'D')
            out[n++] = '=';
        else {
            free(out);
            return NULL;
        }
        p += 3;
    }
    out[n] = 0;
    if (n > POP3_MAX_USER) {
        free(out);
        return NULL;
    }
    return out;
}

/* A nonce: 1..SASL_SCRAM_MAX_NONCE printable characters but ','. */
static bool scram_nonce_ok(const char *p, const char *end)
{
    if (p == end || end - p > SASL_SCRAM_MAX_NONCE)
        return false;
    for (; p < end; p++)
        if (*p < 0x21 || *p > 0x7e)
            return false;
    return true;
}

/* Optional extensions from P to END: each ",X=value" with X a letter and
 * the value non-empty. Unknown ones are ignored, as RFC 5802 asks. */
static bool scram_extensions_ok(const char *p, const char *end)
{
    while (p < end) {
        const char *e;

        if (*p != ',' || end - p < 4)
            return false;
        p++;
        e = field_end(p, end);
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
            || p[1] != '=' || e - p < 3)
            return false;
        p = e;
    }
    return true;
}

int sasl_scram_client_first(struct sasl_scram *sc, const unsigned char *msg,
                            size_t len, const char **error_r)
{
    const char *p = (const char *)msg, *end = p + len, *e, *bare;
    char *authzid = NULL;

    *error_r = "malformed SCRAM message";
    if (len == 0 || memchr(msg, 0, len))
        return -1;
    if (*p == 'p') {
        *error_r = "channel binding is not supported";
        return -1;
    }
    if ((*p != 'n' && *p != 'y') || end - p < 2 || p[1] != ',')
        return -1;
    p += 2;
    e = field_end(p, end);
    if (e == end)
        return -1;
    if (e > p) {
        if (e - p < 3 || p[0] != 'a' || p[1] != '=')
            return -1;
        authzid = scram_name(p + 2, e);
        if (!authzid)
            return -1;
    }
    p = bare = e + 1;
    if (end - p >= 2 && p[0] == 'm' && p[1] == '=') {
        *error_r = "mandatory SCRAM extensions are not supported";
        goto fail;
    }
    if (end - p < 2 || p[0] != 'n' || p[1] != '=')
        goto fail;
    e = field_end(p + 2, end);
    sc->user = scram_name(p + 2, e);
    if (!sc->user || end - e < 4 || e[1] != 'r' || e[2] != '=')
        goto fail;
    p = e + 3;
    e = field_end(p, end);
    if (!scram_nonce_ok(p, e) || !scram_extensions_ok(e, end))
        goto fail;
    if (authzid && strcmp(authzid, sc->user) != 0) {
        *error_r = "authorization identity must be the user name";
        goto fail;
    }
    sc->nonce = xstrndup(p, (size_t)(e - p));
    sc->gs2_header = xstrndup((const char *)msg,
                              (size_t)(bare - (const char *)msg));
    sc->client_first_bare = xstrndup(bare, (size_t)(end - bare));
    free(authzid);
    return 0;

fail:
    free(authzid);
    free(sc->user);
    sc->user = NULL;
    return -1;
}

const char *sasl_scram_server_first(struct sasl_scram *sc,
                                    const unsigned char *salt,
                                    size_t salt_len, unsigned iterations,
                                    const char *server_nonce)
{
    char *nonce = xasprintf("%s%s", sc->nonce, server_nonce);
    char *salt64 = sasl_b64_encode(salt, salt_len);

    free(sc->nonce);
    sc->nonce = nonce;
    memcpy(sc->salt, salt, salt_len);
    sc->salt_len = salt_len;
    sc->iterations = iterations;
    free(sc->server_first);
    sc->server_first = xasprintf("r=%s,s=%s,i=%u", nonce, salt64, iterations);
    free(salt64);
    return sc->server_first;
}

int sasl_scram_client_final(struct sasl_scram *sc, const unsigned char *msg,
                            size_t len, const char **error_r)
{
    const char *p = (const char *)msg, *end = p + len, *e;
    unsigned char cbind[SASL_MAX_DECODED];
    long n;

    *error_r = "malformed SCRAM message";
    if (!sc->server_first || len == 0 || memchr(msg, 0, len))
        return -1;
    if (end - p < 2 || p[0] != 'c' || p[1] != '=')
        return -1;
    e = field_end(p + 2, end);
    n = sasl_b64_decode(p + 2, (size_t)(e - p - 2), cbind, SASL_MAX_DECODED);
    if (n < 0)
        return -1;
    /* Without channel binding, c= carries the gs2 header alone. */
    if ((size_t)n != strlen(sc->gs2_header)
        || memcmp(cbind, sc->gs2_header, (size_t)n) != 0) {
        *error_r = "SCRAM channel binding does not match";
        return -1;
    }
    if (end - e < 4 || e[1] != 'r' || e[2] != '=')
        return -1;
    p = e + 3;
    e = field_end(p, end);
    if ((size_t)(e - p) != strlen(sc->nonce)
        || memcmp(p, sc->nonce, (size_t)(e - p)) != 0) {
        *error_r = "wrong SCRAM nonce";
        return -1;
    }
    /* Extensions may come before the proof, which is last. */
    for (p = e; p < end; p = e) {
        if (*p != ',')
            return -1;
        e = field_end(p + 1, end);
        if (end - p >= 3 && p[1] == 'p' && p[2] == '=') {
            if (e != end)
                return -1;
            if (sasl_b64_decode(p + 3, (size_t)(end - p - 3), cbind,
                                SASL_MAX_DECODED) != SCRAM_SHA256_LEN) {
                *error_r = "malformed SCRAM proof";
                return -1;
            }
            memcpy(sc->proof, cbind, SCRAM_SHA256_LEN);
            free(sc->auth_message);
            sc->auth_message = xasprintf("%s,%s,%.*s", sc->client_first_bare,
                                         sc->server_first,
                                         (int)(p - (const char *)msg),
                                         (const char *)msg);
            sc->auth_message_len = strlen(sc->auth_message);
            return 0;
        }
        if (!scram_extensions_ok(p, e))
            return -1;
    }
    *error_r = "SCRAM proof missing";
    return -1;
}

char *sasl_scram_server_final(const unsigned char *signature)
{
    char *sig64 = sasl_b64_encode(signature, SCRAM_SHA256_LEN);
    char *out = xasprintf("v=%s", sig64);

    free(sig64);
    return out;
}

void sasl_scram_free(struct sasl_scram *sc)
{
    free(sc->gs2_header);
    free(sc->user);
    free(sc->client_first_bare);
    free(sc->nonce);
    free(sc->server_first);
    free(sc->auth_message);
    explicit_bzero(sc, sizeof *sc);
}

/* ---- the exchange ----------------------------------------------------- */

struct mech {
    const char *name;
    enum auth_method method;
    bool plaintext;         /* the password itself crosses the wire */
    bool needs_tls;         /* under tls-required-for-auth, as USER/APOP */
    enum pop3_outcome (*run)(struct session *s, unsigned char *ir,
                             size_t irlen, bool have_ir);
};

static enum pop3_outcome mech_plain(struct session *s, unsigned char *ir,
                                    size_t irlen, bool have_ir);
static enum pop3_outcome mech_login(struct session *s, unsigned char *ir,
                                    size_t irlen, bool have_ir);
static enum pop3_outcome mech_cram(struct session *s, unsigned char *ir,
                                   size_t irlen, bool have_ir);
static enum pop3_outcome mech_scram(struct session *s, unsigned char *ir,
                                    size_t irlen, bool have_ir);

/* In the order CAPA and AUTH list them. */
static const struct mech mechs[] = {
    { "PLAIN", AUTH_METHOD_PASS, true, true, mech_plain },
    { "LOGIN", AUTH_METHOD_PASS, true, true, mech_login },
    /* A sniffed exchange, like APOP's, lets a password be guessed
     * offline at the speed of MD5. */
    { "CRAM-MD5", AUTH_METHOD_CRAM_MD5, false, true, mech_cram },
    /* Salted and iterated: a recorded exchange costs a guesser thousands
     * of times more, so it stays offered before TLS. */
    { "SCRAM-SHA-256", AUTH_METHOD_SCRAM_SHA256, false, false, mech_scram },
};

#define NMECHS (sizeof mechs / sizeof mechs[0])

/* Whether the TLS policy refuses M on this connection for now. */
static bool mech_needs_tls_now(const struct session *s, const struct mech *m)
{
    return m->needs_tls && !pop3_plaintext_auth_allowed(s);
}

/* Mechanisms that send the password itself, or an exchange open to an
 * offline guess, fall under the TLS policy as USER and APOP do; apop-only
 * refuses those that send the password, as it refuses USER/PASS. */
static bool mech_usable(const struct session *s, const struct mech *m)
{
    if (mech_needs_tls_now(s, m)
        || (m->plaintext && cfg_bool(s->cfg, CFG_APOP_ONLY)))
        return false;
    return auth_can_verify(m->method);
}

void sasl_capa(struct session *s)
{
    bool any = false;

    for (size_t i = 0; i < NMECHS; i++) {
        if (!mech_usable(s, &mechs[i]))
            continue;
        conn_puts(&s->conn, any ? " " : "SASL ");
        conn_puts(&s->conn, mechs[i].name);
        any = true;
    }
    if (any)
        conn_puts(&s->conn, "\r\n");
}

static int list_body(struct session *s, size_t arg, long lines)
{
    (void)arg; (void)lines;
    for (size_t i = 0; i < NMECHS; i++)
        if (mech_usable(s, &mechs[i]))
            conn_printf(&s->conn, "%s\r\n", mechs[i].name);
    return conn_puts(&s->conn, ".\r\n");
}

/* Send CHALLENGE (CLEN octets) as a "+ " continuation and read the
 * client's answer, decoded into BUF (SASL_MAX_DECODED bytes). 0, or -1
 * with the reply set and *OUT_R the outcome to return: a cancel, a
 * malformed or over-long response, or a connection that is gone (the
 * session then ends). */
static int sasl_step(struct session *s, const void *challenge, size_t clen,
                     unsigned char *buf, size_t *len_r,
                     enum pop3_outcome *out_r)
{
    struct conn *c = &s->conn;
    char *enc = sasl_b64_encode(challenge, clen), *line;
    enum conn_line r;
    size_t len;
    long n;

    conn_printf(c, "+ %s\r\n", enc);
    free(enc);
    if (s->verbose)
        log_info("server: + (SASL challenge)");
    r = conn_read_line(c, SASL_MAX_RESPONSE, &line, &len);
    switch (r) {
    case CONN_LINE_OK:
        break;
    case CONN_LINE_TOOLONG:
        session_reply(s, NULL, "SASL response too long");
        *out_r = POP_BAD;
        return -1;
    case CONN_LINE_NUL:
        session_reply(s, NULL, "NUL byte in SASL response");
        *out_r = POP_BAD;
        return -1;
    default:
        if (r == CONN_LINE_TIMEOUT && !conn_interrupted) {
            conn_puts(c, "-ERR idle timeout, closing connection\r\n");
            conn_flush(c);
        }
        s->end_reason = conn_interrupted ? "shutdown"
                        : r == CONN_LINE_EOF ? "drop"
                        : r == CONN_LINE_TIMEOUT ? "timeout" : "error";
        session_set_state(s, STATE_DONE);
        *out_r = POP_QUIET;
        return -1;
    }
    if (s->verbose)
        log_info("client: (SASL response hidden)");
    if (len == 1 && line[0] == '*') {
        session_reply(s, NULL, "authentication cancelled");
        *out_r = POP_ERR;
        return -1;
    }
    n = sasl_b64_decode(line, len, buf, SASL_MAX_DECODED);
    explicit_bzero(line, len);
    if (n < 0) {
        session_reply(s, NULL, "malformed base64 in SASL response");
        *out_r = POP_BAD;
        return -1;
    }
    *len_r = (size_t)n;
    return 0;
}

static void fill_attempt(struct session *s, struct auth_attempt *att,
                         enum auth_method method, const char *login)
{
    memset(att, 0, sizeof *att);
    att->method = method;
    att->login = login;
    att->clienthost = s->conn.clienthost;
    att->serverhost = s->conn.serverhost;
    att->listener_domain = s->conn.domain;
}

static enum pop3_outcome login_pass(struct session *s, const char *user,
                                    const char *pass)
{
    struct auth_attempt att;

    fill_attempt(s, &att, AUTH_METHOD_PASS, user);
    att.password = pass;
    return session_login(s, &att);
}

static enum pop3_outcome mech_plain(struct session *s, unsigned char *ir,
                                    size_t irlen, bool have_ir)
{
    unsigned char buf[SASL_MAX_DECODED];
    enum pop3_outcome out;
    char *user = NULL, *pass = NULL;
    const char *err;

    if (!have_ir) {
        if (sasl_step(s, "", 0, buf, &irlen, &out) < 0)
            goto done;
        ir = buf;
    }
    if (sasl_plain_parse(ir, irlen, &user, &pass, &err) < 0) {
        session_reply(s, NULL, "%s", err);
        out = POP_ERR;
        goto done;
    }
    /* The decoded response holds the password too; session_login()
     * wipes the copy in PASS before it forks. */
    explicit_bzero(ir, irlen);
    out = login_pass(s, user, pass);
done:
    explicit_bzero(buf, sizeof buf);
    free(user);
    strfreezero(pass);
    return out;
}

static enum pop3_outcome mech_login(struct session *s, unsigned char *ir,
                                    size_t irlen, bool have_ir)
{
    static const char ask_user[] = "Username:", ask_pass[] = "Password:";
    unsigned char buf[SASL_MAX_DECODED];
    enum pop3_outcome out;
    char *user = NULL, *pass = NULL;
    const char *err;
    size_t len;

    /* Some clients send the user name as an initial response. */
    if (!have_ir) {
        if (sasl_step(s, ask_user, strlen(ask_user), buf, &irlen, &out) < 0)
            goto done;
        ir = buf;
    }
    if (sasl_login_parse(ir, irlen, POP3_MAX_USER, &user, &err) < 0)
        goto refuse;
    if (sasl_step(s, ask_pass, strlen(ask_pass), buf, &len, &out) < 0)
        goto done;
    if (sasl_login_parse(buf, len, POP3_MAX_PASS, &pass, &err) < 0)
        goto refuse;
    explicit_bzero(buf, sizeof buf);    /* as in mech_plain() */
    out = login_pass(s, user, pass);
    goto done;
refuse:
    session_reply(s, NULL, "%s", err);
    out = POP_ERR;
done:
    explicit_bzero(buf, sizeof buf);
    free(user);
    strfreezero(pass);
    return out;
}

/* Fill BUF with random octets; false (and the reply set) when the
 * generator fails. */
static bool random_bytes(struct session *s, unsigned char *buf, size_t len)
{
    if (RAND_bytes(buf, (int)len) == 1)
        return true;
    log_errx("SASL: no random numbers");
    session_reply(s, "SYS/TEMP", "server error, try again later");
    return false;
}

/* The monitor gave no challenge: it is gone (the session ends) or it
 * refuses more exchanges. */
static enum pop3_outcome monitor_refused(struct session *s)
{
    session_reply(s, "SYS/TEMP", "authentication temporarily unavailable, try again later");
    return POP_ERR;
}

static enum pop3_outcome mech_cram(struct session *s, unsigned char *ir,
                                   size_t irlen, bool have_ir)
{
    unsigned char buf[SASL_MAX_DECODED], rnd[8];
    char challenge[160], host[100], digest[33];
    struct auth_attempt att;
    enum pop3_outcome out;
    char *user = NULL;
    const char *err;
    size_t len;

    (void)ir; (void)irlen;
    if (have_ir) {
        session_reply(s, NULL, "CRAM-MD5 takes no initial response");
        return POP_ERR;
    }
    if (privsep_prelogin(s)) {
        /* The monitor checks the digest against its own challenge. */
        if (privsep_challenge(s, AUTH_METHOD_CRAM_MD5, challenge,
                              sizeof challenge, NULL, NULL, NULL) < 0)
            return monitor_refused(s);
    } else {
        if (!random_bytes(s, rnd, sizeof rnd))
            return POP_ERR;
        if (gethostname(host, sizeof host) < 0 || !host[0])
            snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = 0;
        /* RFC 2195: a unique string in angle brackets, like an APOP
         * timestamp; the random part makes it unpredictable too. */
        snprintf(challenge, sizeof challenge,
                 "<%02x%02x%02x%02x%02x%02x%02x%02x.%lld@%.60s>", rnd[0],
                 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7],
                 (long long)time(NULL), host);
    }
    if (sasl_step(s, challenge, strlen(challenge), buf, &len, &out) < 0)
        return out;
    if (sasl_cram_parse(buf, len, &user, digest, &err) < 0) {
        session_reply(s, NULL, "%s", err);
        return POP_ERR;
    }
    fill_attempt(s, &att, AUTH_METHOD_CRAM_MD5, user);
    att.timestamp = challenge;
    att.digest = digest;
    out = session_login(s, &att);
    free(user);
    return out;
}

static enum pop3_outcome mech_scram(struct session *s, unsigned char *ir,
                                    size_t irlen, bool have_ir)
{
    unsigned char buf[SASL_MAX_DECODED], salt[SASL_SCRAM_SALT_LEN],
        rnd[18], sig[SCRAM_SHA256_LEN];
    struct sasl_scram sc;
    struct auth_scram as;
    struct auth_attempt att;
    enum pop3_outcome out;
    char *nonce = NULL, *final = NULL, clean[160];
    const char *err, *first;
    size_t len;

    memset(&sc, 0, sizeof sc);
    if (!have_ir) {
        if (sasl_step(s, "", 0, buf, &irlen, &out) < 0)
            goto done;
        ir = buf;
    }
    if (sasl_scram_client_first(&sc, ir, irlen, &err) < 0) {
        session_reply(s, NULL, "%s", err);
        out = POP_ERR;
        goto done;
    }
    if (privsep_prelogin(s)) {
        /* The monitor's nonce, salt and count: it checks that the proof
         * was made for them. */
        char pnonce[PRIVSEP_MAX_CHALLENGE + 1];
        unsigned char psalt[PRIVSEP_MAX_SALT];
        size_t psalt_len;
        unsigned iter;

        if (privsep_challenge(s, AUTH_METHOD_SCRAM_SHA256, pnonce,
                              sizeof pnonce, psalt, &psalt_len, &iter) < 0) {
            out = monitor_refused(s);
            goto done;
        }
        first = sasl_scram_server_first(&sc, psalt, psalt_len, iter, pnonce);
    } else {
        /* The stored secret is plaintext, so a fresh salt per exchange
         * does; 18 random octets make a 24-character nonce without
         * padding. */
        if (!random_bytes(s, salt, sizeof salt)
            || !random_bytes(s, rnd, sizeof rnd)) {
            out = POP_ERR;
            goto done;
        }
        nonce = sasl_b64_encode(rnd, sizeof rnd);
        first = sasl_scram_server_first(&sc, salt, sizeof salt,
                                        SASL_SCRAM_ITERATIONS, nonce);
    }
    if (sasl_step(s, first, strlen(first), buf, &len, &out) < 0)
        goto done;
    if (sasl_scram_client_final(&sc, buf, len, &err) < 0) {
        session_reply(s, NULL, "%s", err);
        out = POP_ERR;
        goto done;
    }
    as = (struct auth_scram){
        .salt = sc.salt, .salt_len = sc.salt_len,
        .iterations = sc.iterations,
        .auth_message = sc.auth_message,
        .auth_message_len = sc.auth_message_len,
        .client_proof = sc.proof,
        .server_signature = sig,
    };
    fill_attempt(s, &att, AUTH_METHOD_SCRAM_SHA256, sc.user);
    att.scram = &as;
    out = session_login(s, &att);
    if (out != POP_OK)
        goto done;

    /* Logged in; the client checks our signature and answers with an
     * empty response. One that refuses it ends the session. */
    final = sasl_scram_server_final(sig);
    if (sasl_step(s, final, strlen(final), buf, &len, &out) < 0
        || len != 0) {
        if (s->state == STATE_DONE && out == POP_QUIET)
            goto done;
        /* Before the handoff only the client's own name is known here. */
        log_info("user %s: the client refused the SCRAM server signature",
                 privsep_prelogin(s)
                 ? log_sanitize(clean, sizeof clean, sc.user, strlen(sc.user))
                 : s->auth.user);
        session_reply(s, NULL, "authentication cancelled");
        s->end_reason = "SASL cancelled";
        session_set_state(s, STATE_DONE);
        out = POP_ERR;
        goto done;
    }
    out = POP_OK;
    if (privsep_prelogin(s)) {
        explicit_bzero(buf, sizeof buf);
        explicit_bzero(sig, sizeof sig);
        privsep_login_complete(s);
    }
done:
    explicit_bzero(buf, sizeof buf);
    explicit_bzero(sig, sizeof sig);
    free(nonce);
    free(final);
    sasl_scram_free(&sc);
    return out;
}

enum pop3_outcome pop3_cmd_auth(struct session *s, struct pop3_cmd *cmd)
{
    unsigned char ir[POP3_MAX_LINE];
    const struct mech *m = NULL;
    enum pop3_outcome out;
    bool have_ir = cmd->argc == 2;
    long irlen = 0;

    if (cmd->argc == 0) {
        session_reply(s, NULL, "%s", "");
        s->resp_body = list_body;
        return POP_OK;
    }
    for (size_t i = 0; i < NMECHS && !m; i++)
        if (strcasecmp(cmd->argv[0], mechs[i].name) == 0)
            m = &mechs[i];
    if (!m) {
        session_reply(s, NULL, "unknown SASL mechanism");
        return POP_ERR;
    }
    if (!mech_usable(s, m)) {
        /* [AUTH]: a policy refusal the user can act on; the text names
         * the remedy, as USER's does. */
        if (mech_needs_tls_now(s, m) && auth_can_verify(m->method)
            && !(m->plaintext && cfg_bool(s->cfg, CFG_APOP_ONLY)))
            session_reply(s, "AUTH", "%s", s->conn.stls_offered
                          ? "password logins need TLS first: use STLS"
                          : "password logins need TLS: use the POP3S port");
        else
            session_reply(s, m->plaintext ? "AUTH" : NULL,
                          "SASL mechanism %s is not available here",
                          m->name);
        return POP_ERR;
    }
    /* RFC 5034: "=" is an empty initial response. */
    if (have_ir && strcmp(cmd->argv[1], "=") != 0)
        irlen = sasl_b64_decode(cmd->argv[1], strlen(cmd->argv[1]), ir,
                                POP3_MAX_LINE);
    explicit_bzero(cmd->args, sizeof cmd->args);
    explicit_bzero(cmd->rest, strlen(cmd->rest));
    if (irlen < 0) {
        session_reply(s, NULL, "malformed base64 in SASL response");
        return POP_BAD;
    }
    out = m->run(s, ir, (size_t)irlen, have_ir);
    explicit_bzero(ir, sizeof ir);
    return out;
}
