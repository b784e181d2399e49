/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/daemon.c: placeholder until written. */
typedef int placeholder_daemon;
