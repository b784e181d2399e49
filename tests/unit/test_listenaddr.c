/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_listenaddr.c: placeholder until written. */
#include "unit.h"

Suite *suite_listenaddr(void)
{
    return suite_create("listenaddr");
}
