/* SPDX-License-Identifier: GPL-2.0-or-later */
/* listener.c: the root process. It binds, polls, forks and reaps; it never
 * runs an auth driver, never opens a mailbox and never blocks on a client. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "conn.h"
#include "daemon.h"
#include "limits.h"
#include "listenaddr.h"
#include "listener.h"
#include "log.h"
#include "privsep.h"
#include "session.h"
#include "xalloc.h"

struct listener {
    int fd;
    char *word;             /* the listen-address word it came from */
    char *domain;           /* its (domain), or NULL */
    char *where;            /* text for logs: host:port */
};

struct child {
    pid_t pid;
    char host[CONN_HOSTLEN];
};

static struct listener listeners[MAX_LISTENERS];
static size_t nlisteners;

static struct child *children;
static size_t children_cap, nchildren;

static int sigpipe_fds[2] = { -1, -1 };

static const char default_listen[] = "0.0.0.0:110";

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;

    /* The pipe is non-blocking: when it is full, a wake-up is pending. */
    if (write(sigpipe_fds[1], &b, 1) < 0) {
        /* nothing to do */
    }
    errno = saved;
}

static void set_cloexec_nonblock(int fd)
{
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int listener_signals(void)
{
    struct sigaction sa;

    if (pipe(sigpipe_fds) < 0)
        return -1;
    set_cloexec_nonblock(sigpipe_fds[0]);
    set_cloexec_nonblock(sigpipe_fds[1]);
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

/* Open one socket for WORD; appends to listeners[]. 0 or -1 (logged). */
static int listener_bind(const char *word, const char *where)
{
    struct listen_addr la;
    struct addrinfo hints, *res = NULL, *ai;
    const char *err;
    int r, bound = 0;

    if (listenaddr_parse(word, &la, &err) < 0) {
        log_errx("%s: listen-address %s: %s", where, word, err);
        return -1;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    r = getaddrinfo(la.host, la.port, &hints, &res);
    if (r != 0) {
        log_errx("%s: listen-address %s: %s", where, word, gai_strerror(r));
        listenaddr_free(&la);
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        int fd, one = 1;

        if (nlisteners == MAX_LISTENERS) {
            log_errx("%s: too many listening sockets (at most %d)", where,
                     MAX_LISTENERS);
            break;
        }
        getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, serv,
                    sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV);
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            log_warn("%s: socket for %s", where, host);
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
            log_err("%s: cannot listen on [%s]:%s", where, host, serv);
            close(fd);
            continue;
        }
        set_cloexec_nonblock(fd);
        listeners[nlisteners].fd = fd;
        listeners[nlisteners].word = xstrdup(word);
        listeners[nlisteners].domain = la.domain ? xstrdup(la.domain) : NULL;
        listeners[nlisteners].where = ai->ai_family == AF_INET6
            ? xasprintf("[%s]:%s", host, serv) : xasprintf("%s:%s", host, serv);
        log_info("listening on %s%s%s%s", listeners[nlisteners].where,
                 la.domain ? " (domain " : "", la.domain ? la.domain : "",
                 la.domain ? ")" : "");
        nlisteners++;
        bound++;
    }
    freeaddrinfo(res);
    listenaddr_free(&la);
    return bound > 0 ? 0 : -1;
}

static void listener_free(struct listener *l)
{
    close(l->fd);
    free(l->word);
    free(l->domain);
    free(l->where);
}

int listener_open(const struct config *cfg)
{
    const char *spec = cfg_str(cfg, CFG_LISTEN_ADDRESS);
    char where[512], **words;
    size_t n;
    int r = 0;

    cfg_where(cfg, CFG_LISTEN_ADDRESS, where, sizeof where);
    if (!spec || !*spec)
        spec = default_listen;
    words = config_split_words(spec, &n);
    for (size_t i = 0; i < n; i++)
        if (listener_bind(words[i], where) < 0)
            r = -1;
    config_free_words(words);
    return r;
}

/* Rebind after a reload: keep sockets whose word is unchanged, open new
 * ones, close the ones no longer configured. Never drops a socket we keep. */
static void listener_rebind(const struct config *cfg)
{
    const char *spec = cfg_str(cfg, CFG_LISTEN_ADDRESS);
    char where[512], **words;
    bool keep[MAX_LISTENERS] = { false };
    size_t n, old = nlisteners, j = 0;

    cfg_where(cfg, CFG_LISTEN_ADDRESS, where, sizeof where);
    if (!spec || !*spec)
        spec = default_listen;
    words = config_split_words(spec, &n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;

        for (size_t k = 0; k < old; k++)
            if (strcmp(listeners[k].word, words[i]) == 0) {
                keep[k] = true;
                found = true;
            }
        if (!found)
            listener_bind(words[i], where);
    }
    config_free_words(words);
    for (size_t k = 0; k < nlisteners; k++) {
        if (k < old && !keep[k]) {
            log_info("no longer listening on %s", listeners[k].where);
            listener_free(&listeners[k]);
            continue;
        }
        listeners[j++] = listeners[k];
    }
    nlisteners = j;
}

static void children_reserve(size_t n)
{
    if (n <= children_cap)
        return;
    children = xreallocarray(children, n, sizeof *children);
    children_cap = n;
}

static size_t children_from(const char *host)
{
    size_t n = 0;

    for (size_t i = 0; i < nchildren; i++)
        if (strcmp(children[i].host, host) == 0)
            n++;
    return n;
}

static void reap(void)
{
    pid_t pid;
    int status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < nchildren; i++) {
            if (children[i].pid == pid) {
                children[i] = children[--nchildren];
                break;
            }
        }
        if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
            log_errx("session process %ld killed by signal %d", (long)pid,
                     WTERMSIG(status));
    }
}

