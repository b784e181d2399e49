/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_journal_kill.c: commits of random mailboxes killed with SIGKILL at
 * every step and at random moments, then finished by the next open; and
 * the journals that open must refuse to trust. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "mailbox.h"
#include "mboxindex.h"
#include "unit.h"

static char *dir, *mbox, *jpath, *dotlock;

static void setup(void)
{
    dir = unit_tmpdir();
    ck_assert_int_ge(asprintf(&mbox, "%s/user", dir), 0);
    ck_assert_int_ge(asprintf(&jpath, "%s/user" JOURNAL_SUFFIX, dir), 0);
    ck_assert_int_ge(asprintf(&dotlock, "%s/user.lock", dir), 0);
}

static void teardown(void)
{
    unit_rmtree(dir);
    free(dir);
    free(mbox);
    free(jpath);
    free(dotlock);
}

static const struct mailbox_options opts = {
    .dotlock = true, .lock_wait_ms = 0, .owner = (uid_t)-1,
};
static const struct mailbox_options durable_opts = {
    .dotlock = true, .lock_wait_ms = 0, .owner = (uid_t)-1, .durable = true,
};

static uint32_t rnd_state;

static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

/* ---- mailboxes and killed commits ----------------------------------- */

struct box {
    char *data;
    size_t len;
    struct mbox_index idx;
    bool *del;
};

/* Where message I's raw region starts (I == count: the end of the data). */
static uint64_t raw_at(const struct mbox_index *idx, size_t i)
{
    return i < idx->count ? mailbox_msg_from(&idx->msgs[i]) : idx->end;
}

/* N messages of random sizes up to about MAXLINES lines, all different;
 * small ones make small gaps and so many steps. */
static void box_make(struct box *b, size_t n, size_t maxlines)
{
    size_t cap = n * (maxlines * 70 + 200) + 100;
    const char *ierr;

    b->data = malloc(cap);
    b->len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t lines = maxlines ? rnd() % (maxlines + 1) : 0;

        b->len += (size_t)snprintf(b->data + b->len, cap - b->len,
                                   "From u%zu@example.org Tue Feb  6 10:00:00 "
                                   "2024\nSubject: %zu-%08x\n\n", i, i, rnd());
        for (size_t l = 0; l < lines; l++) {
            uint32_t x = rnd();

            b->len += (size_t)snprintf(b->data + b->len, cap - b->len,
                                       "%s%.*s\n",
                                       (x & 7) == 0 ? "." : (x & 7) == 1
                                       ? ">From " : "", (int)(x >> 8) % 64,
                                       "0123456789abcdefghijklmnopqrstuvwxyz"
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ..");
        }
        b->len += (size_t)snprintf(b->data + b->len, cap - b->len, "\n");
    }
    ck_assert_int_eq(mbox_index_build(b->data, b->len, 0, 0, &b->idx, &ierr), 0);
    ck_assert_uint_eq(b->idx.count, n);
    b->del = calloc(n, sizeof *b->del);
}

static void box_free(struct box *b)
{
    free(b->data);
    mbox_index_free(&b->idx);
    free(b->del);
}

/* Delete each message with probability PCT %, at least one. */
static void box_delete_random(struct box *b, unsigned pct)
{
    bool any = false;

    for (size_t i = 0; i < b->idx.count; i++)
        any |= b->del[i] = rnd() % 100 < pct;
    if (!any)
        b->del[rnd() % b->idx.count] = true;
}

/* What the file must hold: the kept raw regions in order (or all of them
 * when the commit was UNDONE, killed before it moved anything), then
 * LATE. */
static char *box_result(const struct box *b, bool undone, const char *late,
                        size_t *len_r)
{
    size_t llen = late ? strlen(late) : 0;
    char *out = malloc(b->len + llen + 1), *o = out;

    for (size_t i = 0; i < b->idx.count; i++)
        if (undone || !b->del[i])
            o = mempcpy(o, b->data + raw_at(&b->idx, i),
                        raw_at(&b->idx, i + 1) - raw_at(&b->idx, i));
    if (llen)
        o = mempcpy(o, late, llen);
    *len_r = (size_t)(o - out);
    return out;
}

