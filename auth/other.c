/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/other.c: the other driver, which runs an external program for each
 * authentication and asks it over a pipe, in the packet format of the
 * original tpop3d. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "conn.h"
#include "log.h"
#include "strbuf.h"
#include "username.h"
#include "xalloc.h"

/* Largest request and largest reply, terminator included: the limit of
 * the original tpop3d's protocol. Real packets are far smaller (names and
 * passwords are at most 255 bytes each). */
#define OTHER_MAX_PACKET 4096

/* Once it has answered and its standard input is closed, the program gets
 * this long to exit by itself; a program sent SIGTERM gets this long
 * before SIGKILL. Both keep a stuck program from holding a login up for
 * more than a moment. */
#define OTHER_EXIT_GRACE_MS 250
#define OTHER_TERM_GRACE_MS 250

/* Polling step while waiting for the program to exit. */
#define OTHER_WAIT_STEP_MS 5

/* Longest value accepted for domain and mboxtype, and for mailbox and home
 * (PATH_MAX on Linux). */
#define OTHER_MAX_DOMAIN 255
#define OTHER_MAX_MBOXTYPE 32
#define OTHER_MAX_PATH 4096

/* Room for a logmsg after log_sanitize() (4 bytes per input byte). */
#define OTHER_LOGMSG_ROOM 1024

/* The program's whole environment. */
static char other_env_path[] = "PATH=/usr/bin:/bin";

static struct {
    char *program;      /* auth-other-program */
    uid_t uid;          /* auth-other-user */
    gid_t gid;          /* auth-other-group */
    int timeout_ms;     /* auth-other-timeout */
} oc;

/* What the child reports through its status pipe when it cannot exec the
 * program. */
enum start_stage { STAGE_FDS = 1, STAGE_PRIVS, STAGE_EXEC };

struct start_failure {
    int stage;
    int err;
};

/* The reply keys the driver reads; others are ignored. */
enum reply_key {
    RK_RESULT, RK_LOGMSG, RK_UID, RK_GID, RK_DOMAIN, RK_MAILBOX,
    RK_MBOXTYPE, RK_HOME, RK__COUNT
};

static const char *const reply_keys[RK__COUNT] = {
    [RK_RESULT] = "result", [RK_LOGMSG] = "logmsg", [RK_UID] = "uid",
    [RK_GID] = "gid", [RK_DOMAIN] = "domain", [RK_MAILBOX] = "mailbox",
    [RK_MBOXTYPE] = "mboxtype", [RK_HOME] = "home",
};

static void other_close(void)
{
    free(oc.program);
    memset(&oc, 0, sizeof oc);
}

/* Report "file:line: directive: MSG" (MSG is consumed) and forget any
 * half-made state. */
static int init_error(const struct config *cfg, enum cfg_key key,
                      char **error_r, char *msg)
{
    *error_r = cfg_error(cfg, key, msg);
    other_close();
    return -1;
}

/* Whether the program user and group may run a file with status ST, by
 * its mode bits (supplementary groups are dropped before the exec). */
static bool runnable(const struct stat *st)
{
    if (st->st_uid == oc.uid)
        return st->st_mode & S_IXUSR;
    if (st->st_gid == oc.gid)
        return st->st_mode & S_IXGRP;
    return st->st_mode & S_IXOTH;
}

