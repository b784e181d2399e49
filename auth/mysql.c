/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/mysql.c: the mysql driver (placeholder until written: listed by
 * name only). */
#include "auth.h"

const struct auth_driver auth_driver_mysql = {
    .name = "mysql",
    .description = "MySQL or MariaDB database",
    .compiled = false,
    .enable_key = CFG_AUTH_MYSQL_ENABLE,
};
