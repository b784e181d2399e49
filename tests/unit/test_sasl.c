/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_sasl.c: unit tests of sasl.c. */
#include "unit.h"

Suite *suite_sasl(void)
{
    Suite *s = suite_create("sasl");

    return s;
}
