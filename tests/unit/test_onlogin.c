/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_onlogin.c: unit tests of onlogin.c: the bounded workers, the choice
 * of actions, and onlogin_run() with small external programs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "bulletin.h"
#include "config.h"
#include "onlogin.h"
#include "unit.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Whether FD reads end-of-file within MS milliseconds: every process
 * holding the pipe's write end has gone. */
static bool eof_within(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char c;

    if (poll(&p, 1, ms) != 1)
        return false;
    return read(fd, &c, 1) == 0;
}

/* -- test actions ----------------------------------------------------- */

static int act_ok(void *arg)
{
    (void)arg;
    return 0;
}

static int act_fail(void *arg)
{
    (void)arg;
    return -1;
}

static int act_hang(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return 0;   /* not reached */
}

static int act_hang_ignoring_term(void *arg)
{
    (void)arg;
    signal(SIGTERM, SIG_IGN);
    for (;;)
        pause();
    return 0;   /* not reached */
}

static int act_crash(void *arg)
{
    (void)arg;
    raise(SIGSEGV);
    return 0;
}

/* ARG: the write end of a pipe, kept open by a grandchild that ignores
 * SIGTERM and never ends by itself; the action itself returns at once. */
static int act_leave_grandchild(void *arg)
{
    int fd = *(int *)arg;

    if (fork() == 0) {
        signal(SIGTERM, SIG_IGN);
        (void)fd;
        for (;;)
            pause();
    }
    return 0;
}

/* The same grandchild, but the action hangs too. */
static int act_hang_with_grandchild(void *arg)
{
    act_leave_grandchild(arg);
    for (;;)
        pause();
    return 0;   /* not reached */
}

/* -- onlogin_bounded / onlogin_reap ----------------------------------- */

START_TEST(quick_success)
{
    enum onlogin_end end;
    int status = -1;

    ck_assert_int_eq(onlogin_bounded(act_ok, NULL, 5000, 200, &end,
                                     &status), 0);
    ck_assert_int_eq(end, ONLOGIN_END_EXITED);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(failure_is_status_1)
{
    enum onlogin_end end;
    int status = -1;

    ck_assert_int_eq(onlogin_bounded(act_fail, NULL, 5000, 200, &end,
                                     &status), 0);
    ck_assert_int_eq(end, ONLOGIN_END_EXITED);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 1);
}
END_TEST

START_TEST(crash_is_reported)
{
    enum onlogin_end end;
    int status = -1;

    ck_assert_int_eq(onlogin_bounded(act_crash, NULL, 5000, 200, &end,
                                     &status), 0);
    ck_assert_int_eq(end, ONLOGIN_END_EXITED);
    ck_assert(WIFSIGNALED(status));
    ck_assert_int_eq(WTERMSIG(status), SIGSEGV);
}
END_TEST

START_TEST(quick_action_is_not_delayed)
{
    enum onlogin_end end;
    int status;
    double t0 = now_s();

    /* Twenty quick actions: the polling must notice each within a few
     * milliseconds, not at the next coarse tick. */
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(onlogin_bounded(act_ok, NULL, 5000, 200, &end,
                                         &status), 0);
    ck_assert_msg(now_s() - t0 < 1.0, "20 quick actions took %.3f s",
                  now_s() - t0);
}
END_TEST

START_TEST(overrun_stopped_with_term)
{
    enum onlogin_end end;
    int status = -1;
    double t0 = now_s(), dt;

    ck_assert_int_eq(onlogin_bounded(act_hang, NULL, 150, 2000, &end,
                                     &status), 0);
    dt = now_s() - t0;
    ck_assert_int_eq(end, ONLOGIN_END_STOPPED);
    ck_assert(WIFSIGNALED(status));
    ck_assert_int_eq(WTERMSIG(status), SIGTERM);
    ck_assert_msg(dt >= 0.14 && dt < 1.0, "stopped after %.3f s", dt);
}
END_TEST

START_TEST(overrun_ignoring_term_killed)
{
    enum onlogin_end end;
    int status = -1;
    double t0 = now_s(), dt;

    ck_assert_int_eq(onlogin_bounded(act_hang_ignoring_term, NULL, 100, 150,
                                     &end, &status), 0);
    dt = now_s() - t0;
    ck_assert_int_eq(end, ONLOGIN_END_KILLED);
    ck_assert(WIFSIGNALED(status));
    ck_assert_int_eq(WTERMSIG(status), SIGKILL);
    ck_assert_msg(dt >= 0.24 && dt < 1.5, "killed after %.3f s", dt);
}
END_TEST

