/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_bulletin.c: unit tests of bulletin.c: framing, message checks,
 * records, and deliveries that crash, race, fill the disk or meet a
 * malformed bulletin, each leaving exactly one copy or none. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef AUTH_GDBM
#include <gdbm.h>
#endif

#include "bulletin.h"
#include "config.h"
#include "strbuf.h"
#include "unit.h"

static const char NOTICE[] =
    "From: Postmaster <postmaster@example.org>\n"
    "Subject: Maintenance\n"
    "\n"
    "The server is down on Sunday.\n"
    "From now on, use port 995.\n";

/* ---- pure parts ---------------------------------------------------------- */

START_TEST(test_frame_mbox)
{
    const char msg[] = "Subject: x\n\nFrom here\n>From there\nFrom\nFrom  two\nend";
    struct strbuf sb;
    time_t when = 1764458286;   /* a fixed instant; the date is local time */
    char date[64];
    struct tm tm;
    char *want;

    localtime_r(&when, &tm);
    strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
    strbuf_init(&sb, 4096);
    ck_assert_int_eq(bulletin_frame("notice", "0123456789abcdef0123456789abcdef",
                                    msg, strlen(msg), when, true, &sb), 0);
    want = NULL;
    ck_assert_int_ge(asprintf(&want,
        "From MAILER-DAEMON %s\n"
        "X-Tpop3d-Bulletin: notice <0123456789abcdef0123456789abcdef>\n"
        "Subject: x\n\n>From here\n>From there\nFrom\n>From  two\nend\n\n",
        date), 0);
    ck_assert_str_eq(strbuf_str(&sb), want);
    free(want);
    strbuf_free(&sb);
}
END_TEST

START_TEST(test_frame_sendmail)
{
    const char msg[] = "Subject: x\n\nFrom here\n";
    struct strbuf sb;

    strbuf_init(&sb, 4096);
    ck_assert_int_eq(bulletin_frame("a.b", "0123456789abcdef0123456789abcdef",
                                    msg, strlen(msg), 0, false, &sb), 0);
    ck_assert_str_eq(strbuf_str(&sb),
        "X-Tpop3d-Bulletin: a.b <0123456789abcdef0123456789abcdef>\n"
        "Subject: x\n\nFrom here\n");
    strbuf_free(&sb);
    /* A maximum too small fails instead of truncating. */
    strbuf_init(&sb, 20);
    ck_assert_int_eq(bulletin_frame("a", "0123456789abcdef0123456789abcdef",
                                    msg, strlen(msg), 0, true, &sb), -1);
    strbuf_free(&sb);
}
END_TEST

static int check(const char *s, size_t len)
{
    const char *err = NULL;
    int r = bulletin_check_message(s, len, &err);

    if (r < 0)
        ck_assert_ptr_nonnull(err);
    return r;
}

START_TEST(test_check_message)
{
    static const char nul[] = "Subject: a\n\nbo\0dy\n";
    char *big;

    ck_assert_int_eq(check(NOTICE, strlen(NOTICE)), 0);
    ck_assert_int_eq(check("A: b\n\n", 6), 0);
    ck_assert_int_eq(check("A: b\n c\n\nbody", 13), 0);
    ck_assert_int_eq(check("", 0), -1);
    ck_assert_int_eq(check("\nbody\n", 6), -1);
    ck_assert_int_eq(check("Subject: no body separator\n", 27), -1);
    ck_assert_int_eq(check("Subject: x\nnot a header\n\nbody\n", 30), -1);
    ck_assert_int_eq(check(" cont: x\n\nbody\n", 15), -1);
    ck_assert_int_eq(check("From someone Sun Nov 29 2026\nA: b\n\nx\n", 37), -1);
    ck_assert_int_eq(check(": x\n\nbody\n", 10), -1);
    ck_assert_int_eq(check(nul, sizeof nul - 1), -1);
    big = malloc(2 * 1024 * 1024);
    memset(big, 'a', 2 * 1024 * 1024);
    memcpy(big, "A: b\n\n", 6);
    ck_assert_int_eq(check(big, 1024 * 1024), 0);
    ck_assert_int_eq(check(big, 1024 * 1024 + 1), -1);
    free(big);
}
END_TEST

