/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tpop3d-relay.c: list, expire and export the relay grants (for cron). */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc; (void)argv;
    fputs("tpop3d-relay: not implemented\n", stderr);
    return 2;
}
