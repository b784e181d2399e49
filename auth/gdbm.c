/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/gdbm.c: the gdbm driver (placeholder until written: listed by
 * name only). */
#include "auth.h"

const struct auth_driver auth_driver_gdbm = {
    .name = "gdbm",
    .description = "GNU dbm database",
    .compiled = false,
    .enable_key = CFG_AUTH_GDBM_ENABLE,
};
