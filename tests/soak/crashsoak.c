/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crashsoak.c: commits of the bsd driver on a mailbox of about 100 MB,
 * killed with SIGKILL at random moments, each followed by the next open's
 * recovery and a check (crashsoak_check.c) that every message is there
 * exactly once, whole and in order. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "crashsoak.h"
#include "journal.h"
#include "log.h"
#include "mailbox.h"
#include "strbuf.h"
#include "xalloc.h"

/* Most messages are 2-20 KB, like ordinary mail; one in SOAK_BIG_ODDS is
 * 1-5 MB, an attachment, so that some move steps are whole megabytes. */
#define SOAK_SMALL_MIN  (2 * 1024)
#define SOAK_SMALL_SPAN (18 * 1024)
#define SOAK_BIG_MIN    (1024 * 1024)
#define SOAK_BIG_SPAN   (4 * 1024 * 1024)
#define SOAK_BIG_ODDS   800
/* A message is built up to its target plus at most one line. */
#define SOAK_MSG_MAX    (SOAK_BIG_MIN + SOAK_BIG_SPAN + 4096)

/* One trial in SOAK_LATE_ODDS has mail delivered between the kill and the
 * recovery; in one in SOAK_TWICE_ODDS of those that leave a started
 * journal, the session that recovers is killed as well. */
#define SOAK_LATE_ODDS  4
#define SOAK_TWICE_ODDS 6

/* Unkilled commits timed before the trials: half moving nearly the whole
 * file, half moving one message. */
#define SOAK_CALIBRATIONS 6
/* Kills land uniformly in [0, this % of the predicted commit time]: a
 * little past the prediction, so that the last steps get hit too. */
#define SOAK_KILL_SPAN_PCT 120

/* Defaults: a run of about a minute on two cores. */
#define SOAK_DEFAULT_TRIALS  200
#define SOAK_DEFAULT_SIZE_MB 100
#define SOAK_DEFAULT_SEED    20240206
#define SOAK_DEFAULT_SECONDS 110

/* ---- small tools ---------------------------------------------------- */

static uint64_t rng_state;

