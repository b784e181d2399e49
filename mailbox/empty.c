/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mailbox/empty.c: placeholder until written. */
typedef int placeholder_empty;
