/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bulletin_mbox.c: append a bulletin to the user's BSD mailbox from a child
 * running as the user, which locks, appends, syncs and on failure cuts the
 * mailbox back, in lockstep with the parent that keeps the record. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bulletin.h"
#include "bulletin_private.h"
#include "fileio.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "mailbox.h"
#include "privs.h"
#include "session.h"
#include "xalloc.h"

#ifdef AUTH_GDBM

/* How long the parent waits for each answer of the writer child beyond
 * the child's wait for the mailbox lock: time to append at most
 * BULLETIN_MAX_SIZE bytes and sync them. The child waits as long for the
 * parent, which may wait a few seconds for the record. */
#define BULLETIN_CHILD_WAIT_MS  20000

/* Longest line of the parent/child dialogue (a command or an error). */
#define BULLETIN_LINE_MAX       1024

/* ---- the parent/child dialogue ------------------------------------------ */

static int send_line(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int send_line(int fd, const char *fmt, ...)
{
    char buf[BULLETIN_LINE_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    /* One small write on a pipe is atomic. */
    while (write(fd, buf, (size_t)n) != n) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

/* One line from FD into BUF (without its LF), waiting at most WAIT_MS.
 * The dialogue is lockstep, so nothing follows the line. 0, or -1 on
 * EOF, error or time-out (BUF then says which). */
static int recv_line(int fd, char *buf, size_t size, int wait_ms)
{
    int64_t deadline = bulletin_now_ms() + wait_ms;
    size_t got = 0;

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int64_t left = deadline - bulletin_now_ms();
        char *nl;
        ssize_t n;

        if (left <= 0) {
            snprintf(buf, size, "no answer within %d seconds", wait_ms / 1000);
            return -1;
        }
        if (poll(&pfd, 1, (int)left) < 0) {
            if (errno == EINTR)
                continue;
            snprintf(buf, size, "poll: %s", strerror(errno));
            return -1;
        }
        if (!pfd.revents)
            continue;
        n = read(fd, buf + got, size - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(buf, size, "%s", n == 0 ? "it ended without an answer"
                     : strerror(errno));
            return -1;
        }
        got += (size_t)n;
        buf[got] = '\0';
        nl = memchr(buf, '\n', got);
        if (nl) {
            *nl = '\0';
            return 0;
        }
        if (got == size - 1) {
            snprintf(buf, size, "answer too long");
            return -1;
        }
    }
}

/* ---- the writer child (runs as the user) -------------------------------- */

struct mbox_target {
    char *path;
    int fd;
    bool created;
    struct mbox_lock lock;
};

/* Open (or create, 0600, as an MDA would) and lock the user's mailbox and
 * finish any commit a session left half done. 0, or -1 with *ERROR_R. */
static int target_open(struct job *j, struct mbox_target *t, char **error_r)
{
    struct mailbox_options opts = {
        .dotlock = !cfg_bool(j->cfg, CFG_MAILSPOOL_NO_DOTFILE_LOCKING),
        .lock_wait_ms = j->lock_wait_ms,
        .owner = j->res->uid,
        .durable = true,
    };
    const char *err = NULL;
    char *spec, *notice = NULL;
    struct stat st;

    spec = session_choose_mailbox(j->cfg, j->res, j->clienthost, j->serverhost,
                                  &err);
    if (!spec) {
        *error_r = xasprintf("mailbox location: %s", err ? err : "none");
        return -1;
    }
    if (spec[0] == '/')
        t->path = xstrdup(spec);
    else if (strncmp(spec, "bsd:", 4) == 0)
        t->path = xstrdup(spec + 4);
    else {
        *error_r = xasprintf("mailbox %s: bulletins can only be appended to "
                             "bsd mailboxes (use bulletin-delivery: sendmail)",
                             spec);
        free(spec);
        return -1;
    }
    free(spec);
    if (!mailbox_path_is_clean(t->path)) {
        *error_r = xasprintf("mailbox path \"%s\" is not an absolute path "
                             "without . or .. components", t->path);
        return -1;
    }
    for (int tries = 0; ; tries++) {
        t->fd = open(t->path, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (t->fd >= 0 || errno != ENOENT || tries == 2)
            break;
        t->fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW
                     | O_NOCTTY | O_CLOEXEC, 0600);
        if (t->fd >= 0) {
            t->created = true;
            break;
        }
        if (errno != EEXIST)
            break;
    }
    if (t->fd < 0) {
        *error_r = xasprintf("%s: %s%s", t->path, strerror(errno),
                             errno == ELOOP ? " (symbolic links are refused)" : "");
        return -1;
    }
    if (fstat(t->fd, &st) < 0 || !S_ISREG(st.st_mode)
        || st.st_uid != j->res->uid) {
        *error_r = xasprintf("%s: not a regular file owned by uid %lu",
                             t->path, (unsigned long)j->res->uid);
        return -1;
    }
    if (mbox_lock(&t->lock, t->fd, t->path, &opts, &notice, error_r)
        != MAILBOX_OK) {
        free(notice);
        return -1;
    }
    free(notice);
    if (journal_recover(t->path, t->fd, true, &notice, error_r) < 0)
        return -1;
    free(notice);
    return 0;
}

/* Whether the mailbox holds the copy with ID: 1 yes, 0 no, -1 error. */
static int target_find(struct mbox_target *t, const char *name,
                       const char *id, char **error_r)
{
    char *needle = xasprintf("\n%s: %s <%s>\n", BULLETIN_HEADER, name, id);
    struct stat st;
    void *map;
    int r = 0;

    if (fstat(t->fd, &st) < 0) {
        *error_r = xasprintf("%s: %s", t->path, strerror(errno));
        free(needle);
        return -1;
    }
    if (st.st_size > 0) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, t->fd, 0);
        if (map == MAP_FAILED) {
            *error_r = xasprintf("%s: mmap: %s", t->path, strerror(errno));
            free(needle);
            return -1;
        }
        r = memmem(map, (size_t)st.st_size, needle, strlen(needle)) != NULL;
        munmap(map, (size_t)st.st_size);
    }
    free(needle);
    return r;
}