/* The steps a commit of B takes (what the driver's plan gives). */
static uint64_t box_chunks(const struct box *b)
{
    struct journal_plan p;
    size_t first = 0;
    uint64_t steps = 0;

    while (first < b->idx.count && !b->del[first])
        first++;
    journal_plan_init(&p, raw_at(&b->idx, first), b->len);
    for (size_t i = first; i < b->idx.count; i++)
        if (!b->del[i])
            journal_plan_keep(&p, raw_at(&b->idx, i),
                              raw_at(&b->idx, i + 1) - raw_at(&b->idx, i));
    for (size_t i = 0; i < p.count; i++) {
        uint64_t gap = p.ranges[i].src - p.ranges[i].dst;
        uint64_t c = gap < JOURNAL_CHUNK_MAX ? gap : JOURNAL_CHUNK_MAX;

        steps += (p.ranges[i].len + c - 1) / c;
    }
    journal_plan_free(&p);
    return steps;
}

static char *box_expected(const struct box *b, const char *late,
                          size_t *len_r)
{
    return box_result(b, false, late, len_r);
}

static void check_file(const char *want, size_t want_len)
{
    size_t len;
    char *got = unit_read_file(mbox, &len);

    ck_assert_ptr_nonnull(got);
    if (len != want_len || memcmp(got, want, len) != 0) {
        size_t k = 0;

        while (k < len && k < want_len && got[k] == want[k])
            k++;
        ck_abort_msg("mailbox differs at byte %zu (%zu bytes, want %zu)", k,
                     len, want_len);
    }
    free(got);
}

/* The fault a child carries out: SIGKILL at the COUNTth call of the hook
 * for STEP, and optionally a short spin at each step so that a kill from
 * outside lands at random places. */
static struct {
    int step;
    long count;
    bool spin;
    long seen;
} fault;

static void fault_hook(enum journal_step s)
{
    if (fault.spin) {
        volatile unsigned k = (unsigned)(rnd() % 64);

        while (k)
            k--;
    }
    if ((int)s == fault.step && ++fault.seen >= fault.count)
        raise(SIGKILL);
}

/* Start a child that opens the mailbox (finishing any journal) and, when
 * B is given, deletes what B says and commits. READY, when >= 0, gets a
 * byte just before the commit. */
static pid_t start_child(const struct box *b, int step, long count, bool spin,
                         int ready)
{
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct mailbox *mb;
        char *err;

        fault.step = step;
        fault.count = count;
        fault.spin = spin;
        fault.seen = 0;
        journal_step_hook = fault_hook;
        if (mailbox_open(mbox, &opts, &mb, &err) != MAILBOX_OK)
            _exit(3);
        if (b) {
            if (mb->count != b->idx.count)
                _exit(4);
            for (size_t i = 0; i < mb->count; i++)
                mb->msgs[i].deleted = b->del[i];
            if (ready >= 0 && write(ready, "r", 1) != 1)
                _exit(5);
            if (mb->drv->commit(mb, &err) != 0)
                _exit(6);
        }
        mailbox_close(&mb);
        _exit(0);
    }
    return pid;
}

/* Wait for the child; true when it was killed. */
static bool reap_child(pid_t pid)
{
    int status;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    /* A killed session's dotlock stays until it is old enough; the next
     * session in these tests does not wait for that. */
    if (unlink(dotlock) < 0)
        ck_assert_int_eq(errno, ENOENT);
    if (WIFSIGNALED(status)) {
        ck_assert_int_eq(WTERMSIG(status), SIGKILL);
        return true;
    }
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    return false;
}

static bool in_child(const struct box *b, int step, long count)
{
    return reap_child(start_child(b, step, count, false, -1));
}

