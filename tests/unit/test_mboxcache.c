/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_mboxcache.c: the mailspool-index cache: template expansion, reuse of
 * an unchanged mailbox without reading it, indexing only what was appended,
 * and every kind of cache that must not be trusted. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailbox.h"
#include "mboxcache.h"
#include "mboxindex.h"
#include "unit.h"

static char *dir, *mbox, *cache;

static void setup(void)
{
    dir = unit_tmpdir();
    ck_assert_int_ge(asprintf(&mbox, "%s/user", dir), 0);
    ck_assert_int_ge(asprintf(&cache, "%s/.user.idx", dir), 0);
}

static void teardown(void)
{
    unit_rmtree(dir);
    free(dir);
    free(mbox);
    free(cache);
}

/* N messages of about 1 KB, all different; the middle ones lie outside
 * the ends the verification hash covers. */
static char *make_mbox(size_t first, size_t n, size_t *len_r)
{
    size_t cap = n * 1200 + 1, len = 0;
    char *d = malloc(cap);

    ck_assert_ptr_nonnull(d);
    for (size_t i = first; i < first + n; i++) {
        len += (size_t)snprintf(d + len, cap - len,
                                "From sender%zu@example.org Mon Jan  1 "
                                "00:00:00 2024\nSubject: message %zu\n\n",
                                i, i);
        for (size_t k = 0; k < 14; k++)
            len += (size_t)snprintf(d + len, cap - len,
                                    "line %zu of message %zu, padding "
                                    "padding padding padding padding\n", k, i);
        len += (size_t)snprintf(d + len, cap - len, "\n");
    }
    *len_r = len;
    return d;
}

static struct mailbox *open_cached(bool x_uidl)
{
    struct mailbox_options o = {
        .dotlock = false, .lock_wait_ms = 0, .owner = (uid_t)-1,
        .use_x_uidl = x_uidl, .index_template = "$(path)/.$(file).idx",
    };
    struct mailbox *mb = NULL;
    char *err = NULL;

    ck_assert_int_eq(mailbox_open(mbox, &o, &mb, &err), MAILBOX_OK);
    ck_assert_ptr_null(err);
    return mb;
}

/* MB holds exactly the index of DATA, UIDLs included. */
static void same_as_full(const struct mailbox *mb, const char *data,
                         size_t len, unsigned flags)
{
    struct mbox_index idx;
    struct mailbox ref = { 0 };
    const char *err;
    char a[UIDL_MAX_LEN + 1], b[UIDL_MAX_LEN + 1];

    ck_assert_int_eq(mbox_index_build(data, len, 0, flags, &idx, &err), 0);
    ck_assert_uint_eq(mb->count, idx.count);
    ck_assert(memcmp(mb->msgs, idx.msgs, idx.count * sizeof *idx.msgs) == 0);
    ref.msgs = idx.msgs;
    ref.count = idx.count;
    ref.xuidl = idx.xuidl;
    ref.xuidl_count = idx.xuidl_count;
    ck_assert_uint_eq(mb->xuidl_count, idx.xuidl_count);
    for (size_t i = 0; i < idx.count; i++)
        ck_assert_str_eq(mailbox_uidl(mb, i, a), mailbox_uidl(&ref, i, b));
    mbox_index_free(&idx);
}

/* Overwrite the byte at OFF of the mailbox, keeping its size and mtime:
 * only a read of the data could notice. */
static void poke_keep_mtime(size_t off, char c)
{
    struct stat sb;
    struct timespec ts[2];
    int fd = open(mbox, O_WRONLY);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &sb), 0);
    ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)off), 1);
    ts[0] = sb.st_atim;
    ts[1] = sb.st_mtim;
    ck_assert_int_eq(futimens(fd, ts), 0);
    close(fd);
}

static void append(const char *s, size_t n)
{
    int fd = open(mbox, O_WRONLY | O_APPEND);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, s, n), (ssize_t)n);
    close(fd);
}

