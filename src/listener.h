/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/listener.h: placeholder until written. */