START_TEST(test_record_values)
{
    struct bulletin_record rec = { .state = BULLETIN_PENDING, .when = 1764458286,
                                   .pid = 4242 }, back;
    char buf[128];
    const char *v;

    memcpy(rec.id, "00112233445566778899aabbccddeeff", BULLETIN_ID_LEN + 1);
    v = bulletin_record_format(&rec, buf, sizeof buf);
    ck_assert_str_eq(v, "pending 00112233445566778899aabbccddeeff 1764458286 4242");
    ck_assert_int_eq(bulletin_record_parse(v, strlen(v), &back), 0);
    ck_assert_int_eq(back.state, BULLETIN_PENDING);
    ck_assert_str_eq(back.id, rec.id);
    ck_assert_int_eq(back.when, 1764458286);
    ck_assert_int_eq(back.pid, 4242);

    v = "delivered 00112233445566778899aabbccddeeff 1 2";
    ck_assert_int_eq(bulletin_record_parse(v, strlen(v), &back), 0);
    ck_assert_int_eq(back.state, BULLETIN_DELIVERED);
    v = "unknown 00112233445566778899aabbccddeeff 1 2";
    ck_assert_int_eq(bulletin_record_parse(v, strlen(v), &back), 0);
    ck_assert_int_eq(back.state, BULLETIN_UNKNOWN);

    static const char *const bad[] = {
        "", "delivered", "sent 00112233445566778899aabbccddeeff 1 2",
        "delivered 00112233445566778899aabbccddeefF 1 2",
        "delivered 00112233445566778899aabbccddee 1 2",
        "delivered 00112233445566778899aabbccddeeff 1",
        "delivered 00112233445566778899aabbccddeeff 1 2 3",
        "delivered 00112233445566778899aabbccddeeff -1 2",
        "delivered 00112233445566778899aabbccddeeff 1 4294967297",
        "delivered 00112233445566778899aabbccddeeff 1x 2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(bulletin_record_parse(bad[i], strlen(bad[i]), &back) < 0,
                      "accepted \"%s\"", bad[i]);
    ck_assert_int_eq(bulletin_record_parse("delivered 0\0", 12, &back), -1);
}
END_TEST

START_TEST(test_config_checks)
{
    static const struct { const char *text; int ok; } cases[] = {
        { "bulletin-enable: no\nbulletin-delivery: carrier-pigeon\n", 0 },
        { "bulletin-enable: yes\nbulletin-delivery: carrier-pigeon\n", -1 },
        { "bulletin-enable: yes\nbulletin-directory: relative/dir\n", -1 },
        { "bulletin-enable: yes\nbulletin-delivery: sendmail\n"
          "bulletin-sendmail-program: sendmail\n", -1 },
#ifdef AUTH_GDBM
        { "bulletin-enable: yes\nbulletin-delivery: sendmail\n", 0 },
        { "bulletin-enable: yes\n", 0 },
#else
        { "bulletin-enable: yes\n", -1 },
#endif
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *err = NULL;
        struct config *cfg = config_parse(cases[i].text, strlen(cases[i].text),
                                          "t.conf", &err);

        ck_assert_ptr_nonnull(cfg);
        ck_assert_msg(bulletin_check_config(cfg, &err) == cases[i].ok,
                      "case %zu: %s", i, err ? err : "accepted");
        if (cases[i].ok < 0) {
            ck_assert_ptr_nonnull(strstr(err, "t.conf:"));
            free(err);
        }
        config_free(&cfg);
    }
}
END_TEST

#ifdef AUTH_GDBM

/* ---- deliveries ---------------------------------------------------------- */

struct fixture {
    char *tmp, *dir, *spool, *mbox;
    struct config *cfg;
    struct auth_result res;
};

static struct fixture fx;

static void fx_config(const char *extra)
{
    char *text, *err = NULL;

    config_free(&fx.cfg);
    ck_assert_int_ge(asprintf(&text, "bulletin-enable: yes\nbulletin-directory: %s\n"
                              "mailbox: bsd:%s/$(user)\n%s", fx.dir, fx.spool,
                              extra ? extra : ""), 0);
    fx.cfg = config_parse(text, strlen(text), "test.conf", &err);
    ck_assert_msg(fx.cfg != NULL, "%s", err ? err : "");
    free(text);
}

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    fx.tmp = unit_tmpdir();
    chmod(fx.tmp, 0755);
    ck_assert_int_ge(asprintf(&fx.dir, "%s/bulletins", fx.tmp), 0);
    ck_assert_int_ge(asprintf(&fx.spool, "%s/spool", fx.tmp), 0);
    ck_assert_int_ge(asprintf(&fx.mbox, "%s/alice", fx.spool), 0);
    ck_assert_int_eq(mkdir(fx.dir, 0755), 0);
    ck_assert_int_eq(mkdir(fx.spool, 0755), 0);
    ck_assert_int_eq(chmod(fx.spool, 01777), 0);
    /* The writer becomes the user: as root an unprivileged one. */
    fx.res.uid = geteuid() == 0 ? 65534 : getuid();
    fx.res.gid = geteuid() == 0 ? 65534 : getgid();
    fx.res.user = "alice";
    fx.res.local_part = "alice";
    fx.res.driver = "test";
    fx_config(NULL);
}

