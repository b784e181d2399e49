/* SPDX-License-Identifier: GPL-2.0-or-later */
/* onlogin.c: run the actions after a successful login in forked processes,
 * each bounded in time, so that none can fail, delay or outlive a login. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bulletin.h"
#include "conn.h"
#include "log.h"
#include "onlogin.h"
#include "relay.h"

/*
 * The processes, and why there are so many:
 *
 *   session --fork--> coordinator --fork--> worker (one per action)
 *
 * The coordinator, not the session, runs the actions: the session must
 * never wait on an action it cannot bound (a driver's database, an MTA's
 * export command), and a crash in an action must not end the session. The
 * coordinator closes the client's socket at once: a client that has quit
 * sees its connection closed even while an action is still running.
 *
 * Each action runs in a worker of its own that leads its own process
 * group, so that an overrun can be stopped with everything the action
 * started (SIGTERM, a short grace, SIGKILL) and the next action still gets
 * its full time. The coordinator itself stays in the session's process
 * group, where an administrator who stops the daemon's group finds it.
 *
 * With onlogin-child-wait the session waits for the coordinator, with a
 * bound of its own in case the coordinator itself is stuck. Without it,
 * the session forks an intermediate process that forks the coordinator
 * and exits at once: the session reaps the intermediate immediately, and
 * the coordinator, an orphan, is reaped by init, so no zombie waits in the
 * session for the end of a long POP session.
 */

/* Between SIGTERM and SIGKILL for an action that overran: long enough for
 * a process to release a lock or finish a write it was in, short enough
 * not to matter next to onlogin-timeout. */
#define ONLOGIN_GRACE_MS 250

/* What the session adds to the sum of the actions' bounds before it stops
 * waiting for a coordinator that has not ended: the forks and the
 * coordinator's own bookkeeping, with room for a loaded machine. */
#define ONLOGIN_WAIT_SLACK_MS 1000

/* Longest pause between two checks on a child that has not ended: the
 * delay a login under onlogin-child-wait may add beyond the actions' own
 * time. The pauses start far shorter, so quick actions are seen at once. */
#define ONLOGIN_POLL_MAX_US 10000

/* More than the drivers (auth_drivers[]) plus relay grants and bulletins. */
#define ONLOGIN_MAX_ACTIONS 16

enum action_kind { ACT_DRIVER, ACT_RELAY, ACT_BULLETIN };

struct action {
    enum action_kind kind;
    const struct auth_driver *drv;  /* ACT_DRIVER */
    char name[40];                  /* for the log: "driver mysql", ... */
};

struct job {
    const struct config *cfg;
    const struct auth_result *res;
    const char *clienthost, *serverhost;
    const char *who;                /* the user, sanitized for the log */
};

struct worker_arg {
    const struct action *act;
    const struct job *job;
};

/* Set in the coordinator when it is told to stop (SIGTERM, SIGINT). */
static volatile sig_atomic_t coordinator_stop;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Signal the process group PID leads, or PID alone when it leads none. */
static void signal_tree(pid_t pid, int sig)
{
    if (kill(-pid, sig) < 0)
        kill(pid, sig);
}

/* Whether child PID has ended within MS milliseconds (not reaped yet, so
 * its process group id stays its own). Gives up early, returning false,
 * when *INTERRUPT becomes non-zero. */
static bool ended_within(pid_t pid, long ms,
                         const volatile sig_atomic_t *interrupt)
{
    int64_t deadline = now_ms() + ms;
    long step_us = 100;

    for (;;) {
        siginfo_t si;
        int64_t left;

        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
            if (errno == EINTR)
                continue;
            return true;    /* not a child of ours: nothing to wait for */
        }
        if (si.si_pid == pid)
            return true;
        left = deadline - now_ms();
        if (left <= 0 || (interrupt && *interrupt))
            return false;
        {
            long us = step_us < left * 1000 ? step_us : (long)left * 1000;
            struct timespec ts = { .tv_sec = us / 1000000,
                                   .tv_nsec = (us % 1000000) * 1000L };

            nanosleep(&ts, NULL);
        }
        if (step_us < ONLOGIN_POLL_MAX_US)
            step_us *= 2;
    }
}

static enum onlogin_end reap_bounded(pid_t pid, long timeout_ms,
                                     long grace_ms,
                                     const volatile sig_atomic_t *interrupt,
                                     int *status_r)
{
    enum onlogin_end end = ONLOGIN_END_EXITED;

    if (!ended_within(pid, timeout_ms, interrupt)) {
        signal_tree(pid, SIGTERM);
        end = ONLOGIN_END_STOPPED;
        if (!ended_within(pid, grace_ms, NULL)) {
            signal_tree(pid, SIGKILL);
            end = ONLOGIN_END_KILLED;
        }
    }
    /* PID is not reaped yet, so its group id cannot name anyone else's
     * processes: stop whatever it left behind. */
    kill(-pid, SIGKILL);
    *status_r = 0;
    while (waitpid(pid, status_r, 0) < 0 && errno == EINTR)
        ;
    return end;
}