static void append(const char *text)
{
    int fd = open(mbox, O_WRONLY | O_APPEND);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Overwrite what the step in flight at the kill may have half written:
 * recovery must not depend on any of it. */
static void scribble_in_flight(void)
{
    struct journal_plan p;
    struct journal_info in;
    const char *why;
    size_t jlen, flen;
    char *img = unit_read_file(jpath, &jlen);
    char *junk;
    uint64_t at = 0, n = 0, base = 0;
    int fd;

    free(unit_read_file(mbox, &flen));
    if (journal_decode(img, jlen, &p, &in, &why) < 0) {
        free(img);
        return;
    }
    if (in.state != JOURNAL_MOVING) {
        journal_plan_free(&p);
        free(img);
        return;
    }
    for (size_t i = 0; i < p.count; i++) {
        const struct journal_range *r = &p.ranges[i];

        if (in.done < base + r->len) {
            uint64_t off = in.done - base, gap = r->src - r->dst;

            at = r->dst + off;
            n = gap < JOURNAL_CHUNK_MAX ? gap : JOURNAL_CHUNK_MAX;
            if (n > r->len - off)
                n = r->len - off;
            break;
        }
        base += r->len;
    }
    if (n == 0) {
        uint64_t gap = p.start_size - p.final_size, tlen = flen - in.tail_src;

        at = in.tail_src - gap + in.tail_done;
        n = gap < tlen - in.tail_done ? gap : tlen - in.tail_done;
    }
    if (n > 0) {
        junk = malloc(n);
        memset(junk, '#', n);
        fd = open(mbox, O_WRONLY);
        ck_assert_int_eq(pwrite(fd, junk, n, (off_t)at), (ssize_t)n);
        close(fd);
        free(junk);
    }
    journal_plan_free(&p);
    free(img);
}

/* The journal's state word now: 0 when there is none, PREPARING for one
 * cut short in its header. */
static uint64_t journal_state_now(void)
{
    size_t len;
    char *img;
    uint64_t st = JOURNAL_PREPARING;

    if (access(jpath, F_OK) < 0)
        return 0;
    img = unit_read_file(jpath, &len);
    if (len >= 96)
        st = (unsigned char)img[88];
    free(img);
    return st;
}

static const char late[] = "From late@example.org Tue Feb  6 11:00:00 2024\n"
                           "Subject: delivered after the crash\n\nlate\n\n";

/* Open as the next session would, with its recovery (flushed to disk
 * every other time), and check that the file holds exactly WANT and the
 * journal is gone. */
static void reopen_and_check(const char *want, size_t want_len, size_t count)
{
    static unsigned calls;
    struct mailbox *mb = NULL;
    char *err = NULL;

    if (mailbox_open(mbox, calls++ % 2 ? &durable_opts : &opts, &mb, &err)
        != MAILBOX_OK)
        ck_abort_msg("reopen: %s", err ? err : "?");
    ck_assert_uint_eq(mb->count, count);
    mailbox_close(&mb);
    ck_assert_int_eq(access(jpath, F_OK), -1);
    check_file(want, want_len);
}

static size_t kept(const struct box *b, bool undone)
{
    size_t k = 0;

    for (size_t i = 0; i < b->idx.count; i++)
        k += undone || !b->del[i];
    return k;
}

/* Kill at each step of one commit (each move step too), with and without
 * a half-written step and mail delivered before the next open. */
START_TEST(killed_at_every_step)
{
    struct box b;
    uint64_t chunks;
    int trials = 0, killed = 0;

    rnd_state = 0x9e3779b9u;
    box_make(&b, 14, 12);
    for (size_t i = 0; i < b.idx.count; i++)
        b.del[i] = i == 1 || i == 5 || i == 6 || i == 13;
    chunks = box_chunks(&b);
    ck_assert_uint_gt(chunks, 10);

    for (int variant = 0; variant < 4; variant++) {
        bool scribble = variant & 1, late_mail = variant & 2;

        for (int s = JOURNAL_STEP_WRITTEN; s <= JOURNAL_STEP_DONE; s++) {
            long max = s == JOURNAL_STEP_CHUNK ? (long)chunks : 1;

            for (long c = 1; c <= max; c++) {
                size_t wlen;
                char *want;
                bool undone;

                unit_write_file(mbox, b.data, b.len);
                ck_assert(in_child(&b, s, c));
                killed++;
                ck_assert_int_eq(access(jpath, F_OK), 0);
                if (scribble)
                    scribble_in_flight();
                if (late_mail)
                    append(late);
                /* Killed with the journal written but not started: as if
                 * the commit had never begun. */
                undone = s == JOURNAL_STEP_WRITTEN;
                want = box_result(&b, undone, late_mail ? late : NULL, &wlen);
                reopen_and_check(want, wlen, kept(&b, undone) + late_mail);
                free(want);
                trials++;
            }
        }
    }
    ck_assert_int_eq(trials, killed);
    ck_assert_int_eq(trials, 4 * (6 + (int)chunks));
    box_free(&b);
}
END_TEST

/* journal_recover() itself on each state: what it returns and says. */
START_TEST(recover_states)
{
    static const struct { int step; long count; const char *says; } cases[] = {
        { JOURNAL_STEP_WRITTEN, 1, "before it moved any data" },
        { JOURNAL_STEP_STARTED, 1, "with 0 of" },
        { JOURNAL_STEP_CHUNK, 3, "interrupted" },
        { JOURNAL_STEP_MARKED, 1, "interrupted" },
        { JOURNAL_STEP_MOVED, 1, "interrupted" },
        { JOURNAL_STEP_TRUNCATED, 1, "interrupted" },
        { JOURNAL_STEP_DONE, 1, "finished commit" },
    };
    struct box b;

    rnd_state = 12345;
    box_make(&b, 10, 6);
    b.del[0] = b.del[4] = true;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *notice, *err, *want;
        size_t wlen;
        int fd;

        unit_write_file(mbox, b.data, b.len);
        ck_assert(in_child(&b, cases[k].step, cases[k].count));
        fd = open(mbox, O_RDWR);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(journal_recover(mbox, fd, false, &notice, &err), 1);
        ck_assert_ptr_null(err);
        ck_assert_ptr_nonnull(notice);
        if (!strstr(notice, cases[k].says) || !strstr(notice, jpath))
            ck_abort_msg("notice \"%s\" lacks \"%s\"", notice, cases[k].says);
        free(notice);
        /* Gone now: a second look finds nothing. */
        ck_assert_int_eq(journal_recover(mbox, fd, false, &notice, &err), 0);
        ck_assert_ptr_null(notice);
        ck_assert_ptr_null(err);
        close(fd);
        want = box_result(&b, cases[k].step == JOURNAL_STEP_WRITTEN, NULL,
                          &wlen);
        check_file(want, wlen);
        free(want);
    }
    box_free(&b);
}
END_TEST

