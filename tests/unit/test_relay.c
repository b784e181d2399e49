/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_relay.c: unit tests of relay.c. */
#include "unit.h"

Suite *suite_relay(void)
{
    Suite *s = suite_create("relay");

    return s;
}