static void refuse(int fd, const char *why)
{
    static const char msg[] =
        "-ERR [SYS/TEMP] too many connections, try again later\r\n";

    log_notice("refused connection: %s", why);
    /* The socket buffer is empty, so this never blocks. */
    if (send(fd, msg, sizeof msg - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* the client is gone already */
    }
    close(fd);
}

static void accept_one(const struct listener *l, const struct config *cfg,
                       bool verbose)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    char host[CONN_HOSTLEN];
    long long per_client = cfg_int(cfg, CFG_MAX_PER_CLIENT);
    pid_t pid;
    int fd;

    fd = accept(l->fd, (struct sockaddr *)&sa, &len);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
            errno != ECONNABORTED)
            log_warn("accept on %s", l->where);
        return;
    }
    if (getnameinfo((struct sockaddr *)&sa, len, host, sizeof host, NULL, 0,
                    NI_NUMERICHOST) != 0)
        snprintf(host, sizeof host, "unknown");
    if (nchildren >= (size_t)cfg_int(cfg, CFG_MAX_CHILDREN)) {
        refuse(fd, "max-children reached");
        return;
    }
    if (per_client > 0 && children_from(host) >= (size_t)per_client) {
        refuse(fd, "max-children-per-client reached");
        return;
    }
    if (cfg_is_set(cfg, CFG_TCP_SEND_BUFFER)) {
        int size = (int)cfg_int(cfg, CFG_TCP_SEND_BUFFER);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }

    pid = fork();
    if (pid < 0) {
        log_warn("fork");
        refuse(fd, "cannot fork");
        return;
    }
    if (pid == 0) {
        /* The session child: nothing of the listener stays open. */
        for (size_t i = 0; i < nlisteners; i++)
            close(listeners[i].fd);
        close(sigpipe_fds[0]);
        close(sigpipe_fds[1]);
        session_run(fd, l->domain, cfg, verbose);
        _exit(0);
    }
    close(fd);
    children[nchildren].pid = pid;
    snprintf(children[nchildren].host, sizeof children[nchildren].host, "%s",
             host);
    nchildren++;
}

