/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bulletin.c: deliver each bulletin of bulletin-directory once to every
 * user, keeping the record of each delivery in NAME.db; the delivery itself
 * is in bulletin_mbox.c and bulletin_sendmail.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#ifdef AUTH_GDBM
#include <gdbm.h>
#endif

#include "bulletin.h"
#include "bulletin_private.h"
#include "limits.h"
#include "log.h"
#include "mailbox.h"
#include "xalloc.h"

/* At most this many NAME.msg files are considered at one login: each costs
 * a look-up per login, and a directory with more is a mistake. */
#define BULLETIN_MAX_COUNT      1000

/* Longest NAME of NAME.msg: it goes into a header line of every copy. */
#define BULLETIN_MAX_NAME       128

/* Another login updating the same NAME.db holds its writer lock for
 * milliseconds; retry for this long before giving up for this login. */
#define BULLETIN_DB_WAIT_MS     3000
#define BULLETIN_DB_STEP_MS     10

void (*bulletin_step_hook)(enum bulletin_step step, const char *name);

/* ---- the message ------------------------------------------------------ */

static bool is_field_char(unsigned char c)
{
    return c > ' ' && c < 0x7f && c != ':';
}

int bulletin_check_message(const char *data, size_t len,
                           const char **error_r)
{
    const char *p = data, *end = data + len;
    bool first = true;

    if (len == 0) {
        *error_r = "it is empty";
        return -1;
    }
    if (len > BULLETIN_MAX_SIZE) {
        *error_r = "it is larger than the limit of 1 MiB";
        return -1;
    }
    if (memchr(data, '\0', len)) {
        *error_r = "it contains a NUL byte";
        return -1;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *q = p;

        if (!nl)
            break;
        if (nl == p)
            return first ? (*error_r = "it has no header", -1) : 0;
        if (*p == ' ' || *p == '\t') {
            if (first) {
                *error_r = "its first line is a continuation line";
                return -1;
            }
        } else {
            while (q < nl && is_field_char((unsigned char)*q))
                q++;
            if (q == p || q == nl || *q != ':') {
                *error_r = "a header line is not \"Name: value\" (or the "
                           "blank line after the header is missing)";
                return -1;
            }
        }
        first = false;
        p = nl + 1;
    }
    *error_r = "it has no blank line between header and body";
    return -1;
}

int bulletin_frame(const char *name, const char *id, const char *data,
                   size_t len, time_t when, bool mbox, struct strbuf *out)
{
    const char *p = data, *end = data + len;
    struct tm tm;
    char date[64];

    if (mbox) {
        /* ctime(3)'s layout, which every mbox reader expects. */
        if (!localtime_r(&when, &tm)
            || strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm) == 0)
            return -1;
        if (strbuf_appendf(out, "From %s %s\n", BULLETIN_SENDER, date) < 0)
            return -1;
    }
    if (strbuf_appendf(out, "%s: %s <%s>\n", BULLETIN_HEADER, name, id) < 0)
        return -1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

        if (mbox && n >= 5 && memcmp(p, "From ", 5) == 0
            && strbuf_appendc(out, '>') < 0)
            return -1;
        if (strbuf_append(out, p, n) < 0)
            return -1;
        p += n;
    }
    if ((len == 0 || data[len - 1] != '\n') && strbuf_appendc(out, '\n') < 0)
        return -1;
    if (mbox && strbuf_appendc(out, '\n') < 0)
        return -1;
    return 0;
}

/* ---- records ------------------------------------------------------------ */

static const char *const state_names[] = {
    [BULLETIN_NONE] = "none",
    [BULLETIN_PENDING] = "pending",
    [BULLETIN_DELIVERED] = "delivered",
    [BULLETIN_UNKNOWN] = "unknown",
};

/* Strict decimal: digits only, no overflow. */
static int parse_num(const char *s, long long max, long long *out)
{
    char *e;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &e, 10);
    if (errno || *e || v > (unsigned long long)max)
        return -1;
    *out = (long long)v;
    return 0;
}

