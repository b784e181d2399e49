/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_username.c: placeholder until written. */
#include "unit.h"

Suite *suite_username(void)
{
    return suite_create("username");
}
