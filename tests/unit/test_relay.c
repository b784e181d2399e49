/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_relay.c: unit tests of relay.c: addresses, the export format, the
 * grant database (expiry, pruning, concurrent writers) and the export. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"
#include "strbuf.h"
#include "unit.h"

static char *dir;
/* The database's directory and file within DIR, as cfg_with names them. */
static char *db_dir, *db_path;

static char *path_in(const char *name)
{
    char *p;

    ck_assert_int_ge(asprintf(&p, "%s/%s", dir, name), 0);
    return p;
}

static void setup(void)
{
    dir = unit_tmpdir();
    db_dir = path_in("db");
    db_path = path_in("db/relay.db");
}

static void teardown(void)
{
    unit_rmtree(dir);
    free(dir);
    free(db_dir);
    free(db_path);
    dir = db_dir = db_path = NULL;
}

/* A config with the database in the test directory, LIFETIME seconds, and
 * the extra directives EXTRA (may be ""); grants enabled when compiled in. */
static struct config *cfg_with(long lifetime, const char *extra)
{
    struct config *cfg;
    char *text, *err = NULL;

    ck_assert_int_ge(asprintf(&text,
                              "relay-grant-enable: %s\n"
                              "relay-grant-database: %s/db/relay.db\n"
                              "relay-grant-lifetime: %ld\n%s",
                              relay_available() ? "yes" : "no",
                              dir, lifetime, extra), 0);
    cfg = config_parse(text, strlen(text), "test.conf", &err);
    ck_assert_msg(cfg != NULL, "config: %s", err ? err : "?");
    free(text);
    return cfg;
}

/* cfg_with, the extra directives printed from FMT. */
static struct config *__attribute__((format(printf, 2, 3)))
cfg_withf(long lifetime, const char *fmt, ...)
{
    struct config *cfg;
    char *extra;
    va_list ap;

    va_start(ap, fmt);
    ck_assert_int_ge(vasprintf(&extra, fmt, ap), 0);
    va_end(ap);
    cfg = cfg_with(lifetime, extra);
    free(extra);
    return cfg;
}

static void grant_ok(const struct config *cfg, const char *addr,
                     const char *user, time_t now)
{
    char *err = NULL;
    int rc = relay_grant_at(cfg, addr, user, now, &err);

    ck_assert_msg(rc == 0, "grant %s: %s", addr, err ? err : "?");
}

/* The live grants at NOW as "addr user time;" ... */
static char *listing(const struct config *cfg, time_t now)
{
    struct relay_entry *e;
    struct strbuf sb;
    char *err = NULL;
    size_t n;

    ck_assert_msg(relay_list(cfg, now, &e, &n, &err) == 0, "list: %s",
                  err ? err : "?");
    strbuf_init(&sb, 1 << 20);
    for (size_t i = 0; i < n; i++)
        strbuf_appendf(&sb, "%s %s %lld;", e[i].addr, e[i].user,
                       (long long)e[i].time);
    relay_entries_free(&e, n);
    return strbuf_detach(&sb);
}

#define ck_listing(cfg, now, want) do { \
        char *got_ = listing(cfg, now); \
        ck_assert_str_eq(got_, want); \
        free(got_); \
    } while (0)

/* The database tests' usual config: grants live 1800 s, no export. */
static struct config *db_cfg;

static void setup_db(void)
{
    setup();
    db_cfg = cfg_with(1800, "");
}

static void teardown_db(void)
{
    config_free(&db_cfg);
    teardown();
}

/* ---- addresses -------------------------------------------------------- */

static void ck_canon(const char *in, const char *want)
{
    char buf[RELAY_ADDR_MAX];

    if (!want) {
        ck_assert_msg(relay_canonical_addr(in, buf, sizeof buf) == -1,
                      "%s accepted as %s", in, buf);
        return;
    }
    ck_assert_msg(relay_canonical_addr(in, buf, sizeof buf) == 0, "%s refused", in);
    ck_assert_str_eq(buf, want);
}

