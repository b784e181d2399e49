/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/authswitch.c: placeholder until written. */
typedef int placeholder_authswitch;
