/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/pop3_trans.c: placeholder until written. */
typedef int placeholder_pop3_trans;