static void reload(struct config **cfg, const char *cfg_path)
{
    struct config *ncfg;
    char *err = NULL;

    log_info("SIGHUP: reloading %s", cfg_path);
    ncfg = config_load(cfg_path, &err);
    if (!ncfg) {
        log_errx("reload failed, keeping the running configuration: %s", err);
        free(err);
        return;
    }
    for (size_t i = 0; i < ncfg->nwarnings; i++)
        log_warnx("%s", ncfg->warnings[i]);
    if (geteuid() == 0 && privsep_configure(ncfg, &err) < 0) {
        log_errx("reload failed, keeping the running configuration: %s", err);
        free(err);
        config_free(&ncfg);
        return;
    }
    auth_close();
    if (auth_init(ncfg, &err) < 0) {
        log_errx("reload failed, keeping the running configuration: %s", err);
        free(err);
        config_free(&ncfg);
        if (auth_init(*cfg, &err) < 0) {
            log_errx("cannot restore the authentication drivers: %s", err);
            free(err);
        }
        if (geteuid() == 0 && privsep_configure(*cfg, &err) < 0) {
            log_errx("cannot restore the privilege separation: %s", err);
            free(err);
        }
        return;
    }
    listener_rebind(ncfg);
    children_reserve((size_t)cfg_int(ncfg, CFG_MAX_CHILDREN) > nchildren
                     ? (size_t)cfg_int(ncfg, CFG_MAX_CHILDREN) : nchildren);
    config_free(cfg);
    *cfg = ncfg;
    log_info("configuration reloaded");
}

static void shutdown_children(void)
{
    struct timespec pause = { 0, 50 * 1000000L };

    for (size_t i = 0; i < nchildren; i++)
        kill(children[i].pid, SIGTERM);
    /* Sessions unwind and release their locks; give them up to 5 s. */
    for (int tries = 0; nchildren > 0 && tries < 100; tries++) {
        nanosleep(&pause, NULL);
        reap();
    }
    for (size_t i = 0; i < nchildren; i++)
        kill(children[i].pid, SIGKILL);
    reap();
}

int listener_loop(struct config **cfg, const char *cfg_path,
                  const char *pidfile, bool verbose)
{
    struct pollfd pfds[MAX_LISTENERS + 1];
    bool running = true;

    if (listener_signals() < 0) {
        log_err("signal pipe");
        return 1;
    }
    children_reserve((size_t)cfg_int(*cfg, CFG_MAX_CHILDREN));

    while (running) {
        size_t n = 0;
        int r;

        pfds[n].fd = sigpipe_fds[0];
        pfds[n++].events = POLLIN;
        for (size_t i = 0; i < nlisteners; i++) {
            pfds[n].fd = listeners[i].fd;
            pfds[n++].events = POLLIN;
        }
        r = poll(pfds, n, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            log_err("poll");
            break;
        }
        if (pfds[0].revents & POLLIN) {
            unsigned char sigs[64];
            ssize_t got = read(sigpipe_fds[0], sigs, sizeof sigs);
            bool hup = false;

            for (ssize_t i = 0; i < got; i++) {
                if (sigs[i] == SIGTERM || sigs[i] == SIGINT) {
                    log_info("signal %d: shutting down", sigs[i]);
                    running = false;
                } else if (sigs[i] == SIGHUP) {
                    hup = true;
                }
            }
            reap();
            if (running && hup) {
                reload(cfg, cfg_path);
                continue;       /* the listener set may have changed */
            }
        }
        if (!running)
            break;
        for (size_t i = 1; i < n; i++)
            if (pfds[i].revents & POLLIN)
                accept_one(&listeners[i - 1], *cfg, verbose);
    }

    for (size_t i = 0; i < nlisteners; i++)
        listener_free(&listeners[i]);
    nlisteners = 0;
    shutdown_children();
    auth_close();
    pidfile_remove(pidfile);
    free(children);
    log_info("stopped");
    return 0;
}
