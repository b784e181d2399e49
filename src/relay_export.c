/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relay_export.c: the export of relay grants as a text map for the MTA:
 * its format, the file replaced atomically, and the rebuild command. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "relay.h"
#include "relay_private.h"
#include "xalloc.h"

/* The export file grows with the number of live grants; 64 MB is about a
 * million lines, far beyond any site's concurrent POP3 users. */
#define RELAY_EXPORT_MAX (64u * 1024 * 1024)

/* The rebuild command (postmap, exim_dbmbuild) takes well under a second
 * on any real map; one that hangs is killed after this many milliseconds. */
#define RELAY_COMMAND_TIMEOUT_MS 30000

/* A new export must be readable by the MTA's own user. An existing export
 * keeps its mode, owner and group. */
#define RELAY_EXPORT_MODE 0644

#define RELAY_COMMAND_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- the export format ------------------------------------------------ */

int relay_format_check(const char *fmt, char **error_r)
{
    bool has_addr = false;

    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        switch (p[1]) {
        case 'i':
            has_addr = true;
            /* fall through */
        case 'u':
        case 't':
        case '%':
            p++;
            break;
        case '\0':
            *error_r = xstrdup("a lone % at the end (write %% for a percent sign)");
            return -1;
        default:
            if ((unsigned char)p[1] >= 0x21 && (unsigned char)p[1] < 0x7f)
                *error_r = xasprintf("unknown escape %%%c (known: %%i %%u %%t %%%%)",
                                     p[1]);
            else
                *error_r = xstrdup("unknown escape after % (known: %i %u %t %%)");
            return -1;
        }
    }
    if (!has_addr) {
        *error_r = xstrdup("has no %i: the map would not name the client address");
        return -1;
    }
    return 0;
}

int relay_format_expand(const char *fmt, const struct relay_entry *e,
                        struct strbuf *out)
{
    size_t start = out->len;

    for (const char *p = fmt; *p; p++) {
        int r = 0;

        if (*p != '%') {
            r = strbuf_appendc(out, *p);
        } else {
            switch (*++p) {
            case 'i':
                r = strbuf_appends(out, e->addr);
                break;
            case 'u':
                /* A user name is the login's; keep the map's line one line
                 * of words whatever it holds. */
                for (const char *u = e->user; *u && r == 0; u++) {
                    unsigned char c = (unsigned char)*u;
                    r = strbuf_appendc(out, c > 0x20 && c < 0x7f ? (char)c : '?');
                }
                break;
            case 't':
                r = strbuf_appendf(out, "%lld", (long long)e->time);
                break;
            case '%':
                r = strbuf_appendc(out, '%');
                break;
            default:
                r = -1;
                break;
            }
        }
        if (r < 0) {
            /* Leave OUT as it was: a half line must not reach the map. */
            out->len = start;
            if (out->buf)
                out->buf[start] = '\0';
            return -1;
        }
    }
    return 0;
}

/* ---- the export's settings -------------------------------------------- */

const char *relay_export_path(const struct config *cfg)
{
    const char *p = cfg_str(cfg, CFG_RELAY_GRANT_EXPORT);

    return p && *p ? p : NULL;
}

bool relay_export_has_command(const struct config *cfg)
{
    const char *c = cfg_str(cfg, CFG_RELAY_GRANT_EXPORT_COMMAND);

    return c && c[strspn(c, " \t")];
}

/* ---- the rebuild command ---------------------------------------------- */

static char *describe_status(const char *prog, int status)
{
    if (WIFEXITED(status))
        return xasprintf("%s exited with status %d", prog, WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return xasprintf("%s was killed by signal %d", prog, WTERMSIG(status));
    return xasprintf("%s ended with wait status %d", prog, status);
}

static void __attribute__((noreturn)) command_child(char *const argv[])
{
    char *const envp[] = { (char *)RELAY_COMMAND_PATH, NULL };
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    sigset_t none;
    int fd;

    /* The daemon ignores SIGPIPE and blocks signals in places; the program
     * gets an ordinary start. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    sigaction(SIGPIPE, &dfl, NULL);
    sigaction(SIGCHLD, &dfl, NULL);
    fd = open("/dev/null", O_RDWR | O_NOCTTY);
    if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
        _exit(126);
    /* Nothing of a session (its client socket, the database) leaks into
     * the program. */
    if (close_range(3, ~0U, 0) < 0)
        for (int i = 3; i < 1024; i++)
            close(i);
    execve(argv[0], argv, envp);
    _exit(127);
}

int relay_run_command(char *const argv[], long timeout_ms, char **error_r)
{
    struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
    struct timespec t0;
    long step = 1;
    int status = 0, rc = -1;
    pid_t pid, w;

    /* waitpid() needs SIGCHLD not ignored, or the status is gone. */
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGCHLD, &dfl, &old);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    if (pid < 0) {
        *error_r = xasprintf("cannot fork for %s: %s", argv[0], strerror(errno));
        goto out;
    }
    if (pid == 0)
        command_child(argv);
    for (;;) {
        w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            *error_r = xasprintf("waiting for %s: %s", argv[0], strerror(errno));
            goto out;
        }
        if (relay_elapsed_ms(&t0) >= timeout_ms) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            *error_r = xasprintf("%s did not finish within %ld ms and was killed",
                                 argv[0], timeout_ms);
            goto out;
        }
        relay_sleep_ms(step);
        if (step < 50)
            step *= 2;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        *error_r = xasprintf("%s could not be run (exit status 127)", argv[0]);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        *error_r = describe_status(argv[0], status);
    else
        rc = 0;
