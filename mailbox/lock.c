/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mailbox/lock.c: placeholder until written. */
typedef int placeholder_lock;
