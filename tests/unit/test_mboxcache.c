/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_mboxcache.c: placeholder until written. */
#include "unit.h"

Suite *suite_mboxcache(void)
{
    return suite_create("mboxcache");
}
