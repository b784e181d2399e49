/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_bsd.c: the bsd mailbox driver on real files: open, send, commit in
 * place, and the refusals. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn.h"
#include "journal.h"
#include "mailbox.h"
#include "mboxindex.h"
#include "unit.h"

static char *dir, *mbox, *dotlock, *journal;

static void setup(void)
{
    dir = unit_tmpdir();
    ck_assert_int_ge(asprintf(&mbox, "%s/user", dir), 0);
    ck_assert_int_ge(asprintf(&dotlock, "%s/user.lock", dir), 0);
    ck_assert_int_ge(asprintf(&journal, "%s/user" JOURNAL_SUFFIX, dir), 0);
}

static void teardown(void)
{
    chmod(dir, 0700);
    unit_rmtree(dir);
    free(dir);
    free(mbox);
    free(dotlock);
    free(journal);
}

static const char *mb_uidl(const struct mailbox *mb, size_t i)
{
    static char bufs[4][UIDL_MAX_LEN + 1];
    static unsigned k;

    return mailbox_uidl(mb, i, bufs[k++ % 4]);
}

static const struct mailbox_options default_opts = {
    .dotlock = true, .lock_wait_ms = 0, .owner = (uid_t)-1,
};

static struct mailbox *open_ok(const char *spec)
{
    struct mailbox *mb = NULL;
    char *err = NULL;

    ck_assert_int_eq(mailbox_open(spec, &default_opts, &mb, &err), MAILBOX_OK);
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(mb);
    return mb;
}

static enum mailbox_status open_fails(const char *spec,
                                      const struct mailbox_options *o,
                                      const char *err_has)
{
    struct mailbox *mb = (struct mailbox *)1;
    enum mailbox_status st;
    char *err = NULL;

    st = mailbox_open(spec, o ? o : &default_opts, &mb, &err);
    ck_assert_int_ne(st, MAILBOX_OK);
    ck_assert_ptr_null(mb);
    ck_assert_ptr_nonnull(err);
    if (err_has && !strstr(err, err_has))
        ck_abort_msg("error \"%s\" lacks \"%s\"", err, err_has);
    free(err);
    /* Refused or not, nothing is left locked. */
    ck_assert_int_eq(access(dotlock, F_OK), -1);
    return st;
}

static void commit_ok(struct mailbox *mb)
{
    char *err = NULL;

    if (mb->drv->commit(mb, &err) != 0)
        ck_abort_msg("commit: %s", err ? err : "?");
    ck_assert_ptr_null(err);
}

/* What the peer of a connection receives for message I. */
static char *sent(struct mailbox *mb, size_t i, long lines, size_t *len_r)
{
    struct conn c;
    int sv[2];
    char *buf = malloc(65536);
    ssize_t n;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(conn_init(&c, sv[1], NULL, 5000), 0);
    ck_assert_int_eq(mb->drv->send(mb, i, lines, &c), 0);
    ck_assert_int_eq(conn_flush(&c), 0);
    conn_close(&c);
    n = read(sv[0], buf, 65535);
    ck_assert_int_ge(n, 0);
    buf[n] = 0;
    close(sv[0]);
    *len_r = (size_t)n;
    return buf;
}

static const char three[] =
    "From alice Mon Jan  1 00:00:00 2024\n"
    "Subject: one\n"
    "\n"
    "first\n"
    "\n"
    "From bob Mon Jan  1 00:00:01 2024\n"
    "Subject: two\n"
    "\n"
    ".dotted\n"
    "second\n"
    "\n"
    "From carol Mon Jan  1 00:00:02 2024\n"
    "Subject: three\n"
    "\n"
    "third\n"
    "\n";

