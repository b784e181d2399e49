/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/gdbm.c: the gdbm driver, for GNU dbm files that map user names to
 * password hashes, optionally one file per domain. */
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "password.h"
#include "subst.h"
#include "username.h"
#include "xalloc.h"

/* gdbm_fd_open() lets us tell a missing file (no such domain) from one we
 * cannot read; it appeared in GDBM 1.14. */
#if GDBM_VERSION_MAJOR < 1 \
    || (GDBM_VERSION_MAJOR == 1 && GDBM_VERSION_MINOR < 14)
#error "the gdbm driver needs GDBM 1.14 or later"
#endif

/* Longest expanded file name (PATH_MAX on Linux). */
#define AUTH_GDBM_MAX_PATH 4096

/* Longest stored value, trailing NUL included: a hash is a few hundred
 * bytes at most, with its scheme prefix. A longer value is no password. */
#define AUTH_GDBM_MAX_VALUE 1024

/* A writer holds an exclusive lock on the file while it updates it, and a
 * reader cannot open it meanwhile: retry for this long (in steps of
 * AUTH_GDBM_LOCK_STEP_MS) before answering "try again later". Updates of a
 * password file take milliseconds. */
#define AUTH_GDBM_LOCK_WAIT_MS 500
#define AUTH_GDBM_LOCK_STEP_MS 20

static struct {
    char *template;     /* auth-gdbm-passwd-file */
    char *path;         /* its expansion when it names one fixed file */
    bool by_local_part; /* keys are local parts, not whole user names */
    uid_t uid;
    gid_t gid;
    bool permit_empty;
    bool persistent;
    GDBM_FILE db;       /* the file kept open (persistent mode) */
    bool in_session;    /* this process is a session child */
} gd;

/* A session child shares the listener's open file and its lock: closing
 * the handle there would drop the lock for everyone, so only the listener
 * closes it. */
static void gdbm_driver_postfork(void)
{
    gd.in_session = true;
}

static void gdbm_driver_close(void)
{
    if (gd.db && !gd.in_session)
        gdbm_close(gd.db);
    gd.db = NULL;
    free(gd.template);
    free(gd.path);
    memset(&gd, 0, sizeof gd);
}

/* Report "file:line: directive: MSG" (MSG is consumed) and forget any
 * half-made state. */
static int init_error(const struct config *cfg, enum cfg_key key,
                      char **error_r, char *msg)
{
    *error_r = cfg_error(cfg, key, msg);
    gdbm_driver_close();
    return -1;
}

static char *gdbm_reason(const char *what, const char *path, int err,
                         int saved_errno)
{
    if (gdbm_check_syserr(err) && saved_errno != 0)
        return xasprintf("%s %s: %s: %s", what, path, gdbm_strerror(err),
                         strerror(saved_errno));
    return xasprintf("%s %s: %s", what, path, gdbm_strerror(err));
}

static void sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Open PATH read-only, with a shared lock. AUTH_OK with *DB_R set;
 * AUTH_NO when there is no such file; AUTH_TEMPFAIL when it cannot be
 * opened or is not a GDBM file. *ERROR_R is set (allocated) unless
 * AUTH_OK. */
static enum auth_status db_open(const char *path, GDBM_FILE *db_r,
                                char **error_r)
{
    for (long waited = 0;; waited += AUTH_GDBM_LOCK_STEP_MS) {
        int fd, err, saved;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                *error_r = xasprintf("no password file %s", path);
                return AUTH_NO;
            }
            *error_r = xasprintf("cannot open %s: %s", path,
                                 strerror(errno));
            return AUTH_TEMPFAIL;
        }
        errno = 0;
        *db_r = gdbm_fd_open(fd, path, 0,
                             GDBM_READER | GDBM_CLOEXEC | GDBM_CLOERROR,
                             NULL);
        if (*db_r)
            return AUTH_OK;
        err = gdbm_errno;
        saved = errno;
        if (err != GDBM_CANT_BE_READER
            || waited >= AUTH_GDBM_LOCK_WAIT_MS) {
            *error_r = gdbm_reason(err == GDBM_CANT_BE_READER
                                   ? "still locked by a writer:"
                                   : "cannot open", path, err, saved);
            return AUTH_TEMPFAIL;
        }
        sleep_ms(AUTH_GDBM_LOCK_STEP_MS);
    }
}

