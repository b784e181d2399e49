/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mboxcache.h: placeholder until written. */
