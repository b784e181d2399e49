/* SPDX-License-Identifier: GPL-2.0-or-later */
/* journal.c: moving the kept parts of a mailbox down in place under a
 * journal, so that a commit killed at any instant is finished by the next
 * open instead of leaving torn or doubled messages. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#ifdef __linux__
#include <linux/magic.h>
#include <sys/vfs.h>
#endif
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "journal.h"
#include "journal_format.h"
#include "mailbox.h"
#include "xalloc.h"


void (*journal_step_hook)(enum journal_step step);

static void step(enum journal_step s)
{
    if (journal_step_hook)
        journal_step_hook(s);
}

/* A kill stops the process between two instructions, and every store made
 * before it is in the page cache, in order, and reaches the disk with the
 * rest; so the ordering that matters against kills is the compiler's and
 * the CPU's, which the release stores below give. Surviving a power cut
 * during the moves as well would need, at each point this is called, the
 * journal and the data written so far forced to disk (msync of both
 * mappings), and the steps batched, with the part of each batch's source
 * that the batch overwrites copied into the journal first, so that the
 * progress on disk never lags behind the data on disk. That mode goes
 * here; until then journal_recover() refuses journals from an earlier
 * boot, and the durable option only flushes the finished result. */
static void durable_sync(void)
{
}

/* One commit or recovery at work. */
struct engine {
    const char *path;               /* the mailbox, for messages */
    const char *jpath;
    int fd;                         /* the mailbox, locked */
    const struct journal_plan *plan;
    unsigned char marker[JOURNAL_MARKER_MAX];
    size_t marker_len;
    unsigned char *jmap;            /* the journal, mapped shared */
    size_t jlen;
    char *map;                      /* the mailbox, mapped shared writable */
    size_t maplen;
    uint64_t moved;                 /* bytes of the plan moved by this run */
    uint64_t tail_moved;            /* bytes past the plan moved by it */
    int unlink_errno;               /* removing the journal failed */
};

static uint64_t jget(const struct engine *e, size_t off)
{
    return le64toh(__atomic_load_n((uint64_t *)(void *)(e->jmap + off),
                                   __ATOMIC_ACQUIRE));
}

/* The release store keeps every earlier store, the moved data included,
 * before this one. */
static void jset(struct engine *e, size_t off, uint64_t v)
{
    __atomic_store_n((uint64_t *)(void *)(e->jmap + off), htole64(v),
                     __ATOMIC_RELEASE);
}

static int file_size(const struct engine *e, uint64_t *size_r, char **error_r)
{
    struct stat sb;

    if (fstat(e->fd, &sb) < 0) {
        *error_r = xasprintf("%s: fstat: %s", e->path, strerror(errno));
        return -1;
    }
    *size_r = (uint64_t)sb.st_size;
    return 0;
}

static void unmap_file(struct engine *e)
{
    if (e->map)
        munmap(e->map, e->maplen);
    e->map = NULL;
    e->maplen = 0;
}

static int map_file(struct engine *e, uint64_t size, char **error_r)
{
    void *m;

    if (e->map && e->maplen == size)
        return 0;
    unmap_file(e);
    if (size == 0)
        return 0;
    if (size > SIZE_MAX) {
        *error_r = xasprintf("%s: too large to map", e->path);
        return -1;
    }
    m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, e->fd, 0);
    if (m == MAP_FAILED) {
        *error_r = xasprintf("%s: mmap: %s", e->path, strerror(errno));
        return -1;
    }
    e->map = m;
    e->maplen = (size_t)size;
    return 0;
}

/* Every page the moves write to would fault once to become writable;
 * asking for them all at once is several times cheaper (where the kernel
 * can). They are the pages from the first destination up to the marker. */
static void prefault(struct engine *e, uint64_t gap)
{
#ifdef MADV_POPULATE_WRITE
    uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t from = e->plan->ranges[0].dst / pg * pg;
    uint64_t to = e->maplen - gap + e->marker_len;

    if (e->map && from < to)
        madvise(e->map + from, (size_t)(to - from), MADV_POPULATE_WRITE);
#else
    (void)e;
    (void)gap;
#endif
}