int bulletin_record_parse(const char *value, size_t len,
                          struct bulletin_record *rec)
{
    char buf[128], *f[4], *save = NULL;
    long long when, pid;
    int n = 0;

    memset(rec, 0, sizeof *rec);
    if (len == 0 || len >= sizeof buf || memchr(value, '\0', len))
        return -1;
    memcpy(buf, value, len);
    buf[len] = '\0';
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (n == 4)
            return -1;
        f[n++] = t;
    }
    if (n != 4 || strlen(f[1]) != BULLETIN_ID_LEN
        || strspn(f[1], "0123456789abcdef") != BULLETIN_ID_LEN
        || parse_num(f[2], INT64_MAX, &when) < 0
        || parse_num(f[3], INT32_MAX, &pid) < 0)
        return -1;
    if (strcmp(f[0], "pending") == 0)
        rec->state = BULLETIN_PENDING;
    else if (strcmp(f[0], "delivered") == 0)
        rec->state = BULLETIN_DELIVERED;
    else if (strcmp(f[0], "unknown") == 0)
        rec->state = BULLETIN_UNKNOWN;
    else
        return -1;
    memcpy(rec->id, f[1], BULLETIN_ID_LEN + 1);
    rec->when = when;
    rec->pid = (long)pid;
    return 0;
}

const char *bulletin_record_format(const struct bulletin_record *rec,
                                   char *buf, size_t size)
{
    snprintf(buf, size, "%s %s %lld %ld", state_names[rec->state], rec->id,
             rec->when, rec->pid);
    return buf;
}

/* ---- configuration ----------------------------------------------------- */

int bulletin_check_config(const struct config *cfg, char **error_r)
{
    const char *dir = cfg_str(cfg, CFG_BULLETIN_DIRECTORY);
    const char *how = cfg_str(cfg, CFG_BULLETIN_DELIVERY);
    const char *prog = cfg_str(cfg, CFG_BULLETIN_SENDMAIL_PROGRAM);

    if (!cfg_bool(cfg, CFG_BULLETIN_ENABLE))
        return 0;
#ifndef AUTH_GDBM
    *error_r = cfg_error(cfg, CFG_BULLETIN_ENABLE,
                         xstrdup("bulletins need GDBM, which this tpop3d was "
                                 "built without (install libgdbm-dev and "
                                 "configure with --enable-auth-gdbm)"));
    return -1;
#endif
    if (!dir || dir[0] != '/') {
        *error_r = cfg_error(cfg, CFG_BULLETIN_DIRECTORY,
                             xstrdup("must be an absolute path"));
        return -1;
    }
    if (!how || (strcmp(how, "mailbox") != 0 && strcmp(how, "sendmail") != 0)) {
        *error_r = cfg_error(cfg, CFG_BULLETIN_DELIVERY,
                             xasprintf("\"%s\" is neither mailbox nor sendmail",
                                       how ? how : ""));
        return -1;
    }
    if (strcmp(how, "sendmail") == 0 && (!prog || prog[0] != '/')) {
        *error_r = cfg_error(cfg, CFG_BULLETIN_SENDMAIL_PROGRAM,
                             xstrdup("must be an absolute path"));
        return -1;
    }
    return 0;
}

#ifdef AUTH_GDBM
/* ---- one login's work ---------------------------------------------------- */

void bulletin_step(enum bulletin_step s, const char *name)
{
    if (bulletin_step_hook)
        bulletin_step_hook(s, name);
}

static void bulletin_free(struct bulletin *b)
{
    free(b->name);
    free(b->data);
    memset(b, 0, sizeof *b);
}

