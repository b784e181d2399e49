/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep.c: the split of a session at login. The monitor (root) forks a
 * pre-login process that chroots into an empty directory, becomes
 * privsep-user and speaks to the client until it logs in; the monitor runs
 * the drivers for it, then continues the session as the mail user. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"
#include "privsep.h"
#include "privsep_msg.h"
#include "privsep_private.h"
#include "sandbox.h"
#include "sasl.h"
#include "session.h"
#include "xalloc.h"

_Static_assert(PRIVSEP_SCRAM_LEN == SCRAM_SHA256_LEN &&
               PRIVSEP_MAX_SALT == SCRAM_MAX_SALT &&
               SASL_SCRAM_SALT_LEN <= PRIVSEP_MAX_SALT,
               "the messages carry what SCRAM uses");

/* A session may begin this many CRAM-MD5 or SCRAM exchanges (cancelled
 * ones included): each costs the monitor random numbers, never a look at
 * a secret, but it need not hand them out without end. */
#define PRIVSEP_MAX_CHALLENGES  64

/* Resolved by privsep_configure() in the listener, inherited by sessions. */
static struct {
    bool ready;
    uid_t uid;
    gid_t gid;
    char *dir;
} conf;

int privsep_configure(const struct config *cfg, char **error_r)
{
    const char *user = cfg_str(cfg, CFG_PRIVSEP_USER);
    const char *dir = cfg_str(cfg, CFG_PRIVSEP_DIRECTORY);
    struct passwd *pw;
    struct stat st;
    struct dirent *de;
    DIR *d;

    if (!user || !*user) {
        *error_r = cfg_error(cfg, CFG_PRIVSEP_USER, xstrdup("empty user name"));
        return -1;
    }
    pw = getpwnam(user);
    if (!pw) {
        *error_r = cfg_error(cfg, CFG_PRIVSEP_USER, xasprintf(
            "no such user \"%s\" (create it with: useradd --system "
            "--no-create-home --home-dir /nonexistent --shell "
            "/usr/sbin/nologin %s)", user, user));
        return -1;
    }
    if (pw->pw_uid == 0 || pw->pw_gid == 0) {
        *error_r = cfg_error(cfg, CFG_PRIVSEP_USER, xasprintf(
            "user \"%s\" has uid or gid 0; it must be an unprivileged "
            "account of its own", user));
        return -1;
    }
    if (!dir || dir[0] != '/') {
        *error_r = cfg_error(cfg, CFG_PRIVSEP_DIRECTORY,
                             xstrdup("must be an absolute path"));
        return -1;
    }
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        *error_r = cfg_error(cfg, CFG_PRIVSEP_DIRECTORY, xasprintf(
            "%s is not a directory (create it with: mkdir -p -m 0755 %s)",
            dir, dir));
        return -1;
    }
    /* The pre-login process must find nothing in its root and be unable
     * to put anything there. */
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        *error_r = cfg_error(cfg, CFG_PRIVSEP_DIRECTORY, xasprintf(
            "%s must be owned by root and writable by nobody else "
            "(chown root %s; chmod 0755 %s)", dir, dir, dir));
        return -1;
    }
    d = opendir(dir);
    if (!d) {
        *error_r = cfg_error(cfg, CFG_PRIVSEP_DIRECTORY,
                             xasprintf("%s: %s", dir, strerror(errno)));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            closedir(d);
            *error_r = cfg_error(cfg, CFG_PRIVSEP_DIRECTORY,
                                 xasprintf("%s must be empty", dir));
            return -1;
        }
    }
    closedir(d);
    conf.uid = pw->pw_uid;
    conf.gid = pw->pw_gid;
    free(conf.dir);
    conf.dir = xstrdup(dir);
    conf.ready = true;
    if (cfg_bool(cfg, CFG_PRIVSEP_SANDBOX) && !sandbox_filter_available())
        log_warnx("privsep-sandbox: no system-call filter for this "
                  "architecture; only resource limits confine the "
                  "pre-login process");
    return 0;
}

bool privsep_prelogin(const struct session *s)
{
    return s->privsep && s->privsep->prelogin;
}

/* -- messages --------------------------------------------------------------- */