START_TEST(canonical_addresses)
{
    ck_canon("127.0.0.1", "127.0.0.1");
    ck_canon("192.0.2.255", "192.0.2.255");
    ck_canon("::1", "::1");
    ck_canon("2001:DB8:0:0:0:0:0:1", "2001:db8::1");
    ck_canon("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
    ck_canon("::ffff:192.0.2.7", "192.0.2.7");
    ck_canon("::FFFF:c000:0207", "192.0.2.7");
    ck_canon("fe80::1%eth0", "fe80::1");
    ck_canon("::", "::");
    ck_canon("", NULL);
    ck_canon("1.2.3", NULL);
    ck_canon("1.2.3.4.5", NULL);
    ck_canon("256.1.1.1", NULL);
    ck_canon("mail.example.org", NULL);
    ck_canon("1.2.3.4%eth0", NULL);
    ck_canon("::1%", NULL);
    ck_canon("[::1]", NULL);
    ck_canon(" 127.0.0.1", NULL);
    ck_canon("127.0.0.1 ", NULL);
    ck_canon("2001:db8::1::2", NULL);
    ck_canon("0000:0000:0000:0000:0000:0000:0000:0000:0000", NULL);
}
END_TEST

/* ---- the format ------------------------------------------------------- */

START_TEST(format_check)
{
    static const char *const good[] = {
        "%i OK", "%i", "%i %u %t %%", "%%%i%%", "[%i] %u@%t",
    };
    static const struct { const char *fmt, *why; } bad[] = {
        { "%x OK", "unknown escape %x" },
        { "%i %I", "unknown escape %I" },
        { "%i %", "a lone %" },
        { "%i %\001", "unknown escape after %" },
        { "%u OK", "has no %i" },
        { "", "has no %i" },
        { "%%i", "has no %i" },
    };

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *err = NULL;

        ck_assert_msg(relay_format_check(good[i], &err) == 0, "%s: %s", good[i],
                      err ? err : "");
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *err = NULL;

        ck_assert_msg(relay_format_check(bad[i].fmt, &err) == -1, "%s accepted",
                      bad[i].fmt);
        ck_assert_msg(strstr(err, bad[i].why) != NULL, "%s: %s", bad[i].fmt, err);
        free(err);
    }
}
END_TEST

START_TEST(format_expand)
{
    char user[] = "al ice\n\x7f\xe9x";
    struct relay_entry e = { .addr = "192.0.2.1", .user = user, .time = 1234567890 };
    struct strbuf sb;

    strbuf_init(&sb, 1024);
    ck_assert_int_eq(relay_format_expand("%i|%u|%t|%%|x%%i", &e, &sb), 0);
    ck_assert_str_eq(strbuf_str(&sb), "192.0.2.1|al?ice???x|1234567890|%|x%i");
    /* A bad escape or a full buffer leaves what was there. */
    ck_assert_int_eq(relay_format_expand("%i %q", &e, &sb), -1);
    ck_assert_str_eq(strbuf_str(&sb), "192.0.2.1|al?ice???x|1234567890|%|x%i");
    strbuf_free(&sb);
    strbuf_init(&sb, 12);
    ck_assert_int_eq(relay_format_expand("%i", &e, &sb), 0);
    ck_assert_int_eq(relay_format_expand(" %i", &e, &sb), -1);
    ck_assert_str_eq(strbuf_str(&sb), "192.0.2.1");
    strbuf_free(&sb);
}
END_TEST

/* ---- configuration ---------------------------------------------------- */

static void ck_config_error(const char *extra, const char *want)
{
    struct config *cfg = cfg_with(1800, extra);
    char *err = NULL;

    ck_assert_msg(relay_check_config(cfg, &err) == -1, "accepted: %s", extra);
    ck_assert_msg(strstr(err, want) != NULL, "%s: got %s, want %s", extra, err, want);
    free(err);
    config_free(&cfg);
}

START_TEST(config_checks)
{
    struct config *cfg = cfg_with(1800, "relay-grant-export: /tmp/x\n"
                                  "relay-grant-export-format: %i %u %t\n"
                                  "relay-grant-export-command: /bin/true a b\n");
    char *err = NULL;

    ck_assert_msg(relay_check_config(cfg, &err) == 0, "%s", err ? err : "");
    config_free(&cfg);
    ck_config_error("relay-grant-export-format: %i %x\n",
                    "test.conf:4: relay-grant-export-format: unknown escape %x");
    ck_config_error("relay-grant-export: relative/map\n",
                    "test.conf:4: relay-grant-export: must be an absolute path");
    ck_config_error("relay-grant-export: /tmp/x\nrelay-grant-export-command: postmap x\n",
                    "test.conf:5: relay-grant-export-command: the program must be "
                    "an absolute path");
    ck_config_error("relay-grant-export-command: /usr/sbin/postmap x\n",
                    "test.conf:4: relay-grant-export-command: is set but "
                    "relay-grant-export is not");
}
END_TEST

