/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crashsoak.h: the parts of the crash soak shared between its files. */
#ifndef TPOP3D_CRASHSOAK_H
#define TPOP3D_CRASHSOAK_H

#endif
