/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_bsd.c: placeholder until written. */
#include "unit.h"

Suite *suite_bsd(void)
{
    return suite_create("bsd");
}
