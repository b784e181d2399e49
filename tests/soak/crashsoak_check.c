/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crashsoak_check.c: checks a mailbox after a killed commit. */
#include "crashsoak.h"
