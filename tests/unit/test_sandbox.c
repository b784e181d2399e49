/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_sandbox.c: the pre-login process's system-call filter and limits. */
#include "unit.h"

Suite *suite_sandbox(void)
{
    return suite_create("sandbox");
}
