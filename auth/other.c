/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/other.c: the other driver (placeholder until written: listed by
 * name only). */
#include "auth.h"

const struct auth_driver auth_driver_other = {
    .name = "other",
    .description = "external program",
    .compiled = false,
    .enable_key = CFG_AUTH_OTHER_ENABLE,
};
