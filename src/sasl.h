/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sasl.h: the POP3 AUTH command (RFC 5034) and its SASL mechanisms. */
#ifndef TPOP3D_SASL_H
#define TPOP3D_SASL_H

#endif