static int other_init(const struct config *cfg, char **error_r)
{
    const char *program = cfg_str(cfg, CFG_AUTH_OTHER_PROGRAM);
    const char *user = cfg_str(cfg, CFG_AUTH_OTHER_USER);
    const char *group = cfg_str(cfg, CFG_AUTH_OTHER_GROUP);
    const char *err;
    gid_t user_gid;
    struct stat st;

    other_close();
    if (!program || !*program)
        return init_error(cfg, CFG_AUTH_OTHER_PROGRAM, error_r,
                          xasprintf("must be set when %s is yes",
                                    cfg_defs[CFG_AUTH_OTHER_ENABLE].name));
    if (program[0] != '/')
        return init_error(cfg, CFG_AUTH_OTHER_PROGRAM, error_r,
                          xasprintf("%s: must be an absolute path",
                                    program));
    if (!user || !*user)
        return init_error(cfg, CFG_AUTH_OTHER_USER, error_r,
                          xasprintf("must be set when %s is yes",
                                    cfg_defs[CFG_AUTH_OTHER_ENABLE].name));
    if (username_lookup_user(user, &oc.uid, &user_gid, &err) < 0)
        return init_error(cfg, CFG_AUTH_OTHER_USER, error_r,
                          xasprintf("%s: %s", user, err));
    if (oc.uid == 0)
        return init_error(cfg, CFG_AUTH_OTHER_USER, error_r,
                          xasprintf("%s: the program may not run as root",
                                    user));
    if (group) {
        if (username_lookup_group(group, &oc.gid, &err) < 0)
            return init_error(cfg, CFG_AUTH_OTHER_GROUP, error_r,
                              xasprintf("%s: %s", group, err));
    } else if (user_gid == (gid_t)-1) {
        return init_error(cfg, CFG_AUTH_OTHER_GROUP, error_r,
                          xasprintf("must be set, as %s %s has no passwd "
                                    "entry to take a group from",
                                    cfg_defs[CFG_AUTH_OTHER_USER].name,
                                    user));
    } else {
        oc.gid = user_gid;
    }
    if (oc.gid == 0)
        return init_error(cfg, group ? CFG_AUTH_OTHER_GROUP
                                     : CFG_AUTH_OTHER_USER, error_r,
                          xasprintf("the program may not run with group "
                                    "root"));

    if (stat(program, &st) < 0)
        return init_error(cfg, CFG_AUTH_OTHER_PROGRAM, error_r,
                          xasprintf("%s: %s", program, strerror(errno)));
    if (!S_ISREG(st.st_mode))
        return init_error(cfg, CFG_AUTH_OTHER_PROGRAM, error_r,
                          xasprintf("%s: not a regular file", program));
    if (st.st_mode & S_IWOTH)
        return init_error(cfg, CFG_AUTH_OTHER_PROGRAM, error_r,
                          xasprintf("%s: writable by every user, so anyone "
                                    "could decide who logs in", program));
    if (!runnable(&st))
        return init_error(cfg, CFG_AUTH_OTHER_PROGRAM, error_r,
                          xasprintf("%s: not executable by uid %lu gid %lu",
                                    program, (unsigned long)oc.uid,
                                    (unsigned long)oc.gid));

    oc.program = xstrdup(program);
    /* Config bounds the value to [0.01, 60] seconds. */
    oc.timeout_ms = (int)(cfg_seconds(cfg, CFG_AUTH_OTHER_TIMEOUT) * 1000.0
                          + 0.5);
    if (oc.timeout_ms < 1)
        oc.timeout_ms = 1;
    return 0;
}

/* Append "KEY\0VALUE\0" to SB; nothing when VALUE is NULL. 0, or -1 when
 * the packet would be too long. */
static int put_pair(struct strbuf *sb, const char *key, const char *value)
{
    if (!value)
        return 0;
    if (strbuf_append(sb, key, strlen(key) + 1) < 0
        || strbuf_append(sb, value, strlen(value) + 1) < 0)
        return -1;
    return 0;
}

/* The request packet for REQ into SB (at most OTHER_MAX_PACKET bytes).
 * 0, or -1 when it would be longer. */
static int build_request(const struct auth_request *req, struct strbuf *sb)
{
    bool apop = req->method == AUTH_METHOD_APOP;

    if (put_pair(sb, "method", apop ? "APOP" : "PASS") < 0
        || put_pair(sb, "user", req->user) < 0
        || put_pair(sb, "local_part", req->local_part) < 0
        || put_pair(sb, "domain", req->domain) < 0
        || put_pair(sb, "clienthost", req->clienthost) < 0
        || put_pair(sb, "serverhost", req->serverhost) < 0)
        return -1;
    if (apop) {
        if (put_pair(sb, "timestamp", req->timestamp) < 0
            || put_pair(sb, "digest", req->digest) < 0)
            return -1;
    } else if (put_pair(sb, "pass", req->password) < 0) {
        return -1;
    }
    /* The empty key that ends the packet. */
    return strbuf_appendc(sb, '\0');
}

/* Length of the complete packet at the start of BUF (LEN bytes), or 0 when
 * it needs more bytes. */