/* The plan's ranges, from the recorded progress on. Each step moves at
 * most the range's gap, so it never writes over its own source, and
 * its progress is recorded before the next step may overwrite that
 * source. */
static void move_ranges(struct engine *e)
{
    const struct journal_plan *p = e->plan;
    uint64_t done = jget(e, OFF_DONE), base = 0;

    for (size_t i = 0; i < p->count; i++) {
        const struct journal_range *r = &p->ranges[i];
        uint64_t off, chunk;

        if (done >= base + r->len) {
            base += r->len;
            continue;
        }
        off = done - base;
        chunk = min64(r->src - r->dst, JOURNAL_CHUNK_MAX);
        while (off < r->len) {
            uint64_t n = min64(chunk, r->len - off);

            memmove(e->map + r->dst + off, e->map + r->src + off, (size_t)n);
            off += n;
            done += n;
            e->moved += n;
            jset(e, OFF_DONE, done);
            step(JOURNAL_STEP_CHUNK);
        }
        base += r->len;
    }
}

/* Data past the plan (appended after a crash, or by a writer that ignores
 * locks) goes down by the same distance as the end of the plan. */
static void move_tail(struct engine *e, uint64_t gap)
{
    uint64_t src = jget(e, OFF_TAIL_SRC), done = jget(e, OFF_TAIL_DONE);
    uint64_t len = e->maplen - src, chunk = min64(gap, JOURNAL_CHUNK_MAX);

    while (done < len) {
        uint64_t n = min64(chunk, len - done);

        memmove(e->map + src - gap + done, e->map + src + done, (size_t)n);
        done += n;
        e->tail_moved += n;
        jset(e, OFF_TAIL_DONE, done);
        step(JOURNAL_STEP_CHUNK);
    }
}

/* Drive the journal from its current state to its removal. */
static int finish(struct engine *e, char **error_r)
{
    const struct journal_plan *p = e->plan;
    uint64_t gap = p->start_size - p->final_size;

    for (;;) {
        uint64_t size, state = jget(e, OFF_STATE);

        if (file_size(e, &size, error_r) < 0)
            return -1;
        switch (state) {
        case JOURNAL_MOVING: {
            uint64_t src = jget(e, OFF_TAIL_SRC);
            uint64_t tdone = jget(e, OFF_TAIL_DONE), again, end;

            if (size < src || size - src < tdone) {
                *error_r = xasprintf("%s: %llu bytes long, shorter than the "
                                     "journal requires", e->path,
                                     (unsigned long long)size);
                return -1;
            }
            if (map_file(e, size, error_r) < 0)
                return -1;
            prefault(e, gap);
            move_ranges(e);
            move_tail(e, gap);
            if (file_size(e, &again, error_r) < 0)
                return -1;
            if (again != size)
                continue;       /* grew meanwhile: move that too */
            end = size - gap;
            memcpy(e->map + end, e->marker, e->marker_len);
            jset(e, OFF_MOVED_END, end);
            step(JOURNAL_STEP_MARKED);
            durable_sync();
            jset(e, OFF_STATE, JOURNAL_MOVED);
            step(JOURNAL_STEP_MOVED);
            break;
        }
        case JOURNAL_MOVED: {
            /* Everything kept is in place below END. Beyond it lie either
             * the leftovers (not truncated yet: END + gap bytes, then any
             * mail delivered after a crash), or, truncated, only mail
             * delivered after a crash. Sizes alone cannot tell these
             * apart (a delivery can be longer than the gap); the marker
             * written at END before this state was recorded can:
             * delivered mail starts "From ", the marker with a NUL and
             * random bytes, and only the leftovers can hold it. Marker
             * there: move what lies past END + gap down to END (MOVING
             * again, journaled like the rest), then truncate to the data.
             * No marker: truncated already; everything past END stays. */
            uint64_t end = jget(e, OFF_MOVED_END);

            if (size < end) {
                *error_r = xasprintf("%s: %llu bytes long, shorter than the "
                                     "%llu bytes the journal says it holds",
                                     e->path, (unsigned long long)size,
                                     (unsigned long long)end);
                return -1;
            }
            if (size - end >= e->marker_len) {
                if (map_file(e, size, error_r) < 0)
                    return -1;
                if (memcmp(e->map + end, e->marker, e->marker_len) == 0) {
                    if (size - end < gap) {
                        *error_r = xasprintf("%s: cut short after the data "
                                             "was moved", e->path);
                        return -1;
                    }
                    if (size - end > gap) {
                        jset(e, OFF_TAIL_DONE, 0);
                        jset(e, OFF_TAIL_SRC, end + gap);
                        jset(e, OFF_STATE, JOURNAL_MOVING);
                        break;
                    }
                    unmap_file(e);
                    if (ftruncate(e->fd, (off_t)end) < 0) {
                        *error_r = xasprintf("%s: ftruncate: %s", e->path,
                                             strerror(errno));
                        return -1;
                    }
                    step(JOURNAL_STEP_TRUNCATED);
                }
            }
            durable_sync();
            jset(e, OFF_STATE, JOURNAL_DONE);
            step(JOURNAL_STEP_DONE);
            break;
        }
        case JOURNAL_DONE:
            unmap_file(e);
            /* A journal in state DONE left behind does no harm: the next
             * open removes it. */
            if (unlink(e->jpath) < 0 && errno != ENOENT)
                e->unlink_errno = errno;
            durable_sync();
            return 0;
        default:
            *error_r = xasprintf("%s: journal in an unknown state", e->jpath);
            return -1;
        }
    }
}

