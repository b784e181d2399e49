/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sasl.c: the POP3 AUTH command (RFC 5034) and its SASL mechanisms. */
#include "sasl.h"
