/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_bulletin.c: unit tests of bulletin.c. */
#include "unit.h"

Suite *suite_bulletin(void)
{
    Suite *s = suite_create("bulletin");

    return s;
}
