/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lock.c: fcntl, flock and dotlock locking of a mailbox file, with bounded
 * retries and removal of stale dotlocks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#ifdef __linux__
#include <linux/magic.h>
#include <sys/vfs.h>
#endif
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "xalloc.h"

/* What one attempt came to. */
enum attempt {
    ATTEMPT_OK,
    ATTEMPT_BUSY,       /* someone else holds one of the locks */
    ATTEMPT_FAIL,       /* *error_r set */
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (long)(ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static enum attempt take_fcntl(struct mbox_lock *lk, char **error_r)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

    if (fcntl(lk->fd, F_SETLK, &fl) == 0) {
        lk->fcntl_held = true;
        return ATTEMPT_OK;
    }
    if (errno == EACCES || errno == EAGAIN)
        return ATTEMPT_BUSY;
    *error_r = xasprintf("fcntl lock: %s", strerror(errno));
    return ATTEMPT_FAIL;
}

/* Linux emulates flock() on NFS with a whole-file fcntl lock owned by the
 * open file, which conflicts with our own fcntl lock: there fcntl alone
 * is the lock every client sees. */
static bool flock_is_fcntl(int fd)
{
#ifdef __linux__
    struct statfs sfs;

    return fstatfs(fd, &sfs) == 0 && sfs.f_type == NFS_SUPER_MAGIC;
#else
    (void)fd;
    return false;
#endif
}

static enum attempt take_flock(struct mbox_lock *lk, char **error_r)
{
    if (flock(lk->fd, LOCK_EX | LOCK_NB) == 0) {
        lk->flock_held = true;
        return ATTEMPT_OK;
    }
    if (errno == EWOULDBLOCK)
        return ATTEMPT_BUSY;
    *error_r = xasprintf("flock: %s", strerror(errno));
    return ATTEMPT_FAIL;
}

/* True when the dotlock at NAME may be removed. A lock that names a pid
 * which no longer exists on this host belongs to a locker that died (a
 * session killed with SIGKILL, a crashed MDA): stale once it is a few
 * seconds old, so that a creator between open() and write() is never
 * robbed. A lock naming a live pid is kept. A lock naming no pid is stale
 * after DOTLOCK_STALE_SECONDS. We only get here holding the fcntl and flock
 * locks, so no locker that uses those is active; a lock written on another
 * NFS client whose pid is not alive here is the remaining risk, and every
 * MDA we know takes fcntl locks as well. */
static bool dotlock_is_stale(const char *name, const struct stat *st)
{
    time_t age = time(NULL) - st->st_mtime;
    char buf[32];
    ssize_t n;
    int fd;

    fd = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return age > DOTLOCK_STALE_SECONDS;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) {
        char *e;
        unsigned long long pid;

        buf[n] = '\0';
        errno = 0;
        pid = strtoull(buf, &e, 10);
        if (errno == 0 && e != buf && (*e == '\n' || *e == '\0')
            && pid > 0 && pid <= (unsigned long long)INT32_MAX) {
            if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
                return false;
            return age >= DOTLOCK_DEAD_GRACE_SECONDS;
        }
    }
    return age > DOTLOCK_STALE_SECONDS;
}

static enum attempt take_dotlock(struct mbox_lock *lk, const char *path,
                                 char **notice_r, char **error_r)
{
    char *name = xasprintf("%s.lock", path);
    char pidbuf[32];
    int fd, len, err;

    for (int tries = 0; ; tries++) {
        struct stat st;

        fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
        if (fd >= 0)
            break;
        err = errno;
        if (err != EEXIST)
            goto fail_create;
        /* Breaking a stale lock once per attempt is enough; a lock that
         * reappears at once belongs to a live locker. */
        if (tries > 0 || lstat(name, &st) < 0 || !dotlock_is_stale(name, &st)) {
            free(name);
            return ATTEMPT_BUSY;
        }
        if (unlink(name) < 0 && errno != ENOENT) {
            err = errno;
            goto fail_create;
        }
        if (!*notice_r)
            *notice_r = xasprintf("removed stale lock file %s (%lld seconds old)",
                                  name, (long long)(time(NULL) - st.st_mtime));
    }

    len = snprintf(pidbuf, sizeof pidbuf, "%ld\n", (long)getpid());
    errno = 0;
    if (write(fd, pidbuf, (size_t)len) != len) {
        err = errno ? errno : ENOSPC;
        close(fd);
        unlink(name);
        free(name);
        *error_r = xasprintf("cannot write lock file %s.lock: %s", path,
                             strerror(err));
        return ATTEMPT_FAIL;
    }
    if (close(fd) < 0) {
        err = errno;
        unlink(name);
        free(name);
        *error_r = xasprintf("cannot write lock file %s.lock: %s", path,
                             strerror(err));
        return ATTEMPT_FAIL;
    }
    lk->dotlock = name;
    return ATTEMPT_OK;

fail_create:
    free(name);
    if (err == EACCES || err == EROFS || err == EDQUOT || err == ENOSPC
        || err == EPERM)
        *error_r = xasprintf("cannot create lock file %s.lock: %s (dotlocks "
                             "need a writable spool directory with space "
                             "left; or set mailspool-no-dotfile-locking)",
                             path, strerror(err));
    else
        *error_r = xasprintf("cannot create lock file %s.lock: %s", path,
                             strerror(err));
    return ATTEMPT_FAIL;
}

enum mailbox_status mbox_lock(struct mbox_lock *lk, int fd, const char *path,
                              const struct mailbox_options *opts,
                              char **notice_r, char **error_r)
{
    uint64_t deadline = now_ms() + opts->lock_wait_ms;
    bool use_flock = !flock_is_fcntl(fd);

    lk->fd = fd;
    lk->fcntl_held = lk->flock_held = false;
    lk->dotlock = NULL;
    *notice_r = NULL;
    *error_r = NULL;

    for (;;) {
        enum attempt a = take_fcntl(lk, error_r);
        uint64_t now;

        /* fcntl first: while we hold it no other session can be breaking
         * the same stale dotlock. */
        if (a == ATTEMPT_OK && use_flock)
            a = take_flock(lk, error_r);
        if (a == ATTEMPT_OK && opts->dotlock)
            a = take_dotlock(lk, path, notice_r, error_r);
        if (a == ATTEMPT_OK)
            return MAILBOX_OK;

        mbox_unlock(lk);
        lk->fd = fd;
        if (a == ATTEMPT_FAIL)
            break;
        now = now_ms();
        if (now >= deadline) {
            *error_r = xasprintf("%s is locked by another process", path);
            lk->fd = -1;
            return MAILBOX_INUSE;
        }
        sleep_ms(deadline - now < MBOX_LOCK_RETRY_MS
                 ? (unsigned)(deadline - now) : MBOX_LOCK_RETRY_MS);
    }
    lk->fd = -1;
    return MAILBOX_TEMPFAIL;
}

void mbox_unlock(struct mbox_lock *lk)
{
    if (lk->dotlock) {
        unlink(lk->dotlock);
        free(lk->dotlock);
        lk->dotlock = NULL;
    }
    if (lk->flock_held) {
        flock(lk->fd, LOCK_UN);
        lk->flock_held = false;
    }
    if (lk->fcntl_held) {
        struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

        fcntl(lk->fd, F_SETLK, &fl);
        lk->fcntl_held = false;
    }
    lk->fd = -1;
}