/* Wait until FD is readable. The monitor, once told to shut down, passes
 * the SIGTERM on and gives the pre-login process a bounded time to say
 * goodbye. 0, or -1 when it should stop waiting. */
static int wait_readable(struct privsep *ps, int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    for (;;) {
        int r;

        if (conn_interrupted) {
            struct timespec now;

            if (ps->prelogin)
                return -1;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (!ps->term_sent) {
                kill(ps->pid, SIGTERM);
                ps->term_sent = true;
                ps->term_deadline = now;
                ps->term_deadline.tv_sec += PRIVSEP_REAP_MS / 1000;
            } else if (now.tv_sec > ps->term_deadline.tv_sec ||
                       (now.tv_sec == ps->term_deadline.tv_sec &&
                        now.tv_nsec >= ps->term_deadline.tv_nsec)) {
                return -1;
            }
        }
        /* Bounded, so a signal that lands just before poll() is seen. */
        r = poll(&pfd, 1, 200);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int read_exact(struct privsep *ps, int fd, void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n;

        if (wait_readable(ps, fd) < 0)
            return -1;
        n = read(fd, p, len);
        if (n == 0)
            return -1;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                poll(&pfd, 1, 200);
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int privsep_send(int fd, const struct privsep_msg *m, int pass_fd)
{
    static unsigned char buf[PRIVSEP_MSG_MAX];
    const char *err;
    size_t n = privsep_msg_encode(m, buf, sizeof buf, &err), off = 0;
    int r;

    if (n == 0) {
        log_errx("privsep: cannot encode a message: %s", err);
        return -1;
    }
    if (pass_fd >= 0) {
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } cm;
        struct iovec iov = { .iov_base = buf, .iov_len = PRIVSEP_MSG_HDR };
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = cm.buf, .msg_controllen = sizeof cm.buf,
        };
        struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
        ssize_t sent;

        memset(&cm, 0, sizeof cm);
        ch->cmsg_level = SOL_SOCKET;
        ch->cmsg_type = SCM_RIGHTS;
        ch->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(ch), &pass_fd, sizeof(int));
        do
            sent = sendmsg(fd, &mh, MSG_NOSIGNAL);
        while (sent < 0 && errno == EINTR);
        if (sent <= 0)
            return -1;
        off = (size_t)sent;
    }
    r = write_all(fd, buf + off, n - off);
    explicit_bzero(buf, n);
    return r;
}

/* Read a header; a descriptor that came with it is returned in *FD_R
 * (NULL: none may come; any that does is closed and refused). */
static int msg_header_fd(struct privsep *ps, enum privsep_msg_type *type_r,
                         size_t *len_r, int *fd_r)
{
    unsigned char hdr[PRIVSEP_MSG_HDR];
    size_t got = 0;
    const char *err;
    int fd = -1;

    while (got < sizeof hdr) {
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } cm;
        struct iovec iov = { .iov_base = hdr + got, .iov_len = sizeof hdr - got };
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = cm.buf, .msg_controllen = sizeof cm.buf,
        };
        ssize_t n;

        if (wait_readable(ps, ps->chan) < 0)
            goto fail;
        n = recvmsg(ps->chan, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            goto fail;
        for (struct cmsghdr *ch = CMSG_FIRSTHDR(&mh); ch;
             ch = CMSG_NXTHDR(&mh, ch)) {
            int in;

            if (ch->cmsg_level != SOL_SOCKET || ch->cmsg_type != SCM_RIGHTS ||
                ch->cmsg_len != CMSG_LEN(sizeof(int)))
                continue;
            memcpy(&in, CMSG_DATA(ch), sizeof in);
            if (fd >= 0 || !fd_r) {
                close(in);
                log_errx("privsep: unexpected descriptor from the pre-login process");
                goto fail;
            }
            fd = in;
        }
        if (mh.msg_flags & MSG_CTRUNC)
            goto fail;
        got += (size_t)n;
    }
    if (privsep_msg_header(hdr, type_r, len_r, &err) < 0) {
        log_errx("privsep: %s", err);
        goto fail;
    }
    if (fd_r)
        *fd_r = fd;
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

