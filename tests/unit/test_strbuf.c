/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_strbuf.c: placeholder until written. */
#include "unit.h"

Suite *suite_strbuf(void)
{
    return suite_create("strbuf");
}