/* Recovery's check that the file looks as the journal says: every range
 * that started with a From_ line still does, at its destination as far as
 * it was moved and at its source beyond that. A journal applied to a file
 * rewritten since would fail this. */
static int check_layout(struct engine *e, char **error_r)
{
    const struct journal_plan *p = e->plan;
    uint64_t done = jget(e, OFF_DONE), base = 0;

    for (size_t i = 0; i < p->count; i++) {
        const struct journal_range *r = &p->ranges[i];
        uint64_t moved = done > base ? min64(done - base, r->len) : 0;

        base += r->len;
        if (!(r->flags & JOURNAL_RANGE_FROM))
            continue;
        for (uint64_t k = 0; k < 5; k++) {
            uint64_t at = k < moved ? r->dst + k : r->src + k;

            if (at >= e->maplen || e->map[at] != "From "[k]) {
                *error_r = xasprintf("%s: no From_ line where the journal "
                                     "expects one (offset %llu)", e->path,
                                     (unsigned long long)(k < moved ? r->dst
                                                                    : r->src));
                return -1;
            }
        }
    }
    return 0;
}

static int recover_run(struct engine *e, char **error_r)
{
    uint64_t size;

    /* Finished but for the journal's removal: nothing to look at. */
    if (jget(e, OFF_STATE) == JOURNAL_DONE)
        return finish(e, error_r);
    if (file_size(e, &size, error_r) < 0)
        return -1;
    if (jget(e, OFF_STATE) == JOURNAL_MOVING && size < e->plan->start_size) {
        *error_r = xasprintf("%s: %llu bytes long, shorter than the %llu "
                             "bytes it had when the commit started", e->path,
                             (unsigned long long)size,
                             (unsigned long long)e->plan->start_size);
        return -1;
    }
    if (map_file(e, size, error_r) < 0 || check_layout(e, error_r) < 0)
        return -1;
    return finish(e, error_r);
}

/* A mapped file can only report an I/O error, or a full disk on a
 * filesystem that allocates when a page is first written, by SIGBUS. While
 * data moves it is caught and turned into an error: the journal keeps the
 * progress, and the step in flight is simply done again later. */
static sigjmp_buf bus_env;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
    if (bus_armed) {
        bus_armed = 0;
        siglongjmp(bus_env, 1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_guarded(struct engine *e,
                       int (*fn)(struct engine *, char **), char **error_r)
{
    struct sigaction sa, old;
    int r;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &old) < 0) {
        *error_r = xasprintf("sigaction: %s", strerror(errno));
        return -1;
    }
    if (sigsetjmp(bus_env, 1) != 0) {
        sigaction(SIGBUS, &old, NULL);
        *error_r = xasprintf("%s: I/O error or no space left while moving "
                             "data (SIGBUS)", e->path);
        return -1;
    }
    bus_armed = 1;
    r = fn(e, error_r);
    bus_armed = 0;
    sigaction(SIGBUS, &old, NULL);
    return r;
}