static int msg_header(struct privsep *ps, enum privsep_msg_type *type_r,
                      size_t *len_r)
{
    return msg_header_fd(ps, type_r, len_r, NULL);
}

int privsep_recv_body(struct privsep *ps, enum privsep_msg_type type,
                    size_t len, struct privsep_msg *m)
{
    static unsigned char body[PRIVSEP_MSG_MAX_BODY];
    const char *err;
    int r;

    /* The header check bounded LEN by the type's maximum. */
    if (len > sizeof body || read_exact(ps, ps->chan, body, len) < 0)
        return -1;
    r = privsep_msg_decode(type, body, len, m, &err);
    explicit_bzero(body, len);
    if (r < 0)
        log_errx("privsep: %s", err);
    return r;
}

static int msg_recv(struct privsep *ps, struct privsep_msg *m)
{
    enum privsep_msg_type type;
    size_t len;

    if (msg_header(ps, &type, &len) < 0)
        return -1;
    return privsep_recv_body(ps, type, len, m);
}

/* -- the pre-login process ---------------------------------------------------- */

/* The strings the pre-login process may still read: each one must be
 * free of secrets (a mechanism list, a policy word; never a password, a
 * query or a key file). Ends with CFG__COUNT. */
static const enum cfg_key prelogin_strings[] = {
    CFG_TLS_REQUIRED_FOR_AUTH,      /* a policy word, read before login */
    CFG__COUNT,
};

static bool prelogin_keeps(size_t key)
{
    for (size_t i = 0; prelogin_strings[i] != CFG__COUNT; i++)
        if ((size_t)prelogin_strings[i] == key)
            return true;
    return false;
}

/* Forget every secret of the configuration: the pre-login process reads
 * numbers and switches (timeouts, apop-only, privsep-relay) and only the
 * strings above. The memory is this process's copy, so the cast is safe. */
static void scrub_config(const struct config *ccfg)
{
    struct config *cfg = (struct config *)ccfg;

    for (size_t i = 0; i < CFG__COUNT; i++) {
        struct cfg_value *v = &cfg->values[i];

        if (!v->text || prelogin_keeps(i))
            continue;
        explicit_bzero(v->text, strlen(v->text));
        free(v->text);
        v->text = NULL;
    }
}

/* Unmap every shared writable mapping (the authentication cache): the
 * pre-login process must not be able to read or forge what the monitors
 * share. */
static int unmap_shared(void)
{
    char line[512];
    FILE *f = fopen("/proc/self/maps", "re");
    int r = 0;

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        char *end, *perms;
        unsigned long lo = strtoul(line, &end, 16), hi;

        if (*end != '-')
            continue;
        hi = strtoul(end + 1, &perms, 16);
        if (*perms != ' ' || strlen(perms) < 5)
            continue;
        if (perms[4] == 's' && munmap((void *)lo, hi - lo) < 0)
            r = -1;
        /* a long line (a path) goes on: skip the rest of it */
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ;
    }
    fclose(f);
    return r;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

/* Close every descriptor but the N in KEEP. */
static void close_all_but(int *keep, size_t n)
{
    unsigned lo = 0;

    qsort(keep, n, sizeof *keep, cmp_int);
    for (size_t i = 0; i < n; i++) {
        if (keep[i] < 0)
            continue;
        if ((unsigned)keep[i] > lo)
            close_range(lo, (unsigned)keep[i] - 1, 0);
        lo = (unsigned)keep[i] + 1;
    }
    close_range(lo, ~0U, 0);
}

