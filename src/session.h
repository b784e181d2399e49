/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/session.h: placeholder until written. */
