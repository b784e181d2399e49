/* SPDX-License-Identifier: GPL-2.0-or-later */
/* session.c: one client from greeting to goodbye: the dispatch loop that
 * writes every status line, the login step, and the closing log line. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "limits.h"
#include "log.h"
#include "onlogin.h"
#include "pop3.h"
#include "privs.h"
#include "privsep.h"
#include "session.h"
#include "strbuf.h"
#include "subst.h"
#include "tls.h"
#include "xalloc.h"

/* Used when the config names no mailbox location (passwd users). */
#define DEFAULT_MAILBOX "bsd:" MAILSPOOL_DIR "/$(user)"

static const char *state_name(enum session_state st)
{
    switch (st) {
    case STATE_AUTHORIZATION: return "AUTHORIZATION";
    case STATE_TRANSACTION: return "TRANSACTION";
    case STATE_UPDATE: return "UPDATE";
    case STATE_DONE: return "DONE";
    }
    return "?";
}

void session_set_state(struct session *s, enum session_state state)
{
    log_debug("state %s -> %s", state_name(s->state), state_name(state));
    s->state = state;
}

void session_reply(struct session *s, const char *code, const char *fmt, ...)
{
    va_list ap;

    s->resp_code = code;
    va_start(ap, fmt);
    vsnprintf(s->resp, sizeof s->resp, fmt, ap);
    va_end(ap);
}

