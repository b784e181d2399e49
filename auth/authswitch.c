/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/authswitch.c: the table of authentication drivers and the one entry
 * point that tries them in turn. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "authcache.h"
#include "limits.h"
#include "log.h"
#include "password.h"
#include "username.h"
#include "xalloc.h"

/* Each driver lives in auth/NAME.c. One that configure left out is defined
 * here by name only, so that tpop3d -h lists it as not compiled in and a
 * config enabling it gets a clear error instead of "unknown directive". */

#ifndef AUTH_PASSWD
const struct auth_driver auth_driver_passwd = {
    .name = "passwd",
    .description = "system passwd and shadow files",
    .compiled = false,
    .enable_key = CFG_AUTH_PASSWD_ENABLE,
};
#endif

#ifndef AUTH_FLATFILE
const struct auth_driver auth_driver_flatfile = {
    .name = "flatfile",
    .description = "user:hash files, optionally one per domain",
    .compiled = false,
    .enable_key = CFG_AUTH_FLATFILE_ENABLE,
};
#endif

#ifndef AUTH_PAM
const struct auth_driver auth_driver_pam = {
    .name = "pam",
    .description = "Pluggable Authentication Modules",
    .compiled = false,
    .enable_key = CFG_AUTH_PAM_ENABLE,
};
#endif

#ifndef AUTH_MYSQL
const struct auth_driver auth_driver_mysql = {
    .name = "mysql",
    .description = "MySQL or MariaDB database",
    .compiled = false,
    .enable_key = CFG_AUTH_MYSQL_ENABLE,
};
#endif

#ifndef AUTH_GDBM
const struct auth_driver auth_driver_gdbm = {
    .name = "gdbm",
    .description = "GNU dbm database",
    .compiled = false,
    .enable_key = CFG_AUTH_GDBM_ENABLE,
};
#endif

#ifndef AUTH_OTHER
const struct auth_driver auth_driver_other = {
    .name = "other",
    .description = "external program",
    .compiled = false,
    .enable_key = CFG_AUTH_OTHER_ENABLE,
};
#endif

const struct auth_driver *const auth_drivers[] = {
    &auth_driver_passwd,
    &auth_driver_flatfile,
    &auth_driver_pam,
    &auth_driver_mysql,
    &auth_driver_gdbm,
    &auth_driver_other,
    NULL,
};

#define NDRIVERS (sizeof auth_drivers / sizeof auth_drivers[0] - 1)

/* Which entries of auth_drivers[] auth_init() started. */
static bool enabled[NDRIVERS];

/* Recent successful logins, shared with the session children; NULL unless
 * authcache-enable. */
static struct authcache *cache;

/* Room for a user name or password after log_sanitize(), which writes up
 * to 4 bytes per input byte, plus its "..." and NUL. */
#define LOG_FIELD (4 * POP3_MAX_USER + 4)

static bool driver_wanted(const struct config *cfg,
                          const struct auth_driver *d)
{
    return d->enable_key != CFG__COUNT && cfg_bool(cfg, d->enable_key);
}

int auth_init(const struct config *cfg, char **error_r)
{
    char where[256];
    size_t n = 0;

    auth_close();
    for (size_t i = 0; i < NDRIVERS; i++) {
        const struct auth_driver *d = auth_drivers[i];

        if (!driver_wanted(cfg, d))
            continue;
        if (!d->compiled) {
            *error_r = xasprintf("%s: %s: the %s driver is not compiled in "
                                 "(configure with --enable-auth-%s)",
                                 cfg_where(cfg, d->enable_key, where,
                                           sizeof where),
                                 cfg_defs[d->enable_key].name, d->name,
                                 d->name);
            auth_close();
            return -1;
        }
        if (d->init && d->init(cfg, error_r) < 0) {
            auth_close();
            return -1;
        }
        enabled[i] = true;
        n++;
    }
    if (n == 0) {
        *error_r = xstrdup("no authentication driver is enabled "
                           "(set auth-flatfile-enable or auth-passwd-enable)");
        return -1;
    }
    if (cfg_bool(cfg, CFG_AUTHCACHE_ENABLE)) {
        cache = authcache_create(AUTHCACHE_SLOTS,
                                 cfg_int(cfg, CFG_AUTHCACHE_ENTRY_LIFETIME) * 1000,
                                 cfg_bool(cfg, CFG_AUTHCACHE_USE_CLIENT_HOST),
                                 error_r);
        if (!cache) {
            auth_close();
            return -1;
        }
    }
    return 0;
}

