/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sasl.c: the POP3 AUTH command (RFC 5034) and its SASL mechanisms. */
#include "sasl.h"
#include "session.h"

enum pop3_outcome pop3_cmd_auth(struct session *s, struct pop3_cmd *cmd)
{
    (void)cmd;
    session_reply(s, NULL, "AUTH is not available");
    return POP_ERR;
}

void sasl_capa(struct session *s)
{
    (void)s;
}
