/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/authcache.h: a cache of successful USER/PASS logins shared by every
 * session child, so that a client polling often spares the drivers (and
 * their databases) a check they made a moment ago. */
#ifndef TPOP3D_AUTHCACHE_H
#define TPOP3D_AUTHCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"

/* Slots of the table the daemon creates: a busy site's users within one
 * lifetime. Untouched slots cost no memory (the mapping is anonymous). */
#define AUTHCACHE_SLOTS 4096

/* Bounds of what one entry holds; a result that does not fit is not
 * cached (its logins simply always go to the drivers). */
#define AUTHCACHE_MAX_NAME   256     /* user, local_part, domain: POP3_MAX_USER + NUL */
#define AUTHCACHE_MAX_HOST   64      /* numeric IPv6 with scope, and NUL */
#define AUTHCACHE_MAX_PATH   1024    /* home, mailbox */
#define AUTHCACHE_MAX_DRIVER 16

struct authcache;

/* Create a table of NSLOTS entries (at least 1) in memory shared with every
 * process forked afterwards, with a fresh random secret. Entries are fresh
 * for LIFETIME_MS milliseconds after the driver said yes; with USE_HOST the
 * client address is part of the key, so a login from elsewhere goes to the
 * drivers. Returns the table, or NULL with *ERROR_R (allocated). */
struct authcache *authcache_create(size_t nslots, int64_t lifetime_ms,
                                   bool use_host, char **error_r);
/* Unmap the table in this process (others keep theirs) and NULL *CACHE. */
void authcache_destroy(struct authcache **cache);

/* The clock entries are stamped with: CLOCK_MONOTONIC in milliseconds,
 * the same in every process of the host. */
int64_t authcache_now_ms(void);

/* Look up a PASS request (APOP is never cached). True when a fresh entry
 * for REQ's user (and client host, with USE_HOST) holds REQ's password at
 * time NOW_MS: RES is then filled in as the driver filled it (allocated
 * strings, free with auth_result_free(); res->driver is the static name
 * from auth_drivers[]). False otherwise, with RES untouched: no entry, an
 * expired one, another password, or a driver no longer in the table. */
bool authcache_lookup(struct authcache *cache, const struct auth_request *req,
                      int64_t now_ms, struct auth_result *res);

/* Remember that REQ (a PASS request) was answered AUTH_OK with RES at time
 * NOW_MS, replacing any entry for the same key, else the oldest entry of
 * the key's neighbourhood. Only a salted hash of the password is kept.
 * Returns false (and stores nothing) for APOP requests and for results
 * with a field longer than the bounds above. */
bool authcache_store(struct authcache *cache, const struct auth_request *req,
                     const struct auth_result *res, int64_t now_ms);

/* Take the table's lock and keep it: lets tests show that a process dying
 * while it holds the lock does not block the next one. False when the lock
 * could not be taken. */
bool authcache_lock_for_test(struct authcache *cache);

/* Entries in use, fresh or not (for tests and diagnostics). */
size_t authcache_count(struct authcache *cache);

#endif
