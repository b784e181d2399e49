/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_mboxindex.c: placeholder until written. */
#include "unit.h"

Suite *suite_mboxindex(void)
{
    return suite_create("mboxindex");
}
