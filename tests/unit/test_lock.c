/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_lock.c: mailbox locking against other processes: fcntl, flock,
 * dotlocks, stale dotlocks and the wait bound. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "unit.h"

static char *dir, *mbox, *dotlock;

static void setup(void)
{
    dir = unit_tmpdir();
    ck_assert_int_ge(asprintf(&mbox, "%s/user", dir), 0);
    ck_assert_int_ge(asprintf(&dotlock, "%s/user.lock", dir), 0);
    unit_write_file(mbox, "From a\n\nx\n", 10);
}

static void teardown(void)
{
    unit_rmtree(dir);
    free(dir);
    free(mbox);
    free(dotlock);
}

static struct mailbox_options opts(bool dot, unsigned wait_ms)
{
    struct mailbox_options o = {
        .dotlock = dot, .lock_wait_ms = wait_ms, .owner = (uid_t)-1,
    };
    return o;
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000
           + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

#define GOT_FCNTL 1
#define GOT_FLOCK 2

/* Which of fcntl and flock another process can take on the mailbox now. */
static int other_process_gets(void)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        int fd = open(mbox, O_RDWR), got = 0;

        if (fd < 0)
            _exit(100);
        if (fcntl(fd, F_SETLK, &fl) == 0)
            got |= GOT_FCNTL;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            got |= GOT_FLOCK;
        _exit(got);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(dotlock_created_and_removed)
{
    struct mailbox_options o = opts(true, 0);
    struct mbox_lock lk;
    char *notice, *err, *content, want[32];
    int fd = open(mbox, O_RDWR);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err), MAILBOX_OK);
    ck_assert_ptr_null(notice);
    ck_assert_ptr_null(err);
    ck_assert(lk.fcntl_held && lk.flock_held);
    ck_assert_str_eq(lk.dotlock, dotlock);
    content = unit_read_file(dotlock, NULL);
    ck_assert_ptr_nonnull(content);
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    ck_assert_str_eq(content, want);
    free(content);
    ck_assert_int_eq(other_process_gets(), 0);

    mbox_unlock(&lk);
    ck_assert_int_eq(access(dotlock, F_OK), -1);
    ck_assert_int_eq(other_process_gets(), GOT_FCNTL | GOT_FLOCK);
    ck_assert_ptr_null(lk.dotlock);
    ck_assert_int_eq(lk.fd, -1);
    mbox_unlock(&lk);      /* twice is harmless */
    close(fd);
}
END_TEST

START_TEST(no_dotlock_when_disabled)
{
    struct mailbox_options o = opts(false, 0);
    struct mbox_lock lk;
    char *notice, *err;
    int fd = open(mbox, O_RDWR);

    ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err), MAILBOX_OK);
    ck_assert_int_eq(access(dotlock, F_OK), -1);
    ck_assert_int_eq(other_process_gets(), 0);
    mbox_unlock(&lk);
    ck_assert_int_eq(other_process_gets(), GOT_FCNTL | GOT_FLOCK);
    close(fd);
}
END_TEST

static void make_dotlock(const char *content, time_t age)
{
    struct timeval tv[2];

    unit_write_file(dotlock, content, strlen(content));
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(dotlock, tv), 0);
}

