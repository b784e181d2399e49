/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/pam.c: the pam driver, which asks a PAM service stack to check the
 * password and the account, then serves the user as its local account or
 * as the configured mail user. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <security/pam_appl.h>

#include "auth.h"
#include "conn.h"
#include "limits.h"
#include "username.h"
#include "xalloc.h"


/* One conversation call may carry at most this many messages (Linux-PAM's
 * own limit). */
#ifdef PAM_MAX_NUM_MSG
#define PAM_CONV_MAX_MSG PAM_MAX_NUM_MSG
#else
#define PAM_CONV_MAX_MSG 32
#endif

/* NSS buffers start at what sysconf suggests and grow on ERANGE up to
 * this. */
#define PAM_PWBUF_MAX (1024 * 1024)

static struct {
    char *service;
    bool permit_empty;
    int wait_ms;
    bool mail_user_set;
    uid_t mail_uid;
    gid_t mail_uid_gid;     /* the mail user's primary group, or -1 */
    bool mail_group_set;
    gid_t mail_gid;
} pam_conf;

/* Where the PAM stack stopped; the worker tells the session. */
enum pam_stage {
    STAGE_START,
    STAGE_ITEMS,
    STAGE_AUTHENTICATE,
    STAGE_ACCOUNT,
    STAGE_USER,
    STAGE_DONE,
};

/* What the worker process sends back over its pipe: small enough for one
 * atomic pipe write (PIPE_BUF is at least 512 by POSIX, 4096 on Linux). */
struct pam_outcome {
    int stage;                          /* enum pam_stage reached */
    int code;                           /* PAM return code of that stage */
    char user[POP3_MAX_USER + 2];       /* PAM_USER after the stack ran; one
                                           byte over the limit shows a name
                                           that was too long */
    char text[160];                     /* pam_strerror() of CODE */
};

_Static_assert(sizeof(struct pam_outcome) <= 512,
               "the outcome must fit in one atomic pipe write");

struct conv_state {
    const char *password;
    unsigned prompts;
};

static void pam_close(void)
{
    free(pam_conf.service);
    memset(&pam_conf, 0, sizeof pam_conf);
}

static int init_error(const struct config *cfg, enum cfg_key key,
                      char **error_r, char *msg)
{
    *error_r = cfg_error(cfg, key, msg);
    pam_close();
    return -1;
}

static int pam_init(const struct config *cfg, char **error_r)
{
    const char *service = cfg_str(cfg, CFG_AUTH_PAM_FACILITY);
    const char *user = cfg_str(cfg, CFG_AUTH_PAM_MAIL_USER);
    const char *group = cfg_str(cfg, CFG_AUTH_PAM_MAIL_GROUP);
    long long idle = cfg_int(cfg, CFG_TIMEOUT_SECONDS);
    const char *err;

    pam_close();
    /* The service names a file in /etc/pam.d. */
    if (!service || !*service)
        return init_error(cfg, CFG_AUTH_PAM_FACILITY, error_r,
                          xstrdup("the PAM service name may not be empty"));
    if (strchr(service, '/'))
        return init_error(cfg, CFG_AUTH_PAM_FACILITY, error_r,
                          xasprintf("%s: a PAM service name may not "
                                    "contain '/'", service));
    if (user && *user) {
        if (username_lookup_user(user, &pam_conf.mail_uid,
                                 &pam_conf.mail_uid_gid, &err) < 0)
            return init_error(cfg, CFG_AUTH_PAM_MAIL_USER, error_r,
                              xasprintf("%s: %s", user, err));
        if (pam_conf.mail_uid == 0)
            return init_error(cfg, CFG_AUTH_PAM_MAIL_USER, error_r,
                              xasprintf("%s: mailboxes may not be accessed "
                                        "as root", user));
        pam_conf.mail_user_set = true;
    }
    if (group && *group) {
        if (username_lookup_group(group, &pam_conf.mail_gid, &err) < 0)
            return init_error(cfg, CFG_AUTH_PAM_MAIL_GROUP, error_r,
                              xasprintf("%s: %s", group, err));
        pam_conf.mail_group_set = true;
    } else if (pam_conf.mail_user_set && pam_conf.mail_uid_gid == (gid_t)-1) {
        return init_error(cfg, CFG_AUTH_PAM_MAIL_GROUP, error_r,
                          xasprintf("must be set, as %s %s has no passwd "
                                    "entry to take a group from",
                                    cfg_defs[CFG_AUTH_PAM_MAIL_USER].name,
                                    user));
    }
    pam_conf.service = xstrdup(service);
    pam_conf.permit_empty = cfg_bool(cfg, CFG_PERMIT_EMPTY_PASSWORD);
    if (idle > PAM_MAX_WAIT_SECONDS)
        idle = PAM_MAX_WAIT_SECONDS;
    pam_conf.wait_ms = (int)idle * 1000;
    return 0;
}

