/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/privs.h: placeholder until written. */