static void engine_free(struct engine *e)
{
    unmap_file(e);
    if (e->jmap)
        munmap(e->jmap, e->jlen);
    e->jmap = NULL;
}

/* Linux gives every NFS mount its own device number, different on each
 * client and after each mount, so there only the inode identifies the
 * file (the layout check still applies). */
static bool dev_is_per_mount(int fd)
{
#ifdef __linux__
    struct statfs sfs;

    return fstatfs(fd, &sfs) == 0 && sfs.f_type == NFS_SUPER_MAGIC;
#else
    (void)fd;
    return false;
#endif
}

static bool same_file(int fd, const struct stat *sb, uint64_t dev,
                      uint64_t ino)
{
    if ((uint64_t)sb->st_ino != ino)
        return false;
    return (uint64_t)sb->st_dev == dev || dev_is_per_mount(fd);
}

static void make_marker(unsigned char *m, size_t len)
{
    unsigned char rnd[JOURNAL_MARKER_MAX];

    if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
        struct timespec ts;
        uint64_t x;

        clock_gettime(CLOCK_REALTIME, &ts);
        x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20)
            ^ ((uint64_t)getpid() << 40);
        for (size_t i = 0; i < sizeof rnd; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            rnd[i] = (unsigned char)x;
        }
    }
    memcpy(m, rnd, len);
    /* Appended mail starts "From "; the marker never can. */
    m[0] = 0;
}

/* With the durable option: the file's data and size on disk, and the
 * journal's removal (its directory) too, so that a crash just after the
 * commit does not bring the journal back. */
static int flush_result(const char *path, int fd, char **error_r)
{
    int err = 0;

    if (fsync(fd) < 0 || fsync_parent_dir(path) < 0)
        err = errno;
    if (err) {
        *error_r = xasprintf("%s: flushing the commit to disk: %s", path,
                             strerror(err));
        return -1;
    }
    return 0;
}

/* Last written before the system booted (as far as the clocks tell). */
static bool before_boot(const struct stat *st)
{
#ifdef CLOCK_BOOTTIME
    struct timespec now, up;
    int64_t boot_ns, mtime_ns;

    if (clock_gettime(CLOCK_REALTIME, &now) < 0
        || clock_gettime(CLOCK_BOOTTIME, &up) < 0)
        return false;
    boot_ns = ((int64_t)now.tv_sec - up.tv_sec) * 1000000000
              + (now.tv_nsec - up.tv_nsec);
    mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    return mtime_ns < boot_ns;
#else
    (void)st;
    return false;
#endif
}

static bool no_room(int err)
{
    return err == EACCES || err == EPERM || err == EROFS || err == EDQUOT
           || err == ENOSPC;
}

