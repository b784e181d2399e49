/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tls.c: TLS for POP3S and STLS with OpenSSL. */
#include "tls.h"
