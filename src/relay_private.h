/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relay_private.h: declarations shared by the files of relay.c's module only. */
#ifndef TPOP3D_RELAY_PRIVATE_H
#define TPOP3D_RELAY_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "relay.h"

/* Sleep MS milliseconds, resuming after signals. (relay.c) */
void relay_sleep_ms(long ms);

/* Milliseconds of CLOCK_MONOTONIC since SINCE. (relay.c) */
long relay_elapsed_ms(const struct timespec *since);

/* qsort comparator for struct relay_entry: IPv4 before IPv6, then by the
 * address bytes, so lists and the export come out in a stable order.
 * Only with GDBM. (relay.c) */
int relay_entry_cmp(const void *a, const void *b);

/* relay-grant-export, or NULL when it is unset or empty. (relay_export.c) */
const char *relay_export_path(const struct config *cfg);

/* True when relay-grant-export-command holds more than blanks.
 * (relay_export.c) */
bool relay_export_has_command(const struct config *cfg);

/* Run relay-grant-export-command, when one is configured, with the
 * module's timeout. 0 (also when none is set), or -1 with *ERROR_R
 * (allocated) from relay_run_command. (relay_export.c) */
int relay_run_export_command(const struct config *cfg, char **error_r);

/* Write relay-grant-export atomically from the N live grants E, which are
 * sorted here (E is reordered). *CHANGED_R tells whether the file was
 * replaced; unless FORCE, identical contents leave it alone. 0, or -1 with
 * *ERROR_R (allocated). Only with GDBM. (relay_export.c) */
int relay_write_export(const struct config *cfg, struct relay_entry *e,
                       size_t n, bool force, bool *changed_r, char **error_r);

#endif
