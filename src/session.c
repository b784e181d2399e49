/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/session.c: placeholder until written. */
typedef int placeholder_session;