static void free_responses(struct pam_response *resp, int n)
{
    for (int i = 0; i < n; i++)
        strfreezero(resp[i].resp);
    free(resp);
}

/* Every prompt is answered with the password: POP3 has nothing else to
 * give. Notices are dropped (the client cannot see them); anything else,
 * such as a binary prompt, cannot be answered. Allocations use plain
 * malloc because PAM frees the answers with free(), and a failure must
 * come back as PAM_BUF_ERR rather than end the process. */
static int conversation(int n, const struct pam_message **msg,
                        struct pam_response **resp_r, void *data)
{
    struct conv_state *cs = data;
    struct pam_response *resp;

    *resp_r = NULL;
    if (n <= 0 || n > PAM_CONV_MAX_MSG)
        return PAM_CONV_ERR;
    resp = calloc((size_t)n, sizeof *resp);
    if (!resp)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            if (++cs->prompts > PAM_MAX_PROMPTS) {
                free_responses(resp, n);
                return PAM_CONV_ERR;
            }
            resp[i].resp = strdup(cs->password);
            if (!resp[i].resp) {
                free_responses(resp, n);
                return PAM_BUF_ERR;
            }
            break;
        case PAM_TEXT_INFO:
        case PAM_ERROR_MSG:
            break;
        default:
            free_responses(resp, n);
            return PAM_CONV_ERR;
        }
    }
    *resp_r = resp;
    return PAM_SUCCESS;
}