static void rnd_seed(uint64_t seed)
{
    /* splitmix64, so that neighbouring seeds give unrelated streams and
     * seed 0 is not the stuck state of xorshift. */
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    rng_state = (z ^ (z >> 31)) | 1;
}

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void sleep_us(uint64_t us)
{
    struct timespec ts = { .tv_sec = (time_t)(us / 1000000),
                           .tv_nsec = (long)(us % 1000000) * 1000 };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void die(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("crashsoak: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Digits only, no sign or space, no overflow, within [MIN, MAX]. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max,
                      uint64_t *v_r)
{
    uint64_t v = 0;

    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9'
            || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v < min || v > max)
        return false;
    *v_r = v;
    return true;
}

/* ---- the pristine mailbox ------------------------------------------- */

/* Body text: no upper case, so that no generated line can start "From ";
 * the lines that do look like one are written ">From " on purpose. */
static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789"
                               "      ,.-;:'()!?/=+";
#define TEXT_LEN (64 * 1024)
#define LINE_MAX_LEN 76

static void append_body_line(struct strbuf *sb, const char *text)
{
    uint64_t r = rnd();
    size_t len = (size_t)(r >> 8) % (LINE_MAX_LEN + 1);
    const char *p = text + (r >> 24) % (TEXT_LEN - LINE_MAX_LEN);

    switch (r % 64) {
    case 0:
        strbuf_appends(sb, ">From ");
        break;
    case 1:
        strbuf_appendc(sb, '.');
        break;
    case 2:
        len = 0;            /* a blank line inside the body */
        break;
    default:
        break;
    }
    strbuf_append(sb, p, len);
    strbuf_appendc(sb, '\n');
}

/* Message NUM (marker KIND-NUM) of about TARGET bytes into SB: From_ line,
 * headers, body, and the blank line that separates it from the next. */
static void build_message(struct strbuf *sb, const char *text,
                          const char *kind, uint32_t num, size_t target)
{
    strbuf_reset(sb);
    strbuf_appendf(sb, "From %s-%07u@crashsoak.invalid Tue Feb  6 10:00:00 "
                   "2024\n", kind, num);
    strbuf_appendf(sb, "Return-Path: <sender%u@crashsoak.invalid>\n"
                   "From: Sender %u <sender%u@crashsoak.invalid>\n"
                   "To: user@crashsoak.invalid\n"
                   "Subject: message %s-%07u\n"
                   "Message-ID: <%s-%07u.%016llx@crashsoak.invalid>\n"
                   "X-Soak-Marker: %s-%07u\n\n", num % 997, num % 997,
                   num % 997, kind, num, kind, num,
                   (unsigned long long)rnd(), kind, num);
    while (sb->len < target)
        append_body_line(sb, text);
    strbuf_appendc(sb, '\n');
}

/* Write the pristine mailbox of at least SIZE bytes (and at least three
 * messages) and remember each message's place and hash. */
static void generate(struct soak *s, uint64_t size, char *text)
{
    struct strbuf sb;
    size_t cap = 0;
    int fd;

    for (size_t i = 0; i < TEXT_LEN; i++)
        text[i] = alphabet[rnd_below(sizeof alphabet - 1)];
    fd = open(s->pristine, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        die("%s: %s", s->pristine, strerror(errno));
    strbuf_init(&sb, SOAK_MSG_MAX);
    s->size = 0;
    s->count = 0;
    while (s->size < size || s->count < 3) {
        bool big = rnd_below(SOAK_BIG_ODDS) == 0;
        size_t target = big ? SOAK_BIG_MIN + rnd_below(SOAK_BIG_SPAN)
                            : SOAK_SMALL_MIN + rnd_below(SOAK_SMALL_SPAN);

        if (s->count == cap) {
            cap = cap ? cap * 2 : 4096;
            s->msgs = xreallocarray(s->msgs, cap, sizeof *s->msgs);
        }
        build_message(&sb, text, "soak", (uint32_t)s->count, target);
        s->msgs[s->count].off = s->size;
        s->msgs[s->count].len = sb.len;
        s->msgs[s->count].hash = soak_hash(sb.buf, sb.len);
        if (write_all(fd, sb.buf, sb.len) < 0)
            die("%s: %s", s->pristine, strerror(errno));
        s->size += sb.len;
        s->big += big;
        s->count++;
    }
    if (close(fd) < 0)
        die("%s: %s", s->pristine, strerror(errno));
    strbuf_free(&sb);
}

/* A fresh work file (new inode) holding the pristine mailbox. */
static void copy_pristine(const struct soak *s)
{
    uint64_t left = s->size;
    int in, out;

    if (unlink(s->work) < 0 && errno != ENOENT)
        die("%s: %s", s->work, strerror(errno));
    in = open(s->pristine, O_RDONLY | O_CLOEXEC);
    out = open(s->work, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               0600);
    if (in < 0 || out < 0)
        die("copying %s: %s", s->pristine, strerror(errno));
    while (left > 0) {
        ssize_t r = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && left == s->size
            && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP
                || errno == EINVAL))
            break;
        if (r <= 0)
            die("copying %s: %s", s->pristine,
                r < 0 ? strerror(errno) : "unexpected end of file");
        left -= (uint64_t)r;
    }
    if (left > 0) {
        /* No copy_file_range here: through a buffer. */
        char *buf = xmalloc(1024 * 1024);

        while (left > 0) {
            ssize_t r = read(in, buf, 1024 * 1024);

            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0 || write_all(out, buf, (size_t)r) < 0)
                die("copying %s: %s", s->pristine,
                    r < 0 ? strerror(errno) : "short copy");
            left -= (uint64_t)r;
        }
        free(buf);
    }
    close(in);
    if (close(out) < 0)
        die("%s: %s", s->work, strerror(errno));
}

/* ---- one trial ------------------------------------------------------ */

/* Mark what a trial deletes: sometimes one message, the first or the
 * last, sometimes many scattered or in a run, all but one, or all.
 * Returns the bytes the commit moves (kept bytes past the first hole). */
static uint64_t choose_deletions(const struct soak *s, bool *del)
{
    size_t n = s->count, first;
    unsigned kind = (unsigned)rnd_below(100);
    uint64_t moved = 0;
    bool any = false;

    memset(del, 0, n * sizeof *del);
    if (kind < 24) {
        del[rnd_below(n)] = true;
    } else if (kind < 34) {
        del[0] = true;
    } else if (kind < 40) {
        del[n - 1] = true;
    } else if (kind < 72) {
        unsigned pct = 1 + (unsigned)rnd_below(60);

        for (size_t i = 0; i < n; i++)
            del[i] = rnd_below(100) < pct;
    } else if (kind < 84) {
        size_t len = 1 + rnd_below(n / 4 + 1), at = rnd_below(n);

        for (size_t i = at; i < n && i < at + len; i++)
            del[i] = true;
    } else if (kind < 98) {
        for (size_t i = 0; i < n; i++)
            del[i] = true;
        del[rnd_below(n)] = false;
    } else {
        for (size_t i = 0; i < n; i++)
            del[i] = true;
    }
    for (size_t i = 0; i < n; i++)
        any |= del[i];
    if (!any)
        del[rnd_below(n)] = true;
    for (first = 0; !del[first]; first++)
        ;
    for (size_t i = first; i < n; i++)
        if (!del[i])
            moved += s->msgs[i].len;
    return moved;
}

