/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/flatfile.c: the flatfile driver, for "name:hash" password files,
 * optionally one file per domain. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "password.h"
#include "subst.h"
#include "username.h"
#include "xalloc.h"

/* Longest line of a password file, newline included: a name, a hash of a
 * few hundred bytes at most and some ignored fields. Longer lines are
 * skipped whole. */
#define FLATFILE_MAX_LINE 4096

/* Longest expanded password file name (PATH_MAX on Linux). */
#define FLATFILE_MAX_PATH 4096

/* stdio's buffer for the file; ours, so that it can be wiped. */
#define FLATFILE_IOBUF 8192

static struct {
    char *template;     /* auth-flatfile-passwd-file */
    bool by_local_part; /* look up the local part, not the whole user */
    uid_t uid;
    gid_t gid;
    bool permit_empty;
} ff;

static void flatfile_close(void)
{
    free(ff.template);
    ff.template = NULL;
}

/* Report "file:line: directive: MSG" (MSG is consumed) and forget any
 * half-made state. */
static int init_error(const struct config *cfg, enum cfg_key key,
                      char **error_r, char *msg)
{
    *error_r = cfg_error(cfg, key, msg);
    flatfile_close();
    return -1;
}

static int flatfile_init(const struct config *cfg, char **error_r)
{
    const char *file = cfg_str(cfg, CFG_AUTH_FLATFILE_PASSWD_FILE);
    const char *user = cfg_str(cfg, CFG_AUTH_FLATFILE_MAIL_USER);
    const char *group = cfg_str(cfg, CFG_AUTH_FLATFILE_MAIL_GROUP);
    const char *err;
    gid_t user_gid;

    flatfile_close();
    if (!file || !*file)
        return init_error(cfg, CFG_AUTH_FLATFILE_PASSWD_FILE, error_r,
                          xasprintf("must be set when %s is yes",
                                    cfg_defs[CFG_AUTH_FLATFILE_ENABLE].name));
    if (subst_check(file, &err) < 0)
        return init_error(cfg, CFG_AUTH_FLATFILE_PASSWD_FILE, error_r,
                          xasprintf("%s: %s", file, err));
    if (!user || !*user)
        return init_error(cfg, CFG_AUTH_FLATFILE_MAIL_USER, error_r,
                          xasprintf("must be set when %s is yes",
                                    cfg_defs[CFG_AUTH_FLATFILE_ENABLE].name));
    if (username_lookup_user(user, &ff.uid, &user_gid, &err) < 0)
        return init_error(cfg, CFG_AUTH_FLATFILE_MAIL_USER, error_r,
                          xasprintf("%s: %s", user, err));
    if (ff.uid == 0)
        return init_error(cfg, CFG_AUTH_FLATFILE_MAIL_USER, error_r,
                          xasprintf("%s: mailboxes may not be accessed as "
                                    "root", user));
    if (group) {
        if (username_lookup_group(group, &ff.gid, &err) < 0)
            return init_error(cfg, CFG_AUTH_FLATFILE_MAIL_GROUP, error_r,
                              xasprintf("%s: %s", group, err));
    } else if (user_gid == (gid_t)-1) {
        return init_error(cfg, CFG_AUTH_FLATFILE_MAIL_GROUP, error_r,
                          xasprintf("must be set, as %s %s has no passwd "
                                    "entry to take a group from",
                                    cfg_defs[CFG_AUTH_FLATFILE_MAIL_USER].name,
                                    user));
    } else {
        ff.gid = user_gid;
    }

    ff.template = xstrdup(file);
    /* With one file per domain (or per local part), the file already says
     * which domain it serves, so its lines name local parts: "bob", not
     * "bob@example.com". A single file for every domain must tell them
     * apart, so its lines name the whole user. */
    ff.by_local_part = subst_uses(file, "domain")
                       || subst_uses(file, "local_part");
    ff.permit_empty = cfg_bool(cfg, CFG_PERMIT_EMPTY_PASSWORD);
    return 0;
}

/* The next line of FP into BUF (FLATFILE_MAX_LINE bytes) without its line
 * end; over-long lines are skipped. Returns false at end of file or on a
 * read error (check ferror). */
static bool read_line(FILE *fp, char *buf)
{
    for (;;) {
        size_t len;

        if (!fgets(buf, FLATFILE_MAX_LINE, fp))
            return false;
        len = strlen(buf);
        if (len > 0 && buf[len - 1] == '\n') {
            buf[--len] = '\0';
        } else if (!feof(fp)) {
            /* No newline before the buffer filled: skip the rest. */
            int c;

            while ((c = getc(fp)) != EOF && c != '\n')
                ;
            continue;
        }
        if (len > 0 && buf[len - 1] == '\r')
            buf[--len] = '\0';
        return true;
    }
}