void bulletin_sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int64_t bulletin_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Names we deliver: NAME.msg with NAME of letters, digits and ._+-, not
 * starting with a dot (editors' and half-posted files). 1: deliver; 0:
 * not a bulletin, ignored; -1: looks like one but its name is unusable. */
static int bulletin_name(const char *file, size_t *namelen_r)
{
    size_t n = strlen(file);

    if (n <= 4 || strcmp(file + n - 4, ".msg") != 0 || file[0] == '.')
        return 0;
    n -= 4;
    *namelen_r = n;
    if (n > BULLETIN_MAX_NAME)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)file[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'
              || c == '+'))
            return -1;
    }
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted NAMEs of the bulletins in the directory. */
static int list_bulletins(struct job *j, char ***names_r, size_t *n_r,
                          char **error_r)
{
    int fd = dup(j->dirfd);
    char **names = NULL;
    size_t n = 0;
    DIR *d;
    struct dirent *de;

    if (fd < 0 || !(d = fdopendir(fd))) {
        *error_r = xasprintf("%s: %s", j->dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    while ((errno = 0, de = readdir(d))) {
        size_t len;
        int r = bulletin_name(de->d_name, &len);
        char clean[64];

        if (r == 0)
            continue;
        if (r < 0) {
            log_warnx("bulletin %s/%s: ignored: a bulletin name is made of "
                      "letters, digits and ._+- (at most %d)", j->dir,
                      log_sanitize(clean, sizeof clean, de->d_name,
                                   strlen(de->d_name)), BULLETIN_MAX_NAME);
            continue;
        }
        if (n == BULLETIN_MAX_COUNT) {
            *error_r = xasprintf("%s: more than %d bulletins", j->dir,
                                 BULLETIN_MAX_COUNT);
            goto fail;
        }
        names = xreallocarray(names, n + 1, sizeof *names);
        names[n++] = xstrndup(de->d_name, len);
    }
    if (errno) {
        *error_r = xasprintf("%s: %s", j->dir, strerror(errno));
        goto fail;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    *names_r = names;
    *n_r = n;
    return 0;

fail:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return -1;
}

/* Read NAME.msg into B. 0; 1 when it is malformed or not a regular file
 * (logged, skipped); -1 with *ERROR_R when it cannot be read. */
static int load_bulletin(struct job *j, const char *name, struct bulletin *b,
                         char **error_r)
{
    char *file = xasprintf("%s.msg", name);
    const char *why = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx;
    char stamp[64];
    struct stat st;
    size_t got = 0, out = 0;
    int fd, r = -1;

    memset(b, 0, sizeof *b);
    fd = openat(j->dirfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK
                | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP) {
            why = "it is a symbolic link";
            goto skip;
        }
        if (errno == ENOENT) {      /* removed since the listing */
            r = 1;
            goto out;
        }
        *error_r = xasprintf("%s/%s: %s", j->dir, file, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        *error_r = xasprintf("%s/%s: %s", j->dir, file, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        why = "it is not a regular file";
        goto skip;
    }
    if (st.st_size > BULLETIN_MAX_SIZE) {
        why = "it is larger than the limit of 1 MiB";
        goto skip;
    }
    b->data = xmalloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size + 1) {
        ssize_t n = read(fd, b->data + got, (size_t)st.st_size + 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *error_r = xasprintf("%s/%s: %s", j->dir, file, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > (size_t)st.st_size) {
        why = "it is being written (post a bulletin by renaming it into place)";
        goto skip;
    }
    /* CRLF becomes LF: the mailbox is a Unix mbox. */
    for (size_t i = 0; i < got; i++) {
        if (b->data[i] == '\r' && i + 1 < got && b->data[i + 1] == '\n')
            continue;
        b->data[out++] = b->data[i];
    }
    b->len = out;
    if (bulletin_check_message(b->data, b->len, &why) < 0)
        goto skip;

    /* The copy's ID: the content and the time it was posted, so that a
     * bulletin posted again under the same name is told apart. */
    snprintf(stamp, sizeof stamp, "\n%lld.%09ld", (long long)st.st_mtim.tv_sec,
             (long)st.st_mtim.tv_nsec);
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(ctx, b->data, b->len) != 1
        || EVP_DigestUpdate(ctx, stamp, strlen(stamp)) != 1
        || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1
        || mdlen < BULLETIN_ID_LEN / 2) {
        EVP_MD_CTX_free(ctx);
        *error_r = xasprintf("%s/%s: cannot compute its digest", j->dir, file);
        goto out;
    }
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < BULLETIN_ID_LEN / 2; i++)
        snprintf(b->id + 2 * i, 3, "%02x", md[i]);
    b->name = xstrdup(name);
    r = 0;
    goto out;

skip:
    log_warnx("bulletin %s/%s: skipped: %s", j->dir, file, why);
    r = 1;
out:
    if (fd >= 0)
        close(fd);
    if (r != 0)
        bulletin_free(b);
    free(file);
    return r;
}
/* ---- NAME.db --------------------------------------------------------------- */

/* Open NAME.db, as a writer (created 0600 when missing) or a reader.
 * 1 with *DB_R; 0 when a reader finds no records yet; -1 with *ERROR_R. */
static int db_open(struct job *j, const char *name, bool writer,
                   GDBM_FILE *db_r, char **error_r)
{
    char *file = xasprintf("%s.db", name);
    int64_t deadline = bulletin_now_ms() + BULLETIN_DB_WAIT_MS;
    int r = -1;

    for (;;) {
        struct stat st;
        int fd, err, saved;

        fd = openat(j->dirfd, file, (writer ? O_RDWR | O_CREAT : O_RDONLY)
                    | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (!writer && errno == ENOENT) {
                r = 0;
                break;
            }
            *error_r = xasprintf("%s/%s: %s", j->dir, file, strerror(errno));
            break;
        }
        /* A hard link to another file of ours is no record either. */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)
            || st.st_uid != geteuid() || st.st_nlink != 1) {
            *error_r = xasprintf("%s/%s: not a regular file owned by uid %lu "
                                 "with one link", j->dir, file,
                                 (unsigned long)geteuid());
            close(fd);
            break;
        }
        /* A writer creating it has not written its header yet. */
        if (!writer && st.st_size == 0) {
            close(fd);
            r = 0;
            break;
        }
        errno = 0;
        *db_r = gdbm_fd_open(fd, file, 0, (writer ? GDBM_WRCREAT : GDBM_READER)
                             | GDBM_CLOEXEC | GDBM_CLOERROR, NULL);
        if (*db_r) {
            r = 1;
            break;
        }
        err = gdbm_errno;
        saved = errno;
        if ((err != GDBM_CANT_BE_READER && err != GDBM_CANT_BE_WRITER)
            || bulletin_now_ms() >= deadline) {
            *error_r = xasprintf("%s/%s: %s%s%s", j->dir, file,
                                 gdbm_strerror(err),
                                 gdbm_check_syserr(err) && saved ? ": " : "",
                                 gdbm_check_syserr(err) && saved
                                 ? strerror(saved) : "");
            break;
        }
        bulletin_sleep_ms(BULLETIN_DB_STEP_MS);
    }
    free(file);
    return r;
}

static int db_get(struct job *j, GDBM_FILE db, const char *name,
                  struct bulletin_record *rec, char **error_r)
{
    datum k = { .dptr = j->key, .dsize = (int)strlen(j->key) };
    datum v;

    memset(rec, 0, sizeof *rec);
    v = gdbm_fetch(db, k);
    if (!v.dptr) {
        if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
            return 0;
        *error_r = xasprintf("%s/%s.db: %s", j->dir, name,
                             gdbm_strerror(gdbm_errno));
        return -1;
    }
    if (v.dsize < 0 || bulletin_record_parse(v.dptr, (size_t)v.dsize, rec) < 0) {
        /* Not ours to guess: treat it as done rather than risk a copy. */
        log_warnx("bulletin %s: record of %s in %s/%s.db is not one this "
                  "version wrote; not delivering", name, j->key, j->dir, name);
        rec->state = BULLETIN_UNKNOWN;
    }
    free(v.dptr);
    return 0;
}

/* Keep the signals that stop an overrunning onlogin action (SIGTERM, then
 * SIGKILL a moment later) waiting while a step that must not be cut in
 * two runs; *OLD gets the mask to restore. Only SIGKILL can interrupt it. */
void bulletin_hold_stops(sigset_t *old)
{
    sigset_t block;

    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, old);
}

