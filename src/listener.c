/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/listener.c: placeholder until written. */
typedef int placeholder_listener;