START_TEST(leftover_grandchild_killed)
{
    enum onlogin_end end;
    int status, p[2];

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(onlogin_bounded(act_leave_grandchild, &p[1], 5000, 200,
                                     &end, &status), 0);
    close(p[1]);
    ck_assert_int_eq(end, ONLOGIN_END_EXITED);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_msg(eof_within(p[0], 2000), "the grandchild outlived the worker");
    close(p[0]);
}
END_TEST

START_TEST(overrun_grandchild_killed)
{
    enum onlogin_end end;
    int status, p[2];

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(onlogin_bounded(act_hang_with_grandchild, &p[1], 100, 150,
                                     &end, &status), 0);
    close(p[1]);
    ck_assert_int_eq(end, ONLOGIN_END_STOPPED);
    ck_assert_msg(eof_within(p[0], 2000), "the grandchild outlived the worker");
    close(p[0]);
}
END_TEST

START_TEST(reap_of_a_quick_child)
{
    int status = -1;
    pid_t pid = fork();

    if (pid == 0)
        _exit(7);
    ck_assert_int_gt(pid, 0);
    /* Not a group leader: the signals would go to PID alone. */
    ck_assert_int_eq(onlogin_reap(pid, 2000, 100, &status), ONLOGIN_END_EXITED);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 7);
    ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);  /* already reaped */
}
END_TEST

START_TEST(reap_of_a_plain_child_overrun)
{
    int status = -1;
    pid_t pid = fork();

    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);   /* not the test runner's handler */
        for (;;)
            pause();
    }
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(onlogin_reap(pid, 50, 500, &status), ONLOGIN_END_STOPPED);
    ck_assert(WIFSIGNALED(status));
    ck_assert_int_eq(WTERMSIG(status), SIGTERM);
}
END_TEST

/* -- which actions ---------------------------------------------------- */

static struct config *parse(const char *text)
{
    char *err = NULL;
    struct config *cfg = config_parse(text, strlen(text), "test.conf", &err);

    ck_assert_msg(cfg != NULL, "config: %s", err ? err : "?");
    return cfg;
}

static size_t count_of(const char *text)
{
    struct config *cfg = parse(text);
    size_t n = onlogin_count(cfg);

    config_free(&cfg);
    return n;
}

START_TEST(count_nothing_configured)
{
    ck_assert_uint_eq(count_of(""), 0);
    ck_assert_uint_eq(count_of("auth-passwd-enable: yes\n"
                               "auth-flatfile-enable: yes\n"
                               "onlogin-child-wait: yes\n"), 0);
    ck_assert_uint_eq(count_of("relay-grant-enable: no\n"
                               "bulletin-enable: no\n"), 0);
}
END_TEST

START_TEST(count_relay_and_bulletin)
{
    ck_assert_uint_eq(count_of("relay-grant-enable: yes\n"), 1);
    ck_assert_uint_eq(count_of("bulletin-enable: yes\n"), 1);
    ck_assert_uint_eq(count_of("relay-grant-enable: yes\n"
                               "bulletin-enable: yes\n"), 2);
}
END_TEST

START_TEST(count_drivers)
{
    const char *mysql = "auth-mysql-enable: yes\n";
    const char *mysql_q = "auth-mysql-enable: yes\n"
        "auth-mysql-onlogin-query: INSERT INTO t VALUES ('$(clienthost)')\n";
    const char *mysql_none = "auth-mysql-enable: yes\n"
        "auth-mysql-onlogin-query: none\n";
    const char *unused_q = "auth-mysql-enable: no\n"
        "auth-mysql-onlogin-query: INSERT INTO t VALUES ('$(clienthost)')\n";

    /* The mysql driver has an action only with a statement. */
    ck_assert_uint_eq(count_of(mysql), 0);
    ck_assert_uint_eq(count_of(mysql_none), 0);
    ck_assert_uint_eq(count_of(unused_q), 0);
#ifdef AUTH_MYSQL
    ck_assert_uint_eq(count_of(mysql_q), 1);
#else
    ck_assert_uint_eq(count_of(mysql_q), 0);
#endif
#ifdef AUTH_OTHER
    /* The other driver sends ONLOGIN for every login. */
    ck_assert_uint_eq(count_of("auth-other-enable: yes\n"), 1);
    ck_assert_uint_eq(count_of("auth-other-enable: yes\n"
                               "relay-grant-enable: yes\n"), 2);
#endif
}
END_TEST