/* bulletin_db_put() without its signal mask. */
static int db_store(struct job *j, const char *name,
                    struct bulletin_record *rec, bool insert, char **error_r)
{
    datum k = { .dptr = j->key, .dsize = (int)strlen(j->key) };
    enum bulletin_state state = rec->state;
    char buf[128];
    datum v;
    GDBM_FILE db;
    int r;

    if (db_open(j, name, true, &db, error_r) < 0)
        return -1;
    bulletin_record_format(rec, buf, sizeof buf);
    v.dptr = buf;
    v.dsize = (int)strlen(buf);
    r = state == BULLETIN_NONE ? gdbm_delete(db, k)
        : gdbm_store(db, k, v, insert ? GDBM_INSERT : GDBM_REPLACE);
    if (r != 0 && insert && gdbm_errno == GDBM_CANNOT_REPLACE) {
        gdbm_close(db);
        return 1;
    }
    if (r != 0 && !(state == BULLETIN_NONE && gdbm_errno == GDBM_ITEM_NOT_FOUND)) {
        *error_r = xasprintf("%s/%s.db: %s", j->dir, name,
                             gdbm_strerror(gdbm_errno));
        gdbm_close(db);
        return -1;
    }
    if (gdbm_sync(db) != 0) {
        *error_r = xasprintf("%s/%s.db: sync: %s", j->dir, name,
                             gdbm_strerror(gdbm_errno));
        gdbm_close(db);
        return -1;
    }
    gdbm_close(db);
    return 0;
}

