/* SPDX-License-Identifier: GPL-2.0-or-later */
/* relay.c: POP-before-SMTP relay grants in a GDBM file: recording, pruning
 * and listing them under a lock; the export itself is in relay_export.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifdef AUTH_GDBM
#include <gdbm.h>
#endif

#include "relay.h"
#include "relay_private.h"
#include "xalloc.h"

/* Another writer holds the lock file for milliseconds (one store, perhaps a
 * scan and an export): wait this long for it before giving up. Bounded so a
 * wedged writer cannot hold every login's onlogin child. */
#define RELAY_LOCK_WAIT_MS 5000
#define RELAY_LOCK_STEP_MS 2

/* A GDBM tool (gdbmtool, a script) may hold GDBM's own lock on the file:
 * retry opening for this long. */
#define RELAY_GDBM_WAIT_MS 2000

/* Without an export, expired grants are pruned by a full scan at most this
 * often (seconds); the lock file's mtime records the last one. A scan of
 * 10000 grants costs about the same as a few logins (see the manual page),
 * so once a minute is negligible and keeps the file from growing. */
#define RELAY_PRUNE_INTERVAL 60

/* The longest user name kept in a grant; longer ones come from no real
 * login (POP3 arguments fit in a 512-octet line). */
#define RELAY_MAX_USER 512

/* A created database directory: the database names users, so root only
 * (and a group the admin chooses later). */
#define RELAY_DIR_MODE 0750
#define RELAY_FILE_MODE 0600

void relay_sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

long relay_elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000
           + (now.tv_nsec - since->tv_nsec) / 1000000L;
}

bool relay_available(void)
{
#ifdef AUTH_GDBM
    return true;
#else
    return false;
#endif
}

/* ---- addresses -------------------------------------------------------- */

int relay_canonical_addr(const char *addr, char *buf, size_t size)
{
    char tmp[RELAY_ADDR_MAX + 1];
    unsigned char bin[16];
    size_t len = strcspn(addr, "%");

    if (len == 0 || len >= sizeof tmp || size < RELAY_ADDR_MAX)
        return -1;
    /* A zone is meaningless to the MTA, which sees the bare address. */
    if (addr[len] == '%' && (addr[len + 1] == '\0' || !strchr(addr, ':')))
        return -1;
    memcpy(tmp, addr, len);
    tmp[len] = '\0';
    if (addr[len] != '%' && inet_pton(AF_INET, tmp, bin) == 1)
        return inet_ntop(AF_INET, bin, buf, (socklen_t)size) ? 0 : -1;
    if (inet_pton(AF_INET6, tmp, bin) != 1)
        return -1;
    if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)bin))
        return inet_ntop(AF_INET, bin + 12, buf, (socklen_t)size) ? 0 : -1;
    return inet_ntop(AF_INET6, bin, buf, (socklen_t)size) ? 0 : -1;
}

#ifdef AUTH_GDBM
/* Sort key of a canonical address: family, then the address bytes. */
static void addr_key(const char *addr, int *family, unsigned char bin[16])
{
    memset(bin, 0, 16);
    if (inet_pton(AF_INET, addr, bin) == 1)
        *family = 4;
    else if (inet_pton(AF_INET6, addr, bin) == 1)
        *family = 6;
    else
        *family = 9;
}

int relay_entry_cmp(const void *a, const void *b)
{
    const struct relay_entry *x = a, *y = b;
    unsigned char bx[16], by[16];
    int fx, fy, c;

    addr_key(x->addr, &fx, bx);
    addr_key(y->addr, &fy, by);
    if (fx != fy)
        return fx < fy ? -1 : 1;
    c = memcmp(bx, by, sizeof bx);
    if (c == 0)
        c = strcmp(x->addr, y->addr);
    return c;
}
#endif

void relay_entries_free(struct relay_entry **entries, size_t n)
{
    if (!*entries)
        return;
    for (size_t i = 0; i < n; i++)
        free((*entries)[i].user);
    free(*entries);
    *entries = NULL;
}

/* ---- configuration ---------------------------------------------------- */