START_TEST(path_expansion)
{
    const char *err = NULL;
    char *p, longt[5000];

    p = mbox_cache_path("$(path)/.$(file).idx", "/var/mail/bob", &err);
    ck_assert_str_eq(p, "/var/mail/.bob.idx");
    free(p);
    p = mbox_cache_path("/c/$(escaped_name)", "/var/m%x/bob", &err);
    ck_assert_str_eq(p, "/c/%2fvar%2fm%25x%2fbob");
    free(p);
    p = mbox_cache_path("$(name).i$", "/m/a$b", &err);
    ck_assert_str_eq(p, "/m/a$b.i$");
    free(p);
    p = mbox_cache_path("/x$(file)$(file)", "/bob", &err);
    ck_assert_str_eq(p, "/xbobbob");
    free(p);
    p = mbox_cache_path("$(path)/i", "/bob", &err);
    ck_assert_str_eq(p, "/i");
    free(p);

    ck_assert_ptr_null(mbox_cache_path("/c/$(user)", "/var/mail/bob", &err));
    ck_assert_ptr_nonnull(strstr(err, "unknown variable"));
    ck_assert_ptr_null(mbox_cache_path("/c/$(name", "/var/mail/bob", &err));
    ck_assert_ptr_nonnull(strstr(err, "unterminated"));
    ck_assert_ptr_null(mbox_cache_path("c/$(file)", "/var/mail/bob", &err));
    ck_assert_ptr_nonnull(strstr(err, "absolute"));
    ck_assert_ptr_null(mbox_cache_path("$(file)", "/var/mail/bob", &err));
    memset(longt, 'a', sizeof longt - 1);
    longt[0] = '/';
    longt[sizeof longt - 1] = '\0';
    ck_assert_ptr_null(mbox_cache_path(longt, "/var/mail/bob", &err));
    ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

START_TEST(unchanged_not_read)
{
    size_t len, off;
    char *d = make_mbox(0, 30, &len);
    char before[UIDL_MAX_LEN + 1], now[UIDL_MAX_LEN + 1];
    struct mailbox *mb;
    struct stat sb;
    struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000000, 0 } };

    unit_write_file(mbox, d, len);
    mb = open_cached(false);
    same_as_full(mb, d, len, 0);
    ck_assert_uint_eq(mb->count, 30);
    mailbox_uidl(mb, 15, before);
    /* Inside the 512 bytes the digest covers. */
    off = mailbox_msg_from(&mb->msgs[15]) + 60;
    mailbox_close(&mb);
    ck_assert_int_eq(lstat(cache, &sb), 0);
    ck_assert(S_ISREG(sb.st_mode));
    ck_assert_uint_eq(sb.st_mode & 07777, 0600);
    ck_assert_uint_gt(off, MBOX_CACHE_VERIFY_BYTES);
    ck_assert_uint_lt(off, len - MBOX_CACHE_VERIFY_BYTES);

    /* A byte no one reads changes; the cache still says what was there. */
    poke_keep_mtime(off, '#');
    d[off] = '#';
    mb = open_cached(false);
    ck_assert_uint_eq(mb->count, 30);
    ck_assert_str_eq(mailbox_uidl(mb, 15, now), before);
    mailbox_close(&mb);

    /* Another mtime: the cache is stale, the mailbox read again. */
    ck_assert_int_eq(utimensat(AT_FDCWD, mbox, ts, 0), 0);
    mb = open_cached(false);
    ck_assert_str_ne(mailbox_uidl(mb, 15, now), before);
    same_as_full(mb, d, len, 0);
    mailbox_close(&mb);

    /* And now that it is cached again, a change at either end is seen
     * even with size and mtime kept. */
    poke_keep_mtime(len - 10, '#');
    d[len - 10] = '#';
    mb = open_cached(false);
    same_as_full(mb, d, len, 0);
    mailbox_close(&mb);
    free(d);
}
END_TEST

/* Grow a mailbox of 20 messages by APPENDED after it was cached; the
 * result is the full index of the whole, and the head is not read. */
static void grow_check(const char *tail_sep, bool drop_final_newline)
{
    size_t len, alen, off;
    char *d = make_mbox(0, 20, &len), *a = make_mbox(100, 5, &alen), *all;
    char before[UIDL_MAX_LEN + 1], now[UIDL_MAX_LEN + 1];
    struct mbox_index idx;
    struct mailbox *mb;
    struct stat sb;
    uint64_t start;
    const char *why;
    char *map;

    /* Without its final blank line the last message's end moves when
     * mail is appended; with it, the blank line becomes a separator. */
    if (drop_final_newline)
        len--;
    unit_write_file(mbox, d, len);
    mb = open_cached(false);
    same_as_full(mb, d, len, 0);
    mailbox_close(&mb);

    append(tail_sep, strlen(tail_sep));
    append(a, alen);
    all = unit_read_file(mbox, &alen);

    /* The cache gives the head and where to start. */
    ck_assert_int_eq(stat(mbox, &sb), 0);
    map = unit_read_file(mbox, &alen);
    ck_assert_int_eq(mbox_cache_load(cache, &sb, map, alen, 0, &idx, &start,
                                     &why), MBOX_CACHE_GREW);
    ck_assert_uint_eq(idx.count, 19);
    ck_assert_uint_eq(start, (uint64_t)(strstr(d, "From sender19@") - d));
    mbox_index_free(&idx);
    free(map);

    mb = open_cached(false);
    ck_assert_uint_eq(mb->count, 25);
    same_as_full(mb, all, alen, 0);
    mailbox_uidl(mb, 10, before);
    off = mailbox_msg_from(&mb->msgs[10]) + 40;
    mailbox_close(&mb);

    /* Once more, with a head byte changed behind the cache's back: the
     * head comes from the cache, so it keeps its UIDL. */
    poke_keep_mtime(off, '#');
    append("From late@example.org\n\nlate\n", 28);
    mb = open_cached(false);
    ck_assert_uint_eq(mb->count, 26);
    ck_assert_str_eq(mailbox_uidl(mb, 10, now), before);
    mailbox_close(&mb);
    free(all);
    free(a);
    free(d);
}