static void teardown(void)
{
    config_free(&fx.cfg);
    unit_rmtree(fx.tmp);
    free(fx.tmp);
    free(fx.dir);
    free(fx.spool);
    free(fx.mbox);
}

static void post(const char *name, const char *text)
{
    char *path, *tmp;

    ck_assert_int_ge(asprintf(&path, "%s/%s.msg", fx.dir, name), 0);
    ck_assert_int_ge(asprintf(&tmp, "%s/.new", fx.dir), 0);
    unit_write_file(tmp, text, strlen(text));
    ck_assert_int_eq(rename(tmp, path), 0);
    free(path);
    free(tmp);
}

static int deliver(void)
{
    char *err = NULL;
    int r = bulletin_deliver(fx.cfg, &fx.res, "192.0.2.1", "192.0.2.2", &err);

    free(err);
    return r;
}

static char *mailbox(size_t *len_r)
{
    char *m = unit_read_file(fx.mbox, len_r);

    ck_assert_ptr_nonnull(m);
    return m;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* The record of KEY in NAME.db, as its state; BULLETIN_NONE when absent,
 * -1 when the file does not exist. */
static int record(const char *name, const char *key)
{
    char *path;
    GDBM_FILE db;
    datum k = { .dptr = (char *)key, .dsize = (int)strlen(key) }, v;
    struct bulletin_record rec;
    int r = BULLETIN_NONE;

    ck_assert_int_ge(asprintf(&path, "%s/%s.db", fx.dir, name), 0);
    db = gdbm_open(path, 0, GDBM_READER, 0, NULL);
    free(path);
    if (!db)
        return -1;
    v = gdbm_fetch(db, k);
    if (v.dptr) {
        ck_assert_int_eq(bulletin_record_parse(v.dptr, (size_t)v.dsize, &rec), 0);
        r = (int)rec.state;
        free(v.dptr);
    }
    gdbm_close(db);
    return r;
}

/* The mailbox holds WANT copies of bulletin NAME. */
static void ck_copies(const char *name, int want)
{
    char needle[128];
    size_t len;
    char *m = mailbox(&len);

    snprintf(needle, sizeof needle, "X-Tpop3d-Bulletin: %s <", name);
    ck_assert_int_eq(count(m, needle), want);
    free(m);
}

/* A login now delivers bulletin NAME to alice: recorded, one copy. */
static void ck_delivered_once(const char *name)
{
    ck_assert_int_eq(deliver(), 0);
    ck_assert_int_eq(record(name, "alice"), BULLETIN_DELIVERED);
    ck_copies(name, 1);
}

/* Alice's mailbox holds the LEN bytes of DATA, and is hers as an MDA
 * would leave it. */
static void write_mbox(const char *data, size_t len)
{
    unit_write_file(fx.mbox, data, len);
    ck_assert_int_eq(chown(fx.mbox, fx.res.uid, fx.res.gid), 0);
}

/* NAME within the bulletin directory; allocated. */
static char *dir_path(const char *name)
{
    char *path;

    ck_assert_int_ge(asprintf(&path, "%s/%s", fx.dir, name), 0);
    return path;
}

/* Wait for the child PID, which must exit; its exit status. */
static int exit_status(pid_t pid)
{
    int status;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Run bulletin_deliver() in a child that stops dead at step AT. */
static enum bulletin_step crash_at;

static void crash_hook(enum bulletin_step s, const char *name)
{
    (void)name;
    if (s == crash_at)
        _exit(77);
}

static void deliver_crashing(enum bulletin_step at)
{
    pid_t pid;

    crash_at = at;
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        bulletin_step_hook = crash_hook;
        deliver();
        _exit(0);
    }
    ck_assert_int_eq(exit_status(pid), 77);
    /* Let a writer child whose parent died finish and let go. */
    for (int i = 0; i < 200; i++) {
        char *lock;
        struct stat st;
        int gone;

        ck_assert_int_ge(asprintf(&lock, "%s.lock", fx.mbox), 0);
        gone = lstat(lock, &st) < 0;
        free(lock);
        if (gone)
            break;
        usleep(10000);
    }
}

START_TEST(test_deliver_once_in_order)
{
    struct stat st;
    char *m, *a, *b;
    size_t len, len2;

    post("b-second", "Subject: second\n\nB body\n");
    post("a-first", NOTICE);
    ck_assert_int_eq(deliver(), 0);
    m = mailbox(&len);
    ck_assert_int_eq(count(m, "\nX-Tpop3d-Bulletin: a-first <"), 1);
    ck_assert_int_eq(count(m, "\nX-Tpop3d-Bulletin: b-second <"), 1);
    ck_assert_int_eq(strncmp(m, "From MAILER-DAEMON ", 19), 0);
    a = strstr(m, "a-first");
    b = strstr(m, "b-second");
    ck_assert(a && b && a < b);
    ck_assert_ptr_nonnull(strstr(m, "\n>From now on, use port 995.\n\nFrom MAILER-DAEMON "));
    ck_assert_int_eq(m[len - 1], '\n');
    ck_assert_int_eq(m[len - 2], '\n');
    ck_assert_int_eq(count(m, "\nFrom MAILER-DAEMON "), 1);
    /* Created as an MDA would: the user's, private. */
    ck_assert_int_eq(stat(fx.mbox, &st), 0);
    ck_assert_int_eq(st.st_uid, fx.res.uid);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(record("a-first", "alice"), BULLETIN_DELIVERED);
    ck_assert_int_eq(record("b-second", "alice"), BULLETIN_DELIVERED);
    ck_assert_int_eq(stat(fx.dir, &st), 0);
    {
        char *db;

        ck_assert_int_ge(asprintf(&db, "%s/a-first.db", fx.dir), 0);
        ck_assert_int_eq(stat(db, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        free(db);
    }

    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(deliver(), 0);
    free(mailbox(&len2));
    ck_assert_uint_eq(len2, len);
    free(m);

    /* Another user gets their own copy; the key carries the domain. */
    fx.res.user = "bob@example.org";
    fx.res.local_part = "bob";
    fx.res.domain = "example.org";
    {
        char *spec;

        ck_assert_int_ge(asprintf(&spec, "bsd:%s/bob", fx.spool), 0);
        fx.res.mailbox = spec;
        ck_assert_int_eq(deliver(), 0);
        fx.res.mailbox = NULL;
        free(spec);
    }
    ck_assert_int_eq(record("a-first", "bob@example.org"), BULLETIN_DELIVERED);
    ck_assert_int_eq(record("a-first", "alice"), BULLETIN_DELIVERED);
}
END_TEST

START_TEST(test_append_keeps_existing_mail)
{
    static const char old[] = "From someone Sat Nov 28 10:00:00 2026\n"
                              "Subject: old\n\nno blank line after me";
    char *m;
    size_t len;

    write_mbox(old, strlen(old));
    post("n", NOTICE);
    ck_assert_int_eq(deliver(), 0);
    m = mailbox(&len);
    ck_assert_int_eq(memcmp(m, old, strlen(old)), 0);
    ck_assert_int_eq(strncmp(m + strlen(old), "\n\nFrom MAILER-DAEMON ", 20), 0);
    free(m);
}
END_TEST

START_TEST(test_crash_between_append_and_record)
{
    post("n", NOTICE);
    deliver_crashing(BULLETIN_STEP_APPENDED);
    ck_assert_int_eq(record("n", "alice"), BULLETIN_PENDING);
    ck_copies("n", 1);
    ck_delivered_once("n");
}
END_TEST

START_TEST(test_crash_before_append)
{
    size_t len;

    post("n", NOTICE);
    deliver_crashing(BULLETIN_STEP_PENDING);
    ck_assert_int_eq(record("n", "alice"), BULLETIN_PENDING);
    ck_assert_int_eq(access(fx.mbox, F_OK) == 0 ? (free(mailbox(&len)), (int)len) : 0, 0);
    ck_delivered_once("n");
}
END_TEST

START_TEST(test_writer_dies_after_append)
{
    post("n", NOTICE);
    crash_at = BULLETIN_STEP_WRITTEN;
    bulletin_step_hook = crash_hook;
    ck_assert_int_eq(deliver(), -1);
    bulletin_step_hook = NULL;
    ck_assert_int_eq(record("n", "alice"), BULLETIN_PENDING);
    /* It died holding its dotlock: make it as old as a stale one is. */
    {
        char *lock;
        struct timespec old[2] = { { .tv_sec = time(NULL) - 60 },
                                   { .tv_sec = time(NULL) - 60 } };

        ck_assert_int_ge(asprintf(&lock, "%s.lock", fx.mbox), 0);
        ck_assert_int_eq(utimensat(AT_FDCWD, lock, old, AT_SYMLINK_NOFOLLOW), 0);
        free(lock);
    }
    ck_delivered_once("n");
}
END_TEST

START_TEST(test_mailbox_changes_in_between)
{
    static const char other[] = "From x Sat Nov 28 10:00:00 2026\nSubject: o\n\nbody\n\n";
    char *m, *moved;
    size_t len;

    write_mbox(other, strlen(other));
    post("n", NOTICE);
    deliver_crashing(BULLETIN_STEP_APPENDED);
    /* Meanwhile: the earlier message deleted, new mail delivered, and the
     * bulletin edited (a new ID). */
    m = mailbox(&len);
    ck_assert_uint_gt(len, strlen(other));
    moved = malloc(len + sizeof other);
    memcpy(moved, m + strlen(other), len - strlen(other));
    memcpy(moved + len - strlen(other), other, strlen(other));
    write_mbox(moved, len);
    free(moved);
    free(m);
    post("n", "Subject: edited\n\nnew text\n");
    ck_assert_int_eq(deliver(), 0);
    ck_assert_int_eq(record("n", "alice"), BULLETIN_DELIVERED);
    m = mailbox(&len);
    ck_assert_int_eq(count(m, "X-Tpop3d-Bulletin: n <"), 1);
    ck_assert_ptr_null(strstr(m, "new text"));
    ck_assert_int_eq(count(m, "Subject: o\n"), 1);
    free(m);
}
END_TEST

/* Widens the window between the pending record and the append, where a
 * second login without the mailbox lock would append a second copy. */
static void slow_hook(enum bulletin_step s, const char *name)
{
    (void)name;
    if (s == BULLETIN_STEP_PENDING)
        usleep(30000);
}

START_TEST(test_concurrent_logins)
{
    enum { N = 6 };
    pid_t pids[N];
    int go[2];

    post("a", NOTICE);
    post("b", "Subject: b\n\nsecond\n");
    ck_assert_int_eq(pipe(go), 0);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            char c;

            close(go[1]);
            bulletin_step_hook = slow_hook;
            if (read(go[0], &c, 1) < 0)
                _exit(3);
            _exit(deliver() == 0 ? 0 : 1);
        }
    }
    close(go[0]);
    close(go[1]);           /* everyone starts at once */
    /* A login that met the lock busy may give up; none may fail else. */
    for (int i = 0; i < N; i++)
        ck_assert_int_le(exit_status(pids[i]), 1);
    ck_assert_int_eq(deliver(), 0);
    ck_copies("a", 1);
    ck_copies("b", 1);
}
END_TEST

START_TEST(test_many_users_at_once)
{
    enum { N = 12 };
    pid_t pids[N];
    int go[2];

    post("storm", NOTICE);
    ck_assert_int_eq(pipe(go), 0);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            char user[32], *spec, c;

            snprintf(user, sizeof user, "user%d", i);
            if (asprintf(&spec, "bsd:%s/%s", fx.spool, user) < 0)
                _exit(3);
            fx.res.user = fx.res.local_part = user;
            fx.res.mailbox = spec;
            close(go[1]);
            if (read(go[0], &c, 1) < 0)
                _exit(3);
            _exit(deliver() == 0 ? 0 : 1);
        }
    }
    close(go[0]);
    close(go[1]);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(exit_status(pids[i]), 0);
    for (int i = 0; i < N; i++) {
        char user[32], *path, *m;
        size_t len;

        snprintf(user, sizeof user, "user%d", i);
        ck_assert_int_eq(record("storm", user), BULLETIN_DELIVERED);
        ck_assert_int_ge(asprintf(&path, "%s/%s", fx.spool, user), 0);
        m = unit_read_file(path, &len);
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(count(m, "X-Tpop3d-Bulletin: storm <"), 1);
        free(m);
        free(path);
    }
    ck_assert_int_eq(record("storm", "alice"), BULLETIN_NONE);
}
END_TEST