static void make_late(struct late *l, const char *text, uint32_t num)
{
    struct strbuf sb;

    strbuf_init(&sb, SOAK_MSG_MAX);
    build_message(&sb, text, "late", num, 200 + rnd_below(8000));
    l->num = num;
    l->len = sb.len;
    l->hash = soak_hash(sb.buf, sb.len);
    l->text = strbuf_detach(&sb);
}

/* Deliver L as an MDA would: appended under an fcntl lock. The file must
 * end with the blank line after its last message, whatever the kill left. */
static int deliver(const struct soak *s, const struct late *l,
                   const char **why_r)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    struct stat sb;
    char tail[2];
    int fd, ret = -1;

    fd = open(s->work, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        die("%s: %s", s->work, strerror(errno));
    while (fcntl(fd, F_SETLKW, &fl) < 0)
        if (errno != EINTR)
            die("%s: fcntl: %s", s->work, strerror(errno));
    if (fstat(fd, &sb) < 0)
        die("%s: %s", s->work, strerror(errno));
    if (sb.st_size > 0
        && (sb.st_size < 2 || pread(fd, tail, 2, sb.st_size - 2) != 2
            || tail[0] != '\n' || tail[1] != '\n')) {
        *why_r = "after the kill the file did not end with a blank line";
        goto out;
    }
    if (write_all(fd, l->text, (size_t)l->len) < 0)
        die("%s: %s", s->work, strerror(errno));
    ret = 0;
out:
    close(fd);
    return ret;
}

/* The journal's state now: 0 when there is none; a journal that cannot be
 * decoded counts as JOURNAL_PREPARING (cut short while being written).
 * *LEFT_R gets the bytes of the plan not yet moved. */
static uint64_t journal_state_now(const struct soak *s, uint64_t *left_r)
{
    struct journal_plan plan;
    struct journal_info info;
    const char *why;
    uint64_t st = JOURNAL_PREPARING;
    struct stat sb;
    char *buf;
    int fd;

    *left_r = 0;
    fd = open(s->journal, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        die("%s: %s", s->journal, strerror(errno));
    }
    if (fstat(fd, &sb) < 0)
        die("%s: %s", s->journal, strerror(errno));
    buf = xmalloc((size_t)sb.st_size + 1);
    if (pread(fd, buf, (size_t)sb.st_size, 0) == sb.st_size
        && journal_decode(buf, (size_t)sb.st_size, &plan, &info, &why) == 0) {
        st = info.state;
        *left_r = plan.final_size - plan.ranges[0].dst - info.done;
        journal_plan_free(&plan);
    }
    free(buf);
    close(fd);
    return st;
}

/* The child's life: open (and lock) the work mailbox, mark DEL, say so on
 * READY, commit. Exit codes above 0 say where it failed. */
static void child_commit(const struct soak *s, const bool *del, int ready)
    __attribute__((noreturn));

static void child_commit(const struct soak *s, const bool *del, int ready)
{
    struct mailbox *mb = NULL;
    char *err = NULL;
    uint64_t t0;

    if (mailbox_open(s->work, &s->opts, &mb, &err) != MAILBOX_OK) {
        fprintf(stderr, "crashsoak: commit child: %s\n", err ? err : "?");
        _exit(3);
    }
    if (mb->count != s->count) {
        fprintf(stderr, "crashsoak: commit child: %zu messages, want %zu\n",
                mb->count, s->count);
        _exit(4);
    }
    for (size_t i = 0; i < mb->count; i++)
        mb->msgs[i].deleted = del[i];
    if (write(ready, "r", 1) != 1)
        _exit(5);
    t0 = now_us();
    if (mb->drv->commit(mb, &err) != 0) {
        fprintf(stderr, "crashsoak: commit child: %s\n", err ? err : "?");
        _exit(6);
    }
    s->sh->commit_us = now_us() - t0;
    s->sh->committed = 1;
    mailbox_close(&mb);
    _exit(0);
}