START_TEST(open_index_send)
{
    struct mbox_index idx;
    struct mailbox *mb;
    const char *ierr;
    size_t n;
    char *out;

    unit_write_file(mbox, three, strlen(three));
    ck_assert_int_eq(mbox_index_build(three, strlen(three), 0, 0, &idx,
                                      &ierr), 0);
    mb = open_ok(mbox);
    ck_assert_str_eq(mb->drv->name, "bsd");
    ck_assert_str_eq(mb->path, mbox);
    ck_assert_uint_eq(mb->count, 3);
    ck_assert_int_eq(access(dotlock, F_OK), 0);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(mailbox_msg_from(&mb->msgs[i]), unit_idx_raw(&idx, i));
        ck_assert_uint_eq(mb->msgs[i].size, idx.msgs[i].size);
        ck_assert_str_eq(mb_uidl(mb, i), unit_idx_uidl(&idx, i));
    }
    ck_assert_uint_eq(mb->msgs[1].size, 33);

    out = sent(mb, 1, -1, &n);
    ck_assert_str_eq(out, "Subject: two\r\n\r\n..dotted\r\nsecond\r\n.\r\n");
    free(out);
    out = sent(mb, 2, 0, &n);
    ck_assert_str_eq(out, "Subject: three\r\n\r\n.\r\n");
    free(out);
    ck_assert_int_eq(mb->drv->send(mb, 3, -1, NULL), -1);

    mailbox_close(&mb);
    ck_assert_ptr_null(mb);
    mailbox_close(&mb);
    ck_assert_int_eq(access(dotlock, F_OK), -1);
    mbox_index_free(&idx);

    /* The same through an explicit type. */
    {
        char *spec;

        ck_assert_int_ge(asprintf(&spec, "bsd:%s", mbox), 0);
        mb = open_ok(spec);
        ck_assert_uint_eq(mb->count, 3);
        mailbox_close(&mb);
        free(spec);
    }
}
END_TEST

/* A mailbox of N messages of assorted shapes, none alike. */
static char *make_mailbox(size_t n, uint32_t seed, bool crlf, size_t *len_r)
{
    size_t cap = n * 3000 + 100, len = 0;
    char *d = malloc(cap);
    const char *eol = crlf ? "\r\n" : "\n";
    uint32_t x = seed;

    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < n; i++) {
        size_t lines;

        x = x * 1664525u + 1013904223u;
        lines = (x >> 20) % 40;
        len += (size_t)snprintf(d + len, cap - len,
                                "From user%zu@example.org Tue Feb  6 10:%02zu:00 2024%s"
                                "Subject: message %zu%s%s", i, i % 60, eol, i,
                                eol, eol);
        for (size_t l = 0; l < lines; l++) {
            x = x * 1664525u + 1013904223u;
            len += (size_t)snprintf(d + len, cap - len, "%s%.*s%s",
                                    (x & 7) == 0 ? "." : (x & 7) == 1 ? ">From " : "",
                                    (int)((x >> 16) % 60),
                                    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh",
                                    eol);
        }
        /* Most end with the MDA's blank line; the last may not. */
        if (i + 1 < n || (x & 1))
            len += (size_t)snprintf(d + len, cap - len, "%s", eol);
    }
    *len_r = len;
    return d;
}

/* The bytes the file must hold after deleting DEL from DATA: every kept
 * raw region, in order, then APPENDED. */
static char *expected_after(const char *data, const struct mbox_index *idx,
                            const bool *del, const char *appended,
                            size_t *len_r)
{
    size_t alen = appended ? strlen(appended) : 0;
    char *out = malloc(unit_idx_raw(idx, idx->count) + alen + 1), *o = out;

    for (size_t i = 0; i < idx->count; i++)
        if (!del[i])
            o = mempcpy(o, data + unit_idx_raw(idx, i),
                        unit_idx_raw(idx, i + 1) - unit_idx_raw(idx, i));
    if (alen)
        o = mempcpy(o, appended, alen);
    *len_r = (size_t)(o - out);
    return out;
}

static void check_file(const char *want, size_t want_len)
{
    size_t len;
    char *got = unit_read_file(mbox, &len);

    ck_assert_ptr_nonnull(got);
    ck_assert_uint_eq(len, want_len);
    ck_assert(memcmp(got, want, len) == 0);
    free(got);
}

