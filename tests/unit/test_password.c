/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_password.c: placeholder until written. */
#include "unit.h"

Suite *suite_password(void)
{
    return suite_create("password");
}
