/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pop3_auth.c: commands of the AUTHORIZATION state (RFC 1939 section 4,
 * CAPA from RFC 2449, STLS from RFC 2595) and the policy on passwords sent
 * before TLS. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "limits.h"
#include "log.h"
#include "pop3.h"
#include "sasl.h"
#include "session.h"
#include "tls.h"
#include "xalloc.h"

static int capa_body(struct session *s, size_t arg, long lines)
{
    struct conn *c = &s->conn;

    (void)arg; (void)lines;
    conn_puts(c, "TOP\r\nUIDL\r\n");
    if (s->state == STATE_AUTHORIZATION && !cfg_bool(s->cfg, CFG_APOP_ONLY) &&
        pop3_plaintext_auth_allowed(s))
        conn_puts(c, "USER\r\n");
    if (s->state == STATE_AUTHORIZATION)
        sasl_capa(s);
    /* RFC 2595 section 4: only while STLS can still be given. */
    if (s->state == STATE_AUTHORIZATION && c->stls_offered && !tls_active(c))
        conn_puts(c, "STLS\r\n");
    conn_puts(c, "PIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n");
    conn_puts(c, "EXPIRE NEVER\r\n");
    return conn_puts(c, "IMPLEMENTATION tpop3d\r\n.\r\n");
}

bool pop3_plaintext_auth_allowed(const struct session *s)
{
    if (tls_active(&s->conn))
        return true;
    switch (tls_auth_policy(s->cfg)) {
    case TLS_AUTH_ANY:
        return true;
    case TLS_AUTH_EXCEPT_LOOPBACK:
        /* Traffic that never leaves the host cannot be sniffed. */
        return conn_client_is_loopback(&s->conn);
    case TLS_AUTH_TLS_ONLY:
    default:
        return false;
    }
}

/* The answer to USER, PASS or APOP before TLS under tls-required-for-auth.
 * [AUTH] (RFC 2449 section 8.1.2, RFC 3206): the login is refused for a
 * reason of policy on the client's side, not a fault of the server
 * ([SYS/TEMP] or [SYS/PERM]); clients show the text to the user. It
 * names the remedy. */
static enum pop3_outcome refuse_plaintext(struct session *s)
{
    session_reply(s, "AUTH", s->conn.stls_offered
                  ? "password logins need TLS first: use STLS"
                  : "password logins need TLS: use the POP3S port");
    return POP_ERR;
}

enum pop3_outcome pop3_cmd_capa(struct session *s, struct pop3_cmd *cmd)
{
    (void)cmd;
    session_reply(s, NULL, "capability list follows");
    s->resp_body = capa_body;
    return POP_OK;
}

static enum pop3_outcome cmd_user(struct session *s, struct pop3_cmd *cmd)
{
    const char *name = cmd->argv[0];

    if (!pop3_plaintext_auth_allowed(s))
        return refuse_plaintext(s);
    if (cfg_bool(s->cfg, CFG_APOP_ONLY)) {
        session_reply(s, "AUTH", "USER/PASS is disabled here, use APOP");
        return POP_ERR;
    }
    if (strlen(name) > POP3_MAX_USER) {
        session_reply(s, NULL, "user name too long");
        return POP_BAD;
    }
    strfreezero(s->user);
    s->user = xstrdup(name);
    session_reply(s, NULL, "send your password");
    return POP_OK;
}

static enum pop3_outcome cmd_pass(struct session *s, struct pop3_cmd *cmd)
{
    struct auth_attempt att;
    enum pop3_outcome r;
    char *pass;

