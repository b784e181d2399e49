/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_msgwrite.c: placeholder until written. */
#include "unit.h"

Suite *suite_msgwrite(void)
{
    return suite_create("msgwrite");
}
