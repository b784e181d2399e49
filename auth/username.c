/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/username.c: placeholder until written. */
typedef int placeholder_username;
