/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/passwd.c: the passwd driver, for accounts in the system passwd and
 * shadow databases. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SHADOW_H
#include <shadow.h>
#endif

#include "auth.h"
#include "password.h"
#include "username.h"
#include "xalloc.h"

/* NSS buffers start at what sysconf suggests and grow on ERANGE up to
 * this. */
#define PASSWD_BUF_MAX (1024 * 1024)

static struct {
    bool mail_group_set;
    gid_t mail_group;
    bool permit_empty;
} passwd_conf;

static int passwd_init(const struct config *cfg, char **error_r)
{
    const char *spec = cfg_str(cfg, CFG_AUTH_PASSWD_MAIL_GROUP);
    const char *err;
    char where[256];

    passwd_conf.mail_group_set = false;
    passwd_conf.permit_empty = cfg_bool(cfg, CFG_PERMIT_EMPTY_PASSWORD);
    if (spec) {
        if (username_lookup_group(spec, &passwd_conf.mail_group, &err) < 0) {
            *error_r = xasprintf("%s: %s: %s: %s",
                                 cfg_where(cfg, CFG_AUTH_PASSWD_MAIL_GROUP,
                                           where, sizeof where),
                                 cfg_defs[CFG_AUTH_PASSWD_MAIL_GROUP].name,
                                 spec, err);
            return -1;
        }
        passwd_conf.mail_group_set = true;
    }
    return 0;
}

static size_t buf_start(void)
{
    long n = sysconf(_SC_GETPW_R_SIZE_MAX);

    return n > 0 && n <= PASSWD_BUF_MAX ? (size_t)n : 16384;
}

/* crypt(3) strings: "$id$...", 13-character DES, 20-character BSDi "_...".
 * Anything else in the passwd file ("x", "*", "!!", empty) sends us to the
 * shadow database. */
static bool looks_like_hash(const char *s)
{
    static const char alphabet[] =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t n = strlen(s);

    if (s[0] == '$')
        return true;
    if (n == 20 && s[0] == '_')
        return strspn(s + 1, alphabet) == n - 1;
    return n == 13 && strspn(s, alphabet) == n;
}

static bool expired(long expire_days)
{
    /* shadow(5): 0 is ambiguous (never, or 1 January 1970), so only later
     * dates count. */
    return expire_days > 0 && time(NULL) / 86400 >= expire_days;
}

static enum auth_status passwd_pass(const struct auth_request *req,
                                    struct auth_result *res, char **error_r)
{
    struct passwd pw, *pwp = NULL;
    size_t pwsize = buf_start();
    char *pwbuf;
    const char *hash, *err = NULL;
    long expire_days = -1;
    enum password_result pr;
    enum auth_status st;
    int rc;
#ifdef HAVE_SHADOW_H
    struct spwd sp, *spp = NULL;
    size_t spsize = buf_start();
    char *spbuf = NULL;
#endif

    for (;;) {
        pwbuf = xmalloc(pwsize);
        rc = getpwnam_r(req->user, &pw, pwbuf, pwsize, &pwp);
        if (rc != ERANGE || pwsize >= PASSWD_BUF_MAX)
            break;
        free(pwbuf);
        pwsize *= 2;
    }
    if (!pwp) {
        password_dummy_check(req->password);
        free(pwbuf);
        if (rc != 0 && rc != ENOENT && rc != ESRCH) {
            *error_r = xasprintf("passwd lookup failed: %s", strerror(rc));
            return AUTH_TEMPFAIL;
        }
        *error_r = xstrdup("no such user");
        return AUTH_NO;
    }

    hash = pw.pw_passwd ? pw.pw_passwd : "";
#ifdef HAVE_SHADOW_H
    if (!looks_like_hash(hash)) {
        for (;;) {
            spbuf = xmalloc(spsize);
            rc = getspnam_r(pw.pw_name, &sp, spbuf, spsize, &spp);
            if (rc != ERANGE || spsize >= PASSWD_BUF_MAX)
                break;
            freezero(spbuf, spsize);
            spsize *= 2;
        }
        if (spp) {
            hash = sp.sp_pwdp ? sp.sp_pwdp : "";
            expire_days = sp.sp_expire;
        } else if (rc != 0 && rc != ENOENT) {
            /* Most often EACCES: not running as root. */
            password_dummy_check(req->password);
            *error_r = xasprintf("shadow lookup failed: %s", strerror(rc));
            st = AUTH_TEMPFAIL;
            goto out;
        }
    }
#else
    (void)looks_like_hash;
#endif

    pr = password_verify(req->password, hash, PASSWORD_SCHEME_CRYPT,
                         passwd_conf.permit_empty, &err);
    if (pr == PASSWORD_UNUSABLE) {
        *error_r = xasprintf("unusable password hash: %s", err);
        st = AUTH_NO;
    } else if (pr == PASSWORD_MISMATCH) {
        *error_r = xstrdup(err ? err : "wrong password");
        st = AUTH_NO;
    } else if (pw.pw_uid == 0) {
        *error_r = xstrdup("refusing to log in a user with uid 0");
        st = AUTH_NO;
    } else if (expired(expire_days)) {
        *error_r = xstrdup("account expired");
        st = AUTH_NO;
    } else {
        res->uid = pw.pw_uid;
        res->gid = passwd_conf.mail_group_set ? passwd_conf.mail_group
                                              : pw.pw_gid;
        res->user = xstrdup(req->user);
        res->local_part = xstrdup(req->local_part);
        res->domain = req->domain ? xstrdup(req->domain) : NULL;
        res->home = pw.pw_dir && pw.pw_dir[0] ? xstrdup(pw.pw_dir) : NULL;
        res->mailbox = NULL;
        res->driver = "passwd";
        st = AUTH_OK;
    }

#ifdef HAVE_SHADOW_H
out:
    if (spbuf)
        freezero(spbuf, spsize);
#endif
    freezero(pwbuf, pwsize);
    return st;
}

const struct auth_driver auth_driver_passwd = {
    .name = "passwd",
    .description = "system passwd and shadow files",
    .compiled = true,
    .enable_key = CFG_AUTH_PASSWD_ENABLE,
    .init = passwd_init,
    .pass = passwd_pass,
    .apop = NULL,
};