void auth_close(void)
{
    authcache_destroy(&cache);
    for (size_t i = 0; i < NDRIVERS; i++) {
        if (enabled[i] && auth_drivers[i]->close)
            auth_drivers[i]->close();
        enabled[i] = false;
    }
}

void auth_postfork(void)
{
    for (size_t i = 0; i < NDRIVERS; i++)
        if (enabled[i] && auth_drivers[i]->postfork)
            auth_drivers[i]->postfork();
}

void auth_onlogin(const struct config *cfg, const struct auth_result *res,
                  const char *clienthost, const char *serverhost)
{
    for (size_t i = 0; i < NDRIVERS; i++) {
        char *err = NULL;

        if (!enabled[i] || !auth_drivers[i]->onlogin)
            continue;
        if (auth_drivers[i]->onlogin(cfg, res, clienthost, serverhost, &err) < 0)
            log_warn("onlogin: driver %s: user %s: %s", auth_drivers[i]->name,
                     res->user, err ? err : "failed");
        free(err);
    }
}

bool auth_can_apop(void)
{
    for (size_t i = 0; i < NDRIVERS; i++)
        if (enabled[i] && auth_drivers[i]->apop &&
            (!auth_drivers[i]->can_apop || auth_drivers[i]->can_apop()))
            return true;
    return false;
}

void auth_result_free(struct auth_result *res)
{
    free(res->user);
    free(res->local_part);
    free(res->domain);
    free(res->home);
    free(res->mailbox);
    memset(res, 0, sizeof *res);
}

static const char *sanitize(char *buf, size_t size, const char *s)
{
    if (!s)
        return "-";
    return log_sanitize(buf, size, s, strlen(s));
}

/* One log line per refusal; the password only when log-bad-passwords asks
 * for it. */
static void log_failure(const struct config *cfg,
                        const struct auth_attempt *att, const char *driver,
                        const char *user, enum auth_status st,
                        const char *why)
{
    char ubuf[LOG_FIELD], pbuf[LOG_FIELD], cbuf[LOG_FIELD];
    const char *pass = "";

    if (att->method == AUTH_METHOD_PASS && att->password
        && cfg_bool(cfg, CFG_LOG_BAD_PASSWORDS))
        pass = sanitize(pbuf, sizeof pbuf, att->password);
    if (st == AUTH_TEMPFAIL)
        log_warnx("login failed temporarily: user=%s driver=%s client=%s"
                  "%s%s: %s", sanitize(ubuf, sizeof ubuf, user), driver,
                  sanitize(cbuf, sizeof cbuf, att->clienthost),
                  *pass ? " password=" : "", pass, why);
    else
        log_info("login failed: user=%s driver=%s client=%s%s%s: %s",
                 sanitize(ubuf, sizeof ubuf, user), driver,
                 sanitize(cbuf, sizeof cbuf, att->clienthost),
                 *pass ? " password=" : "", pass, why);
}

/* Fill in what a driver may leave to us, and refuse what no driver may
 * return. */
static bool complete_result(const struct auth_request *req,
                            const struct auth_driver *d,
                            struct auth_result *res)
{
    if (res->uid == 0)
        return false;
    if (!res->user)
        res->user = xstrdup(req->user);
    if (!res->local_part)
        res->local_part = xstrdup(req->local_part);
    if (!res->domain && req->domain)
        res->domain = xstrdup(req->domain);
    res->driver = d->name;
    return true;
}

enum auth_status auth_authenticate(const struct config *cfg,
                                   const struct auth_attempt *att,
                                   struct auth_result *res)
{
    const struct username_rules rules = {
        .lowercase = cfg_bool(cfg, CFG_LOWERCASE_USER),
        .separators = cfg_str(cfg, CFG_DOMAIN_SEPARATORS),
        .append_domain = cfg_bool(cfg, CFG_APPEND_DOMAIN),
        .strip_domain = cfg_bool(cfg, CFG_STRIP_DOMAIN),
    };
    enum auth_status status = AUTH_NO;
    bool tried = false;
    struct username name;
    struct auth_request req;
    const char *err;
    char ubuf[LOG_FIELD], cbuf[LOG_FIELD];