START_TEST(stale_dotlock_broken)
{
    struct mailbox_options o = opts(true, 0);
    struct mbox_lock lk;
    char *notice, *err, *content, want[32];
    int fd = open(mbox, O_RDWR);

    /* Above any pid_max: no such process. */
    make_dotlock("999999999\n", DOTLOCK_STALE_SECONDS + 60);
    ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err), MAILBOX_OK);
    ck_assert_ptr_nonnull(notice);
    ck_assert_ptr_nonnull(strstr(notice, "stale"));
    ck_assert_ptr_nonnull(strstr(notice, dotlock));
    content = unit_read_file(dotlock, NULL);
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    ck_assert_str_eq(content, want);
    free(content);
    free(notice);
    mbox_unlock(&lk);
    ck_assert_int_eq(access(dotlock, F_OK), -1);

    /* A few seconds old, naming a process that is gone: a session killed
     * with SIGKILL must not block its mailbox for DOTLOCK_STALE_SECONDS. */
    make_dotlock("999999999\n", DOTLOCK_DEAD_GRACE_SECONDS + 1);
    ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err), MAILBOX_OK);
    ck_assert_ptr_nonnull(notice);
    free(notice);
    mbox_unlock(&lk);
    ck_assert_int_eq(access(dotlock, F_OK), -1);

    /* Young and naming no pid: kept (an MDA that writes none). */
    make_dotlock("", DOTLOCK_DEAD_GRACE_SECONDS + 60);
    ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err),
                     MAILBOX_INUSE);
    free(err);
    ck_assert_int_eq(access(dotlock, F_OK), 0);

    /* Old, and no pid in it at all. */
    make_dotlock("", DOTLOCK_STALE_SECONDS + 60);
    ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err), MAILBOX_OK);
    ck_assert_ptr_nonnull(notice);
    free(notice);
    mbox_unlock(&lk);
    close(fd);
}
END_TEST

START_TEST(live_dotlock_kept)
{
    struct mailbox_options o = opts(true, 150);
    struct mbox_lock lk;
    struct timespec t0;
    char *notice, *err, *content, live[32];
    int fd = open(mbox, O_RDWR);
    long ms;

    /* Fresh (its creator may not have written its pid yet), whatever pid
     * it names. */
    make_dotlock("999999999\n", 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err),
                     MAILBOX_INUSE);
    ms = elapsed_ms(&t0);
    ck_assert_int_ge(ms, 145);
    ck_assert_int_lt(ms, 1500);
    ck_assert_ptr_null(notice);
    ck_assert_ptr_nonnull(err);
    free(err);
    ck_assert_int_eq(access(dotlock, F_OK), 0);
    /* Nothing is held after a failure. */
    ck_assert_int_eq(other_process_gets(), GOT_FCNTL | GOT_FLOCK);

    /* Old, but its owner (this process) is alive. */
    snprintf(live, sizeof live, "%ld\n", (long)getpid());
    make_dotlock(live, DOTLOCK_STALE_SECONDS + 60);
    o.lock_wait_ms = 0;
    ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err),
                     MAILBOX_INUSE);
    ck_assert_ptr_null(notice);
    free(err);
    content = unit_read_file(dotlock, NULL);
    ck_assert_str_eq(content, live);
    free(content);
    close(fd);
}
END_TEST

/* A child that holds the locks named by WHAT until told to let go. */
struct holder {
    pid_t pid;
    int release_fd;
};

#define HOLD_FCNTL 1
#define HOLD_FLOCK 2
#define HOLD_DOT   4
#define HOLD_ALL   8    /* through mbox_lock itself */

static struct holder hold(int what)
{
    int ready[2], release[2];
    struct holder h;
    char c;

    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(release), 0);
    h.pid = fork();
    ck_assert_int_ge(h.pid, 0);
    if (h.pid == 0) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        struct mailbox_options o = opts(true, 0);
        struct mbox_lock lk;
        char *notice, *err;
        int fd = open(mbox, O_RDWR);

        close(ready[0]);
        close(release[1]);
        if (fd < 0)
            _exit(1);
        if ((what & HOLD_FCNTL) && fcntl(fd, F_SETLK, &fl) < 0)
            _exit(2);
        if ((what & HOLD_FLOCK) && flock(fd, LOCK_EX | LOCK_NB) < 0)
            _exit(3);
        if ((what & HOLD_DOT)
            && open(dotlock, O_WRONLY | O_CREAT | O_EXCL, 0644) < 0)
            _exit(4);
        if ((what & HOLD_ALL)
            && mbox_lock(&lk, fd, mbox, &o, &notice, &err) != MAILBOX_OK)
            _exit(5);
        if (write(ready[1], "r", 1) != 1)
            _exit(6);
        if (read(release[0], &c, 1) < 0)
            _exit(7);
        if (what & HOLD_ALL)
            mbox_unlock(&lk);
        if (what & HOLD_DOT)
            unlink(dotlock);
        _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    close(ready[0]);
    h.release_fd = release[1];
    return h;
}