out:
    sigaction(SIGCHLD, &old, NULL);
    return rc;
}

int relay_run_export_command(const struct config *cfg, char **error_r)
{
    char **argv;
    int rc;

    if (!relay_export_has_command(cfg))
        return 0;
    argv = config_split_words(cfg_str(cfg, CFG_RELAY_GRANT_EXPORT_COMMAND), NULL);
    rc = relay_run_command(argv, RELAY_COMMAND_TIMEOUT_MS, error_r);
    config_free_words(argv);
    return rc;
}

#ifdef AUTH_GDBM

/* ---- the export file -------------------------------------------------- */

/* True when PATH holds exactly the LEN bytes of TEXT. */
static bool file_equals(const char *path, const char *text, size_t len)
{
    struct stat st;
    bool same = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

    if (fd < 0)
        return false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len) {
        char buf[65536];
        size_t off = 0;

        same = true;
        while (off < len && same) {
            size_t want = len - off < sizeof buf ? len - off : sizeof buf;
            ssize_t n = read(fd, buf, want);

            if (n <= 0 || memcmp(buf, text + off, (size_t)n) != 0)
                same = false;
            else
                off += (size_t)n;
        }
    }
    close(fd);
    return same;
}

/* Replace PATH by TEXT atomically: a temporary file in the same directory,
 * written and synced, renamed over it. */
static int replace_file(const char *path, const char *text, size_t len,
                        char **error_r)
{
    char *tmp = xasprintf("%s.XXXXXX", path);
    struct stat st;
    int fd;

    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        *error_r = xasprintf("cannot create a temporary file beside %s: %s",
                             path, strerror(errno));
        free(tmp);
        return -1;
    }
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        /* The admin chose who may read the map: keep it. */
        if (fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
            goto fail;
        if (fchmod(fd, st.st_mode & 07777) < 0)
            goto fail;
    } else if (fchmod(fd, RELAY_EXPORT_MODE) < 0) {
        goto fail;
    }
    if (write_full(fd, text, len) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    free(tmp);
    /* The rename itself reaches the disk with the directory; it has
     * happened, so a failure here is no reason to report one. */
    fsync_parent_dir(path);
    return 0;
fail:
    *error_r = xasprintf("cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

int relay_write_export(const struct config *cfg, struct relay_entry *e,
                       size_t n, bool force, bool *changed_r, char **error_r)
{
    const char *fmt = cfg_str(cfg, CFG_RELAY_GRANT_EXPORT_FORMAT);
    const char *path = relay_export_path(cfg);
    struct strbuf sb;
    char *msg = NULL;
    int rc = -1;

    *changed_r = false;
    if (relay_format_check(fmt, &msg) < 0) {
        *error_r = cfg_error(cfg, CFG_RELAY_GRANT_EXPORT_FORMAT, msg);
        return -1;
    }
    if (n > 1)
        qsort(e, n, sizeof *e, relay_entry_cmp);
    strbuf_init(&sb, RELAY_EXPORT_MAX);
    for (size_t i = 0; i < n; i++) {
        if (relay_format_expand(fmt, &e[i], &sb) < 0
            || strbuf_appendc(&sb, '\n') < 0) {
            *error_r = xasprintf("export %s: more than %u bytes", path,
                                 RELAY_EXPORT_MAX);
            goto out;
        }
    }
    if (!force && file_equals(path, strbuf_str(&sb), sb.len)) {
        rc = 0;
        goto out;
    }
    rc = replace_file(path, strbuf_str(&sb), sb.len, error_r);
    if (rc == 0)
        *changed_r = true;
out:
    strbuf_free(&sb);
    return rc;
}

#endif /* AUTH_GDBM */