static void make_timestamp(struct session *s)
{
    char host[256];
    struct timespec ts;

    if (gethostname(host, sizeof host) < 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(s->timestamp, sizeof s->timestamp, "<%ld.%ld.%09ld@%.80s>",
             (long)getpid(), (long)ts.tv_sec, ts.tv_nsec, host);
}

/* Write the status line for OUTCOME, then any multi-line body. */
static int write_reply(struct session *s, enum pop3_outcome outcome)
{
    struct conn *c = &s->conn;
    bool ok = outcome == POP_OK || outcome == POP_LEAVE;
    int r;

    if (outcome == POP_QUIET)
        return c->failed ? -1 : 0;
    if (s->resp_code)
        r = conn_printf(c, "%s [%s] %s\r\n", ok ? "+OK" : "-ERR",
                        s->resp_code, s->resp);
    else
        r = conn_printf(c, "%s%s%s\r\n", ok ? "+OK" : "-ERR",
                        s->resp[0] ? " " : "", s->resp);
    if (s->verbose)
        log_info("server: %s%s%s%s %s", ok ? "+OK" : "-ERR",
                 s->resp_code ? " [" : "", s->resp_code ? s->resp_code : "",
                 s->resp_code ? "]" : "", s->resp);
    if (r == 0 && ok && s->resp_body)
        r = s->resp_body(s, s->resp_arg, s->resp_lines);
    return r;
}

static void log_command(const struct session *s, const struct pop3_cmd *cmd,
                        const char *line, size_t len)
{
    char clean[160];

    if (strcmp(cmd->verb, "PASS") == 0) {
        log_info("client: PASS (hidden)");
        return;
    }
    if (strcmp(cmd->verb, "AUTH") == 0 && cmd->argc >= 2) {
        /* An initial response is a credential (PLAIN carries the
         * password in base64). */
        log_info("client: AUTH %s (response hidden)",
                 log_sanitize(clean, sizeof clean, cmd->argv[0],
                              strlen(cmd->argv[0])));
        return;
    }
    if (strcmp(cmd->verb, "APOP") == 0 && cmd->argc >= 1) {
        log_info("client: APOP %s (digest hidden)",
                 log_sanitize(clean, sizeof clean, cmd->argv[0],
                              strlen(cmd->argv[0])));
        return;
    }
    log_info("client: %s", log_sanitize(clean, sizeof clean, line, len));
}

static enum pop3_outcome dispatch(struct session *s, char *line, size_t len)
{
    const struct pop3_command *table, *cmd;
    struct pop3_cmd pc;
    const char *err;

    if (pop3_parse_command(line, &pc, &err) < 0) {
        if (s->verbose) {
            /* Unparsed, a credential cannot be told from the rest (PASS
             * with a tab before the password): its first octets and its
             * length are enough to see what the client tried. */
            char clean[32];

            log_info("client: unparsable line \"%s...\" (%zu octets)",
                     log_sanitize(clean, sizeof clean, line,
                                  len < 4 ? len : 4), len);
        }
        session_reply(s, NULL, "%s", err);
        return POP_BAD;
    }
    if (s->verbose)
        log_command(s, &pc, line, len);

    table = s->state == STATE_AUTHORIZATION ? pop3_auth_commands
                                            : pop3_trans_commands;
    cmd = pop3_find(table, pc.verb);
    if (!cmd) {
        if (pop3_known_verb(pc.verb)) {
            session_reply(s, NULL, "%s is not allowed in the %s state",
                          pc.verb, state_name(s->state));
            return POP_ERR;
        }
        session_reply(s, NULL, "unknown command");
        return POP_BAD;
    }
    if (pc.argc < cmd->min_args || pc.argc > cmd->max_args) {
        session_reply(s, NULL, "wrong number of arguments for %s", pc.verb);
        return POP_BAD;
    }
    return cmd->handler(s, &pc);
}

static const char *end_for_line(enum conn_line r)
{
    switch (r) {
    case CONN_LINE_EOF: return "drop";
    case CONN_LINE_TIMEOUT: return "timeout";
    default: return "error";
    }
}

static void session_loop(struct session *s)
{
    while (s->state == STATE_AUTHORIZATION || s->state == STATE_TRANSACTION) {
        enum pop3_outcome outcome;
        enum conn_line r;
        char *line;
        size_t len;

        s->resp_code = NULL;
        s->resp[0] = 0;
        s->resp_body = NULL;

        r = conn_read_line(&s->conn, POP3_MAX_LINE, &line, &len);
        switch (r) {
        case CONN_LINE_OK:
            outcome = dispatch(s, line, len);
            break;
        case CONN_LINE_TOOLONG:
            session_reply(s, NULL, "line too long");
            outcome = POP_BAD;
            break;
        case CONN_LINE_NUL:
            session_reply(s, NULL, "NUL byte in command");
            outcome = POP_BAD;
            break;
        default:
            if (r == CONN_LINE_TIMEOUT && !conn_interrupted) {
                conn_puts(&s->conn, "-ERR idle timeout, closing connection\r\n");
                conn_flush(&s->conn);
            }
            s->end_reason = conn_interrupted ? "shutdown" : end_for_line(r);
            session_set_state(s, STATE_DONE);
            return;
        }
        if (outcome == POP_BAD && ++s->bad_commands >= POP3_MAX_BAD_COMMANDS) {
            session_reply(s, NULL, "too many bad commands, closing connection");
            outcome = POP_ERR;
            s->end_reason = "bad commands";
            session_set_state(s, STATE_DONE);
        }
        if (write_reply(s, outcome) < 0) {
            s->end_reason = s->conn.timed_out ? "timeout" : "drop";
            session_set_state(s, STATE_DONE);
            return;
        }
        if (outcome == POP_LEAVE && s->state != STATE_DONE)
            session_set_state(s, STATE_DONE);
    }
}

/* Pick the mailbox: the driver's choice; else the first configured
 * location whose mailbox exists; else the first whose directory exists (a
 * missing mbox is empty until mail arrives); else none. So
 * "maildir:$(home)/Maildir bsd:/var/mail/$(user)" serves whichever the
 * user really has. */
char *session_choose_mailbox(const struct config *cfg,
                             const struct auth_result *a,
                             const char *clienthost, const char *serverhost,
                             const char **error_r)
{
    struct subst_vars vars = {
        .user = a->user, .local_part = a->local_part, .domain = a->domain,
        .home = a->home, .clienthost = clienthost, .serverhost = serverhost,
    };
    const char *locations = cfg_str(cfg, CFG_MAILBOX);
    char **words, *fallback = NULL, *chosen = NULL;
    char *folded[3] = { NULL, NULL, NULL };
    size_t n;

    if (a->mailbox)
        return xstrdup(a->mailbox);
    if (cfg_bool(cfg, CFG_LOWERCASE_MAILBOX)) {
        /* lowercase-mailbox: "Bob" and "bob" reach one mailbox even when
         * the drivers keep case. ASCII only, as lowercase-user, so that
         * the path never depends on the locale. */
        const char **vals[3] = { &vars.user, &vars.local_part, &vars.domain };

        for (size_t v = 0; v < 3; v++) {
            if (!*vals[v])
                continue;
            folded[v] = xstrdup(*vals[v]);
            for (char *c = folded[v]; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c - 'A' + 'a');
            *vals[v] = folded[v];
        }
    }
    if (!locations || !*locations)
        locations = DEFAULT_MAILBOX;
    words = config_split_words(locations, &n);
    for (size_t i = 0; i < n && !chosen; i++) {
        struct strbuf sb;
        const char *spec = words[i], *colon = strchr(spec, ':'), *path;
        char *dir, *slash;
        struct stat st;

        strbuf_init(&sb, 4096);
        if (colon && spec[0] != '/') {
            strbuf_append(&sb, spec, (size_t)(colon - spec) + 1);
            spec = colon + 1;
        }
        if (subst_expand(spec, &vars, SUBST_PATH_SAFE, &sb, error_r) < 0) {
            strbuf_free(&sb);
            break;
        }
        path = strbuf_str(&sb);
        if (path[0] != '/' && strchr(path, ':'))
            path = strchr(path, ':') + 1;
        if (lstat(path, &st) == 0) {
            chosen = strbuf_detach(&sb);
            break;
        }
        dir = xstrdup(path);
        slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = 0;
        if (!fallback && slash && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            fallback = strbuf_detach(&sb);
        else
            strbuf_free(&sb);
        free(dir);
    }
    config_free_words(words);
    for (size_t v = 0; v < 3; v++)
        free(folded[v]);
    if (chosen) {
        free(fallback);
        return chosen;
    }
    if (!fallback && *error_r == NULL)
        *error_r = "no mailbox location exists (neither the mailbox nor its directory)";
    return fallback;
}

enum pop3_outcome session_login(struct session *s,
                                const struct auth_attempt *att)
{
    enum auth_status st;

    /* In the pre-login process the monitor decides, and delays failures
     * itself; on success privsep_authenticate() does not return. */
    if (privsep_prelogin(s))
        st = privsep_authenticate(s, att);
    else
        st = auth_authenticate(s->cfg, att, &s->auth);
    /* The password has served: the processes forked from here on (the
     * onlogin actions, as root or as the user) must not inherit it. Every
     * caller passes a copy of its own, writable, that it frees after. */
    if (att->password)
        explicit_bzero((char *)att->password, strlen(att->password));
    if (st == AUTH_TEMPFAIL) {
        session_reply(s, "SYS/TEMP", "authentication temporarily unavailable, try again later");
        return POP_ERR;
    }
    if (st != AUTH_OK) {
        struct timespec delay = {
            .tv_sec = POP3_AUTH_FAIL_DELAY_MS / 1000,
            .tv_nsec = (POP3_AUTH_FAIL_DELAY_MS % 1000) * 1000000L,
        };

        /* Flush what came before, so pipelined replies keep their order,
         * then make the guesser wait. */
        conn_flush(&s->conn);
        while (!privsep_prelogin(s) && nanosleep(&delay, &delay) < 0 &&
               errno == EINTR && !conn_interrupted)
            ;
        session_reply(s, "AUTH", "authentication failed");
        if (++s->auth_failures >= POP3_MAX_AUTH_FAILURES) {
            s->end_reason = "auth failures";
            session_set_state(s, STATE_DONE);
        }
        return POP_ERR;
    }
    /* Only SCRAM comes back here in the pre-login process: its caller
     * hands over once the client has taken our signature. */
    if (privsep_prelogin(s))
        return POP_OK;
    return session_login_finish(s);
}

enum pop3_outcome session_login_finish(struct session *s)
{
    struct mailbox_options opts = {
        .dotlock = !cfg_bool(s->cfg, CFG_MAILSPOOL_NO_DOTFILE_LOCKING),
        .lock_wait_ms = MAILBOX_LOCK_WAIT_MS,
        .owner = (uid_t)-1,
        .durable = cfg_bool(s->cfg, CFG_MAILSPOOL_DURABLE_COMMIT),
        .use_x_uidl = cfg_bool(s->cfg, CFG_MAILSPOOL_USE_X_UIDL),
        .index_template = cfg_str(s->cfg, CFG_MAILSPOOL_INDEX),
    };
    const char *err = NULL;
    char *spec, *merr = NULL;

    /* From here on the session belongs to one user; any failure ends it. */
    s->end_reason = "error";
    if (s->auth.uid == 0) {
        log_errx("refusing to serve %s as root (driver %s)", s->auth.user,
                 s->auth.driver);
        session_reply(s, "SYS/PERM", "server configuration error");
        session_set_state(s, STATE_DONE);
        return POP_ERR;
    }
    /* Still root: relay grants and bulletin records belong to root. */
    conn_flush(&s->conn);
    /* After a relayed login the channel to the relay stands for the
     * client: the actions' process must not hold it open either. */
    onlogin_run(s->cfg, &s->auth, s->conn.clienthost, s->conn.serverhost,
                s->privsep ? privsep_client_fd(s) : s->conn.fd);
    if (privs_drop(s->auth.uid, s->auth.gid, &err) < 0) {
        log_errx("user %s: %s", s->auth.user, err);
        session_reply(s, "SYS/TEMP", "server error, try again later");
        session_set_state(s, STATE_DONE);
        return POP_ERR;
    }
    spec = session_choose_mailbox(s->cfg, &s->auth, s->conn.clienthost,
                                  s->conn.serverhost, &err);
    if (!spec) {
        log_errx("user %s: mailbox location: %s", s->auth.user, err);
        session_reply(s, "SYS/PERM", "cannot find your mailbox");
        session_set_state(s, STATE_DONE);
        return POP_ERR;
    }
    opts.owner = s->auth.uid;
    switch (mailbox_open(spec, &opts, &s->mb, &merr)) {
    case MAILBOX_OK:
        break;
    case MAILBOX_INUSE:
        log_info("user %s: mailbox %s is in use%s%s", s->auth.user, spec,
                 merr ? ": " : "", merr ? merr : "");
        session_reply(s, "IN-USE", "mailbox is locked by another session, try again later");
        s->end_reason = "in-use";
        goto fail;
    case MAILBOX_TEMPFAIL:
        log_errx("user %s: mailbox %s: %s", s->auth.user, spec,
                 merr ? merr : "cannot open");
        session_reply(s, "SYS/TEMP", "cannot open your mailbox now, try again later");
        goto fail;
    case MAILBOX_PERMFAIL:
        log_errx("user %s: mailbox %s: %s", s->auth.user, spec,
                 merr ? merr : "refused");
        session_reply(s, "SYS/PERM", "cannot open your mailbox");
        goto fail;
    }
    free(merr);
    s->live_count = s->mb->count;
    s->live_size = 0;
    for (size_t i = 0; i < s->mb->count; i++)
        s->live_size += s->mb->msgs[i].size;
    log_info("user %s: opened %s: %zu messages, %llu octets", s->auth.user,
             spec, s->live_count, (unsigned long long)s->live_size);
    free(spec);
    s->end_reason = "drop";
    session_set_state(s, STATE_TRANSACTION);
    session_reply(s, NULL, "%zu messages (%llu octets)", s->live_count,
                  (unsigned long long)s->live_size);
    return POP_OK;

fail:
    free(merr);
    free(spec);
    session_set_state(s, STATE_DONE);
    return POP_ERR;
}

static void on_term(int sig)
{
    (void)sig;
    conn_interrupted = 1;
}

static void session_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
}

static double elapsed(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) +
        (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

void session_run(int fd, const char *domain, const struct config *cfg,
                 bool verbose)
{
    struct session s;
    enum privsep_role role;
    char clean[160], tlsinfo[256];
    enum listen_tls tls_mode;
    bool immediate;

    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.verbose = verbose;
    s.state = STATE_AUTHORIZATION;
    s.end_reason = "drop";
    clock_gettime(CLOCK_MONOTONIC, &s.started);
    session_signals();
    auth_postfork();

    if (conn_init(&s.conn, fd, domain,
                  (int)cfg_int(cfg, CFG_TIMEOUT_SECONDS) * 1000) < 0) {
        log_warn("connection setup failed");
        close(fd);
        return;
    }
    s.conn.tls_server = tls_listener_offer(&tls_mode);
    s.conn.stls_offered = s.conn.tls_server && tls_mode == LISTEN_TLS_STLS;
    immediate = s.conn.tls_server && tls_mode == LISTEN_TLS_IMMEDIATE;
    if (!immediate)
        log_info("connection from %s port %u", s.conn.clienthost,
                 s.conn.clientport);

    /* No APOP timestamp where no password may be given yet: clients use
     * APOP whenever the greeting offers it. Under POP3S the greeting is
     * encrypted; the timestamp is made here, before the split, so that it
     * is the monitor's own. */
    if (auth_can_apop() && (immediate || pop3_plaintext_auth_allowed(&s)))
        make_timestamp(&s);
    /* Before a login the client speaks to an unprivileged process, which
     * also does the TLS handshake; this one continues only once it has
     * logged in (privsep.h). */
    role = privsep_start(&s);
    if (role == PRIVSEP_LOGGED_IN) {
        enum pop3_outcome outcome = session_login_finish(&s);

        if (privsep_take_client(&s) < 0) {
            s.end_reason = "error";
            session_set_state(&s, STATE_DONE);
        } else if (write_reply(&s, outcome) < 0) {
            s.end_reason = s.conn.timed_out ? "timeout" : "drop";
            session_set_state(&s, STATE_DONE);
        }
    } else if (role == PRIVSEP_ENDED) {
        /* A failed handshake was logged in one line by the pre-login
         * process. */
        if (!s.end_reason)
            goto out;
    } else {
        if (immediate) {
            int ms = (int)(cfg_seconds(cfg, CFG_TLS_HANDSHAKE_TIMEOUT) * 1000);

            /* POP3S (RFC 8314): the greeting is the first thing sent
             * under TLS. A client that stalls or sends no ClientHello is
             * gone within the handshake timeout, with this one line. */
            if (tls_start(&s.conn, s.conn.tls_server, ms, tlsinfo,
                          sizeof tlsinfo) < 0) {
                log_info("connection from %s port %u: %s", s.conn.clienthost,
                         s.conn.clientport, tlsinfo);
                if (privsep_prelogin(&s)) {
                    conn_close(&s.conn);
                    s.end_reason = NULL;
                    privsep_prelogin_end(&s);
                }
                goto out;
            }
            log_info("connection from %s port %u, %s", s.conn.clienthost,
                     s.conn.clientport,
                     tls_describe(&s.conn, tlsinfo, sizeof tlsinfo));
        }
        if (s.timestamp[0])
            conn_printf(&s.conn, "+OK tpop3d ready %s\r\n", s.timestamp);
        else
            conn_puts(&s.conn, "+OK tpop3d ready\r\n");
    }

    session_loop(&s);

    if (s.mb)
        mailbox_close(&s.mb);
    conn_flush(&s.conn);
    if (privsep_prelogin(&s))
        privsep_prelogin_end(&s);   /* the monitor writes the log line */
    log_info("session end: user=%s client=%s retrieved=%zu/%llu deleted=%zu "
             "duration=%.2fs end=%s",
             s.auth.user ? s.auth.user
                 : s.user ? log_sanitize(clean, sizeof clean, s.user, strlen(s.user))
                 : "-",
             s.conn.clienthost, s.retrieved_msgs,
             (unsigned long long)s.retrieved_bytes, s.deleted_msgs,
             elapsed(&s.started), s.end_reason);
out:
    conn_close(&s.conn);
    privsep_finish(&s);
    auth_close();       /* say goodbye to databases the drivers opened */
    auth_result_free(&s.auth);
    strfreezero(s.user);
}
