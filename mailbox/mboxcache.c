/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mboxcache.c: placeholder until written. */
typedef int placeholder_mboxcache;