int relay_check_config(const struct config *cfg, char **error_r)
{
    const char *fmt = cfg_str(cfg, CFG_RELAY_GRANT_EXPORT_FORMAT);
    const char *db = cfg_str(cfg, CFG_RELAY_GRANT_DATABASE);
    const char *exp = relay_export_path(cfg);
    char *msg = NULL;

    if (cfg_bool(cfg, CFG_RELAY_GRANT_ENABLE) && !relay_available()) {
        *error_r = cfg_error(cfg, CFG_RELAY_GRANT_ENABLE,
                             xstrdup("relay grants are not compiled in "
                                     "(tpop3d was built without GDBM)"));
        return -1;
    }
    if (!db || db[0] != '/') {
        *error_r = cfg_error(cfg, CFG_RELAY_GRANT_DATABASE,
                             xstrdup("must be an absolute path"));
        return -1;
    }
    if (relay_format_check(fmt ? fmt : "", &msg) < 0) {
        *error_r = cfg_error(cfg, CFG_RELAY_GRANT_EXPORT_FORMAT, msg);
        return -1;
    }
    if (exp && exp[0] != '/') {
        *error_r = cfg_error(cfg, CFG_RELAY_GRANT_EXPORT,
                             xstrdup("must be an absolute path"));
        return -1;
    }
    if (relay_export_has_command(cfg)) {
        char **argv = config_split_words(
            cfg_str(cfg, CFG_RELAY_GRANT_EXPORT_COMMAND), NULL);
        bool absolute = argv[0][0] == '/';

        config_free_words(argv);
        if (!absolute) {
            *error_r = cfg_error(cfg, CFG_RELAY_GRANT_EXPORT_COMMAND,
                                 xstrdup("the program must be an absolute path "
                                         "(it is run without a shell or PATH search)"));
            return -1;
        }
        if (!exp) {
            *error_r = cfg_error(cfg, CFG_RELAY_GRANT_EXPORT_COMMAND,
                                 xasprintf("is set but %s is not",
                                           cfg_defs[CFG_RELAY_GRANT_EXPORT].name));
            return -1;
        }
    }
    return 0;
}

#ifdef AUTH_GDBM

/* ---- the database ----------------------------------------------------- */

struct relay_db {
    int lockfd;         /* the lock file beside the database, or -1 */
    GDBM_FILE db;       /* NULL when the database does not exist (readers) */
    const char *path;
    char *damaged;      /* what was wrong with a database replaced on open */
};

static char *gdbm_reason(const char *what, const char *path)
{
    int err = gdbm_errno, saved = errno;

    if (gdbm_check_syserr(err) && saved != 0)
        return xasprintf("%s %s: %s: %s", what, path, gdbm_strerror(err),
                         strerror(saved));
    return xasprintf("%s %s: %s", what, path, gdbm_strerror(err));
}

/* Create the database's directory when it is missing (its parent must
 * exist: a typo should not build a tree). */
static int make_dir(const char *dbpath, char **error_r)
{
    char *dir = xstrdup(dbpath), *slash = strrchr(dir, '/');
    int rc = 0;

    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, RELAY_DIR_MODE) < 0 && errno != EEXIST) {
            *error_r = xasprintf("cannot create directory %s: %s", dir,
                                 strerror(errno));
            rc = -1;
        }
    }
    free(dir);
    return rc;
}

static int take_lock(int fd, int op, const char *path, char **error_r)
{
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (flock(fd, op | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            *error_r = xasprintf("cannot lock %s: %s", path, strerror(errno));
            return -1;
        }
        if (relay_elapsed_ms(&t0) >= RELAY_LOCK_WAIT_MS) {
            *error_r = xasprintf("%s still locked after %d ms", path,
                                 RELAY_LOCK_WAIT_MS);
            return -1;
        }
        relay_sleep_ms(RELAY_LOCK_STEP_MS);
    }
    return 0;
}

static void db_close(struct relay_db *r)
{
    free(r->damaged);
    r->damaged = NULL;
    if (r->db)
        gdbm_close(r->db);
    r->db = NULL;
    if (r->lockfd >= 0)
        close(r->lockfd);   /* drops the flock */
    r->lockfd = -1;
}

/* Open the database under its lock file, as a writer (creating what is
 * missing) or a reader (a missing database leaves R->db NULL). */
