/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_journal.c: placeholder until written. */
#include "unit.h"

Suite *suite_journal(void)
{
    return suite_create("journal");
}
