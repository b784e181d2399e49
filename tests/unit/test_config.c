/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_config.c: placeholder until written. */
#include "unit.h"

Suite *suite_config(void)
{
    return suite_create("config");
}