enum onlogin_end onlogin_reap(pid_t pid, long timeout_ms, long grace_ms,
                              int *status_r)
{
    return reap_bounded(pid, timeout_ms, grace_ms, NULL, status_r);
}

/* Default handling for every signal but SIGPIPE, which is ignored so
 * that an action writing to a closed pipe or socket gets EPIPE; nothing
 * blocked. */
static void reset_signals(void)
{
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) {
        sa.sa_handler = sig == SIGPIPE ? SIG_IGN : SIG_DFL;
        sigaction(sig, &sa, NULL);   /* fails harmlessly for KILL, STOP */
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A worker running FN(ARG) in a process group of its own; -1 when fork
 * fails. */
static pid_t spawn_worker(int (*fn)(void *arg), void *arg)
{
    pid_t pid = fork();

    if (pid == 0) {
        setpgid(0, 0);
        reset_signals();
        _exit(fn(arg) == 0 ? 0 : 1);
    }
    /* Also here, so that the group exists before we might signal it. */
    if (pid > 0)
        setpgid(pid, pid);
    return pid;
}

int onlogin_bounded(int (*fn)(void *arg), void *arg, long timeout_ms,
                    long grace_ms, enum onlogin_end *end_r, int *status_r)
{
    pid_t pid = spawn_worker(fn, arg);

    if (pid < 0)
        return -1;
    *end_r = onlogin_reap(pid, timeout_ms, grace_ms, status_r);
    return 0;
}

/* Whether driver D has an onlogin action under CFG. */
static bool driver_action_wanted(const struct config *cfg,
                                 const struct auth_driver *d)
{
    const char *q;

    if (!d->compiled || !d->onlogin || d->enable_key == CFG__COUNT
        || !cfg_bool(cfg, d->enable_key))
        return false;
    /* The mysql driver's action is its statement; without one there is
     * nothing to fork for. */
    if (d == &auth_driver_mysql) {
        q = cfg_str(cfg, CFG_AUTH_MYSQL_ONLOGIN_QUERY);
        return q && *q && strcasecmp(q, "none") != 0;
    }
    return true;
}

/* Fill ACTS (ONLOGIN_MAX_ACTIONS entries) in the order they run. */
static size_t collect_actions(const struct config *cfg, struct action *acts)
{
    size_t n = 0;

    for (size_t i = 0; auth_drivers[i] && n < ONLOGIN_MAX_ACTIONS - 2; i++) {
        if (!driver_action_wanted(cfg, auth_drivers[i]))
            continue;
        acts[n].kind = ACT_DRIVER;
        acts[n].drv = auth_drivers[i];
        snprintf(acts[n].name, sizeof acts[n].name, "driver %s",
                 auth_drivers[i]->name);
        n++;
    }
    if (cfg_bool(cfg, CFG_RELAY_GRANT_ENABLE)) {
        acts[n].kind = ACT_RELAY;
        acts[n].drv = NULL;
        snprintf(acts[n].name, sizeof acts[n].name, "relay-grant");
        n++;
    }
    if (cfg_bool(cfg, CFG_BULLETIN_ENABLE)) {
        acts[n].kind = ACT_BULLETIN;
        acts[n].drv = NULL;
        snprintf(acts[n].name, sizeof acts[n].name, "bulletin");
        n++;
    }
    return n;
}

size_t onlogin_count(const struct config *cfg)
{
    struct action acts[ONLOGIN_MAX_ACTIONS];

    return collect_actions(cfg, acts);
}

/* In the worker: run one action and log why it failed. */
static int run_action(void *p)
{
    const struct worker_arg *wa = p;
    const struct job *job = wa->job;
    char *err = NULL;
    int rc = -1;

    switch (wa->act->kind) {
    case ACT_DRIVER:
        rc = wa->act->drv->onlogin(job->cfg, job->res, job->clienthost,
                                   job->serverhost, &err);
        break;
    case ACT_RELAY:
        rc = relay_grant(job->cfg, job->clienthost, job->res->user, &err);
        break;
    case ACT_BULLETIN:
        rc = bulletin_deliver(job->cfg, job->res, job->clienthost,
                              job->serverhost, &err);
        break;
    }
    if (rc < 0)
        log_warnx("onlogin: %s: user %s: %s", wa->act->name, job->who,
                  err ? err : "failed");
    free(err);
    return rc;
}

static void coordinator_on_term(int sig)
{
    (void)sig;
    coordinator_stop = 1;
}

/* The coordinator: run the actions one after the other, each bounded by
 * TIMEOUT_MS, and log how each ended. Never returns. */
static void coordinate(const struct job *job, const struct action *acts,
                       size_t n, long timeout_ms) __attribute__((noreturn));

static void coordinate(const struct job *job, const struct action *acts,
                       size_t n, long timeout_ms)
{
    struct sigaction sa;

    reset_signals();
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    /* Stopped from outside (the session's own bound, an administrator, the
     * daemon's stop): take the running action down too, as an overrun is
     * (SIGTERM, the grace, SIGKILL), so that a step it keeps SIGTERM out
     * of, such as a bulletin between its two records, can still end. */
    sa.sa_handler = coordinator_on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* A reload of the daemon is no reason to abandon a grant. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);

    for (size_t i = 0; i < n && !coordinator_stop; i++) {
        struct worker_arg wa = { .act = &acts[i], .job = job };
        int64_t started = now_ms();
        enum onlogin_end end;
        int status;
        pid_t pid;

        pid = spawn_worker(run_action, &wa);
        if (pid < 0) {
            log_warn("onlogin: %s: user %s: fork", acts[i].name, job->who);
            continue;
        }
        end = reap_bounded(pid, timeout_ms, ONLOGIN_GRACE_MS,
                           &coordinator_stop, &status);
        if (coordinator_stop) {
            log_info("onlogin: %s: user %s: stopped with the session",
                     acts[i].name, job->who);
            break;
        }
        if (end != ONLOGIN_END_EXITED)
            log_warnx("onlogin: %s: user %s: still running after %.1f s "
                      "(onlogin-timeout); stopped it with %s",
                      acts[i].name, job->who, (double)timeout_ms / 1000.0,
                      end == ONLOGIN_END_STOPPED ? "SIGTERM" : "SIGKILL");
        else if (WIFSIGNALED(status))
            log_warnx("onlogin: %s: user %s: killed by signal %d",
                      acts[i].name, job->who, WTERMSIG(status));
        else if (WIFEXITED(status) && WEXITSTATUS(status) > 1)
            log_warnx("onlogin: %s: user %s: exited with status %d",
                      acts[i].name, job->who, WEXITSTATUS(status));
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            log_debug("onlogin: %s: user %s: done in %.3f s", acts[i].name,
                      job->who, (double)(now_ms() - started) / 1000.0);
        /* Status 1: the worker has logged why. */
    }
    _exit(coordinator_stop ? 1 : 0);
}