START_TEST(grows_after_blank_line)
{
    grow_check("", false);
}
END_TEST

START_TEST(grows_without_blank_line)
{
    /* The last message had no blank line at its end: the MDA adds one. */
    grow_check("\n", true);
}
END_TEST

START_TEST(grows_into_last_message)
{
    /* No separator at all: the appended text belongs to the last
     * message, whose size and digest change. */
    grow_check("more text of the last message\n\n", false);
}
END_TEST

/* A cache that must be ignored: a full index results, and a good cache
 * replaces the bad one. */
static void ignored(const char *d, size_t len, const char *why_has)
{
    struct mbox_index idx;
    struct mailbox *mb;
    struct stat sb;
    uint64_t start;
    const char *why;

    ck_assert_int_eq(stat(mbox, &sb), 0);
    ck_assert_int_eq(mbox_cache_load(cache, &sb, d, len, 0, &idx, &start,
                                     &why), MBOX_CACHE_MISS);
    ck_assert_ptr_null(idx.msgs);
    if (why_has)
        ck_assert_msg(strstr(why, why_has), "why \"%s\", not \"%s\"", why,
                      why_has);
    mb = open_cached(false);
    same_as_full(mb, d, len, 0);
    mailbox_close(&mb);
    ck_assert_int_eq(lstat(cache, &sb), 0);
    ck_assert(S_ISREG(sb.st_mode));
    ck_assert_int_eq(stat(mbox, &sb), 0);
    ck_assert_int_eq(mbox_cache_load(cache, &sb, d, len, 0, &idx, &start,
                                     &why), MBOX_CACHE_HIT);
    mbox_index_free(&idx);
}

START_TEST(bad_caches)
{
    size_t len, clen;
    char *d = make_mbox(0, 12, &len), *good, *other, *link;
    struct mailbox *mb;
    struct mbox_index idx;
    uint64_t start;
    const char *why;
    struct stat sb;

    unit_write_file(mbox, d, len);
    mb = open_cached(false);
    mailbox_close(&mb);
    good = unit_read_file(cache, &clen);

    /* None at all. */
    unlink(cache);
    ck_assert_int_eq(stat(mbox, &sb), 0);
    ck_assert_int_eq(mbox_cache_load(cache, &sb, d, len, 0, &idx, &start,
                                     &why), MBOX_CACHE_MISS);
    ck_assert_str_eq(why, "");

    unit_write_file(cache, "garbage", 7);
    ignored(d, len, "bad size");
    good[200] ^= 1;
    unit_write_file(cache, good, clen);
    ignored(d, len, "checksum");
    good[200] ^= 1;
    unit_write_file(cache, good, clen - 1);
    ignored(d, len, "checksum");
    good[8] = 9;    /* the version */
    unit_write_file(cache, good, clen);
    ignored(d, len, "version");
    good[8] = 1;
    memcpy(good, "XXXXXXXX", 8);
    unit_write_file(cache, good, clen);
    ignored(d, len, "not a cache");
    free(good);
    good = unit_read_file(cache, &clen);

    /* A symbolic link to a good cache. */
    ck_assert_int_ge(asprintf(&link, "%s/elsewhere", dir), 0);
    unit_write_file(link, good, clen);
    unlink(cache);
    ck_assert_int_eq(symlink(link, cache), 0);
    ignored(d, len, "symbolic link");
    free(link);

    /* Writable by others, or someone else's. */
    unit_write_file(cache, good, clen);
    ck_assert_int_eq(chmod(cache, 0620), 0);
    ignored(d, len, "owned");
    if (geteuid() == 0) {
        unit_write_file(cache, good, clen);
        ck_assert_int_eq(chown(cache, 12345, 12345), 0);
        ignored(d, len, "owned");
    }

    /* Another mailbox's (a good cache, for another inode). */
    ck_assert_int_ge(asprintf(&other, "%s/user2", dir), 0);
    ck_assert_int_eq(rename(mbox, other), 0);
    unit_write_file(mbox, d, len);
    unit_write_file(cache, good, clen);
    ignored(d, len, "another file");
    free(other);

    /* Made with other settings. */
    {
        struct mailbox *xm = open_cached(true);

        mailbox_close(&xm);
        ignored(d, len, "other settings");
    }

    /* The mailbox shrank, or was rewritten to the same size. */
    free(good);
    good = unit_read_file(cache, &clen);
    unit_write_file(mbox, d, len - 100);
    unit_write_file(cache, good, clen);
    ignored(d, len - 100, "shrank");
    unit_write_file(mbox, d, len);
    mb = open_cached(false);
    mailbox_close(&mb);
    d[5] = 'X';
    unit_write_file(mbox, d, len);
    ignored(d, len, "changed");
    free(good);
    free(d);
}
END_TEST