static int gdbm_driver_init(const struct config *cfg, char **error_r)
{
    const char *file = cfg_str(cfg, CFG_AUTH_GDBM_PASSWD_FILE);
    const char *user = cfg_str(cfg, CFG_AUTH_GDBM_MAIL_USER);
    const char *group = cfg_str(cfg, CFG_AUTH_GDBM_MAIL_GROUP);
    const struct subst_vars none = { 0 };
    const char *err;
    struct strbuf sb;
    gid_t user_gid;

    gdbm_driver_close();
    if (!file || !*file)
        return init_error(cfg, CFG_AUTH_GDBM_PASSWD_FILE, error_r,
                          xasprintf("must be set when %s is yes",
                                    cfg_defs[CFG_AUTH_GDBM_ENABLE].name));
    if (subst_check(file, &err) < 0)
        return init_error(cfg, CFG_AUTH_GDBM_PASSWD_FILE, error_r,
                          xasprintf("%s: %s", file, err));
    if (!user || !*user)
        return init_error(cfg, CFG_AUTH_GDBM_MAIL_USER, error_r,
                          xasprintf("must be set when %s is yes",
                                    cfg_defs[CFG_AUTH_GDBM_ENABLE].name));
    if (username_lookup_user(user, &gd.uid, &user_gid, &err) < 0)
        return init_error(cfg, CFG_AUTH_GDBM_MAIL_USER, error_r,
                          xasprintf("%s: %s", user, err));
    if (gd.uid == 0)
        return init_error(cfg, CFG_AUTH_GDBM_MAIL_USER, error_r,
                          xasprintf("%s: mailboxes may not be accessed as "
                                    "root", user));
    if (group) {
        if (username_lookup_group(group, &gd.gid, &err) < 0)
            return init_error(cfg, CFG_AUTH_GDBM_MAIL_GROUP, error_r,
                              xasprintf("%s: %s", group, err));
    } else if (user_gid == (gid_t)-1) {
        return init_error(cfg, CFG_AUTH_GDBM_MAIL_GROUP, error_r,
                          xasprintf("must be set, as %s %s has no passwd "
                                    "entry to take a group from",
                                    cfg_defs[CFG_AUTH_GDBM_MAIL_USER].name,
                                    user));
    } else {
        gd.gid = user_gid;
    }

    gd.template = xstrdup(file);
    /* The same rule as flat files: a file per domain (or per local part)
     * already says which domain it serves, so it is keyed by local part;
     * one file for every domain is keyed by the whole user name. */
    gd.by_local_part = subst_uses(file, "domain")
                       || subst_uses(file, "local_part");
    gd.permit_empty = cfg_bool(cfg, CFG_PERMIT_EMPTY_PASSWORD);
    gd.persistent = cfg_bool(cfg, CFG_AUTH_GDBM_PERSISTENT);

    /* Expanding without any values succeeds only for a fixed name. */
    strbuf_init(&sb, AUTH_GDBM_MAX_PATH);
    if (subst_expand(file, &none, 0, &sb, &err) == 0)
        gd.path = strbuf_detach(&sb);
    strbuf_free(&sb);
    if (gd.persistent && !gd.path)
        return init_error(cfg, CFG_AUTH_GDBM_PERSISTENT, error_r,
                          xasprintf("needs a single file, but %s %s "
                                    "depends on the user",
                                    cfg_defs[CFG_AUTH_GDBM_PASSWD_FILE].name,
                                    file));

    if (gd.persistent) {
        char *why = NULL;

        /* A file that cannot be opened now does not stop the daemon (nor
         * a reload, which would leave no driver at all): each login then
         * opens it itself and reports why that fails. */
        if (db_open(gd.path, &gd.db, &why) != AUTH_OK)
            gd.db = NULL;
        free(why);
    }
    return 0;
}

/* Look KEY up in DB (the file PATH). AUTH_OK: *HASH_R is the stored value
 * (allocated; free with strfreezero()). AUTH_NO: no such key, or a value
 * that cannot be a password. AUTH_TEMPFAIL: the file could not be read. */