static int db_open(const struct config *cfg, bool writer, struct relay_db *r,
                   char **error_r)
{
    const char *path = cfg_str(cfg, CFG_RELAY_GRANT_DATABASE);
    char *lockpath = xasprintf("%s.lock", path);
    struct timespec t0;
    int fd = -1, flags;

    r->lockfd = -1;
    r->db = NULL;
    r->path = path;
    r->damaged = NULL;
    if (writer && make_dir(path, error_r) < 0)
        goto fail;
    r->lockfd = open(lockpath, (writer ? O_RDWR | O_CREAT : O_RDONLY)
                     | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, RELAY_FILE_MODE);
    if (r->lockfd < 0 && (writer || errno != ENOENT)) {
        *error_r = xasprintf("cannot open %s: %s", lockpath, strerror(errno));
        goto fail;
    }
    /* A reader without a lock file still gets GDBM's own lock. */
    if (r->lockfd >= 0
        && take_lock(r->lockfd, writer ? LOCK_EX : LOCK_SH, lockpath, error_r) < 0)
        goto fail;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        fd = open(path, (writer ? O_RDWR | O_CREAT : O_RDONLY)
                  | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, RELAY_FILE_MODE);
        if (fd < 0) {
            if (!writer && errno == ENOENT)
                break;
            *error_r = xasprintf("cannot open %s: %s", path, strerror(errno));
            goto fail;
        }
        if (!writer) {
            struct stat st;

            /* An empty file is a database a writer is creating: no grants. */
            if (fstat(fd, &st) == 0 && st.st_size == 0) {
                close(fd);
                break;
            }
        }
        flags = (writer ? GDBM_WRCREAT : GDBM_READER) | GDBM_CLOEXEC | GDBM_CLOERROR;
        errno = 0;
        r->db = gdbm_fd_open(fd, path, 0, flags, NULL);
        if (r->db)
            break;
        if (writer && !r->damaged && gdbm_errno != GDBM_CANT_BE_WRITER
            && !gdbm_check_syserr(gdbm_errno)) {
            /* Grants are re-made by the next logins: a file GDBM cannot
             * read (a writer killed mid-update) is kept for a look and
             * replaced, rather than refusing every grant from now on. */
            char *aside = xasprintf("%s.damaged", path);
            char *why = gdbm_reason("cannot open", path);

            if (rename(path, aside) < 0) {
                *error_r = xasprintf("%s; cannot move it aside: %s", why,
                                     strerror(errno));
                free(why);
                free(aside);
                goto fail;
            }
            r->damaged = xasprintf("%s; moved aside to %s, grants start afresh",
                                   why, aside);
            free(why);
            free(aside);
            continue;
        }
        if ((gdbm_errno != GDBM_CANT_BE_WRITER && gdbm_errno != GDBM_CANT_BE_READER)
            || relay_elapsed_ms(&t0) >= RELAY_GDBM_WAIT_MS) {
            *error_r = gdbm_reason("cannot open", path);
            goto fail;
        }
        relay_sleep_ms(20);
    }
    free(lockpath);
    return 0;
fail:
    free(lockpath);
    db_close(r);
    return -1;
}

/* Parse a stored "TIME USER" value into E (E->addr already set). */
static bool parse_value(const datum *v, struct relay_entry *e)
{
    long long t = 0;
    int i = 0;

    if (!v->dptr || v->dsize < 3 || v->dsize > 32 + RELAY_MAX_USER)
        return false;
    while (i < v->dsize && v->dptr[i] >= '0' && v->dptr[i] <= '9' && i < 19)
        t = t * 10 + (v->dptr[i++] - '0');
    if (i == 0 || i >= v->dsize - 1 || v->dptr[i] != ' ')
        return false;
    i++;
    if (memchr(v->dptr + i, '\0', (size_t)(v->dsize - i)))
        return false;
    e->time = (time_t)t;
    e->user = xstrndup(v->dptr + i, (size_t)(v->dsize - i));
    return true;
}

static bool is_live(const struct config *cfg, time_t granted, time_t now)
{
    long long life = cfg_int(cfg, CFG_RELAY_GRANT_LIFETIME);

    /* A grant from the future (the clock was set back) lives no longer
     * than it would have. */
    return (long long)now - (long long)granted < life
           && (long long)granted - (long long)now < life;
}

/* Read every grant: the live ones into *LIVE_R, and, when PRUNE, delete
 * the expired and malformed ones. */