START_TEST(cache_write_failure_ignored)
{
    size_t len;
    char *d = make_mbox(0, 3, &len);
    struct mailbox_options o = {
        .owner = (uid_t)-1, .index_template = "/nonexistent/dir/$(file)",
    };
    struct mailbox *mb = NULL;
    char *err = NULL;

    unit_write_file(mbox, d, len);
    ck_assert_int_eq(mailbox_open(mbox, &o, &mb, &err), MAILBOX_OK);
    ck_assert_uint_eq(mb->count, 3);
    mailbox_close(&mb);
    o.index_template = "relative/$(file)";
    ck_assert_int_eq(mailbox_open(mbox, &o, &mb, &err), MAILBOX_OK);
    ck_assert_uint_eq(mb->count, 3);
    mailbox_close(&mb);
    free(d);
}
END_TEST

START_TEST(commit_removes_cache)
{
    size_t len, after;
    char *d = make_mbox(0, 6, &len), *now;
    struct mailbox *mb;

    unit_write_file(mbox, d, len);
    mb = open_cached(false);
    ck_assert_int_eq(access(cache, F_OK), 0);
    mb->msgs[2].deleted = true;
    {
        char *err = NULL;

        ck_assert_int_eq(mb->drv->commit(mb, &err), 0);
    }
    mailbox_close(&mb);
    ck_assert_int_eq(access(cache, F_OK), -1);
    mb = open_cached(false);
    ck_assert_uint_eq(mb->count, 5);
    now = unit_read_file(mbox, &after);
    same_as_full(mb, now, after, 0);
    mailbox_close(&mb);
    free(now);
    free(d);
}
END_TEST

START_TEST(x_uidl_cached)
{
    const char *m = "From a\nX-UIDL: first-id\n\none\n\n"
                    "From b\nSubject: x\n\ntwo\n\n"
                    "From c\nx-uidl:   third-id  \n\nthree\n";
    char buf[UIDL_MAX_LEN + 1];
    struct mailbox *mb;

    unit_write_file(mbox, m, strlen(m));
    mb = open_cached(true);
    ck_assert_str_eq(mailbox_uidl(mb, 0, buf), "first-id");
    ck_assert_str_eq(mailbox_uidl(mb, 2, buf), "third-id");
    mailbox_close(&mb);
    /* From the cache, the same. */
    mb = open_cached(true);
    same_as_full(mb, m, strlen(m), MBOX_INDEX_X_UIDL);
    ck_assert_str_eq(mailbox_uidl(mb, 2, buf), "third-id");
    mailbox_close(&mb);
    /* Grown, with a duplicate that must not take the value. */
    append("\nFrom d\nX-UIDL: first-id\n\nfour\n", 31);
    mb = open_cached(true);
    ck_assert_uint_eq(mb->count, 4);
    ck_assert_str_eq(mailbox_uidl(mb, 0, buf), "first-id");
    ck_assert_uint_eq(strlen(mailbox_uidl(mb, 3, buf)), 32);
    {
        size_t n;
        char *all = unit_read_file(mbox, &n);

        same_as_full(mb, all, n, MBOX_INDEX_X_UIDL);
        free(all);
    }
    mailbox_close(&mb);
}
END_TEST

Suite *suite_mboxcache(void)
{
    Suite *s = suite_create("mboxcache");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, path_expansion);
    tcase_add_test(tc, unchanged_not_read);
    tcase_add_test(tc, grows_after_blank_line);
    tcase_add_test(tc, grows_without_blank_line);
    tcase_add_test(tc, grows_into_last_message);
    tcase_add_test(tc, bad_caches);
    tcase_add_test(tc, cache_write_failure_ignored);
    tcase_add_test(tc, commit_removes_cache);
    tcase_add_test(tc, x_uidl_cached);
    suite_add_tcase(s, tc);
    return s;
}