/* Journals left while being written: empty, or still PREPARING and cut
 * short past the header. Nothing had moved; they are removed. */
START_TEST(recover_unstarted)
{
    struct box b;
    char *img, *notice, *err;
    size_t ilen;
    int fd;

    rnd_state = 777;
    box_make(&b, 8, 400);
    b.del[2] = true;
    unit_write_file(mbox, b.data, b.len);
    ck_assert(in_child(&b, JOURNAL_STEP_WRITTEN, 1));
    img = unit_read_file(jpath, &ilen);
    ck_assert_uint_ge(ilen, 160);

    fd = open(mbox, O_RDWR);
    unit_write_file(jpath, img, 128);
    ck_assert_int_eq(journal_recover(mbox, fd, false, &notice, &err), 1);
    ck_assert_ptr_nonnull(strstr(notice, "before it moved any data"));
    free(notice);
    ck_assert_int_eq(access(jpath, F_OK), -1);
    unit_write_file(jpath, "", 0);
    ck_assert_int_eq(journal_recover(mbox, fd, false, &notice, &err), 1);
    free(notice);
    ck_assert_int_eq(access(jpath, F_OK), -1);
    close(fd);
    check_file(b.data, b.len);
    free(img);
    box_free(&b);
}
END_TEST

/* Journals that cannot be trusted: the mailbox is neither changed nor
 * opened, and the error names the journal. */
