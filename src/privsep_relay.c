/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep_relay.c: the pre-login process relaying a session it cannot hand
 * back. */
#include "privsep.h"