START_TEST(test_malformed_skipped)
{
    char *path, *m, *big;
    size_t len;

    post("1-empty", "");
    post("2-noheader", "just text\nno header\n");
    post("3-nosep", "Subject: x\n");
    path = dir_path("4-nul.msg");
    unit_write_file(path, "Subject: x\n\na\0b\n", 15);
    free(path);
    big = malloc(1024 * 1024 + 2);
    memset(big, 'x', 1024 * 1024 + 1);
    memcpy(big, "Subject: big\n\n", 14);
    big[1024 * 1024 + 1] = '\0';
    post("5-big", big);
    free(big);
    path = dir_path("6-link.msg");
    ck_assert_int_eq(symlink("/etc/passwd", path), 0);
    free(path);
    path = dir_path("7-dir.msg");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    free(path);
    path = dir_path("README");
    unit_write_file(path, NOTICE, strlen(NOTICE));
    free(path);
    path = dir_path("8-good.msg~");
    unit_write_file(path, NOTICE, strlen(NOTICE));
    free(path);
    post("9-good", NOTICE);

    ck_assert_int_eq(deliver(), 0);
    m = mailbox(&len);
    ck_assert_int_eq(count(m, "\nFrom MAILER-DAEMON ") + (m[0] == 'F'), 1);
    ck_assert_int_eq(count(m, "X-Tpop3d-Bulletin: 9-good <"), 1);
    free(m);
    static const char *const bad[] = { "1-empty", "2-noheader", "3-nosep",
                                       "4-nul", "5-big", "6-link", "7-dir" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(record(bad[i], "alice") == -1, "%s recorded", bad[i]);
    /* Fixed, it is delivered at the next login. */
    post("3-nosep", "Subject: x\n\n");
    ck_assert_int_eq(deliver(), 0);
    ck_assert_int_eq(record("3-nosep", "alice"), BULLETIN_DELIVERED);
}
END_TEST

/* In the writer child, once it holds the mailbox: room for a part of the
 * copy only, as on a full disk or over quota. */
static void small_disk_hook(enum bulletin_step s, const char *name)
{
    struct stat st;

    (void)name;
    if (s == BULLETIN_STEP_LOCKED && stat(fx.mbox, &st) == 0) {
        struct rlimit rl = { .rlim_cur = (rlim_t)st.st_size + 40,
                             .rlim_max = (rlim_t)st.st_size + 40 };

        setrlimit(RLIMIT_FSIZE, &rl);
    }
}

START_TEST(test_full_disk_leaves_mailbox_alone)
{
    static const char old[] = "From x Sat Nov 28 10:00:00 2026\nSubject: o\n\nbody\n\n";
    char *m;
    size_t len;
    pid_t pid;

    write_mbox(old, strlen(old));
    post("n", NOTICE);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        bulletin_step_hook = small_disk_hook;
        _exit(deliver() == -1 ? 0 : 1);
    }
    ck_assert_int_eq(exit_status(pid), 0);
    m = mailbox(&len);
    ck_assert_uint_eq(len, strlen(old));
    ck_assert_int_eq(memcmp(m, old, len), 0);
    free(m);
    ck_assert_int_ne(record("n", "alice"), BULLETIN_DELIVERED);
    /* Room again: delivered once. */
    ck_assert_int_eq(deliver(), 0);
    m = mailbox(&len);
    ck_assert_int_eq(count(m, "X-Tpop3d-Bulletin: n <"), 1);
    ck_assert_int_eq(memcmp(m, old, strlen(old)), 0);
    free(m);
}
END_TEST

