/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/username.h: placeholder until written. */
