/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pop3_auth.c: commands of the AUTHORIZATION state (RFC 1939 section 4,
 * CAPA from RFC 2449). */
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
#include "xalloc.h"

static int capa_body(struct session *s, size_t arg, long lines)
{
    struct conn *c = &s->conn;

    (void)arg; (void)lines;
    conn_puts(c, "TOP\r\nUIDL\r\n");
    if (s->state == STATE_AUTHORIZATION && !cfg_bool(s->cfg, CFG_APOP_ONLY))
        conn_puts(c, "USER\r\n");
    if (s->state == STATE_AUTHORIZATION)
        sasl_capa(s);
    conn_puts(c, "PIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n");
    conn_puts(c, "EXPIRE NEVER\r\n");
    return conn_puts(c, "IMPLEMENTATION tpop3d\r\n.\r\n");
}

bool pop3_plaintext_auth_allowed(const struct session *s)
{
    (void)s;
    return true;
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
    { "QUIT", 0, 0, cmd_quit },
    { NULL, 0, 0, NULL },
};
