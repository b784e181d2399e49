/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/passwd.c: placeholder until written. */
typedef int placeholder_passwd;
