/* SPDX-License-Identifier: GPL-2.0-or-later */
/* listener.c: the root process. It binds, polls, forks and reaps; it never
 * runs an auth driver, never opens a mailbox and never blocks on a client. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "onlogin.h"
#include "privsep.h"
#include "session.h"
#include "tls.h"
#include "xalloc.h"

struct listener {
    int fd;
    char *word;             /* the listen-address word it came from */
    char *domain;           /* its (domain), or NULL */
    char *where;            /* text for logs: host:port */
    enum listen_tls tls;    /* POP3S, STLS or neither */
    struct tls_server *srv; /* its certificate; NULL without TLS */
};

/* The TLS contexts made while reading one configuration: one per distinct
 * certificate and key, shared by the listeners that name them. */
struct tls_set {
    struct tls_server *srv[MAX_LISTENERS];
    size_t n;
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

static const char *tls_mode_text(enum listen_tls mode)
{
    switch (mode) {
    case LISTEN_TLS_IMMEDIATE: return " (TLS from the start)";
    case LISTEN_TLS_STLS: return " (STLS offered)";
    default: return "";
    }
}

/* The context for LA's certificate and key: one already made for this
 * configuration, or a new one (recorded in SET). NULL after logging why,
 * with WHERE (the directive's file:line) and WORD. */
static struct tls_server *tls_for(const struct listen_addr *la,
                                  const struct config *cfg,
                                  struct tls_set *set, const char *where,
                                  const char *word)
{
    struct tls_server *srv;
    char *err = NULL;

    for (size_t i = 0; i < set->n; i++)
        if (strcmp(tls_server_cert(set->srv[i]), la->cert) == 0 &&
            strcmp(tls_server_key(set->srv[i]), la->key) == 0)
            return set->srv[i];
    /* SET owns every context it hands out: one it cannot record could
     * not be released, so it is never made. */
    if (set->n == MAX_LISTENERS) {
        log_errx("%s: listen-address %s: too many different certificates "
                 "and keys (at most %d): refused", where, word, MAX_LISTENERS);
        return NULL;
    }
    srv = tls_server_new(cfg, la->cert, la->key, &err);
    if (!srv) {
        log_errx("%s: listen-address %s: %s", where, word, err);
        free(err);
        return NULL;
    }
    set->srv[set->n++] = srv;
    return srv;
}

static void tls_set_free(struct tls_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        tls_server_unref(&set->srv[i]);
    set->n = 0;
}

static void log_listening(const struct listener *l)
{
    log_info("listening on %s%s%s%s%s", l->where,
             l->domain ? " (domain " : "", l->domain ? l->domain : "",
             l->domain ? ")" : "", tls_mode_text(l->tls));
}

/* The addresses of WORD (parsed as LA), as listener_bind would use them.
 * NULL after logging why. */
static struct addrinfo *listener_resolve(const char *word,
                                         const struct listen_addr *la,
                                         const char *where)
{
    struct addrinfo hints, *res = NULL;
    int r;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    r = getaddrinfo(la->host, la->port, &hints, &res);
    if (r != 0) {
        log_errx("%s: listen-address %s: %s", where, word, gai_strerror(r));
        return NULL;
    }
    return res;
}

/* Open a socket for each address of RES (the addresses of WORD, parsed
 * as LA, with context SRV when it has TLS) but those marked in SKIP;
 * appends to listeners[]. 0 or -1 (logged). */
static int listener_bind(const char *word, const struct listen_addr *la,
                         struct tls_server *srv, const char *where,
                         const struct addrinfo *res, const bool *skip)
{
    const struct addrinfo *ai;
    size_t idx = 0;
    int bound = 0;

    for (ai = res; ai; ai = ai->ai_next, idx++) {
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        struct listener *l;
        int fd, one = 1;

        if (skip[idx])
            continue;
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
        l = &listeners[nlisteners];
        l->fd = fd;
        l->word = xstrdup(word);
        l->domain = la->domain ? xstrdup(la->domain) : NULL;
        l->where = ai->ai_family == AF_INET6
            ? xasprintf("[%s]:%s", host, serv) : xasprintf("%s:%s", host, serv);
        l->tls = srv ? la->tls : LISTEN_TLS_NONE;
        l->srv = srv ? tls_server_ref(srv) : NULL;
        log_listening(l);
        nlisteners++;
        bound++;
    }
    return bound > 0 ? 0 : -1;
}

/* Say so when passwords will be refused on a listener that cannot offer
 * TLS (unless only loopback clients can reach it and they are exempt). */
static void warn_no_tls(const struct config *cfg, const struct listen_addr *la,
                        const char *where, const char *word)
{
    enum tls_auth_policy p = tls_auth_policy(cfg);
    bool loopback = strncmp(la->host, "127.", 4) == 0 ||
        strcmp(la->host, "::1") == 0 || strcmp(la->host, "localhost") == 0;

    if (la->tls != LISTEN_TLS_NONE || p == TLS_AUTH_ANY ||
        (p == TLS_AUTH_EXCEPT_LOOPBACK && loopback))
        return;
    log_warnx("%s: listen-address %s offers no TLS, and tls-required-for-auth "
              "refuses passwords without it", where, word);
}

static void listener_free(struct listener *l)
{
    close(l->fd);
    free(l->word);
    free(l->domain);
    free(l->where);
    tls_server_unref(&l->srv);
}

/* The address a socket is bound to; length 0 when it cannot be told. */
struct bound_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* Is AI the address B (family, address and port)? Words are compared by
 * what they bind, not by their text: the default port follows the TLS
 * mode, and "host", "host:110" and "host:110(domain)" are one socket. */
static bool same_socket(const struct addrinfo *ai, const struct bound_addr *b)
{
    if (b->len == 0 || ai->ai_family != b->ss.ss_family)
        return false;
    if (ai->ai_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)ai->ai_addr;
        const struct sockaddr_in *y = (const struct sockaddr_in *)&b->ss;

        return x->sin_port == y->sin_port &&
            x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (ai->ai_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)ai->ai_addr;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->ss;

        return x->sin6_port == y->sin6_port &&
            x->sin6_scope_id == y->sin6_scope_id &&
            memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

/* Take over old socket L for WORD (parsed as LA, context SRV). When the
 * word wants TLS but its certificate could not be loaded, L keeps what it
 * had. */
static void listener_update(struct listener *l, const char *word,
                            const struct listen_addr *la,
                            struct tls_server *srv, const char *where)
{
    bool changed;

    if (la->tls != LISTEN_TLS_NONE && !srv) {
        if (l->srv)
            log_errx("%s: listen-address %s: still serving %s on %s",
                     where, word, tls_server_cert(l->srv), l->where);
        return;
    }
    changed = l->tls != la->tls ||
        (l->domain == NULL) != (la->domain == NULL) ||
        (l->domain && strcmp(l->domain, la->domain) != 0);
    free(l->word);
    l->word = xstrdup(word);
    free(l->domain);
    l->domain = la->domain ? xstrdup(la->domain) : NULL;
    tls_server_unref(&l->srv);
    l->srv = srv ? tls_server_ref(srv) : NULL;
    l->tls = la->tls;
    if (changed)
        log_listening(l);
}

/* Bind (at start, OLD == 0) or rebind (after a reload, OLD the number of
 * listeners before it) every listen-address of CFG. A socket whose address
 * is still listed stays open, with its TLS settings and certificate taken
 * afresh from the files; when the new certificate or key cannot be used,
 * it keeps the ones it had (logged with the directive's file:line). New
 * addresses are opened; the caller closes those no longer listed (KEEP).
 * Returns 0, or -1 when something could not be set up (logged). */
static int listener_setup(const struct config *cfg, size_t old, bool *keep)
{
    const char *spec = cfg_str(cfg, CFG_LISTEN_ADDRESS);
    char where[512], **words;
    struct tls_set set = { .n = 0 };
    struct bound_addr bound[MAX_LISTENERS];
    size_t n;
    int r = 0;

    cfg_where(cfg, CFG_LISTEN_ADDRESS, where, sizeof where);
    if (!spec || !*spec)
        spec = default_listen;
    for (size_t k = 0; k < old; k++) {
        bound[k].len = sizeof bound[k].ss;
        if (getsockname(listeners[k].fd, (struct sockaddr *)&bound[k].ss,
                        &bound[k].len) < 0)
            bound[k].len = 0;
    }
    words = config_split_words(spec, &n);
    for (size_t i = 0; i < n; i++) {
        struct tls_server *srv = NULL;
        struct addrinfo *res, *ai;
        struct listen_addr la;
        const char *err;
        size_t naddr = 0, idx, matched = 0;
        bool *taken;

        if (listenaddr_parse(words[i], &la, &err) < 0) {
            log_errx("%s: listen-address %s: %s", where, words[i], err);
            r = -1;
            continue;
        }
        if (la.tls != LISTEN_TLS_NONE) {
            srv = tls_for(&la, cfg, &set, where, words[i]);
            if (!srv)
                r = -1;
        }
        warn_no_tls(cfg, &la, where, words[i]);
        res = listener_resolve(words[i], &la, where);
        if (!res) {
            r = -1;
            listenaddr_free(&la);
            continue;
        }
        for (ai = res; ai; ai = ai->ai_next)
            naddr++;
        taken = xcalloc(naddr, sizeof *taken);
        /* Each old socket serves at most one new word. */
        for (ai = res, idx = 0; ai; ai = ai->ai_next, idx++) {
            for (size_t k = 0; k < old; k++) {
                if (keep[k] || !same_socket(ai, &bound[k]))
                    continue;
                keep[k] = taken[idx] = true;
                matched++;
                listener_update(&listeners[k], words[i], &la, srv, where);
                break;
            }
        }
        if (matched < naddr && (la.tls == LISTEN_TLS_NONE || srv) &&
            listener_bind(words[i], &la, srv, where, res, taken) < 0)
            r = -1;
        free(taken);
        freeaddrinfo(res);
        listenaddr_free(&la);
    }
    config_free_words(words);
    tls_set_free(&set);     /* the listeners hold their own references */
    return r;
}

int listener_open(const struct config *cfg)
{
    char *err = NULL;

    if (tls_check_config(cfg, &err) < 0) {
        log_errx("%s", err);
        free(err);
        return -1;
    }
    return listener_setup(cfg, 0, NULL);
}

/* Rebind after a reload: keep sockets whose address is unchanged, open new
 * ones, close the ones no longer configured. Never drops a socket we keep. */
static void listener_rebind(const struct config *cfg)
{
    bool keep[MAX_LISTENERS] = { false };
    size_t old = nlisteners, j = 0;

    listener_setup(cfg, old, keep);
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
        tls_forget_passphrase();
        tls_set_listener_offer(l->srv, l->tls);
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
    if (tls_check_config(ncfg, &err) < 0 || onlogin_check_config(ncfg, &err) < 0 ||
        (geteuid() == 0 && privsep_configure(ncfg, &err) < 0)) {
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

/* Replace the TLS session-ticket keys that are due (each context once,
 * however many listeners share it), so that children forked from now on
 * use new ones. Returns the poll timeout until the next is due: -1 for
 * none. */
static int rotate_ticket_keys(void)
{
    long long next = -1;

    for (size_t i = 0; i < nlisteners; i++) {
        struct tls_server *srv = listeners[i].srv;
        long long due;
        char *err = NULL;

        if (!srv)
            continue;
        due = tls_server_ticket_due_ms(srv);
        if (due == 0) {
            if (tls_server_rotate_tickets(srv, &err) < 0) {
                log_errx("%s", err);
                free(err);
            }
            due = tls_server_ticket_due_ms(srv);
        }
        if (due >= 0 && (next < 0 || due < next))
            next = due;
    }
    return next > INT_MAX ? INT_MAX : (int)next;
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
        r = poll(pfds, n, rotate_ticket_keys());
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
