/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep_private.h: declarations shared by the files of privsep.c's module only. */
#ifndef TPOP3D_PRIVSEP_PRIVATE_H
#define TPOP3D_PRIVSEP_PRIVATE_H

#endif
