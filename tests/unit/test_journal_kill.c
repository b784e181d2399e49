/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_journal_kill.c: commits killed at every step and recovered. */
#include "unit.h"

Suite *suite_journal_kill(void)
{
    return suite_create("journal_kill");
}