enum journal_result journal_commit(const char *path, int fd,
                                   struct journal_plan *plan, bool durable,
                                   char **error_r)
{
    enum journal_result res = JOURNAL_FAILED;
    struct journal_info info;
    struct engine e;
    struct stat sb;
    unsigned char *img = NULL;
    size_t ilen;
    uint64_t gap;
    const char *why;
    char *jpath, *err = NULL;
    void *jm;
    int jfd;

    *error_r = NULL;
    if (plan->count == 0 || plan->final_size >= plan->start_size) {
        *error_r = xasprintf("%s: nothing for a journal to move", path);
        return JOURNAL_FAILED;
    }
    if (fstat(fd, &sb) < 0) {
        *error_r = xasprintf("%s: fstat: %s", path, strerror(errno));
        return JOURNAL_FAILED;
    }
    if ((uint64_t)sb.st_size != plan->start_size) {
        *error_r = xasprintf("%s: changed size before the commit; nothing "
                             "deleted", path);
        return JOURNAL_FAILED;
    }

    jpath = xasprintf("%s%s", path, JOURNAL_SUFFIX);
    memset(&e, 0, sizeof e);
    e.path = path;
    e.jpath = jpath;
    e.fd = fd;
    e.plan = plan;
    if (map_file(&e, plan->start_size, &err) < 0) {
        *error_r = xasprintf("%s; nothing deleted", err);
        goto out;
    }
    for (size_t i = 0; i < plan->count; i++) {
        const struct journal_range *r = &plan->ranges[i];

        plan->ranges[i].flags = r->len >= 5
                                && memcmp(e.map + r->src, "From ", 5) == 0
                                ? JOURNAL_RANGE_FROM : 0;
    }
    why = journal_check_plan(plan);
    if (why) {
        *error_r = xasprintf("%s: %s; nothing deleted", path, why);
        goto out;
    }

    gap = plan->start_size - plan->final_size;
    memset(&info, 0, sizeof info);
    info.dev = (uint64_t)sb.st_dev;
    info.ino = (uint64_t)sb.st_ino;
    info.marker_len = min64(gap, JOURNAL_MARKER_MAX);
    make_marker(info.marker, (size_t)info.marker_len);
    info.state = JOURNAL_PREPARING;
    info.tail_src = plan->start_size;
    memcpy(e.marker, info.marker, sizeof e.marker);
    e.marker_len = (size_t)info.marker_len;
    img = journal_encode(plan, &info, &ilen);

    jfd = open(jpath, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY
                      | O_CLOEXEC, 0600);
    if (jfd < 0) {
        int ec = errno;

        res = no_room(ec) ? JOURNAL_UNAVAILABLE : JOURNAL_FAILED;
        *error_r = xasprintf("cannot create journal %s: %s%s", jpath,
                             strerror(ec),
                             res == JOURNAL_FAILED ? "; nothing deleted" : "");
        goto out;
    }
    if (pwrite_full(jfd, img, ilen, 0) < 0) {
        int ec = errno;

        close(jfd);
        unlink(jpath);
        res = no_room(ec) ? JOURNAL_UNAVAILABLE : JOURNAL_FAILED;
        *error_r = xasprintf("cannot write journal %s: %s%s", jpath,
                             strerror(ec),
                             res == JOURNAL_FAILED ? "; nothing deleted" : "");
        goto out;
    }
    jm = mmap(NULL, ilen, PROT_READ | PROT_WRITE, MAP_SHARED, jfd, 0);
    close(jfd);
    if (jm == MAP_FAILED) {
        *error_r = xasprintf("cannot map journal %s: %s; nothing deleted",
                             jpath, strerror(errno));
        unlink(jpath);
        goto out;
    }
    e.jmap = jm;
    e.jlen = ilen;
    step(JOURNAL_STEP_WRITTEN);
    durable_sync();

    jset(&e, OFF_STATE, JOURNAL_MOVING);
    step(JOURNAL_STEP_STARTED);
    if (run_guarded(&e, finish, &err) < 0) {
        *error_r = xasprintf("%s; the journal %s stays, and the next open "
                             "finishes the commit", err, jpath);
        goto out;
    }
    if (durable && flush_result(path, fd, error_r) < 0)
        goto out;
    res = JOURNAL_COMMITTED;

out:
    free(err);
    engine_free(&e);
    free(img);
    free(jpath);
    return res;
}