/* Store (or with STATE BULLETIN_NONE, remove) this user's record and
 * flush it to disk before anything depends on it. With INSERT, only when
 * there is none yet. 0; 1 when INSERT found one; -1 with *ERROR_R. */
int bulletin_db_put(struct job *j, const char *name,
                    enum bulletin_state state, const char *id, bool insert,
                    char **error_r)
{
    struct bulletin_record rec = { .state = state, .when = (long long)time(NULL),
                                   .pid = (long)getpid() };
    sigset_t old;
    int r;

    memcpy(rec.id, id, BULLETIN_ID_LEN + 1);
    /* A record half written by a process stopped in the middle would
     * spoil the file for everyone. */
    bulletin_hold_stops(&old);
    r = db_store(j, name, &rec, insert, error_r);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return r;
}

/* The record as it is now, through the writer lock so that it is current. */
int bulletin_db_read(struct job *j, const char *name, bool writer,
                     struct bulletin_record *rec, char **error_r)
{
    GDBM_FILE db;
    int r = db_open(j, name, writer, &db, error_r);

    memset(rec, 0, sizeof *rec);
    if (r <= 0)
        return r;
    r = db_get(j, db, name, rec, error_r);
    gdbm_close(db);
    return r;
}
/* ---- the entry point ------------------------------------------------------ */

/* The recipient, as the records and the sendmail program know it. The
 * program reads its argument as a list of addresses, so only characters
 * that cannot start another address, a comment, a route or a quoted part
 * may appear: [A-Za-z0-9._+=-] in the local part, [A-Za-z0-9.-] in the
 * domain, one '@' between them; and no leading '-' (an option). */
static char *user_key(const struct auth_result *res, char **error_r)
{
    static const char local_ok[] = "._+=-", domain_ok[] = ".-";
    const char *allowed = local_ok;
    bool bad = false;
    char *key;

    if (res->domain && *res->domain)
        key = xasprintf("%s@%s", res->local_part ? res->local_part : res->user,
                        res->domain);
    else
        key = xstrdup(res->user ? res->user : "");
    for (const char *p = key; *p && !bad; p++) {
        if (*p == '@' && allowed == local_ok && p != key && p[1])
            allowed = domain_ok;
        else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                   || (*p >= '0' && *p <= '9') || strchr(allowed, *p)))
            bad = true;
    }
    if (bad || key[0] == '\0' || key[0] == '-') {
        *error_r = xstrdup("user name unusable as a mail address (only "
                           "letters, digits and ._+=- are allowed)");
        free(key);
        return NULL;
    }
    return key;
}