static int prelogin_setup(struct session *s, int chan, const char **error_r)
{
    int keep[6], logfd, probe;
    size_t n = 0;
    struct stat st;

    scrub_config(s->cfg);
    if (unmap_shared() < 0) {
        *error_r = "cannot unmap shared memory";
        return -1;
    }
    /* Reopen the syslog socket where we can name it, to keep it open in
     * the chroot (there is no /dev/log there). */
    closelog();
    probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (probe >= 0)
        close(probe);
    openlog("tpop3d", LOG_PID | LOG_NDELAY,
            cfg_facility(s->cfg, CFG_LOG_FACILITY));
    logfd = probe;
    keep[n++] = 0;
    keep[n++] = 1;
    keep[n++] = 2;
    keep[n++] = s->conn.fd;
    keep[n++] = chan;
    if (logfd > 2 && logfd != s->conn.fd && logfd != chan)
        keep[n++] = logfd;
    close_all_but(keep, n);
    tzset();        /* the log's local time, before /etc goes away */
    if (chroot(conf.dir) < 0 || chdir("/") < 0) {
        *error_r = "cannot chroot into privsep-directory";
        return -1;
    }
    if (privs_drop(conf.uid, conf.gid, error_r) < 0)
        return -1;
    /* Last, with everything it will use open (the client, the channel,
     * syslog; the TLS context is in memory) and before the first byte
     * from the client. close_all_but() sorted KEEP. A foreground daemon
     * whose stderr (the log's copy) is a file keeps writing to it. */
    if (cfg_bool(s->cfg, CFG_PRIVSEP_SANDBOX) &&
        sandbox_apply((unsigned)keep[n - 1] + 1,
                      (fstat(2, &st) == 0 && S_ISREG(st.st_mode) ?
                       SANDBOX_FILE_WRITES : 0) |
                      (cfg_bool(s->cfg, CFG_TLS_KERNEL_OFFLOAD) ?
                       SANDBOX_KERNEL_TLS : 0), error_r) < 0)
        return -1;
    return 0;
}

static enum privsep_end end_code(const char *reason)
{
    static const struct { const char *name; enum privsep_end code; } map[] = {
        { "QUIT", PRIVSEP_END_QUIT }, { "drop", PRIVSEP_END_DROP },
        { "timeout", PRIVSEP_END_TIMEOUT }, { "error", PRIVSEP_END_ERROR },
        { "bad commands", PRIVSEP_END_BAD_COMMANDS },
        { "auth failures", PRIVSEP_END_AUTH_FAILURES },
        { "shutdown", PRIVSEP_END_SHUTDOWN },
        { "SASL cancelled", PRIVSEP_END_SASL_CANCELLED },
    };

    /* No reason: the TLS handshake failed, and that was logged already. */
    if (!reason)
        return PRIVSEP_END_HANDSHAKE;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, reason) == 0)
            return map[i].code;
    return PRIVSEP_END_ERROR;
}

static const char *end_name(unsigned code)
{
    static const char *const names[PRIVSEP_END__COUNT] = {
        "QUIT", "drop", "timeout", "error", "bad commands", "auth failures",
        "shutdown", NULL, "SASL cancelled",
    };

    return code < PRIVSEP_END__COUNT ? names[code] : "error";
}

void privsep_prelogin_end(struct session *s)
{
    static struct privsep_msg m;

    m.type = PRIVSEP_MSG_END;
    m.status = (uint8_t)end_code(s->end_reason);
    snprintf(m.login, sizeof m.login, "%s", s->user ? s->user : "");
    privsep_send(s->privsep->chan, &m, -1);
    _exit(0);
}

/* The monitor cannot be reached: end the session (it logs why). */
static void channel_lost(struct session *s)
{
    s->end_reason = conn_interrupted ? "shutdown" : "error";
    session_set_state(s, STATE_DONE);
}

int privsep_challenge(struct session *s, enum auth_method method,
                      char *challenge, size_t size, unsigned char *salt,
                      size_t *salt_len_r, unsigned *iterations_r)
{
    static struct privsep_msg m;
    uint8_t want = method == AUTH_METHOD_SCRAM_SHA256 ? PRIVSEP_METHOD_SCRAM
                                                      : PRIVSEP_METHOD_CRAM_MD5;

    memset(&m, 0, offsetof(struct privsep_msg, data));
    m.type = PRIVSEP_MSG_CHALLENGE_REQ;
    m.method = want;
    conn_flush(&s->conn);
    if (privsep_send(s->privsep->chan, &m, -1) < 0 || msg_recv(s->privsep, &m) < 0 ||
        (m.type != PRIVSEP_MSG_CHALLENGE && m.type != PRIVSEP_MSG_RESULT)) {
        channel_lost(s);
        return -1;
    }
    if (m.type == PRIVSEP_MSG_RESULT || m.method != want ||
        strlen(m.challenge) >= size)
        return -1;
    snprintf(challenge, size, "%s", m.challenge);
    if (want == PRIVSEP_METHOD_SCRAM) {
        memcpy(salt, m.salt, m.salt_len);
        *salt_len_r = m.salt_len;
        *iterations_r = m.iterations;
    }
    return 0;
}

