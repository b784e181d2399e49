/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_lock.c: placeholder until written. */
#include "unit.h"

Suite *suite_lock(void)
{
    return suite_create("lock");
}
