/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pop3.c: placeholder until written. */
#include "unit.h"

Suite *suite_pop3(void)
{
    return suite_create("pop3");
}