/* Fill M with the SCRAM request of ATT; -1 when a field is out of the
 * message's bounds (the attempt then fails as a wrong proof would). */
static int scram_request(struct privsep_msg *m, const struct auth_attempt *att)
{
    const struct auth_scram *sc = att->scram;

    if (!sc || sc->salt_len == 0 || sc->salt_len > PRIVSEP_MAX_SALT ||
        sc->auth_message_len == 0 ||
        sc->auth_message_len > PRIVSEP_MAX_AUTH_MESSAGE ||
        memchr(sc->auth_message, 0, sc->auth_message_len))
        return -1;
    m->type = PRIVSEP_MSG_AUTH_SCRAM;
    memcpy(m->salt, sc->salt, sc->salt_len);
    m->salt_len = sc->salt_len;
    m->iterations = sc->iterations;
    memcpy(m->auth_message, sc->auth_message, sc->auth_message_len);
    m->auth_message_len = sc->auth_message_len;
    memcpy(m->proof, sc->client_proof, PRIVSEP_SCRAM_LEN);
    return 0;
}

enum auth_status privsep_authenticate(struct session *s,
                                      const struct auth_attempt *att)
{
    static struct privsep_msg m;
    bool scram = att->method == AUTH_METHOD_SCRAM_SHA256;
    const char *secret = att->method == AUTH_METHOD_PASS ? att->password
                                                         : att->digest;
    int r;

    memset(&m, 0, offsetof(struct privsep_msg, data));
    if (strlen(att->login) > POP3_MAX_USER)
        return AUTH_NO;
    snprintf(m.login, sizeof m.login, "%s", att->login);
    if (scram) {
        if (scram_request(&m, att) < 0)
            return AUTH_NO;
    } else {
        if (!secret || strlen(secret) > POP3_MAX_PASS)
            return AUTH_NO;
        m.type = PRIVSEP_MSG_AUTH;
        m.method = att->method == AUTH_METHOD_APOP ? PRIVSEP_METHOD_APOP
                   : att->method == AUTH_METHOD_CRAM_MD5 ? PRIVSEP_METHOD_CRAM_MD5
                   : PRIVSEP_METHOD_PASS;
        snprintf(m.secret, sizeof m.secret, "%s", secret);
    }
    /* Earlier replies go out before the monitor's failure delay. */
    conn_flush(&s->conn);
    r = privsep_send(s->privsep->chan, &m, -1);
    explicit_bzero(m.secret, sizeof m.secret);
    if (r < 0 || msg_recv(s->privsep, &m) < 0 || m.type != PRIVSEP_MSG_RESULT ||
        (m.with_signature && !scram)) {
        channel_lost(s);
        return AUTH_TEMPFAIL;
    }
    switch (m.status) {
    case PRIVSEP_OK:
        if (!scram)
            privsep_handoff(s);
        if (!m.with_signature) {
            channel_lost(s);
            return AUTH_TEMPFAIL;
        }
        memcpy(att->scram->server_signature, m.signature, PRIVSEP_SCRAM_LEN);
        return AUTH_OK;
    case PRIVSEP_NO:
        return AUTH_NO;
    default:
        return AUTH_TEMPFAIL;
    }
}

/* -- the monitor -------------------------------------------------------------- */

/* Wait up to MS milliseconds for process PID to exit and reap it; true
 * when it did. A pidfd wakes us the moment it exits: this wait is on the
 * path of every login, where sleeping in steps would cost milliseconds. */
bool privsep_wait_exit(pid_t pid, int ms, int *status)
{
    struct timespec pause = { 0, 1000000L };
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

    if (pfd >= 0) {
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        int r;

        do
            r = poll(&p, 1, ms);
        while (r < 0 && errno == EINTR);
        close(pfd);
        return r > 0 && waitpid(pid, status, WNOHANG) == pid;
    }
    for (int i = 0; i < ms; i++) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return true;
        nanosleep(&pause, NULL);
    }
    return false;
}

