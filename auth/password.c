/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/password.c: placeholder until written. */
typedef int placeholder_password;
