/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/pop3.c: placeholder until written. */
typedef int placeholder_pop3;
