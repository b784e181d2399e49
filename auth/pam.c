/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/pam.c: the pam driver (placeholder until written: listed by
 * name only). */
#include "auth.h"

const struct auth_driver auth_driver_pam = {
    .name = "pam",
    .description = "Pluggable Authentication Modules",
    .compiled = false,
    .enable_key = CFG_AUTH_PAM_ENABLE,
};
