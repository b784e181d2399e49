/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lock.h: locking a mailbox file against MDAs and other sessions with every
 * convention at once: fcntl, flock and a NAME.lock dotlock. */
#ifndef TPOP3D_LOCK_H
#define TPOP3D_LOCK_H

#include <stdbool.h>

#include "mailbox.h"

/* Poll interval while a lock is held by someone else, in milliseconds:
 * short against a lock_wait_ms of a second or two, long enough not to
 * spin. */
#define MBOX_LOCK_RETRY_MS 50

struct mbox_lock {
    int fd;                 /* the locked file, -1 when nothing is held */
    bool fcntl_held;
    bool flock_held;
    char *dotlock;          /* "PATH.lock" while we hold it, else NULL */
};

/* Lock FD, the mailbox PATH held open by the caller: a whole-file fcntl
 * write lock, flock(LOCK_EX) (not on NFS, where Linux makes flock an fcntl
 * lock that would conflict with ours), and, when OPTS->dotlock, PATH.lock
 * created with O_EXCL and holding our pid. A lock held by someone else is retried
 * every MBOX_LOCK_RETRY_MS for up to OPTS->lock_wait_ms, letting go of
 * everything between attempts. A dotlock older than DOTLOCK_STALE_SECONDS
 * whose pid is not a live process here is removed; *NOTICE_R then gets an
 * allocated message saying so, for the log (else it is set to NULL).
 *
 * fcntl locks belong to the process and go away when it closes ANY
 * descriptor of the file: the caller must not open and close PATH again
 * while the lock is held.
 *
 * MAILBOX_OK: *LK holds the locks until mbox_unlock(). MAILBOX_INUSE: still
 * held by another after the wait. MAILBOX_TEMPFAIL: locking itself failed
 * (a dotlock that cannot be created in the spool directory names the
 * mailspool-no-dotfile-locking directive). On failure *ERROR_R gets an
 * allocated message and nothing is held. */
enum mailbox_status mbox_lock(struct mbox_lock *lk, int fd, const char *path,
                              const struct mailbox_options *opts,
                              char **notice_r, char **error_r);

/* Release what *LK holds, dotlock first, and mark it empty. Safe on an
 * empty lock. Does not close the file. */
void mbox_unlock(struct mbox_lock *lk);

#endif