    if (!pop3_plaintext_auth_allowed(s)) {
        explicit_bzero(cmd->rest, strlen(cmd->rest));
        explicit_bzero(cmd->args, sizeof cmd->args);
        strfreezero(s->user);
        s->user = NULL;
        return refuse_plaintext(s);
    }
    if (cfg_bool(s->cfg, CFG_APOP_ONLY)) {
        session_reply(s, "AUTH", "USER/PASS is disabled here, use APOP");
        return POP_ERR;
    }
    if (!s->user) {
        session_reply(s, NULL, "give USER first");
        return POP_BAD;
    }
    if (strlen(cmd->rest) > POP3_MAX_PASS) {
        strfreezero(s->user);
        s->user = NULL;
        session_reply(s, "AUTH", "authentication failed");
        return POP_ERR;
    }
    pass = xstrdup(cmd->rest);
    explicit_bzero(cmd->rest, strlen(cmd->rest));
    explicit_bzero(cmd->args, sizeof cmd->args);
    memset(&att, 0, sizeof att);
    att.method = AUTH_METHOD_PASS;
    att.login = s->user;
    att.password = pass;
    att.clienthost = s->conn.clienthost;
    att.serverhost = s->conn.serverhost;
    att.listener_domain = s->conn.domain;
    r = session_login(s, &att);
    strfreezero(pass);
    strfreezero(s->user);
    s->user = NULL;
    return r;
}

static bool is_hex32(const char *p)
{
    size_t n = 0;

    for (; p[n]; n++)
        if (!isxdigit((unsigned char)p[n]))
            return false;
    return n == 32;
}

static enum pop3_outcome cmd_apop(struct session *s, struct pop3_cmd *cmd)
{
    struct auth_attempt att;

    if (!pop3_plaintext_auth_allowed(s))
        return refuse_plaintext(s);
    if (!s->timestamp[0]) {
        session_reply(s, NULL, "APOP is not available here");
        return POP_ERR;
    }
    if (strlen(cmd->argv[0]) > POP3_MAX_USER || !is_hex32(cmd->argv[1])) {
        session_reply(s, NULL, "malformed APOP command");
        return POP_BAD;
    }
    memset(&att, 0, sizeof att);
    att.method = AUTH_METHOD_APOP;
    att.login = cmd->argv[0];
    att.timestamp = s->timestamp;
    att.digest = cmd->argv[1];
    att.clienthost = s->conn.clienthost;
    att.serverhost = s->conn.serverhost;
    att.listener_domain = s->conn.domain;
    return session_login(s, &att);
}

static enum pop3_outcome cmd_stls(struct session *s, struct pop3_cmd *cmd)
{
    struct conn *c = &s->conn;
    char err[256];
    int ms;

    (void)cmd;
    if (tls_active(c)) {
        session_reply(s, NULL, "TLS is already active");
        return POP_ERR;
    }
    if (!c->stls_offered || !c->tls_server) {
        session_reply(s, NULL, "STLS is not available here");
        return POP_ERR;
    }
    /* Whatever came after the STLS line was sent in clear, before the
     * handshake: none of it may be taken for a command under TLS. The
     * +OK goes out in clear, after the replies to earlier commands. */
    conn_discard_input(c);
    conn_puts(c, "+OK begin TLS negotiation\r\n");
    if (s->verbose)
        log_info("server: +OK begin TLS negotiation");
    if (conn_flush(c) < 0)
        return POP_QUIET;
    ms = (int)(cfg_seconds(s->cfg, CFG_TLS_HANDSHAKE_TIMEOUT) * 1000);
    if (tls_start(c, c->tls_server, ms, err, sizeof err) < 0) {
        log_info("STLS from %s: %s", c->clienthost, err);
        s->end_reason = "tls";
        session_set_state(s, STATE_DONE);
        return POP_QUIET;
    }
    log_info("STLS from %s: %s", c->clienthost, tls_describe(c, err, sizeof err));
    /* RFC 2595 section 4: the server forgets what the client told it
     * before TLS; the client will ask for CAPA again. */
    strfreezero(s->user);
    s->user = NULL;
    return POP_QUIET;
}

static enum pop3_outcome cmd_quit(struct session *s, struct pop3_cmd *cmd)
{
    (void)cmd;
    s->end_reason = "QUIT";
    session_reply(s, NULL, "bye");
    return POP_LEAVE;
}

const struct pop3_command pop3_auth_commands[] = {
    { "USER", 1, 1, cmd_user },
    { "PASS", 0, POP3_MAX_ARGS + 1, cmd_pass },
    { "APOP", 2, 2, cmd_apop },
    { "AUTH", 0, 2, pop3_cmd_auth },
    { "CAPA", 0, 0, pop3_cmd_capa },
    { "STLS", 0, 0, cmd_stls },
    { "QUIT", 0, 0, cmd_quit },
    { NULL, 0, 0, NULL },
};