/* Reap PID; remove the dotlock a kill leaves (the driver would wait out
 * its grace period, and we know its holder is dead). True when it was
 * killed; *STATUS_R gets the exit status otherwise. */
static bool reap(const struct soak *s, pid_t pid, int *status_r)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
        if (unlink(s->dotlock) < 0 && errno != ENOENT)
            die("%s: %s", s->dotlock, strerror(errno));
        return true;
    }
    *status_r = WIFEXITED(status) ? WEXITSTATUS(status)
                                  : 128 + WTERMSIG(status);
    return false;
}
/* Fork a child with a pipe in READY through which it says when it is
 * about to do what is to be killed. */
static pid_t fork_ready(int ready[2])
{
    pid_t pid;

    if (pipe2(ready, O_CLOEXEC) < 0)
        die("pipe: %s", strerror(errno));
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    return pid;
}

/* One trial, numbered T: copy, commit in a child killed after KILL_US
 * (never when negative), deliver LATE if given, recover, verify. */
static void run_trial(struct soak *s, unsigned t, const bool *del,
                      int64_t kill_us, const struct late *late,
                      bool kill_recovery, uint64_t *commit_us_r)
{
    bool killed, in_commit;
    struct mailbox *mb = NULL;
    char *err = NULL, c;
    const char *why;
    uint64_t jstate, left;
    size_t nseen = 0;
    int ready[2], status = 0;
    pid_t pid;

    if ((unlink(s->journal) < 0 && errno != ENOENT)
        || (unlink(s->dotlock) < 0 && errno != ENOENT))
        die("cleaning up: %s", strerror(errno));
    copy_pristine(s);
    s->sh->committed = 0;
    s->sh->commit_us = UINT64_MAX;
    pid = fork_ready(ready);
    if (pid == 0) {
        close(ready[0]);
        child_commit(s, del, ready[1]);
    }
    close(ready[1]);
    if (read(ready[0], &c, 1) != 1) {
        close(ready[0]);
        (void)reap(s, pid, &status);
        lose(s, t, "the child failed before its commit (status %d)", status);
        return;
    }
    close(ready[0]);
    if (kill_us >= 0) {
        sleep_us((uint64_t)kill_us);
        kill(pid, SIGKILL);
    }
    killed = reap(s, pid, &status);
    *commit_us_r = s->sh->commit_us;
    in_commit = killed && !s->sh->committed;
    s->killed += in_commit;
    s->late_kills += killed && !in_commit;
    if (!killed && status != 0) {
        lose(s, t, "the commit failed (child status %d)", status);
        return;
    }
    if (!killed && access(s->dotlock, F_OK) == 0) {
        lose(s, t, "a commit that finished left its dotlock");
        return;
    }

    jstate = journal_state_now(s, &left);
    if (late) {
        if (deliver(s, late, &why) < 0) {
            lose(s, t, "%s", why);
            return;
        }
        s->late++;
    }
    if (kill_recovery && jstate >= JOURNAL_MOVING) {
        /* The next session dies too, while it finishes the commit. */
        s->twice_tried++;
        pid = fork_ready(ready);
        if (pid == 0) {
            close(ready[0]);
            if (write(ready[1], "r", 1) != 1)
                _exit(5);
            if (mailbox_open(s->work, &s->opts, &mb, &err) != MAILBOX_OK) {
                fprintf(stderr, "crashsoak: recovery child: %s\n",
                        err ? err : "?");
                _exit(3);
            }
            mailbox_close(&mb);
            _exit(0);
        }
        close(ready[1]);
        if (read(ready[0], &c, 1) == 1)
            sleep_us(rnd_below((uint64_t)((s->fixed_us + s->us_per_byte
                                           * (double)left)
                                          * SOAK_KILL_SPAN_PCT / 100) + 1));
        close(ready[0]);
        kill(pid, SIGKILL);
        if (reap(s, pid, &status)) {
            s->twice_killed++;
            s->twice += access(s->journal, F_OK) == 0;
        } else if (status != 0) {
            lose(s, t, "recovery failed (child status %d)", status);
            return;
        }
    }

    /* The next session: its open finishes or discards the journal. */
    if (mailbox_open(s->work, &s->opts, &mb, &err) != MAILBOX_OK) {
        lose(s, t, "the mailbox does not open after the kill: %s",
             err ? err : "?");
        free(err);
        return;
    }
    nseen = mb->count;
    mailbox_close(&mb);
    if (access(s->journal, F_OK) == 0 || access(s->dotlock, F_OK) == 0) {
        lose(s, t, "the journal or the dotlock is still there after the "
             "open and close");
        return;
    }
    check_recovered(s, t, del, late, nseen, killed, jstate);
}

