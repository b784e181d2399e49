/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/config.c: placeholder until written. */
typedef int placeholder_config;