START_TEST(test_new_and_removed_bulletins)
{
    char *m, *path;
    size_t len, len2;

    post("a", NOTICE);
    ck_assert_int_eq(deliver(), 0);
    post("b", "Subject: b\n\nlater\n");
    ck_assert_int_eq(deliver(), 0);
    m = mailbox(&len);
    ck_assert_int_eq(count(m, "X-Tpop3d-Bulletin: b <"), 1);
    free(m);
    /* Removed before this user logged in: never delivered to them. */
    post("c", "Subject: c\n\nwithdrawn\n");
    path = dir_path("c.msg");
    ck_assert_int_eq(unlink(path), 0);
    free(path);
    ck_assert_int_eq(deliver(), 0);
    m = mailbox(&len2);
    ck_assert_uint_eq(len2, len);
    ck_assert_ptr_null(strstr(m, "withdrawn"));
    free(m);
}
END_TEST

START_TEST(test_refusals)
{
    char *err = NULL;

    post("a", NOTICE);
    /* Only a bsd mailbox can be appended to. */
    fx.res.mailbox = "empty:";
    ck_assert_int_eq(bulletin_deliver(fx.cfg, &fx.res, NULL, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "bsd"));
    free(err);
    fx.res.mailbox = NULL;
    ck_assert_int_eq(record("a", "alice"), -1);
    /* A mailbox that is a symbolic link. */
    ck_assert_int_eq(symlink("/etc/passwd", fx.mbox), 0);
    ck_assert_int_eq(deliver(), -1);
    ck_assert_int_eq(unlink(fx.mbox), 0);
    ck_assert_int_ne(record("a", "alice"), BULLETIN_DELIVERED);
    /* A directory anyone may write to. */
    ck_assert_int_eq(chmod(fx.dir, 0777), 0);
    ck_assert_int_eq(bulletin_deliver(fx.cfg, &fx.res, NULL, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "writable"));
    free(err);
    ck_assert_int_eq(chmod(fx.dir, 0755), 0);
    /* A name that would be an option to sendmail, or two words. */
    fx.res.user = fx.res.local_part = "-oQ/tmp";
    ck_assert_int_eq(deliver(), -1);
    fx.res.user = fx.res.local_part = "two words";
    ck_assert_int_eq(deliver(), -1);
    fx.res.user = fx.res.local_part = "alice";
    /* No directory: nothing posted. */
    unit_rmtree(fx.dir);
    ck_assert_int_eq(deliver(), 0);
}
END_TEST