/* -- onlogin_run ------------------------------------------------------ */

START_TEST(run_without_actions_forks_nothing)
{
    struct config *cfg = parse("auth-passwd-enable: yes\n");
    struct auth_result res = { .uid = 1000, .gid = 1000,
                               .user = (char *)"alice",
                               .local_part = (char *)"alice" };
    int sv[2];
    double t0 = now_s();

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    onlogin_run(cfg, &res, "192.0.2.1", "192.0.2.2", sv[0]);
    ck_assert(now_s() - t0 < 0.05);
    errno = 0;
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
    /* The session's descriptor is left alone. */
    ck_assert_int_ne(fcntl(sv[0], F_GETFD), -1);
    close(sv[0]);
    close(sv[1]);
    config_free(&cfg);
}
END_TEST

#ifdef AUTH_OTHER

/* Processes whose command line mentions NEEDLE. */
static int processes_running(const char *needle)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    ck_assert(d != NULL);
    while ((de = readdir(d)) != NULL) {
        char path[300], buf[4096];
        ssize_t len;
        int fd;

        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
        fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
            continue;
        for (ssize_t i = 0; i < len; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        buf[len] = '\0';
        if (strstr(buf, needle))
            n++;
    }
    closedir(d);
    return n;
}

struct prog_env {
    char *dir;
    char *prog;
    struct config *cfg;
};

/* A script as the auth-other program (run as nobody) and a config that
 * enables the driver with it; the driver started. */
static void prog_setup(struct prog_env *e, const char *script,
                       const char *extra)
{
    char *text, *err = NULL;
    int n;

    e->dir = unit_tmpdir();
    ck_assert_int_eq(chmod(e->dir, 0755), 0);
    n = asprintf(&e->prog, "%s/onlogin-test-prog", e->dir);
    ck_assert_int_gt(n, 0);
    unit_write_file(e->prog, script, strlen(script));
    ck_assert_int_eq(chmod(e->prog, 0755), 0);
    n = asprintf(&text, "auth-other-enable: yes\nauth-other-program: %s\n"
                 "auth-other-user: nobody\nauth-other-group: nogroup\n"
                 "auth-other-timeout: 10\n%s", e->prog, extra);
    ck_assert_int_gt(n, 0);
    e->cfg = parse(text);
    free(text);
    ck_assert_msg(auth_init(e->cfg, &err) == 0, "auth_init: %s", err);
}

static void prog_teardown(struct prog_env *e)
{
    auth_close();
    config_free(&e->cfg);
    unit_rmtree(e->dir);
    free(e->dir);
    free(e->prog);
}

static const struct auth_result sample = {
    .uid = 1000, .gid = 1000, .user = (char *)"alice@example.com",
    .local_part = (char *)"alice", .domain = (char *)"example.com",
};

/* The program records its request, then answers as told. */
#define RECORDER "#!/bin/sh\ncat > \"$0.req\"\nprintf 'result\\0YES\\0\\0'\n"
/* Both the shell and the command it waits for have the program's path,
 * unique to the test, on their command lines. */
#define HANGER "#!/bin/sh\ncat >/dev/null\ntail -f \"$0\" >/dev/null\n"

START_TEST(run_waits_and_sends_onlogin)
{
    struct prog_env e;
    char *reqpath, *req;
    size_t len;
    int n, sv[2];

    if (geteuid() != 0)
        return;     /* the program runs as nobody: needs root */
    prog_setup(&e, RECORDER, "onlogin-child-wait: yes\n");
    ck_assert_int_eq(chmod(e.dir, 0777), 0);   /* room for the record */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    onlogin_run(e.cfg, &sample, "192.0.2.1", "192.0.2.2", sv[0]);
    n = asprintf(&reqpath, "%s.req", e.prog);
    ck_assert_int_gt(n, 0);
    /* With onlogin-child-wait, the request is there on return. */
    req = unit_read_file(reqpath, &len);
    {
        static const char want[] =
            "method\0ONLOGIN\0user\0alice@example.com\0local_part\0alice\0"
            "domain\0example.com\0clienthost\0" "192.0.2.1\0"
            "serverhost\0" "192.0.2.2\0";
        ck_assert_uint_eq(len, sizeof want);
        ck_assert(memcmp(req, want, sizeof want) == 0);
    }
    free(req);
    free(reqpath);
    close(sv[0]);
    close(sv[1]);
    prog_teardown(&e);
}
END_TEST

