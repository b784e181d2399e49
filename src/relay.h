/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relay.h: POP-before-SMTP relay grants: a GDBM file of client address ->
 * grant time and user, pruned of expired grants, exported as a text map for
 * the MTA. Shared by the daemon and the tpop3d-relay command. */
#ifndef TPOP3D_RELAY_H
#define TPOP3D_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "strbuf.h"

/* Room for any canonical address text, NUL included (INET6_ADDRSTRLEN). */
#define RELAY_ADDR_MAX 46

/* One grant as stored. */
struct relay_entry {
    char addr[RELAY_ADDR_MAX];  /* canonical numeric address */
    char *user;                 /* allocated */
    time_t time;                /* when it was granted (epoch seconds) */
};

/* True when relay grants are compiled in (GDBM was found by configure). */
bool relay_available(void);

/* Check the relay-grant-* directives of CFG: the export format's escapes,
 * an export path that is absolute, relay-grant-enable without GDBM. For
 * tpop3d -t, tpop3d-relay and start-up. 0, or -1 with *ERROR_R set to an
 * allocated "file:line: directive: reason". */
int relay_check_config(const struct config *cfg, char **error_r);

/* Write the canonical numeric form of ADDR into BUF (SIZE bytes, at least
 * RELAY_ADDR_MAX): IPv4 dotted quad, IPv6 as inet_ntop writes it (RFC 5952:
 * lower case, longest zero run compressed), an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) as plain IPv4, a zone suffix ("%eth0") dropped. 0, or -1
 * when ADDR is not a numeric address. */
int relay_canonical_addr(const char *addr, char *buf, size_t size);

/* Check an export format: "%i" (address), "%u" (user), "%t" (grant time),
 * "%%"; anything else after a "%" is refused, and so is a format without
 * "%i". 0, or -1 with *ERROR_R (allocated, without file or line). */
int relay_format_check(const char *fmt, char **error_r);

/* Append the line FMT makes of E to OUT, without a newline. Bytes of the
 * user outside printable ASCII, and blanks, are written as '?', so a line
 * stays one line of words. 0, or -1 when FMT is invalid or OUT is full. */
int relay_format_expand(const char *fmt, const struct relay_entry *e,
                        struct strbuf *out);

/* Record a grant for CLIENTHOST (numeric IPv4 or IPv6) by USER now, prune
 * expired grants, and write the export (and run its command) when one is
 * configured. Runs as root. 0, or -1 with *ERROR_R (allocated). -1 also
 * when the grant was recorded but the admin should hear of something: the
 * export command failed, or a database GDBM could not read was moved aside
 * to NAME.damaged and replaced by a new one; the message says which. */
int relay_grant(const struct config *cfg, const char *clienthost,
                const char *user, char **error_r);

/* relay_grant with the clock given as NOW. When the export's contents are
 * unchanged (a grant renewed while the format has no %t) the file is left
 * alone and the command is not run. */
int relay_grant_at(const struct config *cfg, const char *clienthost,
                   const char *user, time_t now, char **error_r);

/* The grants still live at NOW (granted less than relay-grant-lifetime
 * seconds before it), sorted by address (IPv4 first, numerically).
 * *ENTRIES_R (free with relay_entries_free) and *N_R. A missing database
 * holds no grants. 0, or -1 with *ERROR_R. */
int relay_list(const struct config *cfg, time_t now,
               struct relay_entry **entries_r, size_t *n_r, char **error_r);
void relay_entries_free(struct relay_entry **entries, size_t n);

/* Remove the grants expired at NOW; *REMOVED_R (may be NULL) gets how many.
 * 0, or -1 with *ERROR_R (as for relay_grant, also after a damaged
 * database was replaced). relay_export likewise. */
int relay_expire(const struct config *cfg, time_t now, size_t *removed_r,
                 char **error_r);

/* Prune at NOW and rewrite relay-grant-export from the live grants, then
 * run relay-grant-export-command, even when nothing changed. Without an
 * export configured, an error. 0, or -1 with *ERROR_R. */
int relay_export(const struct config *cfg, time_t now, char **error_r);

/* Run ARGV[0] with ARGV (execv, no shell) in a clean environment, stdin
 * from /dev/null, for at most TIMEOUT_MS milliseconds (then it is killed).
 * 0 when it exited with status 0; else -1 with *ERROR_R saying how it
 * ended. */
int relay_run_command(char *const argv[], long timeout_ms, char **error_r);

#endif