int bulletin_deliver(const struct config *cfg, const struct auth_result *res,
                     const char *clienthost, const char *serverhost,
                     char **error_r)
{
    struct job j = {
        .cfg = cfg, .res = res, .clienthost = clienthost,
        .serverhost = serverhost, .dirfd = -1,
        .dir = cfg_str(cfg, CFG_BULLETIN_DIRECTORY),
    };
    char **names = NULL;
    size_t n = 0;
    struct stat st;
    int r = -1;

    *error_r = NULL;
    if (bulletin_check_config(cfg, error_r) < 0)
        return -1;
    if (!cfg_bool(cfg, CFG_BULLETIN_ENABLE))
        return 0;
    j.how = strcmp(cfg_str(cfg, CFG_BULLETIN_DELIVERY), "sendmail") == 0
            ? DELIVER_SENDMAIL : DELIVER_MAILBOX;
    /* A session waiting for us must not wait long; a detached delivery
     * may wait for the session itself, which holds the mailbox from login
     * to QUIT, until shortly before onlogin-timeout stops it. */
    j.lock_wait_ms = MAILBOX_LOCK_WAIT_MS;
    if (!cfg_bool(cfg, CFG_ONLOGIN_CHILD_WAIT)) {
        double ms = cfg_seconds(cfg, CFG_ONLOGIN_TIMEOUT) * 1000.0 - 1000.0;

        if (ms > MAILBOX_LOCK_WAIT_MS)
            j.lock_wait_ms = (unsigned)ms;
    }
    j.key = user_key(res, error_r);
    if (!j.key)
        return -1;
    log_sanitize(j.who, sizeof j.who, res->user ? res->user : "-",
                 res->user ? strlen(res->user) : 1);
    j.dirfd = open(j.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (j.dirfd < 0) {
        if (errno == ENOENT) {      /* no bulletins posted */
            r = 0;
            goto out;
        }
        *error_r = xasprintf("%s: %s", j.dir, strerror(errno));
        goto out;
    }
    /* Whoever may write there may send mail to everyone as the system. */
    if (fstat(j.dirfd, &st) < 0 || st.st_uid != geteuid()
        || (st.st_mode & S_IWOTH)) {
        *error_r = xasprintf("%s: refused: it must belong to uid %lu and not "
                             "be writable by others", j.dir,
                             (unsigned long)geteuid());
        goto out;
    }
    if (list_bulletins(&j, &names, &n, error_r) < 0)
        goto out;
    r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        struct bulletin_record rec;
        struct bulletin b;
        int lr;

        /* Most logins find every bulletin delivered: a shared-lock read. */
        if (bulletin_db_read(&j, names[i], false, &rec, error_r) < 0) {
            r = -1;
            break;
        }
        if (rec.state == BULLETIN_DELIVERED || rec.state == BULLETIN_UNKNOWN)
            continue;
        lr = load_bulletin(&j, names[i], &b, error_r);
        if (lr < 0)
            r = -1;
        if (lr != 0)
            continue;
        r = j.how == DELIVER_SENDMAIL
            ? bulletin_deliver_sendmail(&j, &b, error_r)
            : bulletin_deliver_mailbox(&j, &b, error_r);
        if (r < 0) {
            char *e = xasprintf("bulletin %s: %s", b.name, *error_r);

            free(*error_r);
            *error_r = e;
        }
        bulletin_free(&b);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (j.dirfd >= 0)
        close(j.dirfd);
    free(j.key);
    return r;
}

#else /* !AUTH_GDBM */

int bulletin_deliver(const struct config *cfg, const struct auth_result *res,
                     const char *clienthost, const char *serverhost,
                     char **error_r)
{
    (void)res; (void)clienthost; (void)serverhost;
    *error_r = NULL;
    if (!cfg_bool(cfg, CFG_BULLETIN_ENABLE))
        return 0;
    if (bulletin_check_config(cfg, error_r) == 0)
        *error_r = xstrdup("bulletins need GDBM, which this tpop3d was built "
                           "without");
    return -1;
}

#endif