static size_t packet_length(const char *buf, size_t len)
{
    size_t pos = 0;

    for (;;) {
        const char *nul;

        if (pos >= len)
            return 0;
        if (buf[pos] == '\0')
            return pos + 1;
        /* A key, then its value. */
        for (int field = 0; field < 2; field++) {
            nul = pos < len ? memchr(buf + pos, '\0', len - pos) : NULL;
            if (!nul)
                return 0;
            pos = (size_t)(nul - buf) + 1;
        }
    }
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* Move FD above the standard descriptors and the status descriptor (3).
 * The copy is close-on-exec; -1 on failure. */
static int lift_fd(int fd)
{
    return fcntl(fd, F_DUPFD_CLOEXEC, 4);
}

static void close_from(int lowest)
{
#if defined(__GLIBC__) \
    && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    if (close_range((unsigned)lowest, ~0U, 0) == 0)
        return;
#endif
    {
        struct rlimit rl;
        int top = 65536;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
            && rl.rlim_cur < (rlim_t)top)
            top = (int)rl.rlim_cur;
        for (int fd = lowest; fd < top; fd++)
            close(fd);
    }
}

static void child_fail(int status_fd, enum start_stage stage, int err)
    __attribute__((noreturn));

static void child_fail(int status_fd, enum start_stage stage, int err)
{
    struct start_failure f = { .stage = stage, .err = err };

    if (status_fd >= 0 && write(status_fd, &f, sizeof f) < 0) {
        /* the parent learns of it from the exit status alone */
    }
    _exit(127);
}

/* In the new process: standard input from IN_FD, standard output to
 * OUT_FD, standard error to /dev/null, STATUS_FD on 3 until the exec, no
 * other descriptor, default signal handling, the program's user and
 * group, and no environment but PATH. OWN_GROUP: in a process group of its
 * own; otherwise in the caller's (an onlogin worker, whose group is
 * stopped as a whole when it overruns). Never returns. */
static void child_exec(int in_fd, int out_fd, int status_fd, bool own_group)
    __attribute__((noreturn));

