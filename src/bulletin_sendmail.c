/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bulletin_sendmail.c: hand a bulletin to bulletin-sendmail-program at most
 * once, recording it as pending before and delivered after. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bulletin.h"
#include "bulletin_private.h"
#include "fileio.h"
#include "log.h"
#include "xalloc.h"

#ifdef AUTH_GDBM

/* How long the sendmail program may take to accept a bulletin. */
#define BULLETIN_PROGRAM_WAIT_MS 30000

/* ---- sendmail ----------------------------------------------------------- */

/* Read what is waiting on PFD[0] without blocking, keeping the first
 * SIZE bytes in OUT (*GOT_R so far); at its end, close it and set PFD[0]
 * to -1. */
static void drain(int pfd[2], char *out, size_t size, size_t *got_r)
{
    char sink[512];

    while (pfd[0] >= 0) {
        struct pollfd p = { .fd = pfd[0], .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 0) <= 0 || !p.revents)
            return;
        n = read(pfd[0], *got_r < size ? out + *got_r : sink,
                 *got_r < size ? size - *got_r : sizeof sink);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(pfd[0]);
            pfd[0] = -1;
            return;
        }
        if (*got_r < size)
            *got_r += (size_t)n;
    }
}

/* Run the sendmail program with TEXT on its standard input. 0 when it
 * exited 0; -1 with *ERROR_R (and *SURE_R false when it may have accepted
 * the message all the same: killed, or its status lost). */
static int run_sendmail(struct job *j, const struct strbuf *text, bool *sure_r,
                        char **error_r)
{
    const char *prog = cfg_str(j->cfg, CFG_BULLETIN_SENDMAIL_PROGRAM);
    char *const argv[] = { (char *)prog, "-oi", "-f", BULLETIN_SENDER, "--",
                           j->key, NULL };
    char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
    char out[512], clean[600];
    size_t got = 0;
    int in, pfd[2], status;
    int64_t deadline;
    pid_t pid;

    *sure_r = true;
    /* A file, not a pipe: if we die half way the program still reads the
     * whole message, never a truncated one. */
    in = memfd_create("bulletin", MFD_CLOEXEC);
    if (in < 0 || pwrite_full(in, text->buf, text->len, 0) < 0
        || lseek(in, 0, SEEK_SET) != 0) {
        *error_r = xasprintf("bulletin buffer: %s", strerror(errno));
        if (in >= 0)
            close(in);
        return -1;
    }
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        *error_r = xasprintf("pipe: %s", strerror(errno));
        close(in);
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        sigset_t none;

        if (dup2(in, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
            _exit(127);
        closefrom(3);
        signal(SIGPIPE, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(prog, argv, envp);
        _exit(127);
    }
    close(in);
    close(pfd[1]);
    if (pid < 0) {
        *error_r = xasprintf("fork: %s", strerror(errno));
        close(pfd[0]);
        return -1;
    }
    /* Until it exits, keeping the start of what it says; a process it
     * leaves behind holding its output does not keep us waiting. */
    deadline = bulletin_now_ms() + BULLETIN_PROGRAM_WAIT_MS;
    for (;;) {
        struct pollfd p = { .fd = pfd[0], .events = POLLIN };
        int64_t left = deadline - bulletin_now_ms();
        pid_t w = waitpid(pid, &status, WNOHANG);

        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            close(pfd[0]);
            *sure_r = false;
            *error_r = xasprintf("%s: waitpid: %s", prog, strerror(errno));
            return -1;
        }
        if (left <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(pfd[0]);
            *sure_r = false;
            *error_r = xasprintf("%s did not finish within %d seconds; killed",
                                 prog, BULLETIN_PROGRAM_WAIT_MS / 1000);
            return -1;
        }
        /* At its end of file, the pipe polls readable for good. */
        if (p.fd >= 0 && poll(&p, 1, left < 20 ? (int)left : 20) > 0
            && p.revents)
            drain(pfd, out, sizeof out, &got);
        else if (p.fd < 0)
            bulletin_sleep_ms(10);
    }
    drain(pfd, out, sizeof out, &got);
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == '\r'))
        got--;
    log_sanitize(clean, sizeof clean, out, got);
    if (WIFEXITED(status))
        *error_r = xasprintf("%s exited with status %d%s%s", prog,
                             WEXITSTATUS(status), got ? ": " : "", clean);
    else {
        *sure_r = false;
        *error_r = xasprintf("%s killed by signal %d", prog, WTERMSIG(status));
    }
    return -1;
}

int bulletin_deliver_sendmail(struct job *j, const struct bulletin *b,
                              char **error_r)
{
    struct bulletin_record rec;
    struct strbuf text;
    sigset_t oldmask;
    bool sure, held = false;
    int r = -1;

    if (bulletin_db_read(j, b->name, true, &rec, error_r) < 0)
        return -1;
    if (rec.state == BULLETIN_DELIVERED || rec.state == BULLETIN_UNKNOWN)
        return 0;
    if (rec.state == BULLETIN_PENDING) {
        /* Another login is handing it over right now, or one died doing
         * so: whether the MTA got it cannot be known, and a second copy
         * is worse than none. */
        if (rec.pid > 0 && rec.pid != (long)getpid()
            && (kill((pid_t)rec.pid, 0) == 0 || errno == EPERM))
            return 0;
        log_warnx("user %s: bulletin %s: an earlier delivery through %s was "
                  "interrupted; not repeated (delete the key %s from "
                  "%s/%s.db to send it again)", j->who, b->name,
                  cfg_str(j->cfg, CFG_BULLETIN_SENDMAIL_PROGRAM), j->key,
                  j->dir, b->name);
        return bulletin_db_put(j, b->name, BULLETIN_UNKNOWN, rec.id, false,
                               error_r);
    }
    strbuf_init(&text, 2 * BULLETIN_MAX_SIZE + 1024);
    if (bulletin_frame(b->name, b->id, b->data, b->len, time(NULL), false,
                       &text) < 0) {
        *error_r = xstrdup("bulletin too large once framed");
        goto out;
    }
    bulletin_hold_stops(&oldmask);
    held = true;
    /* Only if no other login has started on it since we looked. */
    switch (bulletin_db_put(j, b->name, BULLETIN_PENDING, b->id, true,
                            error_r)) {
    case -1:
        goto out;
    case 1:
        r = 0;
        goto out;
    }
    bulletin_step(BULLETIN_STEP_PENDING, b->name);
    if (run_sendmail(j, &text, &sure, error_r) < 0) {
        char *err2 = NULL;

        /* A clean refusal: nothing was sent, try again next time. */
        if (sure && bulletin_db_put(j, b->name, BULLETIN_NONE, b->id, false,
                                    &err2) < 0) {
            log_warnx("user %s: bulletin %s: %s", j->who, b->name, err2);
            free(err2);
        }
        goto out;
    }
    bulletin_step(BULLETIN_STEP_APPENDED, b->name);
    log_info("user %s: bulletin %s handed to %s", j->who, b->name,
             cfg_str(j->cfg, CFG_BULLETIN_SENDMAIL_PROGRAM));
    if (bulletin_db_put(j, b->name, BULLETIN_DELIVERED, b->id, false,
                        error_r) < 0)
        goto out;
    bulletin_step(BULLETIN_STEP_RECORDED, b->name);
    r = 0;
out:
    if (held)
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
    strbuf_free(&text);
    return r;
}

#endif /* AUTH_GDBM */
