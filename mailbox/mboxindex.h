/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mailbox/mboxindex.h: placeholder until written. */
