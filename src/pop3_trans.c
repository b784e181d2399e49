/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pop3_trans.c: commands of the TRANSACTION state and the UPDATE step
 * (RFC 1939 sections 5 and 6). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mailbox.h"
#include "pop3.h"
#include "session.h"

/* Look up message ARG for a command that needs a live message; sets the
 * reply and returns NULL on failure. */
static struct mailbox_msg *live_msg(struct session *s, const char *arg,
                                    size_t *i_r)
{
    const char *err;
    size_t n;

    if (pop3_parse_msgnum(arg, s->mb->count, &n, &err) < 0) {
        session_reply(s, NULL, "%s", err);
        return NULL;
    }
    if (s->mb->msgs[n - 1].deleted) {
        session_reply(s, NULL, "message %zu is deleted", n);
        return NULL;
    }
    *i_r = n - 1;
    return &s->mb->msgs[n - 1];
}

static enum pop3_outcome cmd_stat(struct session *s, struct pop3_cmd *cmd)
{
    (void)cmd;
    session_reply(s, NULL, "%zu %llu", s->live_count,
                  (unsigned long long)s->live_size);
    return POP_OK;
}

/* Body of LIST and UIDL without argument: one line per live message. */
static int scan_body(struct session *s, size_t uidl, long lines)
{
    struct conn *c = &s->conn;
    char buf[UIDL_MAX_LEN + 1];

    (void)lines;
    for (size_t i = 0; i < s->mb->count; i++) {
        const struct mailbox_msg *m = &s->mb->msgs[i];

        if (m->deleted)
            continue;
        if (uidl)
            conn_printf(c, "%zu %s\r\n", i + 1, mailbox_uidl(s->mb, i, buf));
        else
            conn_printf(c, "%zu %llu\r\n", i + 1, (unsigned long long)m->size);
    }
    return conn_puts(c, ".\r\n");
}

static enum pop3_outcome list_or_uidl(struct session *s, struct pop3_cmd *cmd,
                                      bool uidl)
{
    struct mailbox_msg *m;
    char buf[UIDL_MAX_LEN + 1];
    size_t i;

    if (cmd->argc == 0) {
        if (uidl)
            session_reply(s, NULL, "unique-id listing follows");
        else
            session_reply(s, NULL, "%zu messages (%llu octets)", s->live_count,
                          (unsigned long long)s->live_size);
        s->resp_body = scan_body;
        s->resp_arg = uidl;
        return POP_OK;
    }
    if (!(m = live_msg(s, cmd->argv[0], &i)))
        return POP_ERR;
    if (uidl)
        session_reply(s, NULL, "%zu %s", i + 1, mailbox_uidl(s->mb, i, buf));
    else
        session_reply(s, NULL, "%zu %llu", i + 1, (unsigned long long)m->size);
    return POP_OK;
}

static enum pop3_outcome cmd_list(struct session *s, struct pop3_cmd *cmd)
{
    return list_or_uidl(s, cmd, false);
}

static enum pop3_outcome cmd_uidl(struct session *s, struct pop3_cmd *cmd)
{
    return list_or_uidl(s, cmd, true);
}

static int message_body(struct session *s, size_t i, long lines)
{
    int r = s->mb->drv->send(s->mb, i, lines, &s->conn);

    if (r == 0 && lines < 0) {
        s->retrieved_msgs++;
        s->retrieved_bytes += s->mb->msgs[i].size;
    }
    return r;
}

static enum pop3_outcome cmd_retr(struct session *s, struct pop3_cmd *cmd)
{
    struct mailbox_msg *m;
    size_t i;

    if (!(m = live_msg(s, cmd->argv[0], &i)))
        return POP_ERR;
    session_reply(s, NULL, "%llu octets", (unsigned long long)m->size);
    s->resp_body = message_body;
    s->resp_arg = i;
    s->resp_lines = -1;
    return POP_OK;
}

static enum pop3_outcome cmd_top(struct session *s, struct pop3_cmd *cmd)
{
    struct mailbox_msg *m;
    const char *err;
    long lines;
    size_t i;

    if (!(m = live_msg(s, cmd->argv[0], &i)))
        return POP_ERR;
    if (pop3_parse_count(cmd->argv[1], &lines, &err) < 0) {
        session_reply(s, NULL, "%s", err);
        return POP_ERR;
    }
    session_reply(s, NULL, "top of message follows");
    s->resp_body = message_body;
    s->resp_arg = i;
    s->resp_lines = lines;
    return POP_OK;
}

static enum pop3_outcome cmd_dele(struct session *s, struct pop3_cmd *cmd)
{
    struct mailbox_msg *m;
    size_t i;

    if (!(m = live_msg(s, cmd->argv[0], &i)))
        return POP_ERR;
    m->deleted = true;
    s->live_count--;
    s->live_size -= m->size;
    session_reply(s, NULL, "message %zu deleted", i + 1);
    return POP_OK;
}

static enum pop3_outcome cmd_rset(struct session *s, struct pop3_cmd *cmd)
{
    (void)cmd;
    s->live_count = s->mb->count;
    s->live_size = 0;
    for (size_t i = 0; i < s->mb->count; i++) {
        s->mb->msgs[i].deleted = false;
        s->live_size += s->mb->msgs[i].size;
    }
    session_reply(s, NULL, "%zu messages (%llu octets)", s->live_count,
                  (unsigned long long)s->live_size);
    return POP_OK;
}

static enum pop3_outcome cmd_noop(struct session *s, struct pop3_cmd *cmd)
{
    (void)s; (void)cmd;
    return POP_OK;
}

static enum pop3_outcome cmd_quit(struct session *s, struct pop3_cmd *cmd)
{
    size_t deleted = s->mb->count - s->live_count;
    char *err = NULL;

    (void)cmd;
    session_set_state(s, STATE_UPDATE);
    s->end_reason = "QUIT";
    if (deleted > 0 && s->mb->drv->commit(s->mb, &err) < 0) {
        log_errx("user %s: commit of %s failed: %s", s->auth.user,
                 s->mb->path, err ? err : "unknown error");
        free(err);
        s->end_reason = "commit failed";
        session_set_state(s, STATE_DONE);
        session_reply(s, "SYS/TEMP", "some deleted messages not removed");
        return POP_ERR;
    }
    s->deleted_msgs = deleted;
    session_set_state(s, STATE_DONE);
    session_reply(s, NULL, "bye, %zu messages left", s->live_count);
    return POP_LEAVE;
}

const struct pop3_command pop3_trans_commands[] = {
    { "STAT", 0, 0, cmd_stat },
    { "LIST", 0, 1, cmd_list },
    { "RETR", 1, 1, cmd_retr },
    { "DELE", 1, 1, cmd_dele },
    { "NOOP", 0, 0, cmd_noop },
    { "RSET", 0, 0, cmd_rset },
    { "TOP", 2, 2, cmd_top },
    { "UIDL", 0, 1, cmd_uidl },
    { "CAPA", 0, 0, pop3_cmd_capa },
    { "QUIT", 0, 0, cmd_quit },
    { NULL, 0, 0, NULL },
};