static void child_exec(int in_fd, int out_fd, int status_fd, bool own_group)
{
    char *const argv[] = { oc.program, NULL };
    char *const envp[] = { other_env_path, NULL };
    struct sigaction sa;
    sigset_t none;
    int in, out, status, null;

    /* Its own process group, so that whatever it starts can be stopped
     * with it. */
    if (own_group)
        setpgid(0, 0);

    /* Ignored signals (the session ignores SIGPIPE and SIGHUP) would stay
     * ignored across the exec. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    status = lift_fd(status_fd);
    in = lift_fd(in_fd);
    out = lift_fd(out_fd);
    null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (status < 0)
        _exit(127);
    if (in < 0 || out < 0 || null < 0)
        child_fail(status, STAGE_FDS, errno);
    if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0
        || dup2(null, STDERR_FILENO) < 0 || dup2(status, 3) < 0)
        child_fail(status, STAGE_FDS, errno);
    status = 3;
    if (fcntl(status, F_SETFD, FD_CLOEXEC) < 0)
        child_fail(status, STAGE_FDS, errno);
    close_from(4);

    if (chdir("/") < 0)
        child_fail(status, STAGE_FDS, errno);
    if (setgroups(1, &oc.gid) < 0
        || setresgid(oc.gid, oc.gid, oc.gid) < 0
        || setresuid(oc.uid, oc.uid, oc.uid) < 0)
        child_fail(status, STAGE_PRIVS, errno);
    if (getuid() != oc.uid || geteuid() != oc.uid || getgid() != oc.gid
        || getegid() != oc.gid || oc.uid == 0 || setuid(0) == 0)
        child_fail(status, STAGE_PRIVS, EPERM);
    umask(077);

    execve(oc.program, argv, envp);
    child_fail(status, STAGE_EXEC, errno);
}

/* Wait up to MS milliseconds for PID to exit, without reaping it. */
static bool exited_within(pid_t pid, long ms)
{
    long deadline = now_ms() + ms;

    for (;;) {
        siginfo_t si;

        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
            return errno != EINTR;
        if (si.si_pid == pid)
            return true;
        if (now_ms() >= deadline)
            return false;
        sleep_ms(OTHER_WAIT_STEP_MS);
    }
}

/* End the program PID and everything in its process group, and reap it.
 * A program that FINISHED talking gets a moment to exit by itself. Returns
 * the wait status. */
static int end_program(pid_t pid, bool finished)
{
    int status = 0;

    if (!finished || !exited_within(pid, OTHER_EXIT_GRACE_MS)) {
        if (kill(-pid, SIGTERM) < 0)
            kill(pid, SIGTERM);
        exited_within(pid, OTHER_TERM_GRACE_MS);
    }
    /* The leader is not reaped yet, so its group id cannot name anyone
     * else's processes: stop whatever of it is left. */
    if (kill(-pid, SIGKILL) < 0)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

static char *describe_status(int status)
{
    if (WIFEXITED(status))
        return xasprintf("exited with status %d", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return xasprintf("killed by signal %d", WTERMSIG(status));
    return xstrdup("ended");
}

enum exchange_outcome {
    EX_COMPLETE,    /* a whole reply packet arrived */
    EX_EOF,         /* the program closed its output first */
    EX_TIMEOUT,
    EX_TOOLONG,
    EX_ERROR,       /* poll or read failed; errno says why */
    EX_INTERRUPTED, /* the session is being stopped */
};

/* Send REQ (LEN bytes) on WFD and read the reply from RFD into BUF
 * (OTHER_MAX_PACKET bytes) until it is complete or the timeout passes.
 * WFD is closed before returning; *GOT_R is the number of bytes read. */
static enum exchange_outcome exchange(int wfd, const char *req, size_t len,
                                      int rfd, char *buf, size_t *got_r)
{
    long deadline = now_ms() + oc.timeout_ms;
    size_t sent = 0, got = 0;

    *got_r = 0;
    for (;;) {
        struct pollfd pfd[2];
        nfds_t n = 0, r = 0;
        long left = deadline - now_ms();
        int w = -1, rc;

        if (conn_interrupted) {
            if (wfd >= 0)
                close(wfd);
            return EX_INTERRUPTED;
        }
        if (left <= 0) {
            if (wfd >= 0)
                close(wfd);
            return EX_TIMEOUT;
        }
        if (wfd >= 0) {
            w = (int)n;
            pfd[n++] = (struct pollfd){ .fd = wfd, .events = POLLOUT };
        }
        r = n;
        pfd[n++] = (struct pollfd){ .fd = rfd, .events = POLLIN };
        rc = poll(pfd, n, (int)left);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            if (wfd >= 0)
                close(wfd);
            return EX_ERROR;
        }
        if (w >= 0 && pfd[w].revents) {
            ssize_t k = write(wfd, req + sent, len - sent);

            if (k > 0)
                sent += (size_t)k;
            /* EPIPE: the program stopped reading; it may still answer. */
            if (sent == len || (k < 0 && errno != EAGAIN && errno != EINTR)) {
                close(wfd);
                wfd = -1;
            }
        }
        if (pfd[r].revents) {
            ssize_t k = read(rfd, buf + got, OTHER_MAX_PACKET - got);

            if (k == 0) {
                if (wfd >= 0)
                    close(wfd);
                *got_r = got;
                return EX_EOF;
            }
            if (k < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                if (wfd >= 0)
                    close(wfd);
                return EX_ERROR;
            }
            got += (size_t)k;
            *got_r = got;
            if (packet_length(buf, got) > 0) {
                if (wfd >= 0)
                    close(wfd);
                return EX_COMPLETE;
            }
            if (got == OTHER_MAX_PACKET) {
                if (wfd >= 0)
                    close(wfd);
                return EX_TOOLONG;
            }
        }
    }
}

/* Split the complete packet BUF into VALS (indexed by enum reply_key;
 * unknown keys skipped). -1 with *ERROR_R (static) when malformed. */
static int parse_reply(const char *buf, const char *vals[RK__COUNT],
                       const char **error_r)
{
    const char *p = buf;

    for (size_t i = 0; i < RK__COUNT; i++)
        vals[i] = NULL;
    /* packet_length() has checked that every key and value is
     * NUL-terminated and that an empty key ends the packet. */
    while (*p) {
        const char *key = p, *value = p + strlen(p) + 1;

        p = value + strlen(value) + 1;
        for (size_t i = 0; i < RK__COUNT; i++) {
            if (strcmp(key, reply_keys[i]) != 0)
                continue;
            if (vals[i]) {
                *error_r = "a key is given twice";
                return -1;
            }
            vals[i] = value;
        }
    }
    if (!vals[RK_RESULT]) {
        *error_r = "no result";
        return -1;
    }
    if (strcmp(vals[RK_RESULT], "YES") != 0
        && strcmp(vals[RK_RESULT], "NO") != 0) {
        *error_r = "result is neither YES nor NO";
        return -1;
    }
    return 0;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return false;
    return true;
}

/* Check the values of a YES and fill RES from them. -1 with *ERROR_R
 * (static) when one is missing or unusable. */
static int fill_result(const char *vals[RK__COUNT],
                       const struct auth_request *req,
                       struct auth_result *res, const char **error_r)
{
    const char *err, *type = vals[RK_MBOXTYPE] ? vals[RK_MBOXTYPE] : "bsd";
    const char *domain = vals[RK_DOMAIN];
    gid_t ignored;

    if (!vals[RK_UID] || !*vals[RK_UID]) {
        *error_r = "YES without a uid";
        return -1;
    }
    if (!vals[RK_GID] || !*vals[RK_GID]) {
        *error_r = "YES without a gid";
        return -1;
    }
    if (username_lookup_user(vals[RK_UID], &res->uid, &ignored, &err) < 0) {
        *error_r = "the uid is neither a number nor a user";
        return -1;
    }
    if (username_lookup_group(vals[RK_GID], &res->gid, &err) < 0) {
        *error_r = "the gid is neither a number nor a group";
        return -1;
    }
    if (domain && (!*domain || strlen(domain) > OTHER_MAX_DOMAIN
                   || strchr(domain, '/') || !printable(domain))) {
        *error_r = "unusable domain";
        return -1;
    }
    if (vals[RK_MAILBOX]) {
        const char *mb = vals[RK_MAILBOX];

        if (mb[0] != '/' || strlen(mb) > OTHER_MAX_PATH || !printable(mb)) {
            *error_r = "mailbox is not an absolute path";
            return -1;
        }
        if (!*type || strlen(type) > OTHER_MAX_MBOXTYPE
            || strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_-")
               != strlen(type)) {
            *error_r = "unusable mboxtype";
            return -1;
        }
    }
    if (vals[RK_HOME] && (vals[RK_HOME][0] != '/'
                          || strlen(vals[RK_HOME]) > OTHER_MAX_PATH
                          || !printable(vals[RK_HOME]))) {
        *error_r = "home is not an absolute path";
        return -1;
    }

    res->user = xstrdup(req->user);
    res->local_part = xstrdup(req->local_part);
    res->domain = domain ? xstrdup(domain)
                         : req->domain ? xstrdup(req->domain) : NULL;
    res->home = vals[RK_HOME] ? xstrdup(vals[RK_HOME]) : NULL;
    res->mailbox = vals[RK_MAILBOX]
                   ? xasprintf("%s:%s", type, vals[RK_MAILBOX]) : NULL;
    res->driver = "other";
    return 0;
}

/* ": logmsg" for the log, sanitized, or "" (static or in BUF). */
static const char *logmsg_suffix(const char *msg, char *buf, size_t size)
{
    size_t len;

    if (!msg || !*msg)
        return "";
    buf[0] = ':';
    buf[1] = ' ';
    len = strlen(msg);
    log_sanitize(buf + 2, size - 2, msg, len);
    return buf;
}

/* Start the program, hand it PACKET (wiped and freed here, whatever
 * happens) and read its one reply into *BUF_R (OTHER_MAX_PACKET bytes, to
 * be freezero()ed by the caller), split into VALS. ONLOGIN: the packet is
 * an ONLOGIN, which the messages name, and the program stays in the
 * caller's process group (see child_exec()). 0, or -1 with *error_r set
 * and nothing left to free. */
static int run_program(struct strbuf *packet, bool onlogin,
                       const char *vals[RK__COUNT], char **buf_r,
                       char **error_r)
{
    int req_pipe[2] = { -1, -1 }, rep_pipe[2] = { -1, -1 };
    int st_pipe[2] = { -1, -1 };
    const char *to = onlogin ? " to ONLOGIN" : "";
    enum exchange_outcome ex;
    struct start_failure sf;
    const char *err;
    char *buf = NULL, *how;
    size_t got = 0;
    int status, ex_errno, rc = -1;
    pid_t pid;

    if (pipe2(req_pipe, O_CLOEXEC) < 0 || pipe2(rep_pipe, O_CLOEXEC) < 0
        || pipe2(st_pipe, O_CLOEXEC) < 0) {
        *error_r = xasprintf("pipe: %s", strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        *error_r = xasprintf("fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        child_exec(req_pipe[0], rep_pipe[1], st_pipe[1], !onlogin);
    /* Also here, so that the group exists before we might signal it. */
    if (!onlogin)
        setpgid(pid, pid);
    close(req_pipe[0]);
    close(rep_pipe[1]);
    close(st_pipe[1]);
    req_pipe[0] = rep_pipe[1] = st_pipe[1] = -1;
    fcntl(req_pipe[1], F_SETFL, O_NONBLOCK);
    fcntl(rep_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(st_pipe[0], F_SETFL, O_NONBLOCK);

    buf = xmalloc(OTHER_MAX_PACKET);
    ex = exchange(req_pipe[1], packet->buf, packet->len, rep_pipe[0], buf,
                  &got);
    ex_errno = errno;
    req_pipe[1] = -1;   /* exchange() closed it */
    strbuf_wipe(packet);
    close(rep_pipe[0]);
    rep_pipe[0] = -1;
    /* After EOF the program is most likely exiting: let it, so that its
     * own exit status is what gets reported. */
    status = end_program(pid, ex == EX_COMPLETE || ex == EX_EOF);

    if (read(st_pipe[0], &sf, sizeof sf) == (ssize_t)sizeof sf) {
        *error_r = xasprintf("cannot run %s: %s: %s", oc.program,
                             sf.stage == STAGE_PRIVS ? "changing user"
                             : sf.stage == STAGE_EXEC ? "exec"
                             : "setting up descriptors",
                             strerror(sf.err));
        goto out;
    }
    switch (ex) {
    case EX_COMPLETE:
        break;
    case EX_EOF:
        how = describe_status(status);
        *error_r = xasprintf("%s %s%s; %s", oc.program,
                             !got ? "gave no reply"
                             : onlogin ? "ended its output in the middle of "
                                         "its reply"
                             : "ended its output in the middle of a reply",
                             to, how);
        free(how);
        goto out;
    case EX_TIMEOUT:
        *error_r = xasprintf("no reply from %s%s within %d ms; stopped it",
                             oc.program, to, oc.timeout_ms);
        goto out;
    case EX_TOOLONG:
        *error_r = xasprintf("reply from %s%s longer than %d bytes",
                             oc.program, to, OTHER_MAX_PACKET);
        goto out;
    case EX_ERROR:
        *error_r = xasprintf("talking to %s: %s", oc.program,
                             strerror(ex_errno));
        goto out;
    case EX_INTERRUPTED:
        *error_r = xstrdup("interrupted");
        goto out;
    }
    if (parse_reply(buf, vals, &err) < 0) {
        *error_r = xasprintf("malformed reply from %s%s: %s", oc.program, to,
                             err);
        goto out;
    }
    *buf_r = buf;
    buf = NULL;
    rc = 0;

out:
    if (buf)
        freezero(buf, OTHER_MAX_PACKET);
    strbuf_wipe(packet);
    for (int i = 0; i < 2; i++) {
        if (req_pipe[i] >= 0)
            close(req_pipe[i]);
        if (rep_pipe[i] >= 0)
            close(rep_pipe[i]);
        if (st_pipe[i] >= 0)
            close(st_pipe[i]);
    }
    return rc;
}

static enum auth_status other_check(const struct auth_request *req,
                                    struct auth_result *res, char **error_r)
{
    enum auth_status st = AUTH_TEMPFAIL;
    struct strbuf packet;
    const char *vals[RK__COUNT], *err;
    char *buf, logbuf[OTHER_LOGMSG_ROOM];

    strbuf_init(&packet, OTHER_MAX_PACKET);
    if (build_request(req, &packet) < 0) {
        strbuf_wipe(&packet);
        *error_r = xasprintf("request longer than %d bytes",
                             OTHER_MAX_PACKET);
        return AUTH_TEMPFAIL;
    }
    if (run_program(&packet, false, vals, &buf, error_r) < 0)
        return AUTH_TEMPFAIL;

    if (strcmp(vals[RK_RESULT], "NO") == 0) {
        *error_r = xasprintf("%s said NO%s", oc.program,
                             logmsg_suffix(vals[RK_LOGMSG], logbuf,
                                           sizeof logbuf));
        st = AUTH_NO;
        goto out_free;
    }
    if (fill_result(vals, req, res, &err) < 0) {
        auth_result_free(res);
        *error_r = xasprintf("unusable reply from %s: %s%s", oc.program,
                             err, logmsg_suffix(vals[RK_LOGMSG], logbuf,
                                                sizeof logbuf));
        goto out_free;
    }
    st = AUTH_OK;

out_free:
    freezero(buf, OTHER_MAX_PACKET);
    return st;
}

/* The ONLOGIN packet of the original tpop3d: the login that succeeded,
 * whichever driver accepted it. 0, or -1 when it would be too long. */
static int build_onlogin(const struct auth_result *res,
                         const char *clienthost, const char *serverhost,
                         struct strbuf *sb)
{
    if (put_pair(sb, "method", "ONLOGIN") < 0
        || put_pair(sb, "user", res->user) < 0
        || put_pair(sb, "local_part", res->local_part) < 0
        || put_pair(sb, "domain", res->domain) < 0
        || put_pair(sb, "clienthost", clienthost) < 0
        || put_pair(sb, "serverhost", serverhost) < 0)
        return -1;
    return strbuf_appendc(sb, '\0');
}

/* Runs in an onlogin worker, never in the session: the program is started
 * afresh, as for every login, so nothing is shared with the session's own
 * conversations. The program stays in the worker's process group, which
 * is stopped as a whole if the worker overruns onlogin-timeout. It has the
 * shorter of auth-other-timeout and onlogin-timeout to answer. A NO is the
 * program's business (one that does not know ONLOGIN should say NO) and is
 * only logged; failing to get an answer is an error. */
static int other_onlogin(const struct config *cfg,
                         const struct auth_result *res,
                         const char *clienthost, const char *serverhost,
                         char **error_r)
{
    struct strbuf packet;
    const char *vals[RK__COUNT];
    char *buf, logbuf[OTHER_LOGMSG_ROOM];
    char who[OTHER_LOGMSG_ROOM];
    long onlogin_ms;

    if (!oc.program) {
        *error_r = xstrdup("the driver is not started");
        return -1;
    }
    onlogin_ms = (long)(cfg_seconds(cfg, CFG_ONLOGIN_TIMEOUT) * 1000.0 + 0.5);
    if (onlogin_ms < oc.timeout_ms)
        oc.timeout_ms = (int)onlogin_ms;    /* this process's copy only */
    strbuf_init(&packet, OTHER_MAX_PACKET);
    if (build_onlogin(res, clienthost, serverhost, &packet) < 0) {
        strbuf_free(&packet);
        *error_r = xasprintf("ONLOGIN request longer than %d bytes",
                             OTHER_MAX_PACKET);
        return -1;
    }
    if (run_program(&packet, true, vals, &buf, error_r) < 0)
        return -1;

    log_sanitize(who, sizeof who, res->user, strlen(res->user));
    if (strcmp(vals[RK_RESULT], "NO") == 0)
        log_info("onlogin: driver other: user %s: %s said NO to ONLOGIN%s",
                 who, oc.program,
                 logmsg_suffix(vals[RK_LOGMSG], logbuf, sizeof logbuf));
    else
        log_debug("onlogin: driver other: user %s: %s said YES to ONLOGIN%s",
                  who, oc.program,
                  logmsg_suffix(vals[RK_LOGMSG], logbuf, sizeof logbuf));
    freezero(buf, OTHER_MAX_PACKET);
    return 0;
}

const struct auth_driver auth_driver_other = {
    .name = "other",
    .description = "external program",
    .compiled = true,
    .enable_key = CFG_AUTH_OTHER_ENABLE,
    .init = other_init,
    .pass = other_check,
    .apop = other_check,
    .apop_digest_only = true,
    .onlogin = other_onlogin,
    .close = other_close,
};
