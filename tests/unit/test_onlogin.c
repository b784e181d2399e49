/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_onlogin.c: unit tests of onlogin.c. */
#include "unit.h"

Suite *suite_onlogin(void)
{
    Suite *s = suite_create("onlogin");

    return s;
}