START_TEST(run_closes_client_socket_in_actions)
{
    struct prog_env e;
    int sv[2];
    double t0;

    if (geteuid() != 0)
        return;
    prog_setup(&e, HANGER, "onlogin-timeout: 1\n");
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    t0 = now_s();
    onlogin_run(e.cfg, &sample, "192.0.2.1", "192.0.2.2", sv[0]);
    /* Detached: back at once, though the action hangs. */
    ck_assert_msg(now_s() - t0 < 0.5, "took %.3f s", now_s() - t0);
    /* The session closes its end: the peer must see EOF although the
     * action still runs. */
    close(sv[0]);
    ck_assert_msg(eof_within(sv[1], 500), "an onlogin process holds the "
                  "client's connection");
    close(sv[1]);
    /* The action starts, then is stopped after its bound (1 s + grace),
     * with nothing of it left. */
    for (int i = 0; i < 100 && !processes_running(e.prog); i++)
        nap_ms(20);
    ck_assert_int_gt(processes_running(e.prog), 0);
    for (int i = 0; i < 160 && processes_running(e.prog); i++)
        nap_ms(50);
    ck_assert_int_eq(processes_running(e.prog), 0);
    /* No zombie in the session either. */
    errno = 0;
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
    prog_teardown(&e);
}
END_TEST

START_TEST(run_wait_is_bounded)
{
    struct prog_env e;
    double t0, dt;

    if (geteuid() != 0)
        return;
    prog_setup(&e, HANGER, "onlogin-timeout: 0.3\nonlogin-child-wait: yes\n");
    t0 = now_s();
    onlogin_run(e.cfg, &sample, "192.0.2.1", "192.0.2.2", -1);
    dt = now_s() - t0;
    ck_assert_msg(dt >= 0.28 && dt < 1.2, "waited %.3f s", dt);
    /* The program was stopped with its worker. */
    for (int i = 0; i < 40 && processes_running(e.prog); i++)
        nap_ms(25);
    ck_assert_int_eq(processes_running(e.prog), 0);
    prog_teardown(&e);
}
END_TEST

#endif

#ifdef AUTH_GDBM

/* Where the step hook below writes the pid of the worker in the middle of
 * a delivery. */
static char *critical_marker;

/* Hold the worker between the bulletin's pending and delivered records,
 * with SIGTERM kept out as the delivery keeps it, long enough for a stop
 * to arrive there. */
static void slow_pending_hook(enum bulletin_step step, const char *name)
{
    char pid[32];
    int n;

    (void)name;
    if (step != BULLETIN_STEP_PENDING)
        return;
    n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    unit_write_file(critical_marker, pid, (size_t)n);
    nap_ms(100);
}

/* The parent of process PID, or -1. */
static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512], *p;
    size_t len;
    long ppid;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    {
        char *text = unit_read_file(path, &len);

        if (!text)
            return -1;
        snprintf(buf, sizeof buf, "%s", text);
        free(text);
    }
    /* "pid (comm) state ppid ...": comm may hold spaces. */
    p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
        return -1;
    ppid = strtol(p + 4, NULL, 10);
    return (pid_t)ppid;
}

