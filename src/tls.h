/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tls.h: TLS for POP3S and STLS with OpenSSL. */
#ifndef TPOP3D_TLS_H
#define TPOP3D_TLS_H

#endif
