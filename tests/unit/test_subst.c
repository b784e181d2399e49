/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_subst.c: placeholder until written. */
#include "unit.h"

Suite *suite_subst(void)
{
    return suite_create("subst");
}