static void delete_and_check(const char *data, size_t len,
                             const struct mbox_index *idx, const bool *del)
{
    struct mailbox *mb;
    size_t want_len, kept = 0;
    char *want;

    unit_write_file(mbox, data, len);
    mb = open_ok(mbox);
    ck_assert_uint_eq(mb->count, idx->count);
    for (size_t i = 0; i < mb->count; i++)
        mb->msgs[i].deleted = del[i];
    commit_ok(mb);
    mailbox_close(&mb);
    ck_assert_int_eq(access(dotlock, F_OK), -1);
    ck_assert_int_eq(access(journal, F_OK), -1);

    want = expected_after(data, idx, del, NULL, &want_len);
    check_file(want, want_len);
    free(want);

    /* Still a valid mbox, the survivors with their sizes and UIDLs. */
    mb = open_ok(mbox);
    for (size_t i = 0; i < idx->count; i++) {
        if (del[i])
            continue;
        ck_assert_uint_lt(kept, mb->count);
        ck_assert_uint_eq(mb->msgs[kept].size, idx->msgs[i].size);
        ck_assert_str_eq(mb_uidl(mb, kept), unit_idx_uidl(idx, i));
        kept++;
    }
    ck_assert_uint_eq(mb->count, kept);
    mailbox_close(&mb);
}

START_TEST(commit_random_deletions)
{
    for (int crlf = 0; crlf < 2; crlf++) {
        for (uint32_t seed = 1; seed <= 12; seed++) {
            size_t n = 1 + seed * 5 % 37, len;
            char *data = make_mailbox(n, seed, crlf, &len);
            struct mbox_index idx;
            const char *ierr;
            bool *del = calloc(n, sizeof *del);
            uint32_t x = seed * 2654435761u;

            ck_assert_int_eq(mbox_index_build(data, len, 0, 0, &idx, &ierr),
                             0);
            ck_assert_uint_eq(idx.count, n);
            for (size_t i = 0; i < n; i++) {
                x = x * 1664525u + 1013904223u;
                del[i] = (x >> 28) < (seed % 4) * 4;
            }
            delete_and_check(data, len, &idx, del);
            mbox_index_free(&idx);
            free(del);
            free(data);
        }
    }
}
END_TEST

/* Flushed to disk before the commit returns: the same result. */
START_TEST(durable_commit)
{
    const struct mailbox_options dur = {
        .dotlock = true, .lock_wait_ms = 0, .owner = (uid_t)-1,
        .durable = true,
    };
    size_t len, want_len;
    char *data = make_mailbox(30, 7, false, &len), *want, *err = NULL;
    struct mbox_index idx;
    const char *ierr;
    struct mailbox *mb = NULL;
    bool del[30] = { false };

    ck_assert_int_eq(mbox_index_build(data, len, 0, 0, &idx, &ierr), 0);
    del[3] = del[4] = del[17] = true;
    for (int last = 0; last < 2; last++) {
        unit_write_file(mbox, data, len);
        ck_assert_int_eq(mailbox_open(mbox, &dur, &mb, &err), MAILBOX_OK);
        for (size_t i = 0; i < 30; i++)
            mb->msgs[i].deleted = del[i];
        commit_ok(mb);
        mailbox_close(&mb);
        ck_assert_int_eq(access(journal, F_OK), -1);
        want = expected_after(data, &idx, del, NULL, &want_len);
        check_file(want, want_len);
        free(want);
        /* Then only the end: a bare truncation. */
        memset(del, 0, sizeof del);
        del[29] = true;
    }
    mbox_index_free(&idx);
    free(data);
}
END_TEST