    memset(res, 0, sizeof *res);
    if (username_parse(att->login ? att->login : "", att->listener_domain,
                       &rules, &name, &err) < 0) {
        if (att->method == AUTH_METHOD_PASS)
            password_dummy_check(att->password);
        log_failure(cfg, att, "-", att->login, AUTH_NO, err);
        return AUTH_NO;
    }

    req = (struct auth_request){
        .method = att->method,
        .user = name.user,
        .local_part = name.local_part,
        .domain = name.domain,
        .clienthost = att->clienthost,
        .serverhost = att->serverhost,
        .password = att->method == AUTH_METHOD_PASS
                    ? (att->password ? att->password : "") : NULL,
        .timestamp = att->method == AUTH_METHOD_APOP ? att->timestamp : NULL,
        .digest = att->method == AUTH_METHOD_APOP ? att->digest : NULL,
    };
    if (att->method == AUTH_METHOD_APOP && (!req.timestamp || !req.digest)) {
        log_failure(cfg, att, "-", req.user, AUTH_NO, "incomplete APOP");
        goto out;
    }

    if (cache && att->method == AUTH_METHOD_PASS &&
        authcache_lookup(cache, &req, authcache_now_ms(), res)) {
        log_info("login: user=%s driver=%s (cached) client=%s",
                 sanitize(ubuf, sizeof ubuf, res->user), res->driver,
                 sanitize(cbuf, sizeof cbuf, att->clienthost));
        status = AUTH_OK;
        goto out;
    }

    for (size_t i = 0; i < NDRIVERS; i++) {
        const struct auth_driver *d = auth_drivers[i];
        enum auth_status st;
        char *why = NULL;

        if (!enabled[i])
            continue;
        if (att->method == AUTH_METHOD_APOP ? !d->apop : !d->pass)
            continue;
        tried = true;
        st = att->method == AUTH_METHOD_APOP ? d->apop(&req, res, &why)
                                             : d->pass(&req, res, &why);
        if (st == AUTH_OK && !complete_result(&req, d, res)) {
            free(why);
            why = xstrdup("driver returned uid 0; refused");
            st = AUTH_NO;
        }
        if (st == AUTH_OK) {
            free(why);
            if (cache && att->method == AUTH_METHOD_PASS)
                (void)authcache_store(cache, &req, res, authcache_now_ms());
            log_info("login: user=%s driver=%s client=%s",
                     sanitize(ubuf, sizeof ubuf, res->user), d->name,
                     sanitize(cbuf, sizeof cbuf, att->clienthost));
            status = AUTH_OK;
            goto out;
        }
        auth_result_free(res);
        log_failure(cfg, att, d->name, req.user, st,
                    why ? why : "authentication failed");
        free(why);
        if (st == AUTH_TEMPFAIL)
            status = AUTH_TEMPFAIL;
    }
    if (!tried)
        log_failure(cfg, att, "-", req.user, AUTH_NO,
                    att->method == AUTH_METHOD_APOP
                    ? "no enabled driver can verify APOP"
                    : "no enabled driver can verify passwords");

out:
    username_free(&name);
    return status;
}

enum auth_status auth_check_stored(const struct auth_request *req,
                                   const char *stored,
                                   enum password_scheme default_scheme,
                                   bool permit_empty, const char *where,
                                   char **error_r)
{
    const char *err = NULL;

    if (req->method == AUTH_METHOD_APOP) {
        const char *secret = password_apop_secret(stored, default_scheme);

        if (!secret) {
            *error_r = xasprintf("no plaintext password for APOP in %s",
                                 where);
            return AUTH_NO;
        }
        if (!apop_verify(req->timestamp, secret, req->digest)) {
            *error_r = xstrdup("wrong APOP digest");
            return AUTH_NO;
        }
        return AUTH_OK;
    }
    switch (password_verify(req->password, stored, default_scheme,
                            permit_empty, &err)) {
    case PASSWORD_MATCH:
        return AUTH_OK;
    case PASSWORD_MISMATCH:
        *error_r = xstrdup(err ? err : "wrong password");
        return AUTH_NO;
    case PASSWORD_UNUSABLE:
        break;
    }
    *error_r = xasprintf("unusable password entry in %s: %s", where,
                         err ? err : "unknown scheme");
    return AUTH_NO;
}