/* Wait up to PRIVSEP_REAP_MS for the pre-login process to exit, then kill
 * it. Only while we are root (or it is already gone). */
void privsep_reap(struct privsep *ps)
{
    int status = 0;

    if (ps->pid <= 0)
        return;
    if (!privsep_wait_exit(ps->pid, PRIVSEP_REAP_MS, &status)) {
        kill(ps->pid, SIGKILL);
        waitpid(ps->pid, NULL, 0);
        log_errx("privsep: pre-login process %ld did not end; killed",
                 (long)ps->pid);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
        /* The sandbox's verdict: a call outside its allow-list. */
        log_errx("privsep: pre-login process for %s killed by the "
                 "system-call filter", ps->client);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM) {
        /* Worth an admin's look: a crash, or someone else's kill. */
        log_errx("privsep: pre-login process %ld killed by signal %d",
                 (long)ps->pid, WTERMSIG(status));
    }
    ps->pid = -1;
}

static void fail_delay(void)
{
    struct timespec delay = {
        .tv_sec = POP3_AUTH_FAIL_DELAY_MS / 1000,
        .tv_nsec = (POP3_AUTH_FAIL_DELAY_MS % 1000) * 1000000L,
    };

    while (nanosleep(&delay, &delay) < 0 && errno == EINTR && !conn_interrupted)
        ;
}

/* Answer a CHALLENGE_REQ in M (which becomes the answer): a fresh
 * challenge the monitor keeps for the next login request. */
static void monitor_challenge(struct privsep *ps, struct privsep_msg *m)
{
    unsigned char rnd[18];
    char host[100];
    uint8_t method = m->method;

    memset(m, 0, offsetof(struct privsep_msg, data));
    ps->issued = 0;
    if (ps->challenges >= PRIVSEP_MAX_CHALLENGES ||
        getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd ||
        (method == PRIVSEP_METHOD_SCRAM &&
         getrandom(ps->salt, sizeof ps->salt, 0) != (ssize_t)sizeof ps->salt)) {
        m->type = PRIVSEP_MSG_RESULT;
        m->status = PRIVSEP_TEMPFAIL;
        return;
    }
    ps->challenges++;
    m->type = PRIVSEP_MSG_CHALLENGE;
    m->method = method;
    if (method == PRIVSEP_METHOD_SCRAM) {
        /* 18 random octets make a 24-character nonce without padding. */
        char *nonce = sasl_b64_encode(rnd, sizeof rnd);

        snprintf(ps->challenge, sizeof ps->challenge, "%s", nonce);
        free(nonce);
        memcpy(m->salt, ps->salt, sizeof ps->salt);
        m->salt_len = sizeof ps->salt;
        m->iterations = SASL_SCRAM_ITERATIONS;
    } else {
        if (gethostname(host, sizeof host) < 0 || !host[0])
            snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = 0;
        /* RFC 2195: a unique string in angle brackets, like an APOP
         * timestamp; the random part makes it unpredictable too. */
        snprintf(ps->challenge, sizeof ps->challenge,
                 "<%02x%02x%02x%02x%02x%02x%02x%02x.%lld@%.60s>", rnd[0],
                 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7],
                 (long long)time(NULL), host);
    }
    snprintf(m->challenge, sizeof m->challenge, "%s", ps->challenge);
    ps->issued = method;
}

/* Whether the SCRAM request M answers the monitor's last challenge: its
 * salt and iteration count, and an AuthMessage whose server-first part
 * ends in the monitor's nonce, salt and count. A proof made for another
 * exchange (replayed by a pre-login process that saw one) cannot name a
 * nonce the monitor has just made. */