START_TEST(commit_edge_cases)
{
    struct mbox_index idx;
    const char *ierr;
    bool del[3];
    struct mailbox *mb;

    ck_assert_int_eq(mbox_index_build(three, strlen(three), 0, 0, &idx,
                                      &ierr), 0);

    /* Nothing deleted: the file is not touched. */
    memset(del, 0, sizeof del);
    delete_and_check(three, strlen(three), &idx, del);
    /* The last: the second keeps its blank line, its separator. */
    del[2] = true;
    delete_and_check(three, strlen(three), &idx, del);
    check_file(three, (size_t)(strstr(three, "From carol") - three));
    /* The first, then the middle. */
    memset(del, 0, sizeof del);
    del[0] = true;
    delete_and_check(three, strlen(three), &idx, del);
    memset(del, 0, sizeof del);
    del[1] = true;
    delete_and_check(three, strlen(three), &idx, del);
    /* All of them: an empty file, still there. */
    memset(del, 1, sizeof del);
    delete_and_check(three, strlen(three), &idx, del);
    check_file("", 0);
    mb = open_ok(mbox);
    ck_assert_uint_eq(mb->count, 0);
    commit_ok(mb);
    mailbox_close(&mb);
    mbox_index_free(&idx);
}
END_TEST

/* Append TEXT to the mailbox from another process, as an MDA that ignores
 * locks would (this process must not open and close the file: that would
 * drop its own fcntl lock). */
static void append_elsewhere(const char *text)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(mbox, O_WRONLY | O_APPEND);

        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
            _exit(1);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(appended_mail_survives)
{
    const char *late = "From dave Mon Jan  1 00:00:03 2024\nSubject: late\n\n"
                       "fourth\n\n";
    struct mbox_index idx;
    const char *ierr;
    bool del[3] = { true, false, true };
    struct mailbox *mb;
    size_t want_len;
    char *want;

    ck_assert_int_eq(mbox_index_build(three, strlen(three), 0, 0, &idx,
                                      &ierr), 0);
    unit_write_file(mbox, three, strlen(three));
    mb = open_ok(mbox);
    append_elsewhere(late);
    for (size_t i = 0; i < 3; i++)
        mb->msgs[i].deleted = del[i];
    commit_ok(mb);
    mailbox_close(&mb);

    want = expected_after(three, &idx, del, late, &want_len);
    check_file(want, want_len);
    free(want);
    mb = open_ok(mbox);
    ck_assert_uint_eq(mb->count, 2);
    ck_assert_str_eq(mb_uidl(mb, 0), unit_idx_uidl(&idx, 1));
    mailbox_close(&mb);
    mbox_index_free(&idx);
}
END_TEST