/* Look KEY up in PATH. AUTH_OK: *HASH_R is the entry's hash. AUTH_NO: not
 * there (or no file); *HASH_R is then the first entry's hash, or NULL, so
 * that the caller can spend the time a real check costs. Hashes are
 * allocated; free with strfreezero(). */
static enum auth_status lookup(const char *path, const char *key,
                               char **hash_r, char **error_r)
{
    char *iobuf, *line;
    enum auth_status st = AUTH_NO;
    size_t keylen = strlen(key);
    FILE *fp;

    *hash_r = NULL;
    fp = fopen(path, "re");
    if (!fp) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *error_r = xasprintf("no password file %s", path);
            return AUTH_NO;
        }
        *error_r = xasprintf("cannot open %s: %s", path, strerror(errno));
        return AUTH_TEMPFAIL;
    }
    iobuf = xmalloc(FLATFILE_IOBUF);
    line = xmalloc(FLATFILE_MAX_LINE);
    setvbuf(fp, iobuf, _IOFBF, FLATFILE_IOBUF);

    while (read_line(fp, line)) {
        char *colon, *hash;

        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (!(colon = strchr(line, ':')))
            continue;
        hash = colon + 1;
        hash[strcspn(hash, ":")] = '\0';
        if ((size_t)(colon - line) == keylen
            && memcmp(line, key, keylen) == 0) {
            strfreezero(*hash_r);
            *hash_r = xstrdup(hash);
            st = AUTH_OK;
            break;
        }
        if (!*hash_r)
            *hash_r = xstrdup(hash);
    }
    if (ferror(fp)) {
        *error_r = xasprintf("cannot read %s: %s", path, strerror(errno));
        strfreezero(*hash_r);
        *hash_r = NULL;
        st = AUTH_TEMPFAIL;
    } else if (st == AUTH_NO) {
        *error_r = xasprintf("no such user in %s", path);
    }
    fclose(fp);
    freezero(line, FLATFILE_MAX_LINE);
    freezero(iobuf, FLATFILE_IOBUF);
    return st;
}

static enum auth_status flatfile_check(const struct auth_request *req,
                                       struct auth_result *res,
                                       char **error_r)
{
    const struct subst_vars vars = {
        .user = req->user,
        .local_part = req->local_part,
        .domain = req->domain,
    };
    const char *key = ff.by_local_part ? req->local_part : req->user;
    bool apop = auth_method_uses_secret(req->method);
    struct strbuf path;
    const char *err = NULL;
    char *hash;
    enum auth_status st;

    strbuf_init(&path, FLATFILE_MAX_PATH);
    if (subst_expand(ff.template, &vars, SUBST_PATH_SAFE, &path, &err) < 0) {
        if (!apop)
            password_dummy_check(req->password);
        *error_r = xasprintf("password file name: %s", err);
        strbuf_free(&path);
        return AUTH_NO;
    }

    st = lookup(strbuf_str(&path), key, &hash, error_r);
    if (st != AUTH_OK) {
        /* Unknown users cost what a wrong password does: check against
         * an entry of the same file, or a fixed hash without one. */
        if (!apop && hash)
            (void)password_verify(req->password, hash, PASSWORD_SCHEME_CRYPT,
                                  false, &err);
        else if (!apop)
            password_dummy_check(req->password);
        strfreezero(hash);
        strbuf_free(&path);
        return st;
    }

    st = auth_check_stored(req, hash, PASSWORD_SCHEME_CRYPT, ff.permit_empty,
                           strbuf_str(&path), error_r);
    strfreezero(hash);
    strbuf_free(&path);
    if (st != AUTH_OK)
        return st;

    res->uid = ff.uid;
    res->gid = ff.gid;
    res->user = xstrdup(req->user);
    res->local_part = xstrdup(req->local_part);
    res->domain = req->domain ? xstrdup(req->domain) : NULL;
    res->home = NULL;
    res->mailbox = NULL;
    res->driver = "flatfile";
    return AUTH_OK;
}

const struct auth_driver auth_driver_flatfile = {
    .name = "flatfile",
    .description = "user:hash files, optionally one per domain",
    .compiled = true,
    .enable_key = CFG_AUTH_FLATFILE_ENABLE,
    .init = flatfile_init,
    .pass = flatfile_check,
    .apop = flatfile_check,
    .close = flatfile_close,
};