static bool scram_matches(const struct privsep *ps, const struct privsep_msg *m)
{
    char *salt, *want;
    bool ok;

    if (ps->issued != PRIVSEP_METHOD_SCRAM || m->salt_len != sizeof ps->salt ||
        memcmp(m->salt, ps->salt, sizeof ps->salt) != 0 ||
        m->iterations != SASL_SCRAM_ITERATIONS)
        return false;
    salt = sasl_b64_encode(ps->salt, sizeof ps->salt);
    want = xasprintf("%s,s=%s,i=%u,c=", ps->challenge, salt,
                     (unsigned)SASL_SCRAM_ITERATIONS);
    ok = memmem(m->auth_message, m->auth_message_len, want, strlen(want)) != NULL;
    free(salt);
    free(want);
    return ok;
}

/* Decide one login request. The addresses, the listener's domain, the
 * APOP timestamp and the CRAM-MD5 and SCRAM challenges are the monitor's
 * own, never the pre-login side's. A SCRAM OK leaves the ServerSignature
 * in SIG. */
static enum privsep_status monitor_auth(struct session *s,
                                        const struct privsep_msg *m,
                                        unsigned char *sig)
{
    struct auth_scram as = {
        .salt = m->salt, .salt_len = m->salt_len,
        .iterations = m->iterations,
        .auth_message = m->auth_message,
        .auth_message_len = m->auth_message_len,
        .client_proof = m->proof,
        .server_signature = sig,
    };
    const struct auth_scram *scram = &as;
    struct auth_attempt att;
    enum auth_status st;

    memset(&att, 0, sizeof att);
    att.login = m->login;
    att.clienthost = s->conn.clienthost;
    att.serverhost = s->conn.serverhost;
    att.listener_domain = s->conn.domain;
    if (m->type == PRIVSEP_MSG_AUTH_SCRAM) {
        if (!scram_matches(s->privsep, m))
            goto no;
        att.method = AUTH_METHOD_SCRAM_SHA256;
        att.scram = scram;
    } else if (m->method == PRIVSEP_METHOD_APOP) {
        if (!s->timestamp[0])
            goto no;
        att.method = AUTH_METHOD_APOP;
        att.timestamp = s->timestamp;
        att.digest = m->secret;
    } else if (m->method == PRIVSEP_METHOD_CRAM_MD5) {
        if (s->privsep->issued != PRIVSEP_METHOD_CRAM_MD5)
            goto no;
        att.method = AUTH_METHOD_CRAM_MD5;
        att.timestamp = s->privsep->challenge;
        att.digest = m->secret;
    } else {
        if (cfg_bool(s->cfg, CFG_APOP_ONLY))
            goto no;
        att.method = AUTH_METHOD_PASS;
        att.password = m->secret;
    }
    st = auth_authenticate(s->cfg, &att, &s->auth);
    if (st == AUTH_OK && s->auth.uid == 0) {
        log_errx("refusing to serve %s as root (driver %s)", s->auth.user,
                 s->auth.driver);
        auth_result_free(&s->auth);
        memset(&s->auth, 0, sizeof s->auth);
        return PRIVSEP_TEMPFAIL;
    }
    if (st == AUTH_OK)
        return PRIVSEP_OK;
    if (st == AUTH_TEMPFAIL)
        return PRIVSEP_TEMPFAIL;
no:
    fail_delay();
    s->privsep->failures++;
    return PRIVSEP_NO;
}

static enum privsep_role monitor_end(struct session *s, const char *reason)
{
    struct privsep *ps = s->privsep;

    if (reason)
        s->end_reason = conn_interrupted ? "shutdown" : reason;
    /* A session that fails here fails for good: do not wait for a
     * pre-login process that may be misbehaving. */
    if (reason && ps->pid > 0)
        kill(ps->pid, SIGKILL);
    privsep_reap(ps);
    close(ps->chan);
    ps->chan = -1;
    session_set_state(s, STATE_DONE);
    return PRIVSEP_ENDED;
}

static enum privsep_role monitor_loop(struct session *s)
{
    static struct privsep_msg m;
    unsigned char sig[PRIVSEP_SCRAM_LEN] = { 0 };
    int hr;
    struct privsep *ps = s->privsep;
    enum privsep_msg_type type;
    enum privsep_status st;
    int fd = -1;