START_TEST(changed_behind_our_back)
{
    struct mailbox *mb;
    char *err = NULL, *changed;
    int status;
    pid_t pid;

    /* A From_ line overwritten. */
    unit_write_file(mbox, three, strlen(three));
    mb = open_ok(mbox);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(mbox, O_WRONLY);
        size_t at = (size_t)(strstr(three, "From carol") - three);

        _exit(fd >= 0 && pwrite(fd, "XXXX", 4, (off_t)at) == 4 ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    mb->msgs[0].deleted = true;
    ck_assert_int_eq(mb->drv->commit(mb, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "changed"));
    free(err);
    mailbox_close(&mb);
    changed = strdup(three);
    memcpy(changed + (strstr(three, "From carol") - three), "XXXX", 4);
    check_file(changed, strlen(changed));
    free(changed);

    /* The file cut short. */
    unit_write_file(mbox, three, strlen(three));
    mb = open_ok(mbox);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(truncate(mbox, 40) == 0 ? 0 : 1);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    mb->msgs[1].deleted = true;
    ck_assert_int_eq(mb->drv->commit(mb, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "shrank"));
    free(err);
    mailbox_close(&mb);
    check_file(three, 40);

    /* Replaced by rename. */
    unit_write_file(mbox, three, strlen(three));
    mb = open_ok(mbox);
    {
        char *other;

        ck_assert_int_ge(asprintf(&other, "%s/other", dir), 0);
        unit_write_file(other, "From z\n\n", 8);
        ck_assert_int_eq(rename(other, mbox), 0);
        free(other);
    }
    mb->msgs[0].deleted = true;
    ck_assert_int_eq(mb->drv->commit(mb, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "replaced"));
    free(err);
    mailbox_close(&mb);
    check_file("From z\n\n", 8);
}
END_TEST

/* A spool where the session cannot create files (as for a dotlock):
 * the commit goes ahead without a journal, so that a user over quota can
 * still delete mail. */
START_TEST(commit_without_journal)
{
    const struct mailbox_options nodot = {
        .dotlock = false, .lock_wait_ms = 0, .owner = (uid_t)-1,
    };
    struct mbox_index idx;
    const char *ierr;
    bool del[3] = { true, false, false };
    size_t want_len;
    char *want;
    int status;
    pid_t pid;

    ck_assert_int_eq(mbox_index_build(three, strlen(three), 0, 0, &idx,
                                      &ierr), 0);
    unit_write_file(mbox, three, strlen(three));
    if (geteuid() == 0) {
        /* Root may create files anywhere: be nobody in root's directory. */
        ck_assert_int_eq(chmod(dir, 0755), 0);
        ck_assert_int_eq(chown(mbox, 65534, 65534), 0);
    } else {
        ck_assert_int_eq(chmod(dir, 0555), 0);
    }
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct mailbox *mb;
        char *err;

        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(2);
        if (access(dir, W_OK) == 0)
            _exit(3);
        if (mailbox_open(mbox, &nodot, &mb, &err) != MAILBOX_OK)
            _exit(4);
        for (size_t i = 0; i < 3; i++)
            mb->msgs[i].deleted = del[i];
        if (mb->drv->commit(mb, &err) != 0)
            _exit(5);
        mailbox_close(&mb);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(access(journal, F_OK), -1);
    want = expected_after(three, &idx, del, NULL, &want_len);
    check_file(want, want_len);
    free(want);
    mbox_index_free(&idx);
}
END_TEST

/* A journal that appears between the open and the commit is nobody's
 * this server knows: nothing is deleted, and it is not overwritten. */
START_TEST(commit_refused_by_existing_journal)
{
    struct mailbox *mb;
    char *err = NULL;
    size_t len;

    unit_write_file(mbox, three, strlen(three));
    mb = open_ok(mbox);
    unit_write_file(journal, "", 0);
    mb->msgs[0].deleted = true;
    ck_assert_int_eq(mb->drv->commit(mb, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, journal));
    ck_assert_ptr_nonnull(strstr(err, "nothing deleted"));
    free(err);
    mailbox_close(&mb);
    check_file(three, strlen(three));
    free(unit_read_file(journal, &len));
    ck_assert_uint_eq(len, 0);
    /* Empty, it can only be a journal cut short before it was written:
     * the next open removes it. */
    mb = open_ok(mbox);
    ck_assert_uint_eq(mb->count, 3);
    mailbox_close(&mb);
    ck_assert_int_eq(access(journal, F_OK), -1);
}
END_TEST

START_TEST(missing_file_is_empty)
{
    struct mailbox *mb = open_ok(mbox);

    ck_assert_uint_eq(mb->count, 0);
    ck_assert_int_eq(access(dotlock, F_OK), -1);
    commit_ok(mb);
    mailbox_close(&mb);
    ck_assert_int_eq(access(mbox, F_OK), -1);
}
END_TEST

START_TEST(empty_file)
{
    struct mailbox *mb;

    unit_write_file(mbox, "", 0);
    mb = open_ok(mbox);
    ck_assert_uint_eq(mb->count, 0);
    ck_assert_int_eq(access(dotlock, F_OK), 0);
    commit_ok(mb);
    mailbox_close(&mb);
    ck_assert_int_eq(access(dotlock, F_OK), -1);
}
END_TEST

START_TEST(refusals)
{
    struct mailbox_options o = default_opts;
    char *link, *spec;

    unit_write_file(mbox, three, strlen(three));
    ck_assert_int_ge(asprintf(&link, "%s/link", dir), 0);
    ck_assert_int_eq(symlink(mbox, link), 0);
    ck_assert_int_eq(open_fails(link, NULL, "symbolic"), MAILBOX_PERMFAIL);
    free(link);

    o.owner = getuid() + 1;
    ck_assert_int_eq(open_fails(mbox, &o, "owned by"), MAILBOX_PERMFAIL);
    o.owner = getuid();
    {
        struct mailbox *mb = NULL;
        char *err = NULL;

        ck_assert_int_eq(mailbox_open(mbox, &o, &mb, &err), MAILBOX_OK);
        mailbox_close(&mb);
    }

    unit_write_file(mbox, "Subject: not an mbox\n\nhello\n", 28);
    ck_assert_int_eq(open_fails(mbox, NULL, "not an mbox"), MAILBOX_PERMFAIL);

    ck_assert_int_eq(open_fails(dir, NULL, "directory"), MAILBOX_PERMFAIL);
    ck_assert_int_eq(open_fails("relative/path", NULL, NULL),
                     MAILBOX_PERMFAIL);
    ck_assert_int_eq(open_fails("bsd:relative", NULL, "absolute"),
                     MAILBOX_PERMFAIL);
    ck_assert_int_ge(asprintf(&spec, "%s/../x", dir), 0);
    ck_assert_int_eq(open_fails(spec, NULL, ".."), MAILBOX_PERMFAIL);
    free(spec);
    ck_assert_int_eq(open_fails("mh:/var/mail/x", NULL, "unknown"),
                     MAILBOX_PERMFAIL);
    ck_assert_int_eq(open_fails("maildir:/var/mail/x", NULL,
                                "not compiled in"), MAILBOX_PERMFAIL);
}
END_TEST

START_TEST(in_use)
{
    int ready[2], status;
    pid_t pid;
    char c;

    unit_write_file(mbox, three, strlen(three));
    ck_assert_int_eq(pipe(ready), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(mbox, O_RDWR);

        if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(ready[1], "r", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(open_fails(mbox, NULL, "locked"), MAILBOX_INUSE);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    close(ready[0]);
    close(ready[1]);
}
END_TEST

START_TEST(drivers)
{
    struct mailbox *mb;

    ck_assert_ptr_nonnull(mailbox_driver_find("bsd"));
    ck_assert(mailbox_driver_find("bsd")->compiled);
    ck_assert_ptr_nonnull(mailbox_driver_find("empty"));
    ck_assert_ptr_nonnull(mailbox_driver_find("maildir"));
    ck_assert(!mailbox_driver_find("maildir")->compiled);
    ck_assert_ptr_null(mailbox_driver_find("mbox"));
    ck_assert_ptr_null(mailbox_driver_find(""));

    mb = open_ok("empty:");
    ck_assert_str_eq(mb->drv->name, "empty");
    ck_assert_uint_eq(mb->count, 0);
    ck_assert_int_eq(mb->drv->send(mb, 0, -1, NULL), -1);
    commit_ok(mb);
    mailbox_close(&mb);
}
END_TEST

Suite *suite_bsd(void)
{
    Suite *s = suite_create("bsd");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, open_index_send);
    tcase_add_test(tc, commit_random_deletions);
    tcase_add_test(tc, commit_edge_cases);
    tcase_add_test(tc, durable_commit);
    tcase_add_test(tc, appended_mail_survives);
    tcase_add_test(tc, changed_behind_our_back);
    tcase_add_test(tc, commit_without_journal);
    tcase_add_test(tc, commit_refused_by_existing_journal);
    tcase_add_test(tc, missing_file_is_empty);
    tcase_add_test(tc, empty_file);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, in_use);
    tcase_add_test(tc, drivers);
    suite_add_tcase(s, tc);
    return s;
}