static enum auth_status db_lookup(GDBM_FILE db, const char *path,
                                  const char *key, char **hash_r,
                                  char **error_r)
{
    datum k = { .dptr = (char *)key, .dsize = (int)strlen(key) };
    datum v;
    const char *nul;
    size_t len;
    int err;

    *hash_r = NULL;
    v = gdbm_fetch(db, k);
    if (!v.dptr && gdbm_last_errno(db) == GDBM_ITEM_NOT_FOUND) {
        /* Some tools store keys with their C string terminator. */
        k.dsize++;
        v = gdbm_fetch(db, k);
    }
    if (!v.dptr) {
        err = gdbm_last_errno(db);
        if (err == GDBM_ITEM_NOT_FOUND) {
            gdbm_clear_error(db);
            *error_r = xasprintf("no such user in %s", path);
            return AUTH_NO;
        }
        *error_r = gdbm_reason("cannot read", path, err, errno);
        return AUTH_TEMPFAIL;
    }

    /* Values end in a NUL by convention; tolerate one without. */
    len = v.dsize > 0 ? (size_t)v.dsize : 0;
    nul = len ? memchr(v.dptr, '\0', len) : NULL;
    if (nul)
        len = (size_t)(nul - v.dptr);
    if (len >= AUTH_GDBM_MAX_VALUE) {
        freezero(v.dptr, (size_t)v.dsize);
        *error_r = xasprintf("unusable password entry in %s: longer than "
                             "%d bytes", path, AUTH_GDBM_MAX_VALUE - 1);
        return AUTH_NO;
    }
    /* Not strndup: the value need not contain a NUL at all. */
    *hash_r = xmalloc(len + 1);
    memcpy(*hash_r, v.dptr, len);
    (*hash_r)[len] = '\0';
    freezero(v.dptr, (size_t)v.dsize);
    return AUTH_OK;
}

/* The stored value for the request, from the kept handle or from the
 * file the template names for this user. */
static enum auth_status find_entry(const struct auth_request *req,
                                   struct strbuf *path, char **hash_r,
                                   char **error_r)
{
    const struct subst_vars vars = {
        .user = req->user,
        .local_part = req->local_part,
        .domain = req->domain,
    };
    const char *key = gd.by_local_part ? req->local_part : req->user;
    const char *err = NULL;
    enum auth_status st;
    GDBM_FILE db;

    *hash_r = NULL;
    if (gd.db) {
        strbuf_appends(path, gd.path);
        return db_lookup(gd.db, gd.path, key, hash_r, error_r);
    }
    if (subst_expand(gd.template, &vars, SUBST_PATH_SAFE, path, &err) < 0) {
        *error_r = xasprintf("password file name: %s", err);
        return AUTH_NO;
    }
    st = db_open(strbuf_str(path), &db, error_r);
    if (st != AUTH_OK)
        return st;
    st = db_lookup(db, strbuf_str(path), key, hash_r, error_r);
    gdbm_close(db);
    return st;
}

static enum auth_status gdbm_driver_check(const struct auth_request *req,
                                          struct auth_result *res,
                                          char **error_r)
{
    bool apop = auth_method_uses_secret(req->method);
    struct strbuf path;
    char *hash;
    enum auth_status st;

    strbuf_init(&path, AUTH_GDBM_MAX_PATH);
    st = find_entry(req, &path, &hash, error_r);
    if (st != AUTH_OK) {
        /* Unknown users cost what a wrong password does. */
        if (!apop)
            password_dummy_check(req->password);
        strbuf_free(&path);
        return st;
    }

    st = auth_check_stored(req, hash, PASSWORD_SCHEME_CRYPT, gd.permit_empty,
                           strbuf_str(&path), error_r);
    strfreezero(hash);
    strbuf_free(&path);
    if (st != AUTH_OK)
        return st;

    res->uid = gd.uid;
    res->gid = gd.gid;
    res->user = xstrdup(req->user);
    res->local_part = xstrdup(req->local_part);
    res->domain = req->domain ? xstrdup(req->domain) : NULL;
    res->home = NULL;
    res->mailbox = NULL;
    res->driver = "gdbm";
    return AUTH_OK;
}

const struct auth_driver auth_driver_gdbm = {
    .name = "gdbm",
    .description = "GNU dbm database",
    .compiled = true,
    .enable_key = CFG_AUTH_GDBM_ENABLE,
    .init = gdbm_driver_init,
    .pass = gdbm_driver_check,
    .apop = gdbm_driver_check,
    .postfork = gdbm_driver_postfork,
    .close = gdbm_driver_close,
};
