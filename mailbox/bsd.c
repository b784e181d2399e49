/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mailbox/bsd.c: placeholder until written. */
typedef int placeholder_bsd;