/* A sendmail program that logs its arguments and input, then exits with
 * the status in FX.tmp/status (0 when missing). */
static char *fake_sendmail(void)
{
    char *prog, *script;

    ck_assert_int_ge(asprintf(&prog, "%s/sendmail", fx.tmp), 0);
    ck_assert_int_ge(asprintf(&script,
        "#!/bin/sh\n"
        "d=%s\n"
        "n=$(ls $d | grep -c '^call')\n"
        "printf '%%s\\n' \"$@\" > $d/call$n.argv\n"
        "env > $d/call$n.env\n"
        "cat > $d/call$n.in\n"
        "[ -f $d/status ] && exit $(cat $d/status)\n"
        "exit 0\n", fx.tmp), 0);
    unit_write_file(prog, script, strlen(script));
    ck_assert_int_eq(chmod(prog, 0755), 0);
    free(script);
    return prog;
}

/* Deliver through the program PROG. */
static void sendmail_config(const char *prog)
{
    char *extra;

    ck_assert_int_ge(asprintf(&extra, "bulletin-delivery: sendmail\n"
                              "bulletin-sendmail-program: %s\n", prog), 0);
    fx_config(extra);
    free(extra);
}

/* What the fake sendmail's first call wrote to FX.tmp/call0.WHAT;
 * allocated. */
