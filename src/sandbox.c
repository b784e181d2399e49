/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sandbox.c: confinement of the pre-login process. */
#include "sandbox.h"
