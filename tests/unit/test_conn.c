/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_conn.c: placeholder until written. */
#include "unit.h"

Suite *suite_conn(void)
{
    return suite_create("conn");
}