int onlogin_check_config(const struct config *cfg, char **error_r)
{
    if (relay_check_config(cfg, error_r) < 0)
        return -1;
    return bulletin_check_config(cfg, error_r);
}

void onlogin_run(const struct config *cfg, const struct auth_result *res,
                 const char *clienthost, const char *serverhost,
                 int client_fd)
{
    struct action acts[ONLOGIN_MAX_ACTIONS];
    size_t n = collect_actions(cfg, acts);
    bool wait_for_them;
    char who[256];
    long timeout_ms, bound_ms;
    enum onlogin_end end;
    struct job job;
    int status;
    pid_t pid;

    if (n == 0)
        return;
    log_sanitize(who, sizeof who, res->user ? res->user : "-",
                 res->user ? strlen(res->user) : 1);
    job = (struct job){ .cfg = cfg, .res = res, .clienthost = clienthost,
                        .serverhost = serverhost, .who = who };
    /* The config bounds onlogin-timeout to [0.1, 3600] seconds. */
    timeout_ms = (long)(cfg_seconds(cfg, CFG_ONLOGIN_TIMEOUT) * 1000.0 + 0.5);
    wait_for_them = cfg_bool(cfg, CFG_ONLOGIN_CHILD_WAIT);

    pid = fork();
    if (pid < 0) {
        log_warn("onlogin: user %s: cannot run the actions: fork", who);
        return;
    }
    if (pid == 0) {
        if (client_fd >= 0)
            close(client_fd);
        if (!wait_for_them) {
            pid_t c = fork();

            if (c < 0)
                log_warn("onlogin: user %s: cannot run the actions: fork",
                         who);
            if (c != 0)
                _exit(0);
        }
        coordinate(&job, acts, n, timeout_ms);
    }

    if (!wait_for_them) {
        /* The intermediate process exits at once. */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        return;
    }
    bound_ms = (long)n * (timeout_ms + ONLOGIN_GRACE_MS + 100)
               + ONLOGIN_WAIT_SLACK_MS;
    /* Stopped, the coordinator itself gives its action the grace. */
    end = reap_bounded(pid, bound_ms, 2 * ONLOGIN_GRACE_MS + 100,
                       &conn_interrupted, &status);
    if (end != ONLOGIN_END_EXITED) {
        if (conn_interrupted)
            log_info("onlogin: user %s: session stopped; stopped the "
                     "actions too", who);
        else
            log_warnx("onlogin: user %s: actions still running after "
                      "%.1f s; stopped them", who, (double)bound_ms / 1000.0);
    }
}