static int db_scan(const struct config *cfg, struct relay_db *r, time_t now,
                   bool prune, struct relay_entry **live_r, size_t *nlive_r,
                   size_t *removed_r, char **error_r)
{
    struct relay_entry *live = NULL;
    datum *dead = NULL, key;
    size_t nlive = 0, alive = 0, ndead = 0, adead = 0;
    int rc = 0;

    *live_r = NULL;
    *nlive_r = 0;
    if (removed_r)
        *removed_r = 0;
    if (!r->db)
        return 0;
    key = gdbm_firstkey(r->db);
    while (key.dptr) {
        struct relay_entry e = { .user = NULL };
        datum next, val;
        bool keep = false;

        if (key.dsize > 0 && (size_t)key.dsize < sizeof e.addr) {
            char canon[RELAY_ADDR_MAX];

            memcpy(e.addr, key.dptr, (size_t)key.dsize);
            e.addr[key.dsize] = '\0';
            val = gdbm_fetch(r->db, key);
            if (relay_canonical_addr(e.addr, canon, sizeof canon) == 0
                && strcmp(canon, e.addr) == 0 && parse_value(&val, &e)
                && is_live(cfg, e.time, now))
                keep = true;
            free(val.dptr);
        }
        next = gdbm_nextkey(r->db, key);
        if (keep) {
            if (nlive == alive) {
                alive = alive ? alive * 2 : 64;
                live = xreallocarray(live, alive, sizeof *live);
            }
            live[nlive++] = e;
            free(key.dptr);
        } else {
            free(e.user);
            if (prune) {
                /* Deleting while walking would reorder the walk. */
                if (ndead == adead) {
                    adead = adead ? adead * 2 : 64;
                    dead = xreallocarray(dead, adead, sizeof *dead);
                }
                dead[ndead++] = key;
            } else {
                free(key.dptr);
            }
        }
        key = next;
    }
    if (gdbm_errno != GDBM_NO_ERROR && gdbm_errno != GDBM_ITEM_NOT_FOUND) {
        *error_r = gdbm_reason("cannot read", r->path);
        rc = -1;
    }
    for (size_t i = 0; i < ndead; i++) {
        if (rc == 0 && gdbm_delete(r->db, dead[i]) != 0
            && gdbm_errno != GDBM_ITEM_NOT_FOUND) {
            *error_r = gdbm_reason("cannot delete from", r->path);
            rc = -1;
        }
        free(dead[i].dptr);
    }
    free(dead);
    if (prune && rc == 0 && r->lockfd >= 0) {
        /* The lock file's mtime says when the last prune happened. */
        struct timespec ts[2] = { { .tv_sec = now }, { .tv_sec = now } };

        futimens(r->lockfd, ts);
    }
    if (rc < 0) {
        relay_entries_free(&live, nlive);
        return -1;
    }
    if (removed_r)
        *removed_r = ndead;
    *live_r = live;
    *nlive_r = nlive;
    return 0;
}

static bool prune_due(struct relay_db *r, time_t now)
{
    struct stat st;

    if (r->lockfd < 0 || fstat(r->lockfd, &st) < 0)
        return true;
    return now - st.st_mtime >= RELAY_PRUNE_INTERVAL || st.st_mtime > now;
}

/* A database replaced when it was opened is worth a log line even though
 * the work was done: -1 with NOTE in *ERROR_R (after any error already
 * there), or RC when there is no NOTE. NOTE is consumed. */
static int report_damage(char *note, int rc, char **error_r)
{
    char *e;

    if (!note)
        return rc;
    if (rc == 0) {
        *error_r = note;
        return -1;
    }
    e = *error_r;
    *error_r = xasprintf("%s (and %s)", e, note);
    free(e);
    free(note);
    return -1;
}

int relay_grant_at(const struct config *cfg, const char *clienthost,
                   const char *user, time_t now, char **error_r)
{
    char addr[RELAY_ADDR_MAX], *value, *note;
    struct relay_entry *live = NULL;
    struct relay_db r;
    size_t nlive = 0;
    bool changed = false;
    datum k, v;
    int rc = -1;

    if (relay_canonical_addr(clienthost, addr, sizeof addr) < 0) {
        *error_r = xasprintf("no relay grant: %.64s is not a numeric address",
                             clienthost);
        return -1;
    }
    if (!*user || strlen(user) > RELAY_MAX_USER) {
        *error_r = xstrdup("no relay grant: empty or overlong user name");
        return -1;
    }
    if (db_open(cfg, true, &r, error_r) < 0)
        return -1;
    value = xasprintf("%lld %s", (long long)now, user);
    k.dptr = addr;
    k.dsize = (int)strlen(addr);
    v.dptr = value;
    v.dsize = (int)strlen(value);
    if (gdbm_store(r.db, k, v, GDBM_REPLACE) != 0) {
        *error_r = gdbm_reason("cannot store in", r.path);
        goto out;
    }
    if (relay_export_path(cfg)) {
        /* The export needs every live grant anyway: prune on the way. */
        if (db_scan(cfg, &r, now, true, &live, &nlive, NULL, error_r) < 0
            || relay_write_export(cfg, live, nlive, false, &changed, error_r) < 0)
            goto out;
    } else if (prune_due(&r, now)) {
        if (db_scan(cfg, &r, now, true, &live, &nlive, NULL, error_r) < 0)
            goto out;
    }
    rc = 0;
out:
    free(value);
    relay_entries_free(&live, nlive);
    note = r.damaged;
    r.damaged = NULL;
    db_close(&r);
    /* Outside the lock: a slow rebuild must not hold other logins. */
    if (rc == 0 && changed && relay_run_export_command(cfg, error_r) < 0) {
        char *e = *error_r;

        *error_r = xasprintf("grant recorded and exported, but %s", e);
        free(e);
        rc = -1;
    }
    return report_damage(note, rc, error_r);
}

