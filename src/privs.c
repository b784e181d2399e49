/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/privs.c: placeholder until written. */
typedef int placeholder_privs;