static char *first_call(const char *what)
{
    char *p, *text;
    size_t len;

    ck_assert_int_ge(asprintf(&p, "%s/call0.%s", fx.tmp, what), 0);
    text = unit_read_file(p, &len);
    ck_assert_msg(text != NULL, "cannot read %s", p);
    free(p);
    return text;
}

static int calls(void)
{
    int n = 0;

    for (int i = 0; i < 100; i++) {
        char *p;

        ck_assert_int_ge(asprintf(&p, "%s/call%d.argv", fx.tmp, i), 0);
        if (access(p, F_OK) == 0)
            n++;
        free(p);
    }
    return n;
}

START_TEST(test_sendmail)
{
    char *prog = fake_sendmail(), *p, *in, *argv, *env;

    sendmail_config(prog);
    fx.res.user = "alice@example.org";
    fx.res.domain = "example.org";
    post("n", NOTICE);
    ck_assert_int_eq(deliver(), 0);
    ck_assert_int_eq(calls(), 1);
    argv = first_call("argv");
    ck_assert_str_eq(argv, "-oi\n-f\nMAILER-DAEMON\n--\nalice@example.org\n");
    in = first_call("in");
    ck_assert_int_eq(strncmp(in, "X-Tpop3d-Bulletin: n <", 22), 0);
    ck_assert_str_eq(strchr(in, '\n') + 1, NOTICE);
    env = first_call("env");
    ck_assert_ptr_null(strstr(env, "HOME="));
    ck_assert_ptr_nonnull(strstr(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
    ck_assert_int_eq(record("n", "alice@example.org"), BULLETIN_DELIVERED);
    ck_assert_int_eq(deliver(), 0);
    ck_assert_int_eq(calls(), 1);
    free(argv);
    free(in);
    free(env);

    /* Refused: not recorded, tried again at the next login. */
    post("o", "Subject: o\n\nsecond\n");
    ck_assert_int_ge(asprintf(&p, "%s/status", fx.tmp), 0);
    unit_write_file(p, "75\n", 3);
    ck_assert_int_eq(deliver(), -1);
    ck_assert_int_eq(calls(), 2);
    ck_assert_int_eq(record("o", "alice@example.org"), BULLETIN_NONE);
    ck_assert_int_eq(unlink(p), 0);
    free(p);
    ck_assert_int_eq(deliver(), 0);
    ck_assert_int_eq(calls(), 3);
    ck_assert_int_eq(record("o", "alice@example.org"), BULLETIN_DELIVERED);

    /* Interrupted after the hand-over: never sent twice. */
    post("p", "Subject: p\n\nthird\n");
    deliver_crashing(BULLETIN_STEP_APPENDED);
    ck_assert_int_eq(calls(), 4);
    ck_assert_int_eq(record("p", "alice@example.org"), BULLETIN_PENDING);
    ck_assert_int_eq(deliver(), 0);
    ck_assert_int_eq(calls(), 4);
    ck_assert_int_eq(record("p", "alice@example.org"), BULLETIN_UNKNOWN);
    free(prog);
}
END_TEST

/* The sendmail program reads its recipient as a list of addresses: a name
 * that would add another recipient (or a comment, a route, a group) is
 * refused before the program runs; a plain one goes through. */
START_TEST(test_sendmail_recipient_characters)
{
    static const char *const bad_local[] = {
        "alice,root", "alice;root", "alice<root>", "alice(x)", "a\"b",
        "a\\b", "a:b", "a[b]", "a@b@c", "a b", "a\tb", "@alice",
    };
    static const char *const bad_domain[] = {
        "example.org,evil.example", "example.org>", "ex_ample.org",
        "[192.0.2.1]", "example.org;x",
    };
    char *prog = fake_sendmail();

    sendmail_config(prog);
    post("n", NOTICE);
    fx.res.domain = NULL;
    for (size_t i = 0; i < sizeof bad_local / sizeof bad_local[0]; i++) {
        char *err = NULL;

        fx.res.user = fx.res.local_part = (char *)bad_local[i];
        ck_assert_msg(bulletin_deliver(fx.cfg, &fx.res, NULL, NULL, &err) == -1,
                      "%s accepted", bad_local[i]);
        ck_assert_ptr_nonnull(strstr(err, "unusable as a mail address"));
        free(err);
    }
    fx.res.user = fx.res.local_part = "alice";
    for (size_t i = 0; i < sizeof bad_domain / sizeof bad_domain[0]; i++) {
        fx.res.domain = (char *)bad_domain[i];
        ck_assert_msg(deliver() == -1, "%s accepted", bad_domain[i]);
    }
    ck_assert_int_eq(calls(), 0);
    /* Every allowed character, in both parts. */
    fx.res.user = fx.res.local_part = "Al.ice_x+y=z-9";
    fx.res.domain = "Mail-1.example.org";
    ck_assert_int_eq(deliver(), 0);
    ck_assert_int_eq(calls(), 1);
    ck_assert_int_eq(record("n", "Al.ice_x+y=z-9@Mail-1.example.org"),
                     BULLETIN_DELIVERED);
    free(prog);
}
END_TEST

#endif /* AUTH_GDBM */

Suite *suite_bulletin(void)
{
    Suite *s = suite_create("bulletin");
    TCase *tc = tcase_create("message");

    tcase_add_test(tc, test_frame_mbox);
    tcase_add_test(tc, test_frame_sendmail);
    tcase_add_test(tc, test_check_message);
    tcase_add_test(tc, test_record_values);
    tcase_add_test(tc, test_config_checks);
    suite_add_tcase(s, tc);
#ifdef AUTH_GDBM
    tc = tcase_create("delivery");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_deliver_once_in_order);
    tcase_add_test(tc, test_append_keeps_existing_mail);
    tcase_add_test(tc, test_crash_between_append_and_record);
    tcase_add_test(tc, test_crash_before_append);
    tcase_add_test(tc, test_writer_dies_after_append);
    tcase_add_test(tc, test_mailbox_changes_in_between);
    tcase_add_test(tc, test_concurrent_logins);
    tcase_add_test(tc, test_many_users_at_once);
    tcase_add_test(tc, test_malformed_skipped);
    tcase_add_test(tc, test_full_disk_leaves_mailbox_alone);
    tcase_add_test(tc, test_new_and_removed_bulletins);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_sendmail);
    tcase_add_test(tc, test_sendmail_recipient_characters);
    suite_add_tcase(s, tc);
#endif
    return s;
}
