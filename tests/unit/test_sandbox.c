/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_sandbox.c: the pre-login process's system-call filter and limits. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "sandbox.h"
#include "unit.h"

/* Descriptors the confined children may use; below TEST_NOFILE. */
#define TEST_NOFILE 64

/* Run FN in a forked child after sandbox_apply(); its exit status or
 * signal comes back as waitpid() says. FN returns the child's exit code:
 * 0 for "as designed", another small number naming the step that was
 * not. */
static int confined(int (*fn)(void *), void *arg, unsigned flags)
{
    int status = 0;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        const char *err = NULL;

        if (sandbox_apply(TEST_NOFILE, flags, &err) < 0)
            _exit(99);
        _exit(fn(arg));
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static void assert_exit_ok(int status)
{
    ck_assert_msg(WIFEXITED(status), "child killed by signal %d",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}

static void assert_sigsys(int status)
{
    ck_assert_msg(WIFSIGNALED(status), "child exited with %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    ck_assert_int_eq(WTERMSIG(status), SIGSYS);
}

/* -- what the pre-login process does still works ------------------------ */

static int do_allowed(void *arg)
{
    int *sv = arg, p[2] = { sv[2], sv[3] };
    char buf[8];
    unsigned char rnd[16];
    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cm;
    struct iovec iov = { .iov_base = "H", .iov_len = 1 };
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cm.buf, .msg_controllen = sizeof cm.buf,
    };
    struct cmsghdr *ch;
    void *mem;
    char *heap;
    int fl;

    if (write(p[1], "ping", 4) != 4)
        return 1;
    if (poll(&pfd, 1, 1000) != 1 || !(pfd.revents & POLLIN))
        return 2;
    if (read(p[0], buf, sizeof buf) != 4 || memcmp(buf, "ping", 4) != 0)
        return 3;
    memset(&cm, 0, sizeof cm);
    ch = CMSG_FIRSTHDR(&mh);
    ch->cmsg_level = SOL_SOCKET;
    ch->cmsg_type = SCM_RIGHTS;
    ch->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(ch), &p[1], sizeof(int));
    if (sendmsg(sv[0], &mh, MSG_NOSIGNAL) != 1)
        return 4;
    if (send(sv[0], "x", 1, MSG_NOSIGNAL) != 1 || recv(sv[0], buf, 1, 0) != 1 ||
        buf[0] != 'y')
        return 5;
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return 6;
    mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || mprotect(mem, 4096, PROT_READ) < 0 ||
        munmap(mem, 1 << 20) < 0)
        return 7;
    heap = malloc(1 << 22);     /* big enough for mmap in the allocator */
    if (!heap)
        return 8;
    memset(heap, 1, 1 << 22);
    free(heap);
    fl = fcntl(sv[0], F_GETFL);
    if (fl < 0 || fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) < 0)
        return 9;
    if (shutdown(sv[0], SHUT_WR) < 0)
        return 10;
    if (close(p[0]) < 0)
        return 11;
    return 0;
}

START_TEST(test_allowed_calls_work)
{
    int fds[4];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ck_assert_int_eq(pipe(fds + 2), 0);
    ck_assert_int_eq(send(fds[1], "y", 1, 0), 1);
    assert_exit_ok(confined(do_allowed, fds, 0));
    /* The descriptor sent from the confined child arrived. */
    {
        char buf[4];
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } cm;
        struct iovec iov = { .iov_base = buf, .iov_len = 1 };
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = cm.buf, .msg_controllen = sizeof cm.buf,
        };
        struct cmsghdr *ch;

        ck_assert_int_eq(recvmsg(fds[1], &mh, 0), 1);
        ch = CMSG_FIRSTHDR(&mh);
        ck_assert_ptr_nonnull(ch);
        ck_assert_int_eq(ch->cmsg_type, SCM_RIGHTS);
        ck_assert_int_eq(buf[0], 'H');
        ck_assert_int_eq(recv(fds[1], buf, sizeof buf, 0), 1);
        ck_assert_int_eq(buf[0], 'x');
        {
            int got;

            memcpy(&got, CMSG_DATA(ch), sizeof got);
            ck_assert_int_ge(got, 0);
            close(got);
        }
    }
    for (int i = 0; i < 4; i++)
        close(fds[i]);
}
END_TEST

/* -- refused with an errno ------------------------------------------------ */

static int do_open(void *arg)
{
    (void)arg;
    errno = 0;
    if (open("/etc/passwd", O_RDONLY) != -1 || errno != EACCES)
        return 1;
    errno = 0;
    if (openat(AT_FDCWD, "/etc/passwd", O_RDONLY) != -1 || errno != EACCES)
        return 2;
    errno = 0;
    if (fopen("/etc/hostname", "r") != NULL || errno != EACCES)
        return 3;
    return 0;
}

START_TEST(test_open_refused_with_eacces)
{
    if (!sandbox_filter_available())
        return;
    assert_exit_ok(confined(do_open, NULL, 0));
}
END_TEST

