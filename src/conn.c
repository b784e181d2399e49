/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/conn.c: placeholder until written. */
typedef int placeholder_conn;