static void copy_bounded(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;

    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/* Run the whole PAM transaction; never returns. */
static void __attribute__((noreturn))
worker(const struct auth_request *req, int fd)
{
    struct conv_state cs = { .password = req->password, .prompts = 0 };
    const struct pam_conv conv = { conversation, &cs };
    int flags = PAM_SILENT
                | (pam_conf.permit_empty ? 0 : PAM_DISALLOW_NULL_AUTHTOK);
    struct pam_outcome out;
    pam_handle_t *pamh = NULL;
    const void *item = NULL;
    const char *p;
    size_t off = 0;
    int rc;

    memset(&out, 0, sizeof out);
    out.stage = STAGE_START;
    rc = pam_start(pam_conf.service, req->user, &conv, &pamh);
    if (rc != PAM_SUCCESS)
        goto report;
    out.stage = STAGE_ITEMS;
    if (req->clienthost && *req->clienthost) {
        rc = pam_set_item(pamh, PAM_RHOST, req->clienthost);
        if (rc != PAM_SUCCESS)
            goto end;
    }
    out.stage = STAGE_AUTHENTICATE;
    rc = pam_authenticate(pamh, flags);
    if (rc != PAM_SUCCESS)
        goto end;
    out.stage = STAGE_ACCOUNT;
    rc = pam_acct_mgmt(pamh, flags);
    if (rc != PAM_SUCCESS)
        goto end;
    /* A module may have mapped the name (to a canonical account, say). */
    out.stage = STAGE_USER;
    rc = pam_get_item(pamh, PAM_USER, &item);
    if (rc != PAM_SUCCESS)
        goto end;
    copy_bounded(out.user, sizeof out.user, item);
    out.stage = STAGE_DONE;

end:
    copy_bounded(out.text, sizeof out.text, pam_strerror(pamh, rc));
    pam_end(pamh, rc);
    pamh = NULL;
report:
    out.code = rc;
    if (out.stage == STAGE_START)
        copy_bounded(out.text, sizeof out.text, pam_strerror(pamh, rc));
    p = (const char *)&out;
    while (off < sizeof out) {
        ssize_t w = write(fd, p + off, sizeof out - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    _exit(0);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void kill_worker(pid_t pid)
{
    /* The worker leads its own process group, so helpers a module started
     * there go with it (pam_exec puts its helper in a session of its own,
     * out of reach). */
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

/* Read the outcome within the deadline. 0 on success; -1 with *ERROR_R
 * (static) when the worker timed out or the session is stopping (the
 * worker is then killed), -2 when it ended without answering. */
static int read_outcome(int fd, pid_t pid, struct pam_outcome *out,
                        const char **error_r)
{
    long long deadline = now_ms() + pam_conf.wait_ms;
    char *p = (char *)out;
    size_t got = 0;

    while (got < sizeof *out) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        long long left = deadline - now_ms();
        ssize_t r;
        int n;

        if (left <= 0) {
            kill_worker(pid);
            *error_r = "the PAM stack did not answer in time";
            return -1;
        }
        n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno == EINTR) {
            if (conn_interrupted) {
                kill_worker(pid);
                *error_r = "interrupted while waiting for PAM";
                return -1;
            }
            continue;
        }
        if (n < 0) {
            kill_worker(pid);
            *error_r = "waiting for the PAM worker failed";
            return -1;
        }
        if (n == 0)
            continue;
        r = read(fd, p + got, sizeof *out - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            kill_worker(pid);
            *error_r = "the PAM worker ended without an answer";
            return -2;
        }
        got += (size_t)r;
    }
    out->user[sizeof out->user - 1] = '\0';
    out->text[sizeof out->text - 1] = '\0';
    return 0;
}

/* Run the PAM transaction in a child process, so that a module that hangs
 * or crashes costs this login a temporary failure instead of stalling or
 * killing the session; the session's idle timeout cannot interrupt code
 * blocked inside a module. */
static enum auth_status run_worker(const struct auth_request *req,
                                   struct pam_outcome *out, char **error_r)
{
    const char *err = NULL;
    pid_t parent = getpid(), pid;
    int fds[2], status = 0, rc;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        *error_r = xasprintf("pipe: %s", strerror(errno));
        return AUTH_TEMPFAIL;
    }
    pid = fork();
    if (pid < 0) {
        *error_r = xasprintf("fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return AUTH_TEMPFAIL;
    }
    if (pid == 0) {
        struct sigaction sa;

        close(fds[0]);
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGCHLD, &sa, NULL);  /* modules wait for their helpers */
        setpgid(0, 0);
#ifdef __linux__
        /* Do not outlive a session that was killed while PAM ran. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
#else
        (void)parent;
#endif
        worker(req, fds[1]);
    }
    /* Also from this side, so the group exists before any kill. */
    setpgid(pid, pid);
    close(fds[1]);
    rc = read_outcome(fds[0], pid, out, &err);
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
    if (rc < 0) {
        if (rc == -2 && WIFSIGNALED(status))
            *error_r = xasprintf("%s (signal %d)", err, WTERMSIG(status));
        else
            *error_r = xstrdup(err);
        return AUTH_TEMPFAIL;
    }
    return AUTH_OK;
}

static const char *stage_name(int stage)
{
    switch (stage) {
    case STAGE_START:        return "pam_start";
    case STAGE_ITEMS:        return "pam_set_item";
    case STAGE_AUTHENTICATE: return "pam_authenticate";
    case STAGE_ACCOUNT:      return "pam_acct_mgmt";
    default:                 return "pam_get_item";
    }
}

/* Which PAM answers mean "not this user / not this password" (the next
 * driver may try) as opposed to "PAM could not decide". */
static enum auth_status classify(const struct pam_outcome *out,
                                 char **error_r)
{
    const char *why = NULL;
    enum auth_status st = AUTH_NO;

    switch (out->code) {
    case PAM_AUTH_ERR:
    case PAM_USER_UNKNOWN:
    case PAM_MAXTRIES:
    case PAM_CRED_INSUFFICIENT:
    case PAM_PERM_DENIED:
        break;
    case PAM_ACCT_EXPIRED:
        why = "account expired";
        break;
    case PAM_NEW_AUTHTOK_REQD:
        /* POP3 offers no way to change it. */
        why = "password expired, it must be changed first";
        break;
    case PAM_CONV_ERR:
        why = "the PAM stack asked for more than a password";
        break;
    default:
        /* PAM_AUTHINFO_UNAVAIL, PAM_SYSTEM_ERR, PAM_BUF_ERR,
         * PAM_SERVICE_ERR, PAM_ABORT, PAM_OPEN_ERR, ... */
        st = AUTH_TEMPFAIL;
        break;
    }
    if (why)
        *error_r = xasprintf("%s: %s", stage_name(out->stage), why);
    else
        *error_r = xasprintf("%s: %s", stage_name(out->stage), out->text);
    return st;
}

/* The name PAM settled on must be as harmless as the one the client gave:
 * it becomes $(user) in mailbox paths. */
static const char *check_mapped(const char *name)
{
    size_t n = strlen(name);

    if (n == 0)
        return "PAM left no user name";
    if (n > POP3_MAX_USER)
        return "PAM returned an over-long user name";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c < 0x20 || c == 0x7f || c == '/')
            return "PAM returned a user name with a forbidden character";
    }
    return NULL;
}

static size_t pwbuf_start(void)
{
    long n = sysconf(_SC_GETPW_R_SIZE_MAX);

    return n > 0 && n <= PAM_PWBUF_MAX ? (size_t)n : 16384;
}

static enum auth_status pam_pass(const struct auth_request *req,
                                 struct auth_result *res, char **error_r)
{
    struct pam_outcome out;
    struct passwd pw, *pwp = NULL;
    size_t pwsize = pwbuf_start();
    char *pwbuf;
    const char *bad;
    bool same;
    enum auth_status st;
    int rc;

    st = run_worker(req, &out, error_r);
    if (st != AUTH_OK)
        return st;
    if (out.stage != STAGE_DONE)
        return classify(&out, error_r);
    bad = check_mapped(out.user);
    if (bad) {
        *error_r = xstrdup(bad);
        return AUTH_NO;
    }

    for (;;) {
        pwbuf = xmalloc(pwsize);
        rc = getpwnam_r(out.user, &pw, pwbuf, pwsize, &pwp);
        if (rc != ERANGE || pwsize >= PAM_PWBUF_MAX)
            break;
        free(pwbuf);
        pwsize *= 2;
    }
    if (pwp) {
        if (pw.pw_uid == 0) {
            *error_r = xstrdup("refusing to log in a user with uid 0");
            st = AUTH_NO;
            goto out;
        }
        res->uid = pw.pw_uid;
        res->gid = pw.pw_gid;
        res->home = pw.pw_dir && pw.pw_dir[0] ? xstrdup(pw.pw_dir) : NULL;
    } else if (rc != 0 && rc != ENOENT && rc != ESRCH) {
        *error_r = xasprintf("passwd lookup of the PAM user failed: %s",
                             strerror(rc));
        st = AUTH_TEMPFAIL;
        goto out;
    } else if (pam_conf.mail_user_set) {
        res->uid = pam_conf.mail_uid;
        res->gid = pam_conf.mail_uid_gid;
        res->home = NULL;
    } else {
        *error_r = xasprintf("PAM accepted the user, but there is no local "
                             "account and %s is not set",
                             cfg_defs[CFG_AUTH_PAM_MAIL_USER].name);
        st = AUTH_NO;
        goto out;
    }
    if (pam_conf.mail_group_set)
        res->gid = pam_conf.mail_gid;

    same = strcmp(out.user, req->user) == 0;
    res->user = xstrdup(out.user);
    res->local_part = xstrdup(same ? req->local_part : out.user);
    res->domain = req->domain ? xstrdup(req->domain) : NULL;
    res->mailbox = NULL;
    res->driver = "pam";
    st = AUTH_OK;

out:
    freezero(pwbuf, pwsize);
    return st;
}

const struct auth_driver auth_driver_pam = {
    .name = "pam",
    .description = "Pluggable Authentication Modules",
    .compiled = true,
    .enable_key = CFG_AUTH_PAM_ENABLE,
    .init = pam_init,
    .pass = pam_pass,
    .apop = NULL,
    .close = pam_close,
};