    for (;;) {
        if (msg_recv(ps, &m) < 0)
            return monitor_end(s, "error");
        if (m.type == PRIVSEP_MSG_END) {
            if (m.login[0])
                s->user = xstrdup(m.login);
            s->end_reason = end_name(m.status);
            return monitor_end(s, NULL);
        }
        if (m.type == PRIVSEP_MSG_CHALLENGE_REQ) {
            monitor_challenge(ps, &m);
            if (privsep_send(ps->chan, &m, -1) < 0)
                return monitor_end(s, "error");
            continue;
        }
        if ((m.type != PRIVSEP_MSG_AUTH && m.type != PRIVSEP_MSG_AUTH_SCRAM) ||
            ps->failures >= POP3_MAX_AUTH_FAILURES) {
            log_errx("privsep: unexpected message from the pre-login process");
            return monitor_end(s, "error");
        }
        st = monitor_auth(s, &m, sig);
        /* A challenge answers one login request, whatever its verdict. */
        ps->issued = 0;
        explicit_bzero(m.secret, sizeof m.secret);
        m.with_signature = st == PRIVSEP_OK && m.type == PRIVSEP_MSG_AUTH_SCRAM;
        memcpy(m.signature, sig, sizeof m.signature);
        explicit_bzero(sig, sizeof sig);
        m.type = PRIVSEP_MSG_RESULT;
        m.status = (uint8_t)st;
        if (privsep_send(ps->chan, &m, -1) < 0) {
            if (st == PRIVSEP_OK)
                auth_result_free(&s->auth);
            return monitor_end(s, "error");
        }
        if (st == PRIVSEP_OK)
            break;
    }
    /* Only the header now (with the client's socket for a handoff): the
     * bytes behind it came from the client, and are read once we are no
     * longer root. After SCRAM the client may still refuse our signature:
     * then the session ends before the login is finished. */
    hr = msg_header_fd(ps, &type, &ps->pending_len, &fd);
    if (hr == 0 && type == PRIVSEP_MSG_END && fd < 0) {
        if (privsep_recv_body(ps, type, ps->pending_len, &m) < 0)
            return monitor_end(s, "error");
        s->end_reason = end_name(m.status);
        return monitor_end(s, NULL);
    }
    if (hr < 0 || (type == PRIVSEP_MSG_HANDOFF && !privsep_same_connection(&s->conn, fd)) ||
        (type == PRIVSEP_MSG_RELAY && fd >= 0) ||
        (type != PRIVSEP_MSG_HANDOFF && type != PRIVSEP_MSG_RELAY)) {
        log_errx("privsep: no valid handoff after the login of %s",
                 s->auth.user);
        if (fd >= 0)
            close(fd);
        auth_result_free(&s->auth);
        memset(&s->auth, 0, sizeof s->auth);
        return monitor_end(s, "error");
    }
    ps->relay = type == PRIVSEP_MSG_RELAY;
    if (!ps->relay) {
        s->conn.fd = fd;
        privsep_reap(ps);
    }
    return PRIVSEP_LOGGED_IN;
}

enum privsep_role privsep_start(struct session *s)
{
    struct privsep *ps;
    const char *err = NULL;
    int sv[2];
    pid_t pid;

    if (!conf.ready || geteuid() != 0)
        return PRIVSEP_OFF;
    ps = xmalloc(sizeof *ps);
    memset(ps, 0, sizeof *ps);
    ps->chan = ps->pid = -1;
    ps->client = s->conn.clienthost;
    s->privsep = ps;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        log_err("privsep: socketpair");
        return monitor_end(s, "error");
    }
    pid = fork();
    if (pid < 0) {
        log_err("privsep: fork");
        close(sv[0]);
        close(sv[1]);
        return monitor_end(s, "error");
    }
    if (pid == 0) {
        close(sv[0]);
        ps->prelogin = true;
        ps->chan = sv[1];
        if (prelogin_setup(s, sv[1], &err) < 0) {
            log_errx("privsep: %s", err);
            _exit(1);
        }
        return PRIVSEP_PRELOGIN;
    }
    close(sv[1]);
    /* The client belongs to the pre-login process until it logs in. */
    close(s->conn.fd);
    s->conn.fd = -1;
    ps->chan = sv[0];
    ps->pid = pid;
    return monitor_loop(s);
}