static void release(struct holder *h)
{
    int status;

    close(h->release_fd);
    ck_assert_int_eq(waitpid(h->pid, &status, 0), h->pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}

START_TEST(second_locker_in_use)
{
    static const int modes[] = { HOLD_ALL, HOLD_FCNTL, HOLD_FLOCK, HOLD_DOT };
    struct mailbox_options o = opts(true, 200);
    struct mbox_lock lk;
    char *notice, *err;
    int fd = open(mbox, O_RDWR);

    ck_assert_int_ge(fd, 0);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        struct holder h = hold(modes[i]);
        struct timespec t0;
        long ms;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err),
                         MAILBOX_INUSE);
        ms = elapsed_ms(&t0);
        ck_assert_int_ge(ms, 195);
        ck_assert_int_lt(ms, 1500);
        ck_assert_ptr_nonnull(strstr(err, "locked"));
        free(err);
        /* The holder's dotlock is untouched. */
        ck_assert_int_eq(access(dotlock, F_OK),
                         modes[i] & (HOLD_ALL | HOLD_DOT) ? 0 : -1);
        release(&h);

        ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err),
                         MAILBOX_OK);
        mbox_unlock(&lk);
    }
    close(fd);
}
END_TEST

START_TEST(waits_for_release)
{
    struct mailbox_options o = opts(true, 3000);
    struct holder h = hold(HOLD_ALL);
    struct mbox_lock lk;
    struct timespec t0;
    char *notice, *err;
    int fd = open(mbox, O_RDWR);
    pid_t pid;
    int status;

    /* A grandchild lets go after 100 ms; the wait picks that up. */
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        usleep(100 * 1000);
        close(h.release_fd);
        _exit(0);
    }
    close(h.release_fd);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mbox_lock(&lk, fd, mbox, &o, &notice, &err), MAILBOX_OK);
    ck_assert_int_lt(elapsed_ms(&t0), 2000);
    mbox_unlock(&lk);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(waitpid(h.pid, &status, 0), h.pid);
    close(fd);
}
END_TEST

START_TEST(dotlock_not_creatable)
{
    pid_t pid;
    int status;

    /* root ignores directory permissions: the child becomes nobody, who
     * may enter the directory but not write to it. */
    ck_assert_int_eq(chmod(mbox, 0666), 0);
    ck_assert_int_eq(chmod(dir, geteuid() == 0 ? 0755 : 0555), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct mailbox_options o = opts(true, 0);
        struct mbox_lock lk;
        char *notice, *err;
        int fd;

        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(10);
        fd = open(mbox, O_RDWR);
        if (fd < 0)
            _exit(12);
        if (mbox_lock(&lk, fd, mbox, &o, &notice, &err) != MAILBOX_TEMPFAIL)
            _exit(13);
        if (!strstr(err, "mailspool-no-dotfile-locking"))
            _exit(14);
        if (lk.fcntl_held || lk.flock_held || lk.dotlock)
            _exit(15);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(chmod(dir, 0700), 0);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(other_process_gets(), GOT_FCNTL | GOT_FLOCK);
}
END_TEST

Suite *suite_lock(void)
{
    Suite *s = suite_create("lock");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dotlock_created_and_removed);
    tcase_add_test(tc, no_dotlock_when_disabled);
    tcase_add_test(tc, stale_dotlock_broken);
    tcase_add_test(tc, live_dotlock_kept);
    tcase_add_test(tc, second_locker_in_use);
    tcase_add_test(tc, waits_for_release);
    tcase_add_test(tc, dotlock_not_creatable);
    suite_add_tcase(s, tc);
    return s;
}
