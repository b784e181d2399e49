/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relay_private.h: declarations shared by the files of relay.c's module only. */
#ifndef TPOP3D_RELAY_PRIVATE_H
#define TPOP3D_RELAY_PRIVATE_H

#endif