int relay_list(const struct config *cfg, time_t now,
               struct relay_entry **entries_r, size_t *n_r, char **error_r)
{
    struct relay_db r;
    int rc;

    *entries_r = NULL;
    *n_r = 0;
    if (db_open(cfg, false, &r, error_r) < 0)
        return -1;
    rc = db_scan(cfg, &r, now, false, entries_r, n_r, NULL, error_r);
    db_close(&r);
    if (rc == 0 && *n_r > 1)
        qsort(*entries_r, *n_r, sizeof **entries_r, relay_entry_cmp);
    return rc;
}

int relay_expire(const struct config *cfg, time_t now, size_t *removed_r,
                 char **error_r)
{
    struct relay_entry *live = NULL;
    struct relay_db r;
    size_t nlive = 0;
    char *note;
    int rc;

    if (db_open(cfg, true, &r, error_r) < 0)
        return -1;
    rc = db_scan(cfg, &r, now, true, &live, &nlive, removed_r, error_r);
    relay_entries_free(&live, nlive);
    note = r.damaged;
    r.damaged = NULL;
    db_close(&r);
    return report_damage(note, rc, error_r);
}

int relay_export(const struct config *cfg, time_t now, char **error_r)
{
    struct relay_entry *live = NULL;
    struct relay_db r;
    size_t nlive = 0;
    bool changed;
    char *note;
    int rc = -1;

    if (!relay_export_path(cfg)) {
        *error_r = cfg_error(cfg, CFG_RELAY_GRANT_EXPORT, xstrdup("is not set"));
        return -1;
    }
    if (db_open(cfg, true, &r, error_r) < 0)
        return -1;
    if (db_scan(cfg, &r, now, true, &live, &nlive, NULL, error_r) == 0
        && relay_write_export(cfg, live, nlive, true, &changed, error_r) == 0)
        rc = 0;
    relay_entries_free(&live, nlive);
    note = r.damaged;
    r.damaged = NULL;
    db_close(&r);
    if (rc == 0)
        rc = relay_run_export_command(cfg, error_r);
    return report_damage(note, rc, error_r);
}

#else /* !AUTH_GDBM */

static int unavailable(char **error_r)
{
    *error_r = xstrdup("relay grants are not available: tpop3d was built "
                       "without GDBM (configure --enable-auth-gdbm)");
    return -1;
}

int relay_grant_at(const struct config *cfg, const char *clienthost,
                   const char *user, time_t now, char **error_r)
{
    (void)cfg; (void)clienthost; (void)user; (void)now;
    return unavailable(error_r);
}

int relay_list(const struct config *cfg, time_t now,
               struct relay_entry **entries_r, size_t *n_r, char **error_r)
{
    (void)cfg; (void)now;
    *entries_r = NULL;
    *n_r = 0;
    return unavailable(error_r);
}

int relay_expire(const struct config *cfg, time_t now, size_t *removed_r,
                 char **error_r)
{
    (void)cfg; (void)now;
    if (removed_r)
        *removed_r = 0;
    return unavailable(error_r);
}

int relay_export(const struct config *cfg, time_t now, char **error_r)
{
    (void)cfg; (void)now;
    return unavailable(error_r);
}

#endif /* AUTH_GDBM */

int relay_grant(const struct config *cfg, const char *clienthost,
                const char *user, char **error_r)
{
    return relay_grant_at(cfg, clienthost, user, time(NULL), error_r);
}