START_TEST(run_stop_lets_bulletin_finish)
{
    char *dir = unit_tmpdir(), *bdir, *prog, *out, *text, *script, *msg;
    struct auth_result res = { .uid = 65534, .gid = 65534,
                               .user = (char *)"alice",
                               .local_part = (char *)"alice",
                               .driver = (char *)"test" };
    struct config *cfg;
    pid_t session, worker = -1, coord;
    size_t len;
    int status;

    if (geteuid() != 0) {
        unit_rmtree(dir);
        free(dir);
        return;
    }
    ck_assert_int_eq(chmod(dir, 0755), 0);
    ck_assert_int_ge(asprintf(&bdir, "%s/bulletins", dir), 0);
    ck_assert_int_ge(asprintf(&prog, "%s/sendmail", dir), 0);
    ck_assert_int_ge(asprintf(&out, "%s/sent", dir), 0);
    ck_assert_int_ge(asprintf(&critical_marker, "%s/critical", dir), 0);
    ck_assert_int_eq(mkdir(bdir, 0755), 0);
    ck_assert_int_ge(asprintf(&msg, "%s/n.msg", bdir), 0);
    {
        static const char notice[] =
            "From: Postmaster <postmaster@example.org>\n"
            "Subject: Maintenance\n\nDown on Sunday.\n";

        unit_write_file(msg, notice, strlen(notice));
    }
    ck_assert_int_ge(asprintf(&script, "#!/bin/sh\ncat > %s\n", out), 0);
    unit_write_file(prog, script, strlen(script));
    ck_assert_int_eq(chmod(prog, 0755), 0);
    ck_assert_int_ge(asprintf(&text, "bulletin-enable: yes\n"
                              "bulletin-directory: %s\n"
                              "bulletin-delivery: sendmail\n"
                              "bulletin-sendmail-program: %s\n"
                              "onlogin-child-wait: yes\n"
                              "onlogin-timeout: 10\n", bdir, prog), 0);
    cfg = parse(text);

    bulletin_step_hook = slow_pending_hook;
    session = fork();
    ck_assert_int_ge(session, 0);
    if (session == 0) {
        onlogin_run(cfg, &res, "192.0.2.1", "192.0.2.2", -1);
        _exit(0);
    }
    bulletin_step_hook = NULL;
    /* Wait for the worker to be inside the delivery. */
    for (int i = 0; i < 2500 && worker <= 0; i++) {
        char *pid = unit_read_file(critical_marker, &len);

        if (pid && len > 1 && pid[len - 1] == '\n')
            worker = (pid_t)strtol(pid, NULL, 10);
        free(pid);
        if (worker <= 0)
            nap_ms(2);
    }
    ck_assert_int_gt(worker, 0);
    /* Its coordinator is the session's child. */
    coord = worker;
    while (coord > 1 && parent_of(coord) != session)
        coord = parent_of(coord);
    ck_assert_int_gt(coord, 1);
    ck_assert_int_eq(kill(coord, SIGTERM), 0);
    ck_assert_int_eq(waitpid(session, &status, 0), session);
    /* The delivery was let finish: the program got the bulletin. */
    {
        char *sent = unit_read_file(out, &len);

        ck_assert_msg(sent != NULL, "the delivery was cut short");
        ck_assert_ptr_nonnull(strstr(sent, "Subject: Maintenance"));
        free(sent);
    }
    config_free(&cfg);
    unit_rmtree(dir);
    free(dir);
    free(bdir);
    free(prog);
    free(out);
    free(text);
    free(script);
    free(msg);
    free(critical_marker);
    critical_marker = NULL;
}
END_TEST

#endif /* AUTH_GDBM */

Suite *suite_onlogin(void)
{
    Suite *s = suite_create("onlogin");
    TCase *tc = tcase_create("bounded");
    TCase *tcc = tcase_create("count");
    TCase *tcr = tcase_create("run");

    tcase_add_test(tc, quick_success);
    tcase_add_test(tc, failure_is_status_1);
    tcase_add_test(tc, crash_is_reported);
    tcase_add_test(tc, quick_action_is_not_delayed);
    tcase_add_test(tc, overrun_stopped_with_term);
    tcase_add_test(tc, overrun_ignoring_term_killed);
    tcase_add_test(tc, leftover_grandchild_killed);
    tcase_add_test(tc, overrun_grandchild_killed);
    tcase_add_test(tc, reap_of_a_quick_child);
    tcase_add_test(tc, reap_of_a_plain_child_overrun);
    suite_add_tcase(s, tc);

    tcase_add_test(tcc, count_nothing_configured);
    tcase_add_test(tcc, count_relay_and_bulletin);
    tcase_add_test(tcc, count_drivers);
    suite_add_tcase(s, tcc);

    tcase_add_test(tcr, run_without_actions_forks_nothing);
#ifdef AUTH_OTHER
    tcase_add_test(tcr, run_waits_and_sends_onlogin);
    tcase_add_test(tcr, run_closes_client_socket_in_actions);
    tcase_add_test(tcr, run_wait_is_bounded);
#endif
#ifdef AUTH_GDBM
    tcase_add_test(tcr, run_stop_lets_bulletin_finish);
#endif
    tcase_set_timeout(tcr, 30);
    suite_add_tcase(s, tcr);
    return s;
}