static int do_socket(void *arg)
{
    (void)arg;
    errno = 0;
    if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EACCES)
        return 1;
    errno = 0;
    if (socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) != -1 || errno != EACCES)
        return 2;
    return 0;
}

START_TEST(test_socket_refused_with_eacces)
{
    if (!sandbox_filter_available())
        return;
    assert_exit_ok(confined(do_socket, NULL, 0));
}
END_TEST

/* -- killed with SIGSYS ------------------------------------------------------ */

static int do_execve(void *arg)
{
    char *argv[] = { (char *)"/bin/true", NULL }, *envp[] = { NULL };

    (void)arg;
    execve(argv[0], argv, envp);
    return 1;
}

static int do_fork(void *arg)
{
    pid_t pid;

    (void)arg;
    pid = fork();
    if (pid == 0)
        _exit(0);
    return pid < 0 ? 1 : 2;
}

static int do_mmap_exec(void *arg)
{
    (void)arg;
    mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return 1;
}

static int do_mprotect_exec(void *arg)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    (void)arg;
    if (p == MAP_FAILED)
        return 2;
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
    return 1;
}

static int do_fcntl_dupfd(void *arg)
{
    (void)arg;
    fcntl(0, F_DUPFD, 10);
    return 1;
}

/* Known before the fork: getppid() itself is not allowed. */
static pid_t parent;

static int do_kill_parent(void *arg)
{
    (void)arg;
    kill(parent, 0);
    return 1;
}

static int do_tgkill_other(void *arg)
{
    (void)arg;
    syscall(SYS_tgkill, parent, parent, 0);
    return 1;
}

static int do_x32(void *arg)
{
    (void)arg;
    syscall(0x40000000L | SYS_getpid);
    return 1;
}

static int do_connect(void *arg)
{
    int *sv = arg;
    struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };

    connect(sv[0], (struct sockaddr *)&sa, sizeof sa);
    return 1;
}

START_TEST(test_forbidden_calls_kill)
{
    int sv[2];

    if (!sandbox_filter_available())
        return;
    parent = getpid();
    assert_sigsys(confined(do_execve, NULL, 0));
    assert_sigsys(confined(do_fork, NULL, 0));
    assert_sigsys(confined(do_mmap_exec, NULL, 0));
    assert_sigsys(confined(do_mprotect_exec, NULL, 0));
    assert_sigsys(confined(do_fcntl_dupfd, NULL, 0));
    assert_sigsys(confined(do_kill_parent, NULL, 0));
    assert_sigsys(confined(do_tgkill_other, NULL, 0));
    assert_sigsys(confined(do_x32, NULL, 0));
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    assert_sigsys(confined(do_connect, sv, 0));
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* -- kernel TLS (tls-kernel-offload) ---------------------------------------- */

/* The two calls OpenSSL makes to hand a connection to kernel TLS: they
 * come back (whatever this kernel answers) instead of ending the process. */
static int do_kernel_tls_calls(void *arg)
{
    int fd = *(int *)arg;
    unsigned char info[40] = { 0 };

    setsockopt(fd, SOL_TCP, TCP_ULP, "tls", 3);
    setsockopt(fd, SOL_TLS, 1, info, sizeof info);     /* TLS_TX */
    return 0;
}

static int do_ulp(void *arg)
{
    setsockopt(*(int *)arg, SOL_TCP, TCP_ULP, "tls", 3);
    return 1;
}

static int do_nodelay(void *arg)
{
    int one = 1;

    setsockopt(*(int *)arg, SOL_TCP, TCP_NODELAY, &one, sizeof one);
    return 1;
}

static int do_rcvbuf(void *arg)
{
    int size = 4096;

    setsockopt(*(int *)arg, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return 1;
}

static int do_abort(void *arg)
{
    (void)arg;
    abort();
}

START_TEST(test_abort_is_sigabrt)
{
    int status;

    if (!sandbox_filter_available())
        return;
    /* raise() asks for the thread id first: a failed assertion or a heap
     * check must not be logged as a filter kill. */
    status = confined(do_abort, NULL, 0);
    ck_assert_msg(WIFSIGNALED(status), "child exited with %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    ck_assert_int_eq(WTERMSIG(status), SIGABRT);
}
END_TEST

START_TEST(test_kernel_tls_setsockopt)
{
    int fd;

    if (!sandbox_filter_available())
        return;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_lt(fd, TEST_NOFILE);
    assert_exit_ok(confined(do_kernel_tls_calls, &fd, SANDBOX_KERNEL_TLS));
    /* Only those two: other options stay forbidden ... */
    assert_sigsys(confined(do_nodelay, &fd, SANDBOX_KERNEL_TLS));
    assert_sigsys(confined(do_rcvbuf, &fd, SANDBOX_KERNEL_TLS));
    /* ... and without tls-kernel-offload no setsockopt at all. */
    assert_sigsys(confined(do_ulp, &fd, 0));
    close(fd);
}
END_TEST

/* -- resource limits ------------------------------------------------------- */

static int file_fd = -1;

static int do_write_file(void *arg)
{
    (void)arg;
    errno = 0;
    if (write(file_fd, "secret", 6) != -1 || errno != EFBIG)
        return 1;
    return 0;
}

static int do_write_file_allowed(void *arg)
{
    (void)arg;
    return write(file_fd, "log", 3) == 3 ? 0 : 1;
}

static int do_write_file_default(void *arg)
{
    (void)arg;
    write(file_fd, "secret", 6);
    return 1;
}

START_TEST(test_file_writes_refused)
{
    char *dir = unit_tmpdir(), path[512];
    size_t len = 99;
    char *got;

    snprintf(path, sizeof path, "%s/f", dir);
    file_fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    ck_assert_int_ge(file_fd, 0);
    {
        int status = confined(do_write_file_default, NULL, 0);

        ck_assert(WIFSIGNALED(status));
        ck_assert_int_eq(WTERMSIG(status), SIGXFSZ);
    }
    /* The filter allows no sigaction: ignore the signal beforehand. */
    signal(SIGXFSZ, SIG_IGN);
    assert_exit_ok(confined(do_write_file, NULL, 0));
    signal(SIGXFSZ, SIG_DFL);
    got = unit_read_file(path, &len);
    ck_assert_uint_eq(len, 0);
    free(got);
    /* A log file held on stderr may still be written. */
    assert_exit_ok(confined(do_write_file_allowed, NULL, SANDBOX_FILE_WRITES));
    got = unit_read_file(path, &len);
    ck_assert_str_eq(got, "log");
    free(got);
    close(file_fd);
    unit_rmtree(dir);
    free(dir);
}
END_TEST

/* Read the soft and hard values of the line starting NAME from the
 * limits of PID. */
static void proc_limit(pid_t pid, const char *name, char *soft, char *hard)
{
    char path[64], line[256];
    FILE *f;
    bool found = false;

    snprintf(path, sizeof path, "/proc/%ld/limits", (long)pid);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f)) {
        char *p, *tok;

        if (strncmp(line, name, strlen(name)) != 0)
            continue;
        /* "Max open files   64   64   files": columns from byte 26 */
        p = line + 26;
        tok = strtok_r(p, " \n", &p);
        snprintf(soft, 32, "%s", tok ? tok : "");
        tok = strtok_r(NULL, " \n", &p);
        snprintf(hard, 32, "%s", tok ? tok : "");
        found = true;
    }
    fclose(f);
    ck_assert_msg(found, "no limit %s", name);
}

static int status_field(pid_t pid, const char *name)
{
    char path[64], line[256];
    FILE *f;
    int value = -1;

    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(name);

        if (strncmp(line, name, n) == 0 && line[n] == ':')
            value = (int)strtol(line + n + 1, NULL, 10);
    }
    fclose(f);
    return value;
}