int journal_recover(const char *path, int fd, bool durable, char **notice_r,
                    char **error_r)
{
    struct journal_plan plan;
    struct journal_info info;
    struct stat jsb, msb;
    struct engine e;
    unsigned char *buf = NULL;
    const char *why = NULL;
    char *jpath, *err = NULL;
    uint64_t state, start_done;
    size_t len = 0;
    int ret = -1, jfd;

    *notice_r = NULL;
    *error_r = NULL;
    memset(&plan, 0, sizeof plan);
    memset(&e, 0, sizeof e);
    jpath = xasprintf("%s%s", path, JOURNAL_SUFFIX);
    jfd = open(jpath, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (jfd < 0) {
        if (errno == ENOENT) {
            free(jpath);
            return 0;
        }
        err = xasprintf("cannot open it: %s", strerror(errno));
        goto refuse;
    }
    if (fstat(jfd, &jsb) < 0 || fstat(fd, &msb) < 0) {
        err = xasprintf("fstat: %s", strerror(errno));
        goto refuse_close;
    }
    /* Only a journal this server could have written is acted on; anyone
     * able to make one owned so could rewrite the mailbox anyway. */
    if (!S_ISREG(jsb.st_mode) || jsb.st_nlink != 1
        || (jsb.st_mode & (S_IWGRP | S_IWOTH)) != 0
        || (jsb.st_uid != msb.st_uid && jsb.st_uid != geteuid())) {
        why = "not a regular file of the mailbox's owner, mode 0600, with "
              "one link";
        goto refuse_close;
    }
    if (before_boot(&jsb)) {
        why = "last written before the system booted, so the disk may hold "
              "other data than it says (after a clean shutdown, touch it to "
              "let the next open finish the commit; otherwise check the "
              "mailbox, then remove the journal)";
        goto refuse_close;
    }
    if ((uint64_t)jsb.st_size > JOURNAL_READ_MAX) {
        why = "too large to be a journal";
        goto refuse_close;
    }
    len = (size_t)jsb.st_size;
    buf = xmalloc(len ? len : 1);
    for (size_t got = 0; got < len; ) {
        ssize_t r = pread(jfd, buf + got, len - got, (off_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = xasprintf("read: %s", r < 0 ? strerror(errno)
                                              : "unexpected end of file");
            goto refuse_close;
        }
        got += (size_t)r;
    }

    /* Written whole before its state leaves PREPARING: an empty journal, or
     * one still PREPARING (possibly cut short, but never inside its first
     * page), was left before any byte of the mailbox moved. */
    if (len == 0 || (journal_header_ok(buf, len)
                     && get64(buf + OFF_STATE) == JOURNAL_PREPARING)) {
        if (len != 0 && !same_file(fd, &msb, get64(buf + OFF_DEV),
                                   get64(buf + OFF_INO))) {
            why = "written for another file (device and inode differ)";
            goto refuse_close;
        }
        close(jfd);
        if (unlink(jpath) < 0 && errno != ENOENT) {
            err = xasprintf("cannot remove it: %s", strerror(errno));
            goto refuse;
        }
        *notice_r = xasprintf("%s: removed the journal %s of a commit "
                              "interrupted before it moved any data", path,
                              jpath);
        ret = 1;
        goto out;
    }

    if (journal_decode(buf, len, &plan, &info, &why) < 0)
        goto refuse_close;
    if (!same_file(fd, &msb, info.dev, info.ino)) {
        why = "written for another file (device and inode differ)";
        goto refuse_close;
    }
    state = info.state;
    start_done = info.done;
    e.jmap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, jfd, 0);
    close(jfd);
    if (e.jmap == MAP_FAILED) {
        e.jmap = NULL;
        err = xasprintf("mmap: %s", strerror(errno));
        goto refuse;
    }
    e.jlen = len;
    e.path = path;
    e.jpath = jpath;
    e.fd = fd;
    e.plan = &plan;
    memcpy(e.marker, info.marker, sizeof e.marker);
    e.marker_len = (size_t)info.marker_len;
    if (run_guarded(&e, recover_run, &err) < 0
        || (durable && flush_result(path, fd, &err) < 0))
        goto refuse;

    if (state == JOURNAL_DONE)
        *notice_r = xasprintf("%s: removed the journal %s of a finished "
                              "commit", path, jpath);
    else
        *notice_r = xasprintf("%s: finished a commit that was interrupted "
                              "with %llu of %llu bytes moved (journal %s)%s%s",
                              path, (unsigned long long)start_done,
                              (unsigned long long)(plan.final_size
                                                   - plan.ranges[0].dst),
                              jpath,
                              e.tail_moved ? "; mail delivered since was "
                                             "moved down as well" : "",
                              e.unlink_errno ? "; the journal could not be "
                                               "removed" : "");
    ret = 1;
    goto out;

refuse_close:
    close(jfd);
refuse:
    *error_r = xasprintf("journal %s: %s; the mailbox stays closed until an "
                         "administrator has checked it", jpath,
                         err ? err : why);
out:
    engine_free(&e);
    journal_plan_free(&plan);
    free(buf);
    free(err);
    free(jpath);
    return ret;
}