/* Append TEXT, an mbox message, and sync it; on any failure cut the file
 * back to its size before, so no partial message is ever left. */
static int target_append(struct mbox_target *t, const struct strbuf *text,
                         char **error_r)
{
    struct stat st;
    char tail[2];
    const char *sep = "";
    int err;

    if (fstat(t->fd, &st) < 0) {
        *error_r = xasprintf("%s: %s", t->path, strerror(errno));
        return -1;
    }
    /* A From_ line separates only after a blank line. */
    if (st.st_size == 1)
        sep = "\n";
    if (st.st_size >= 2) {
        if (pread(t->fd, tail, 2, st.st_size - 2) != 2) {
            *error_r = xasprintf("%s: read: %s", t->path, strerror(errno));
            return -1;
        }
        sep = tail[1] != '\n' ? "\n\n" : tail[0] != '\n' ? "\n" : "";
    }
    if (pwrite_full(t->fd, sep, strlen(sep), st.st_size) < 0
        || pwrite_full(t->fd, text->buf, text->len,
                     st.st_size + (off_t)strlen(sep)) < 0
        || fsync(t->fd) < 0)
        goto fail;
    /* A new file's name must survive a crash as well. */
    if (t->created)
        fsync_parent_dir(t->path);
    return 0;

fail:
    err = errno;
    if (ftruncate(t->fd, st.st_size) < 0 || fsync(t->fd) < 0)
        *error_r = xasprintf("%s: append failed (%s) and cutting it back to "
                             "%lld bytes failed too (%s): the mailbox may end "
                             "in a partial message", t->path, strerror(err),
                             (long long)st.st_size, strerror(errno));
    else
        *error_r = xasprintf("%s: append failed: %s (mailbox left as it was)",
                             t->path, strerror(err));
    return -1;
}

/* The writer child: become the user, lock the mailbox, then do what the
 * parent says. Never returns. */
static void __attribute__((noreturn))
writer_child(struct job *j, const struct bulletin *b, const struct strbuf *text,
             int cmd, int rep)
{
    struct mbox_target t = { .fd = -1, .lock = { .fd = -1 } };
    const char *perr;
    char *err = NULL;
    char line[BULLETIN_LINE_MAX];

    /* Out of the session's process group: a group signal that stops the
     * onlogin actions must not cut an append short. The parent's death
     * ends the dialogue instead. */
    setpgid(0, 0);
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (privs_drop(j->res->uid, j->res->gid, &perr) < 0) {
        send_line(rep, "E %s", perr);
        _exit(1);
    }
    if (target_open(j, &t, &err) < 0) {
        mbox_unlock(&t.lock);
        send_line(rep, "E %s", err);
        _exit(1);
    }
    bulletin_step(BULLETIN_STEP_LOCKED, b->name);
    send_line(rep, "L");
    for (;;) {
        if (recv_line(cmd, line, sizeof line, BULLETIN_CHILD_WAIT_MS) < 0
            || strcmp(line, "S") == 0)
            break;
        if (strncmp(line, "F ", 2) == 0) {
            int r = target_find(&t, b->name, line + 2, &err);

            if (r < 0)
                send_line(rep, "E %s", err);
            else
                send_line(rep, "%s", r ? "Y" : "N");
            if (r < 0)
                break;
        } else if (strcmp(line, "A") == 0) {
            if (target_append(&t, text, &err) < 0) {
                send_line(rep, "E %s", err);
                break;
            }
            bulletin_step(BULLETIN_STEP_WRITTEN, b->name);
            send_line(rep, "O");
            break;
        } else {
            break;
        }
    }
    mbox_unlock(&t.lock);
    _exit(0);
}

