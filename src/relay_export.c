/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relay_export.c: the export file of relay grants and its command. */
#include "relay.h"
