/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mailbox/mailbox.c: placeholder until written. */
typedef int placeholder_mailbox;
