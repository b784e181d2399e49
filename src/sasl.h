/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sasl.h: the POP3 AUTH command (RFC 5034) and its SASL mechanisms. */
#ifndef TPOP3D_SASL_H
#define TPOP3D_SASL_H

#include "pop3.h"

/* AUTH [mechanism [initial-response]] in the AUTHORIZATION state. */
enum pop3_outcome pop3_cmd_auth(struct session *s, struct pop3_cmd *cmd);

/* Write the SASL line of the CAPA answer (nothing when no mechanism is
 * usable on this connection now). */
void sasl_capa(struct session *s);

#endif
