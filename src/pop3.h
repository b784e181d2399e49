/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/pop3.h: placeholder until written. */
