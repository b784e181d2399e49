/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/flatfile.c: placeholder until written. */
typedef int placeholder_flatfile;
