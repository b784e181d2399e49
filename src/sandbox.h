/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox.h: confinement of the pre-login process (system-call filter and
 * resource limits). */
#ifndef TPOP3D_SANDBOX_H
#define TPOP3D_SANDBOX_H

#endif
