/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/password.h: placeholder until written. */
