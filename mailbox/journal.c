/* SPDX-License-Identifier: GPL-2.0-or-later */
/* journal.c: placeholder until written. */
typedef int placeholder_journal;