START_TEST(test_limits_and_filter_visible)
{
    int p[2], q[2], status = 0;
    char soft[32], hard[32], c;
    pid_t pid;

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(pipe(q), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        const char *err = NULL;

        close(p[1]);
        close(q[0]);
        if (sandbox_apply(TEST_NOFILE, 0, &err) < 0)
            _exit(99);
        /* Confined: tell the parent, wait for it to look, end. */
        if (write(q[1], "r", 1) != 1 || read(p[0], &c, 1) != 1)
            _exit(1);
        _exit(0);
    }
    close(p[0]);
    close(q[1]);
    ck_assert_int_eq(read(q[0], &c, 1), 1);
    if (sandbox_filter_available()) {
        ck_assert_int_eq(status_field(pid, "Seccomp"), 2);
        ck_assert_int_eq(status_field(pid, "NoNewPrivs"), 1);
    }
    proc_limit(pid, "Max processes", soft, hard);
    ck_assert_str_eq(soft, "0");
    ck_assert_str_eq(hard, "0");
    proc_limit(pid, "Max file size", soft, hard);
    ck_assert_str_eq(soft, "0");
    ck_assert_str_eq(hard, "0");
    proc_limit(pid, "Max core file size", soft, hard);
    ck_assert_str_eq(soft, "0");
    ck_assert_str_eq(hard, "0");
    proc_limit(pid, "Max open files", soft, hard);
    ck_assert_str_eq(soft, "64");
    ck_assert_str_eq(hard, "64");
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    assert_exit_ok(status);
    close(p[1]);
    close(q[0]);
}
END_TEST

Suite *suite_sandbox(void)
{
    Suite *s = suite_create("sandbox");
    TCase *tc = tcase_create("sandbox");

    tcase_add_test(tc, test_allowed_calls_work);
    tcase_add_test(tc, test_open_refused_with_eacces);
    tcase_add_test(tc, test_socket_refused_with_eacces);
    tcase_add_test(tc, test_forbidden_calls_kill);
    tcase_add_test(tc, test_kernel_tls_setsockopt);
    tcase_add_test(tc, test_abort_is_sigabrt);
    tcase_add_test(tc, test_file_writes_refused);
    tcase_add_test(tc, test_limits_and_filter_visible);
    suite_add_tcase(s, tc);
    return s;
}