/* ---- the run -------------------------------------------------------- */

/* Where the work files go: tmpfs when it has room (a kill only involves
 * the page cache, so the file system does not change what is tested, and
 * 40 GB of writes per run would otherwise go to a disk), else TMPDIR. */
static char *pick_dir(uint64_t size)
{
    const char *tmp = getenv("TMPDIR");
    struct statvfs vf;

    if (statvfs("/dev/shm", &vf) == 0 && access("/dev/shm", W_OK) == 0
        && (uint64_t)vf.f_bavail * vf.f_frsize > 3 * size)
        return xstrdup("/dev/shm");
    return xstrdup(tmp && *tmp == '/' ? tmp : "/tmp");
}

static void cleanup(const struct soak *s)
{
    unlink(s->work);
    unlink(s->journal);
    unlink(s->dotlock);
    unlink(s->pristine);
    if (!s->evidence)
        rmdir(s->dir);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: crashsoak [--trials N] [--size MB] [--seed S] "
            "[--max-seconds T] [--dir DIR]\n"
            "Kills commits of the bsd mailbox driver at random moments and "
            "checks that the\nnext open leaves every message exactly once "
            "(defaults: %d trials, %d MB,\nseed %d, %d s).\n",
            SOAK_DEFAULT_TRIALS, SOAK_DEFAULT_SIZE_MB, SOAK_DEFAULT_SEED,
            SOAK_DEFAULT_SECONDS);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "trials", required_argument, NULL, 't' },
        { "size", required_argument, NULL, 's' },
        { "seed", required_argument, NULL, 'r' },
        { "max-seconds", required_argument, NULL, 'm' },
        { "dir", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t trials = SOAK_DEFAULT_TRIALS, size_mb = SOAK_DEFAULT_SIZE_MB;
    uint64_t seed = SOAK_DEFAULT_SEED, max_seconds = SOAK_DEFAULT_SECONDS;
    const char *base_dir = NULL;
    struct soak s = { 0 };
    uint64_t commit_us;
    uint64_t cal[2] = { UINT64_MAX, UINT64_MAX }, cal_bytes[2] = { 0, 0 };
    bool stopped = false, measured, *del;
    char *text, *base;
    unsigned t;
    int opt;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        bool ok = true;

        switch (opt) {
        case 't':
            ok = parse_u64(optarg, 1, 1000000, &trials);
            break;
        case 's':
            ok = parse_u64(optarg, 1, 4096, &size_mb);
            break;
        case 'r':
            ok = parse_u64(optarg, 0, UINT64_MAX, &seed);
            break;
        case 'm':
            ok = parse_u64(optarg, 1, 86400, &max_seconds);
            break;
        case 'd':
            base_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (!ok)
            die("--%s: not a number in range: \"%s\"",
                opt == 't' ? "trials" : opt == 's' ? "size" : opt == 'r'
                ? "seed" : "max-seconds", optarg);
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    s.t_start = now_us();
    rnd_seed(seed);
    /* Kill delays of tens of microseconds must not be rounded up to the
     * default 50 us timer slack. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    log_init("crashsoak", LOG_USER, false);
    base = base_dir ? realpath(base_dir, NULL) : pick_dir(size_mb << 20);
    if (!base)
        die("%s: %s", base_dir, strerror(errno));
    s.dir = xasprintf("%s/crashsoak.XXXXXX", base);
    free(base);
    if (!mkdtemp(s.dir))
        die("mkdtemp %s: %s", s.dir, strerror(errno));
    s.pristine = xasprintf("%s/pristine", s.dir);
    s.work = xasprintf("%s/mbox", s.dir);
    s.journal = xasprintf("%s/mbox" JOURNAL_SUFFIX, s.dir);
    s.dotlock = xasprintf("%s/mbox.lock", s.dir);
    s.opts = (struct mailbox_options){
        .dotlock = true, .lock_wait_ms = 0, .owner = getuid(),
    };
    s.sh = mmap(NULL, sizeof *s.sh, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s.sh == MAP_FAILED)
        die("mmap: %s", strerror(errno));

    text = xmalloc(TEXT_LEN);
    generate(&s, size_mb << 20, text);
    del = xcalloc(s.count, sizeof *del);
    printf("crashsoak: %zu messages, %.1f MB (%zu of 1 MB or more) in %s, "
           "seed %llu\n", s.count, (double)s.size / (1 << 20), s.big, s.dir,
           (unsigned long long)seed);

    /* How long a commit takes: unkilled, moving nearly everything (the
     * first message deleted) or one message (the one before the last). */
    for (int k = 0; k < SOAK_CALIBRATIONS; k++) {
        int which = k % 2;
        size_t d = which ? s.count - 2 : 0;

        memset(del, 0, s.count * sizeof *del);
        del[d] = true;
        cal_bytes[which] = s.size - s.msgs[d].off - s.msgs[d].len;
        run_trial(&s, 0, del, -1, NULL, false, &commit_us);
        if (commit_us < cal[which])
            cal[which] = commit_us;
    }
    if (s.losses > 0) {
        printf("crashsoak: even unkilled commits fail; no trials run\n");
        trials = 0;
        cal[0] = cal[1] = 0;
    }
    s.us_per_byte = cal[0] > cal[1] && cal_bytes[0] > cal_bytes[1]
                    ? (double)(cal[0] - cal[1])
                      / (double)(cal_bytes[0] - cal_bytes[1])
                    : 1e-3;
    s.fixed_us = (double)cal[1] - s.us_per_byte * (double)cal_bytes[1];
    s.outcome_kept = s.outcome_original = 0;   /* trials only */
    if (s.fixed_us < 50)
        s.fixed_us = 50;
    printf("crashsoak: a commit takes about %.2f ms plus %.2f ms per MB "
           "moved (%.1f s so far)\n", s.fixed_us / 1000,
           s.us_per_byte * (1 << 20) / 1000,
           (double)(now_us() - s.t_start) / 1e6);

    for (t = 1; t <= trials; t++) {
        uint64_t moved, span;
        struct late late = { 0 };
        bool with_late, twice;

        if (now_us() - s.t_start >= max_seconds * 1000000) {
            stopped = true;
            break;
        }
        moved = choose_deletions(&s, del);
        span = (uint64_t)((s.fixed_us + s.us_per_byte * (double)moved)
                          * SOAK_KILL_SPAN_PCT / 100);
        with_late = rnd_below(SOAK_LATE_ODDS) == 0;
        twice = rnd_below(SOAK_TWICE_ODDS) == 0;
        if (with_late)
            make_late(&late, text, t);
        run_trial(&s, t, del, (int64_t)rnd_below(span + 1),
                  with_late ? &late : NULL, twice, &commit_us);
        free(late.text);
        s.trials++;
        if (t % 50 == 0 && t < trials)
            printf("crashsoak: %u trials, %u killed during commit, %u "
                   "recovered, %u losses (%.0f s)\n", s.trials, s.killed,
                   s.recovered, s.losses,
                   (double)(now_us() - s.t_start) / 1e6);
        fflush(stdout);
    }
    if (stopped)
        printf("crashsoak: stopped at the %llu s time bound after %u of "
               "%llu trials\n", (unsigned long long)max_seconds, s.trials,
               (unsigned long long)trials);
    printf("crashsoak: outcomes: %u kept, %u original; journals: %u "
           "finished, %u discarded before any move; %u killed after the "
           "commit returned; %u deliveries after a kill; %u of %u "
           "recovering sessions killed, %u of them before the journal was "
           "gone; %.1f s\n", s.outcome_kept,
           s.outcome_original, s.recovered, s.discarded, s.late_kills,
           s.late, s.twice_killed, s.twice_tried, s.twice,
           (double)(now_us() - s.t_start) / 1e6);
    cleanup(&s);
    if (s.evidence)
        printf("crashsoak: the failed trial's files are in %s\n", s.dir);
    measured = s.trials > 0 && 2 * s.killed >= s.trials;
    if (!measured)
        printf("crashsoak: fewer than half the kills landed during a commit: "
               "the soak measured nothing\n");
    printf("crashsoak: %u trials, %u killed during commit, %u recovered, "
           "%u losses\n", s.trials, s.killed, s.recovered, s.losses);
    free(del);
    free(text);
    free(s.msgs);
    free(s.dir);
    free(s.pristine);
    free(s.work);
    free(s.journal);
    free(s.dotlock);
    return s.losses == 0 && measured ? 0 : 1;
}