static void refused(const char *err_has, const char *want, size_t want_len)
{
    struct mailbox *mb = NULL;
    size_t jlen_before, jlen_after;
    char *err = NULL, *jbefore = NULL, *jafter;
    struct stat st;

    if (lstat(jpath, &st) == 0 && S_ISREG(st.st_mode))
        jbefore = unit_read_file(jpath, &jlen_before);
    ck_assert_int_eq(mailbox_open(mbox, &opts, &mb, &err), MAILBOX_TEMPFAIL);
    ck_assert_ptr_null(mb);
    ck_assert_ptr_nonnull(err);
    if (!strstr(err, jpath) || !strstr(err, err_has))
        ck_abort_msg("error \"%s\" lacks the journal's name or \"%s\"", err,
                     err_has);
    free(err);
    ck_assert_int_eq(access(dotlock, F_OK), -1);
    check_file(want, want_len);
    if (jbefore) {
        jafter = unit_read_file(jpath, &jlen_after);
        ck_assert_uint_eq(jlen_after, jlen_before);
        ck_assert(memcmp(jafter, jbefore, jlen_after) == 0);
        free(jafter);
        free(jbefore);
    }
}

START_TEST(untrusted_journals)
{
    struct box b;
    char *img, *mid, *bad;
    size_t ilen, mlen;

    rnd_state = 4711;
    box_make(&b, 12, 30);
    b.del[1] = b.del[7] = true;
    unit_write_file(mbox, b.data, b.len);
    ck_assert(in_child(&b, JOURNAL_STEP_CHUNK, 2));
    img = unit_read_file(jpath, &ilen);
    mid = unit_read_file(mbox, &mlen);

    /* Cut short, or damaged. */
    unit_write_file(jpath, img, ilen - 1);
    refused("truncated", mid, mlen);
    unit_write_file(jpath, img, 100);
    refused("truncated", mid, mlen);
    bad = malloc(ilen);
    memcpy(bad, img, ilen);
    bad[140] ^= 0x40;
    unit_write_file(jpath, bad, ilen);
    refused("checksum", mid, mlen);
    memcpy(bad, img, ilen);
    memset(bad + 88, 0, 8);
    unit_write_file(jpath, bad, ilen);
    refused("state", mid, mlen);

    /* Another file's (another inode, another device). */
    {
        struct journal_plan p;
        struct journal_info in;
        const char *why;
        void *re;
        size_t rlen;

        ck_assert_int_eq(journal_decode(img, ilen, &p, &in, &why), 0);
        in.ino ^= 1;
        re = journal_encode(&p, &in, &rlen);
        unit_write_file(jpath, re, rlen);
        refused("another file", mid, mlen);
        in.ino ^= 1;
        in.dev ^= 0x100;
        free(re);
        re = journal_encode(&p, &in, &rlen);
        unit_write_file(jpath, re, rlen);
        refused("another file", mid, mlen);
        free(re);
        journal_plan_free(&p);
    }

    /* Ours, but not safe to trust: writable by others, a second link,
     * a symbolic link. */
    unit_write_file(jpath, img, ilen);
    ck_assert_int_eq(chmod(jpath, 0622), 0);
    refused("owner", mid, mlen);
    ck_assert_int_eq(chmod(jpath, 0600), 0);
    {
        char *other;

        ck_assert_int_ge(asprintf(&other, "%s/hardlink", dir), 0);
        ck_assert_int_eq(link(jpath, other), 0);
        refused("link", mid, mlen);
        ck_assert_int_eq(unlink(jpath), 0);
        ck_assert_int_eq(symlink(other, jpath), 0);
        refused("cannot open", mid, mlen);
        ck_assert_int_eq(unlink(jpath), 0);
        ck_assert_int_eq(rename(other, jpath), 0);
        free(other);
    }

    /* Last written before the system booted: perhaps not what reached the
     * disk. Touched (after a clean shutdown), it is trusted again. */
    {
        struct timespec old[2] = { { .tv_sec = 1 }, { .tv_sec = 1 } };

        ck_assert_int_eq(utimensat(AT_FDCWD, jpath, old, 0), 0);
        refused("booted", mid, mlen);
        ck_assert_int_eq(utimensat(AT_FDCWD, jpath, NULL, 0), 0);
    }

    /* The file no longer looks as the journal says: rewritten with the
     * same size, or cut below the size the commit started with. */
    {
        char *other = malloc(mlen);

        memset(other, 'x', mlen);
        unit_write_file(mbox, other, mlen);
        refused("From_", other, mlen);
        free(other);
    }
    unit_write_file(mbox, mid, mlen - 1);
    refused("shorter", mid, mlen - 1);

    /* Left as it was, it still finishes. */
    unit_write_file(mbox, mid, mlen);
    {
        size_t wlen;
        char *want = box_expected(&b, NULL, &wlen);

        reopen_and_check(want, wlen, kept(&b, false));
        free(want);
    }
    free(bad);
    free(mid);
    free(img);
    box_free(&b);
}
END_TEST

