/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mailbox/mboxindex.c: placeholder until written. */
typedef int placeholder_mboxindex;