START_TEST(without_gdbm)
{
    static const char text[] = "relay-grant-enable: yes\n";
    struct config *cfg;
    char *err = NULL;

    if (relay_available())
        return;
    cfg = config_parse(text, strlen(text), "test.conf", &err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(relay_check_config(cfg, &err), -1);
    ck_assert_str_eq(err, "test.conf:1: relay-grant-enable: relay grants are not "
                          "compiled in (tpop3d was built without GDBM)");
    free(err);
    err = NULL;
    ck_assert_int_eq(relay_grant(cfg, "127.0.0.1", "u", &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "built without GDBM"));
    free(err);
    config_free(&cfg);
}
END_TEST

/* ---- the database ----------------------------------------------------- */

START_TEST(grant_list_expire)
{
    char *lock = path_in("db/relay.db.lock"), *err = NULL;
    struct stat st;
    size_t removed = 99;

    /* No database yet: no grants, and nothing created by reading. */
    ck_listing(db_cfg, 1000, "");
    ck_assert_int_eq(stat(db_dir, &st), -1);

    grant_ok(db_cfg, "192.0.2.1", "alice", 1000);
    grant_ok(db_cfg, "192.0.2.2", "bob", 1500);
    ck_assert_int_eq(stat(db_dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0750);
    ck_assert_int_eq(stat(db_path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(stat(lock, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);

    ck_listing(db_cfg, 2000, "192.0.2.1 alice 1000;192.0.2.2 bob 1500;");
    /* alice's grant ends 1800 s after it was made. */
    ck_listing(db_cfg, 2799, "192.0.2.1 alice 1000;192.0.2.2 bob 1500;");
    ck_listing(db_cfg, 2800, "192.0.2.2 bob 1500;");
    /* Listing deletes nothing; expiring does. */
    ck_listing(db_cfg, 1001, "192.0.2.1 alice 1000;192.0.2.2 bob 1500;");
    ck_assert_int_eq(relay_expire(db_cfg, 2800, &removed, &err), 0);
    ck_assert_uint_eq(removed, 1);
    ck_listing(db_cfg, 1001, "192.0.2.2 bob 1500;");
    /* A renewal replaces the grant. */
    grant_ok(db_cfg, "192.0.2.2", "carol", 1600);
    ck_listing(db_cfg, 1601, "192.0.2.2 carol 1600;");
    ck_assert_int_eq(relay_expire(db_cfg, 5000, &removed, &err), 0);
    ck_assert_uint_eq(removed, 1);
    ck_listing(db_cfg, 1601, "");

    ck_assert_int_eq(relay_grant_at(db_cfg, "mail.example.org", "x", 1000, &err), -1);
    ck_assert_str_eq(err, "no relay grant: mail.example.org is not a numeric address");
    free(err);
    err = NULL;
    ck_assert_int_eq(relay_grant_at(db_cfg, "192.0.2.9", "", 1000, &err), -1);
    free(err);
    free(lock);
}
END_TEST

START_TEST(ipv6_and_mapped)
{
    grant_ok(db_cfg, "2001:DB8::1", "six", 1000);
    grant_ok(db_cfg, "::ffff:10.0.0.2", "mapped", 1000);
    grant_ok(db_cfg, "9.0.0.1", "nine", 1000);
    grant_ok(db_cfg, "::1", "loop", 1000);
    grant_ok(db_cfg, "fe80::5%lo", "zone", 1000);
    /* Sorted numerically, IPv4 first. */
    ck_listing(db_cfg, 1000, "9.0.0.1 nine 1000;10.0.0.2 mapped 1000;::1 loop 1000;"
                             "2001:db8::1 six 1000;fe80::5 zone 1000;");
    /* The mapped and plain forms are one client. */
    grant_ok(db_cfg, "10.0.0.2", "plain", 1001);
    grant_ok(db_cfg, "2001:db8:0::1", "six2", 1001);
    ck_listing(db_cfg, 1001, "9.0.0.1 nine 1000;10.0.0.2 plain 1001;::1 loop 1000;"
                             "2001:db8::1 six2 1001;fe80::5 zone 1000;");
}
END_TEST

START_TEST(prune_interval)
{
    struct config *cfg = cfg_with(5, "");

    grant_ok(cfg, "192.0.2.1", "x", 1000);   /* prunes: first grant */
    grant_ok(cfg, "192.0.2.2", "y", 1030);   /* x expired, but too soon */
    ck_listing(cfg, 1001, "192.0.2.1 x 1000;");
    grant_ok(cfg, "192.0.2.3", "z", 1061);   /* 61 s since the last prune */
    ck_listing(cfg, 1001, "");
    ck_listing(cfg, 1061, "192.0.2.3 z 1061;");
    config_free(&cfg);
}
END_TEST

START_TEST(damaged_database)
{
    char *aside = path_in("db/relay.db.damaged"), *err = NULL;
    struct stat st;

    ck_assert_int_eq(mkdir(db_dir, 0750), 0);
    unit_write_file(db_path, "this is no GDBM file, just text\n", 32);
    ck_assert_int_eq(relay_grant_at(db_cfg, "192.0.2.1", "alice", 1000, &err), -1);
    ck_assert_msg(strstr(err, "moved aside to") && strstr(err, "relay.db.damaged"),
                  "%s", err);
    free(err);
    err = NULL;
    ck_assert_int_eq(stat(aside, &st), 0);
    ck_assert_int_eq(st.st_size, 32);
    /* The grant went into the new database, and the next one is quiet. */
    ck_listing(db_cfg, 1000, "192.0.2.1 alice 1000;");
    grant_ok(db_cfg, "192.0.2.2", "bob", 1001);
    ck_listing(db_cfg, 1001, "192.0.2.1 alice 1000;192.0.2.2 bob 1001;");
    /* A reader does not replace anything: it reports the problem. */
    unit_write_file(db_path, "garbage again, longer than a header would be......", 50);
    ck_assert_int_eq(relay_list(db_cfg, 1000, &(struct relay_entry *){ NULL },
                                &(size_t){ 0 }, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    free(err);
    free(aside);
}
END_TEST

/* ---- the export ------------------------------------------------------- */

static char *read_text(const char *path)
{
    size_t len;
    char *t = unit_read_file(path, &len);

    ck_assert_msg(t != NULL, "cannot read %s", path);
    return t;
}

/* An executable file at PATH printed from FMT. */
static void __attribute__((format(printf, 2, 3)))
write_script(const char *path, const char *fmt, ...)
{
    char *text;
    va_list ap;

    va_start(ap, fmt);
    ck_assert_int_ge(vasprintf(&text, fmt, ap), 0);
    va_end(ap);
    unit_write_file(path, text, strlen(text));
    ck_assert_int_eq(chmod(path, 0755), 0);
    free(text);
}

/* PATH holds exactly WANT. */
static void ck_file(const char *path, const char *want)
{
    char *t = read_text(path);

    ck_assert_str_eq(t, want);
    free(t);
}

static size_t count_entries(const char *d)
{
    DIR *dp = opendir(d);
    struct dirent *de;
    size_t n = 0;

    ck_assert_ptr_nonnull(dp);
    while ((de = readdir(dp)))
        if (de->d_name[0] != '.' || (de->d_name[1] && strcmp(de->d_name, "..")))
            n++;
    closedir(dp);
    return n;
}

START_TEST(export_contents)
{
    char *map = path_in("out/map"), *outdir = path_in("out"), *err = NULL;
    struct config *cfg;
    struct stat st1, st2;

    ck_assert_int_eq(mkdir(outdir, 0755), 0);
    cfg = cfg_withf(100, "relay-grant-export: %s\n"
                    "relay-grant-export-format: %%i %%u %%t %%%%\n", map);
    grant_ok(cfg, "192.0.2.10", "alice", 1000);
    grant_ok(cfg, "::1", "bob", 1010);
    grant_ok(cfg, "192.0.2.9", "carol", 1020);
    ck_file(map, "192.0.2.9 carol 1020 %\n192.0.2.10 alice 1000 %\n"
                 "::1 bob 1010 %\n");
    ck_assert_int_eq(stat(map, &st1), 0);
    ck_assert_int_eq(st1.st_mode & 07777, 0644);
    /* Only the map: no temporary file left beside it. */
    ck_assert_uint_eq(count_entries(outdir), 1);

    /* alice's grant has expired by the next one: gone from the map. */
    chmod(map, 0640);
    grant_ok(cfg, "192.0.2.11", "dave", 1100);
    ck_file(map, "192.0.2.9 carol 1020 %\n192.0.2.11 dave 1100 %\n"
                 "::1 bob 1010 %\n");
    ck_assert_int_eq(stat(map, &st1), 0);
    ck_assert_int_eq(st1.st_mode & 07777, 0640);
    ck_listing(cfg, 1100, "192.0.2.9 carol 1020;192.0.2.11 dave 1100;::1 bob 1010;");

    /* relay_export at a later time prunes and rewrites. */
    ck_assert_int_eq(relay_export(cfg, 1125, &err), 0);
    ck_file(map, "192.0.2.11 dave 1100 %\n");
    ck_assert_int_eq(relay_export(cfg, 2000, &err), 0);
    ck_file(map, "");
    config_free(&cfg);

    /* Without %t a renewal changes nothing: the file is left alone. */
    cfg = cfg_withf(100, "relay-grant-export: %s\n", map);
    grant_ok(cfg, "192.0.2.1", "alice", 3000);
    ck_assert_int_eq(stat(map, &st1), 0);
    grant_ok(cfg, "192.0.2.1", "alice", 3001);
    ck_assert_int_eq(stat(map, &st2), 0);
    ck_assert_uint_eq(st1.st_ino, st2.st_ino);
    grant_ok(cfg, "192.0.2.2", "bob", 3002);
    ck_assert_int_eq(stat(map, &st2), 0);
    ck_assert_uint_ne(st1.st_ino, st2.st_ino);
    ck_file(map, "192.0.2.1 OK\n192.0.2.2 OK\n");
    config_free(&cfg);

    /* An export into a missing directory fails, and says where. */
    cfg = cfg_withf(100, "relay-grant-export: %s/nodir/map\n", dir);
    ck_assert_int_eq(relay_grant_at(cfg, "192.0.2.1", "alice", 3000, &err), -1);
    ck_assert_msg(strstr(err, "nodir/map") != NULL, "%s", err);
    free(err);
    config_free(&cfg);
    free(map);
    free(outdir);
}
END_TEST

START_TEST(export_command)
{
    char *map = path_in("map"), *script = path_in("rebuild"), *args = path_in("args");
    char *envf = path_in("env"), *text, *t, *err = NULL;
    struct config *cfg;

    write_script(script, "#!/bin/sh\n"
                 "printf '%%s|' \"$0\" \"$@\" >> %s\n"
                 "echo >> %s\n"
                 "env > %s\n"
                 "exit \"${RELAY_TEST_EXIT:-0}\"\n", args, args, envf);
    cfg = cfg_withf(100, "relay-grant-export: %s\n"
                    "relay-grant-export-command: %s -c 'two words' %s\n",
                    map, script, map);
    setenv("TPOP3D_RELAY_UNIT_SECRET", "leak", 1);
    grant_ok(cfg, "192.0.2.1", "alice", 1000);
    grant_ok(cfg, "192.0.2.1", "alice", 1001);    /* unchanged map: not run */
    ck_assert_int_eq(relay_export(cfg, 1002, &err), 0);  /* always run */
    unsetenv("TPOP3D_RELAY_UNIT_SECRET");
    /* No shell between: the quotes are part of the words. */
    ck_assert_int_ge(asprintf(&text, "%s|-c|'two|words'|%s|\n%s|-c|'two|words'|%s|\n",
                              script, map, script, map), 0);
    ck_file(args, text);
    free(text);
    t = read_text(envf);
    ck_assert_msg(strstr(t, "TPOP3D_RELAY_UNIT_SECRET") == NULL, "env leaked: %s", t);
    ck_assert_ptr_nonnull(strstr(t, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"));
    free(t);
    config_free(&cfg);

    /* A failing command is an error that names its status. */
    write_script(script, "#!/bin/sh\nexit 3\n");
    cfg = cfg_withf(100, "relay-grant-export: %s\n"
                    "relay-grant-export-command: %s\n", map, script);
    ck_assert_int_eq(relay_grant_at(cfg, "192.0.2.2", "bob", 1003, &err), -1);
    ck_assert_msg(strstr(err, "exited with status 3") != NULL, "%s", err);
    free(err);
    err = NULL;
    /* ... but the grant was recorded and exported. */
    ck_listing(cfg, 1003, "192.0.2.1 alice 1001;192.0.2.2 bob 1003;");
    ck_file(map, "192.0.2.1 OK\n192.0.2.2 OK\n");
    config_free(&cfg);
    free(map);
    free(script);
    free(args);
    free(envf);
}
END_TEST

START_TEST(command_bounds)
{
    char *const sleeper[] = { (char *)"/bin/sleep", (char *)"10", NULL };
    char *const missing[] = { (char *)"/nonexistent/prog", NULL };
    char *const ok[] = { (char *)"/bin/true", NULL };
    struct timespec t0, t1;
    char *err = NULL;

    ck_assert_int_eq(relay_run_command(ok, 5000, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(relay_run_command(sleeper, 200, &err), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(t1.tv_sec - t0.tv_sec < 3, "not killed in time");
    ck_assert_str_eq(err, "/bin/sleep did not finish within 200 ms and was killed");
    free(err);
    ck_assert_int_eq(relay_run_command(missing, 5000, &err), -1);
    ck_assert_str_eq(err, "/nonexistent/prog could not be run (exit status 127)");
    free(err);
}
END_TEST

/* ---- concurrency ------------------------------------------------------ */

#define WRITERS 8
#define GRANTS_EACH 40

/* In writer W's child: grant ADDR to USER at NOW, or end the child. */
static void child_grant(const struct config *cfg, int w, const char *addr,
                        const char *user, time_t now)
{
    char *err = NULL;

    if (relay_grant_at(cfg, addr, user, now, &err) < 0) {
        fprintf(stderr, "writer %d: %s\n", w, err);
        _exit(1);
    }
}

START_TEST(concurrent_writers)
{
    char *map = path_in("map"), *t;
    struct config *cfg;
    pid_t pids[WRITERS];
    time_t now = time(NULL);
    size_t lines = 0;
    struct relay_entry *e;
    size_t n;
    char *err = NULL;

    cfg = cfg_withf(1800, "relay-grant-export: %s\n"
                    "relay-grant-export-format: %%i %%u\n", map);
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        ck_assert_int_ge(pids[w], 0);
        if (pids[w] == 0) {
            for (int i = 0; i < GRANTS_EACH; i++) {
                char addr[64], user[32];

                snprintf(addr, sizeof addr, "10.%d.0.%d", w, i);
                snprintf(user, sizeof user, "u%d_%d", w, i);
                child_grant(cfg, w, addr, user, now);
                /* Half of them also from an IPv6 address. */
                if (i % 2 == 0) {
                    snprintf(addr, sizeof addr, "2001:db8::%x:%x", w + 1, i + 1);
                    child_grant(cfg, w, addr, user, now);
                }
            }
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;

        ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "writer %d failed", w);
    }
    ck_assert_int_eq(relay_list(cfg, now, &e, &n, &err), 0);
    ck_assert_uint_eq(n, WRITERS * GRANTS_EACH * 3 / 2);
    for (size_t i = 0; i < n; i++) {
        int w, k;
        char want[32];

        ck_assert_int_eq(strncmp(e[i].user, "u", 1), 0);
        ck_assert_int_eq(e[i].time, now);
        /* Every address holds the user that granted it. */
        if (strncmp(e[i].addr, "10.", 3) == 0) {
            char *end;

            w = (int)strtol(e[i].addr + 3, &end, 10);
            k = (int)strtol(end + 3, NULL, 10);
            snprintf(want, sizeof want, "u%d_%d", w, k);
            ck_assert_str_eq(e[i].user, want);
        }
    }
    relay_entries_free(&e, n);
    t = read_text(map);
    for (const char *p = t; (p = strchr(p, '\n')); p++)
        lines++;
    ck_assert_uint_eq(lines, WRITERS * GRANTS_EACH * 3 / 2);
    ck_assert_ptr_nonnull(strstr(t, "10.7.0.39 u7_39\n"));
    ck_assert_ptr_nonnull(strstr(t, "2001:db8::8:27 u7_38\n"));
    free(t);
    config_free(&cfg);
    free(map);
}
END_TEST

Suite *suite_relay(void)
{
    Suite *s = suite_create("relay");
    TCase *tc = tcase_create("format");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, canonical_addresses);
    tcase_add_test(tc, format_check);
    tcase_add_test(tc, format_expand);
    tcase_add_test(tc, config_checks);
    tcase_add_test(tc, without_gdbm);
    tcase_add_test(tc, command_bounds);
    suite_add_tcase(s, tc);
    if (relay_available()) {
        TCase *db = tcase_create("database");

        tcase_add_checked_fixture(db, setup_db, teardown_db);
        tcase_set_timeout(db, 30);
        tcase_add_test(db, grant_list_expire);
        tcase_add_test(db, ipv6_and_mapped);
        tcase_add_test(db, prune_interval);
        tcase_add_test(db, damaged_database);
        tcase_add_test(db, export_contents);
        tcase_add_test(db, export_command);
        tcase_add_test(db, concurrent_writers);
        suite_add_tcase(s, db);
    }
    return s;
}