/* The child ends by itself once its dialogue pipe is closed: never killed,
 * so that an append it has started is finished or cut back. */
static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Deliver B into the user's mailbox. 0 (delivered or already there), or
 * -1 with *ERROR_R. */
int bulletin_deliver_mailbox(struct job *j, const struct bulletin *b,
                             char **error_r)
{
    struct bulletin_record rec;
    struct strbuf text;
    char line[BULLETIN_LINE_MAX];
    int cmd[2], rep[2], r = -1;
    const char *use_id = b->id;
    sigset_t oldmask;
    bool held = false;
    pid_t pid;

    strbuf_init(&text, 2 * BULLETIN_MAX_SIZE + 1024);
    if (bulletin_frame(b->name, b->id, b->data, b->len, time(NULL), true,
                       &text) < 0) {
        *error_r = xstrdup("bulletin too large once framed");
        strbuf_free(&text);
        return -1;
    }
    if (pipe2(cmd, O_CLOEXEC) < 0) {
        *error_r = xasprintf("pipe: %s", strerror(errno));
        strbuf_free(&text);
        return -1;
    }
    if (pipe2(rep, O_CLOEXEC) < 0) {
        *error_r = xasprintf("pipe: %s", strerror(errno));
        close(cmd[0]);
        close(cmd[1]);
        strbuf_free(&text);
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        close(cmd[1]);
        close(rep[0]);
        writer_child(j, b, &text, cmd[0], rep[1]);
    }
    close(cmd[0]);
    close(rep[1]);
    if (pid < 0) {
        *error_r = xasprintf("fork: %s", strerror(errno));
        goto out;
    }

    /* The child holds the mailbox lock from here until it exits (when we
     * close its pipe, or after an append), so no other login of this user
     * can come between our look at the record and the append. */
    if (recv_line(rep[0], line, sizeof line,
                  (int)j->lock_wait_ms + BULLETIN_CHILD_WAIT_MS) < 0
        || line[0] != 'L') {
        *error_r = xasprintf("mailbox writer: %s",
                             line[0] == 'E' ? line + 2 : line);
        goto out;
    }
    if (bulletin_db_read(j, b->name, true, &rec, error_r) < 0)
        goto out;
    if (rec.state == BULLETIN_DELIVERED || rec.state == BULLETIN_UNKNOWN) {
        send_line(cmd[1], "S");
        r = 0;
        goto out;
    }
    if (rec.state == BULLETIN_PENDING) {
        /* An earlier delivery stopped between append and record: the
         * copy it made, if any, carries the ID it recorded. */
        send_line(cmd[1], "F %s", rec.id);
        if (recv_line(rep[0], line, sizeof line, BULLETIN_CHILD_WAIT_MS) < 0
            || (line[0] != 'Y' && line[0] != 'N')) {
            *error_r = xasprintf("mailbox writer: %s",
                                 line[0] == 'E' ? line + 2 : line);
            goto out;
        }
        if (line[0] == 'Y') {
            use_id = rec.id;
            log_info("user %s: bulletin %s was already in the mailbox "
                     "(interrupted delivery)", j->who, b->name);
            goto record;
        }
    }
    /* From the pending record to the delivered one, a SIGTERM waits:
     * the one window where a stop would leave work for the next login. */
    bulletin_hold_stops(&oldmask);
    held = true;
    if (bulletin_db_put(j, b->name, BULLETIN_PENDING, b->id, false,
                        error_r) < 0)
        goto out;
    bulletin_step(BULLETIN_STEP_PENDING, b->name);
    send_line(cmd[1], "A");
    if (recv_line(rep[0], line, sizeof line, BULLETIN_CHILD_WAIT_MS) < 0
        || line[0] != 'O') {
        *error_r = xasprintf("mailbox writer: %s",
                             line[0] == 'E' ? line + 2 : line);
        goto out;
    }
    bulletin_step(BULLETIN_STEP_APPENDED, b->name);
    log_info("user %s: bulletin %s delivered", j->who, b->name);
record:
    if (bulletin_db_put(j, b->name, BULLETIN_DELIVERED, use_id, false,
                        error_r) < 0)
        goto out;
    bulletin_step(BULLETIN_STEP_RECORDED, b->name);
    r = 0;
out:
    close(cmd[1]);
    close(rep[0]);
    if (pid > 0)
        reap(pid);
    if (held)
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
    strbuf_free(&text);
    return r;
}

#endif /* AUTH_GDBM */
