/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/listenaddr.c: placeholder until written. */
typedef int placeholder_listenaddr;
