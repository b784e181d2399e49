/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/subst.c: placeholder until written. */
typedef int placeholder_subst;
