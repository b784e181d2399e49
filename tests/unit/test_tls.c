/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_tls.c: unit tests of tls.c. */
#include "unit.h"

Suite *suite_tls(void)
{
    Suite *s = suite_create("tls");

    return s;
}