static void truncate_hook(enum journal_step s)
{
    if (s == JOURNAL_STEP_CHUNK && ++fault.seen == 2)
        ck_assert_int_eq(truncate(mbox, 0), 0);
}

/* The file cut under the mapping while data moves (as an I/O error or a
 * full disk would show): SIGBUS becomes an error, the journal stays, and
 * the next open refuses the mailbox rather than guess. */
START_TEST(sigbus_is_an_error)
{
    struct sigaction sa;
    struct mailbox *mb;
    struct box b;
    char *err = NULL;
    void (*before)(int);

    rnd_state = 99;
    box_make(&b, 20, 50);
    b.del[0] = true;
    ck_assert_uint_gt(box_chunks(&b), 3);
    unit_write_file(mbox, b.data, b.len);
    ck_assert_int_eq(mailbox_open(mbox, &opts, &mb, &err), MAILBOX_OK);
    mb->msgs[0].deleted = true;
    ck_assert_int_eq(sigaction(SIGBUS, NULL, &sa), 0);
    before = sa.sa_handler;
    fault.seen = 0;
    journal_step_hook = truncate_hook;
    ck_assert_int_eq(mb->drv->commit(mb, &err), -1);
    journal_step_hook = NULL;
    ck_assert_ptr_nonnull(err);
    if (!strstr(err, "SIGBUS") || !strstr(err, jpath))
        ck_abort_msg("error \"%s\"", err);
    free(err);
    ck_assert_int_eq(sigaction(SIGBUS, NULL, &sa), 0);
    ck_assert_ptr_eq((void *)sa.sa_handler, (void *)before);
    mailbox_close(&mb);
    ck_assert_int_eq(access(jpath, F_OK), 0);
    refused("shorter", "", 0);
    box_free(&b);
}
END_TEST

/* Random mailboxes, random deletions, killed after a random number of
 * steps or at a random other point, sometimes a half-written step, mail
 * delivered before the next open, or the recovery killed as well. */
START_TEST(random_kills)
{
    int trials = 0, killed = 0, twice = 0;

    rnd_state = 0x1234567u;
    for (int t = 0; t < 400; t++) {
        struct box b;
        uint64_t chunks;
        bool was_killed, late_mail, undone;
        size_t wlen;
        char *want;
        int step;
        long count;

        box_make(&b, 2 + rnd() % 30, rnd() % 3 ? 8 : 60);
        box_delete_random(&b, 10 + rnd() % 50);
        chunks = box_chunks(&b);
        if (rnd() % 5) {
            step = JOURNAL_STEP_CHUNK;
            count = 1 + (long)(rnd() % (chunks + 2));
        } else {
            step = (int)(rnd() % (JOURNAL_STEP_DONE + 1));
            count = 1;
        }
        unit_write_file(mbox, b.data, b.len);
        was_killed = in_child(&b, step, count);
        killed += was_killed;
        if (was_killed && rnd() % 3 == 0)
            scribble_in_flight();
        late_mail = rnd() % 4 == 0;
        if (late_mail)
            append(late);
        if (was_killed && rnd() % 4 == 0) {
            /* The next session dies too, while it finishes the commit. */
            twice += in_child(NULL, JOURNAL_STEP_CHUNK,
                              1 + (long)(rnd() % (chunks + 2)));
        }
        undone = was_killed && step == JOURNAL_STEP_WRITTEN;
        want = box_result(&b, undone, late_mail ? late : NULL, &wlen);
        reopen_and_check(want, wlen, kept(&b, undone) + late_mail);
        free(want);
        box_free(&b);
        trials++;
    }
    ck_assert_int_eq(trials, 400);
    /* Most trials must really have been cut short. */
    ck_assert_int_gt(killed, 250);
    ck_assert_int_gt(twice, 10);
}
END_TEST

