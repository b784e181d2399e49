/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mailbox/msgwrite.c: placeholder until written. */
typedef int placeholder_msgwrite;