static void sleep_us(long us)
{
    struct timespec ts = { .tv_sec = us / 1000000,
                           .tv_nsec = us % 1000000 * 1000 };

    nanosleep(&ts, NULL);
}

static long elapsed_us(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000000
           + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

/* Killed from outside after a random delay: anywhere, in the middle of a
 * memmove or between a move and its progress too. */
START_TEST(kills_at_random_moments)
{
    struct timespec t0;
    struct mailbox *mb;
    int killed = 0, outcome[4] = { 0 };
    long took[2];
    struct box b;
    char *err;

    rnd_state = 0xabcdefu;
    /* Many small messages, a few deleted: a commit of many small steps
     * that takes a few milliseconds. */
    box_make(&b, 3000, 20);
    for (size_t i = 0; i < b.idx.count; i++)
        b.del[i] = i % 97 == 3;
    /* How long the commit takes, without and with a spin at each step. */
    for (int spin = 0; spin < 2; spin++) {
        unit_write_file(mbox, b.data, b.len);
        ck_assert_int_eq(mailbox_open(mbox, &opts, &mb, &err), MAILBOX_OK);
        for (size_t i = 0; i < mb->count; i++)
            mb->msgs[i].deleted = b.del[i];
        fault.step = -1;
        fault.spin = spin;
        journal_step_hook = fault_hook;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ck_assert_int_eq(mb->drv->commit(mb, &err), 0);
        took[spin] = elapsed_us(&t0);
        journal_step_hook = NULL;
        mailbox_close(&mb);
    }

    /* At least 100 trials; on a loaded machine, where the moment of a
     * kill drifts, more (bounded) until enough kills landed mid-commit. */
    for (int t = 0; t < 100 || (t < 400 && (killed <= 30 || outcome[2] <= 15));
         t++) {
        bool late_mail = t % 5 == 4, spin = t % 2, undone;
        uint64_t st;
        int ready[2];
        size_t wlen;
        char *want, c;
        pid_t pid;

        unit_write_file(mbox, b.data, b.len);
        ck_assert_int_eq(pipe(ready), 0);
        pid = start_child(&b, -1, 0, spin, ready[1]);
        close(ready[1]);
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        close(ready[0]);
        sleep_us((long)(rnd() % (uint32_t)(took[spin] + 1)));
        kill(pid, SIGKILL);
        killed += reap_child(pid);
        /* Killed before the first byte moved, the commit did not happen;
         * no journal also means it had not started, or had finished. */
        st = journal_state_now();
        if (st == 0) {
            size_t flen;
            char *now = unit_read_file(mbox, &flen);

            undone = flen == b.len && memcmp(now, b.data, flen) == 0;
            free(now);
        } else {
            undone = st == JOURNAL_PREPARING;
        }
        outcome[st == 0 ? (undone ? 0 : 1) : st < JOURNAL_MOVED ? 2 : 3]++;
        if (late_mail)
            append(late);
        want = box_result(&b, undone, late_mail ? late : NULL, &wlen);
        reopen_and_check(want, wlen, kept(&b, undone) + late_mail);
        free(want);
    }
    /* Most kills land while data moves. */
    ck_assert_int_gt(killed, 30);
    ck_assert_int_gt(outcome[2], 15);
    box_free(&b);
}
END_TEST

Suite *suite_journal_kill(void)
{
    Suite *s = suite_create("journal_kill");
    TCase *tk = tcase_create("kills");

    tcase_add_checked_fixture(tk, setup, teardown);
    tcase_set_timeout(tk, 120);
    tcase_add_test(tk, killed_at_every_step);
    tcase_add_test(tk, recover_states);
    tcase_add_test(tk, recover_unstarted);
    tcase_add_test(tk, untrusted_journals);
    tcase_add_test(tk, sigbus_is_an_error);
    tcase_add_test(tk, random_kills);
    tcase_add_test(tk, kills_at_random_moments);
    suite_add_tcase(s, tk);
    return s;
}
