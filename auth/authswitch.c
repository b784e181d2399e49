/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/authswitch.c: the table of authentication drivers and the one entry
 * point that tries them in turn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "authcache.h"
#include "limits.h"
#include "log.h"
#include "password.h"
#include "strbuf.h"
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

/* Whether D's apop hook can check CRAM-MD5 and SCRAM with this
 * configuration: it must look the secret up itself and hand it to
 * auth_check_stored(). */
static bool driver_checks_secret(const struct auth_driver *d)
{
    if (!d->apop || (d->can_apop && !d->can_apop()))
        return false;
    /* A driver that hands the APOP digest on (auth-other's program) has
     * no way to check a CRAM-MD5 digest or a SCRAM proof. */
    return !d->apop_digest_only;
}

bool auth_can_verify(enum auth_method method)
{
    if (method == AUTH_METHOD_APOP)
        return auth_can_apop();
    for (size_t i = 0; i < NDRIVERS; i++) {
        if (!enabled[i])
            continue;
        if (method == AUTH_METHOD_PASS ? auth_drivers[i]->pass != NULL
                                       : driver_checks_secret(auth_drivers[i]))
            return true;
    }
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

/* What one driver said about one name of a login, kept so that a failed
 * login is logged once, with every reason, instead of once per name and
 * driver. */
struct refusal {
    const char *user;           /* the name tried (owned by the tries) */
    const char *driver;         /* static */
    enum auth_status status;    /* AUTH_NO or AUTH_TEMPFAIL */
    char *why;                  /* allocated */
};

/* Bound of the reasons in one log line (the logger's line is 2048). */
#define REFUSALS_LOG_MAX 1400

/* The cache key: what the client sent, and where, since the same bare
 * name means another account on a listener of another domain. '/' can be
 * in neither a login nor a listener domain, so keys cannot collide. */
static char *cache_key(const struct auth_attempt *att)
{
    return att->listener_domain
           ? xasprintf("%s/%s", att->login, att->listener_domain)
           : xstrdup(att->login);
}

/* Append OPEN, then "user=U driver=D: why" for every refusal but SKIP
 * separated by "; ", then ')' to SB; " ..." stands for the refusals that
 * do not fit. Nothing at all when there are no others. */
static void append_refusals(struct strbuf *sb, const char *open,
                            const struct refusal *r, size_t n, size_t skip)
{
    const char *sep = open;

    for (size_t i = 0; i < n; i++) {
        char ubuf[LOG_FIELD], wbuf[LOG_FIELD];
        char entry[2 * LOG_FIELD + 64];

        if (i == skip)
            continue;
        snprintf(entry, sizeof entry, "%suser=%s driver=%s: %s", sep,
                 sanitize(ubuf, sizeof ubuf, r[i].user), r[i].driver,
                 sanitize(wbuf, sizeof wbuf, r[i].why));
        /* Keep room for " ..." and the ')' after the last entry. */
        if (sb->len + strlen(entry) + 5 > sb->max) {
            (void)strbuf_appends(sb, sep == open ? open : " ");
            (void)strbuf_appends(sb, "...");
            break;
        }
        (void)strbuf_appends(sb, entry);
        sep = "; ";
    }
    if (sb->len > 0)
        (void)strbuf_appendc(sb, ')');
}

/* The one log line of a login that no driver accepted: led by the first
 * temporary failure when there is one (that is what the client is told),
 * else by the last refusal, which is the most telling: the table asks the
 * drivers of system accounts first, and the retry names come last. The
 * others go in between, so that the line still ends with the lead's
 * reason. */
static void log_refusals(const struct config *cfg,
                         const struct auth_attempt *att,
                         const struct refusal *r, size_t n,
                         enum auth_status status)
{
    char ubuf[LOG_FIELD], lbuf[LOG_FIELD], pbuf[LOG_FIELD], cbuf[LOG_FIELD],
         wbuf[LOG_FIELD];
    struct strbuf rest;
    size_t lead = 0;
    const char *pass = "";
    bool same;

    while (status == AUTH_TEMPFAIL && lead < n &&
           r[lead].status != AUTH_TEMPFAIL)
        lead++;
    if (status != AUTH_TEMPFAIL || lead == n)
        lead = n - 1;
    if (att->method == AUTH_METHOD_PASS && att->password
        && cfg_bool(cfg, CFG_LOG_BAD_PASSWORDS))
        pass = sanitize(pbuf, sizeof pbuf, att->password);
    same = att->login && strcmp(att->login, r[lead].user) == 0;
    strbuf_init(&rest, REFUSALS_LOG_MAX);
    append_refusals(&rest, " (also ", r, n, lead);
    if (status == AUTH_TEMPFAIL)
        log_warnx("login failed temporarily: user=%s driver=%s client=%s"
                  "%s%s%s%s%s: %s",
                  sanitize(ubuf, sizeof ubuf, r[lead].user), r[lead].driver,
                  sanitize(cbuf, sizeof cbuf, att->clienthost),
                  same ? "" : " login=",
                  same ? "" : sanitize(lbuf, sizeof lbuf, att->login),
                  *pass ? " password=" : "", pass, strbuf_str(&rest),
                  sanitize(wbuf, sizeof wbuf, r[lead].why));
    else
        log_info("login failed: user=%s driver=%s client=%s%s%s%s%s%s: %s",
                 sanitize(ubuf, sizeof ubuf, r[lead].user), r[lead].driver,
                 sanitize(cbuf, sizeof cbuf, att->clienthost),
                 same ? "" : " login=",
                 same ? "" : sanitize(lbuf, sizeof lbuf, att->login),
                 *pass ? " password=" : "", pass, strbuf_str(&rest),
                 sanitize(wbuf, sizeof wbuf, r[lead].why));
    strbuf_free(&rest);
}

/* The success line; a driver that failed temporarily on the way is worth a
 * warning even though another one let the user in. */
static void log_success(const struct auth_attempt *att,
                        const struct auth_result *res, bool cached,
                        const struct refusal *r, size_t n)
{
    char ubuf[LOG_FIELD], cbuf[LOG_FIELD];
    size_t t = 0;

    while (t < n && r[t].status != AUTH_TEMPFAIL)
        t++;
    if (t == n) {
        log_info("login: user=%s driver=%s%s client=%s",
                 sanitize(ubuf, sizeof ubuf, res->user), res->driver,
                 cached ? " (cached)" : "",
                 sanitize(cbuf, sizeof cbuf, att->clienthost));
    } else {
        char tbuf[LOG_FIELD], wbuf[LOG_FIELD];

        log_warnx("login: user=%s driver=%s client=%s, after a temporary "
                  "failure: user=%s driver=%s: %s",
                  sanitize(ubuf, sizeof ubuf, res->user), res->driver,
                  sanitize(cbuf, sizeof cbuf, att->clienthost),
                  sanitize(tbuf, sizeof tbuf, r[t].user), r[t].driver,
                  sanitize(wbuf, sizeof wbuf, r[t].why));
    }
    if (log_debug_enabled() && n > 0) {
        struct strbuf rest;

        strbuf_init(&rest, REFUSALS_LOG_MAX);
        append_refusals(&rest, " (", r, n, n);
        log_debug("login: user=%s accepted after refusals%s",
                  sanitize(ubuf, sizeof ubuf, res->user), strbuf_str(&rest));
        strbuf_free(&rest);
    }
}

/* Names are tried in the order of the user-name rules, each with every
 * enabled driver in table order, as the original tpop3d did: "bob" with
 * every driver, then "bob@example.com" with every driver. How many names
 * and drivers are asked depends on the login and the configuration only,
 * and each driver spends a password check on unknown names, so a wrong
 * user costs what a wrong password does. */
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
    struct username_tries names;
    struct auth_request req, creq;
    struct refusal refusals[USERNAME_MAX_TRIES * NDRIVERS];
    size_t nrefusals = 0;
    char *key = NULL;
    const char *err;

    memset(res, 0, sizeof *res);
    if (username_tries(att->login ? att->login : "", att->listener_domain,
                       &rules, &names, &err) < 0) {
        if (att->method == AUTH_METHOD_PASS)
            password_dummy_check(att->password);
        log_failure(cfg, att, "-", att->login, AUTH_NO, err);
        return AUTH_NO;
    }

    req = (struct auth_request){
        .method = att->method,
        .user = names.names[0].user,
        .local_part = names.names[0].local_part,
        .domain = names.names[0].domain,
        .clienthost = att->clienthost,
        .serverhost = att->serverhost,
        .password = att->method == AUTH_METHOD_PASS
                    ? (att->password ? att->password : "") : NULL,
        .timestamp = att->method == AUTH_METHOD_APOP
                     || att->method == AUTH_METHOD_CRAM_MD5
                     ? att->timestamp : NULL,
        .digest = att->method == AUTH_METHOD_APOP
                  || att->method == AUTH_METHOD_CRAM_MD5 ? att->digest : NULL,
        .scram = att->method == AUTH_METHOD_SCRAM_SHA256 ? att->scram : NULL,
    };
    if (att->method == AUTH_METHOD_APOP && (!req.timestamp || !req.digest)) {
        log_failure(cfg, att, "-", req.user, AUTH_NO, "incomplete APOP");
        goto out;
    }
    if ((att->method == AUTH_METHOD_CRAM_MD5 && (!req.timestamp || !req.digest))
        || (att->method == AUTH_METHOD_SCRAM_SHA256 && !req.scram)) {
        log_failure(cfg, att, "-", req.user, AUTH_NO, "incomplete request");
        goto out;
    }

    /* Looked up by what the client sent, before any rule: a hit is the
     * answer the drivers gave to the very same login. */
    key = cache_key(att);
    creq = req;
    creq.user = key;
    if (cache && att->method == AUTH_METHOD_PASS &&
        authcache_lookup(cache, &creq, authcache_now_ms(), res)) {
        log_success(att, res, true, NULL, 0);
        status = AUTH_OK;
        goto out;
    }

    for (size_t n = 0; n < names.count; n++) {
        req.user = names.names[n].user;
        req.local_part = names.names[n].local_part;
        req.domain = names.names[n].domain;
        for (size_t i = 0; i < NDRIVERS; i++) {
            const struct auth_driver *d = auth_drivers[i];
            enum auth_status st;
            char *why = NULL;

            if (!enabled[i])
                continue;
            if (att->method == AUTH_METHOD_PASS ? !d->pass
                : att->method == AUTH_METHOD_APOP ? !d->apop
                : !driver_checks_secret(d))
                continue;
            tried = true;
            st = auth_method_uses_secret(att->method)
                 ? d->apop(&req, res, &why) : d->pass(&req, res, &why);
            if (st == AUTH_OK && !complete_result(&req, d, res)) {
                free(why);
                why = xstrdup("driver returned uid 0; refused");
                st = AUTH_NO;
            }
            if (st == AUTH_OK) {
                free(why);
                if (cache && att->method == AUTH_METHOD_PASS)
                    (void)authcache_store(cache, &creq, res,
                                          authcache_now_ms());
                log_success(att, res, false, refusals, nrefusals);
                status = AUTH_OK;
                goto out;
            }
            auth_result_free(res);
            refusals[nrefusals++] = (struct refusal){
                .user = req.user, .driver = d->name, .status = st,
                .why = why ? why : xstrdup("authentication failed"),
            };
            if (st == AUTH_TEMPFAIL)
                status = AUTH_TEMPFAIL;
        }
        /* A driver that could not answer for this name might have known
         * it: the next name (the bare local part, say) may be someone
         * else's account, so it is tried only after a clear refusal. */
        if (status == AUTH_TEMPFAIL)
            break;
    }
    if (!tried)
        log_failure(cfg, att, "-", req.user, AUTH_NO,
                    att->method == AUTH_METHOD_PASS
                    ? "no enabled driver can verify passwords"
                    : att->method == AUTH_METHOD_APOP
                    ? "no enabled driver can verify APOP"
                    : "no enabled driver can verify this SASL mechanism");
    else
        log_refusals(cfg, att, refusals, nrefusals, status);

out:
    for (size_t i = 0; i < nrefusals; i++)
        free(refusals[i].why);
    free(key);
    username_tries_free(&names);
    return status;
}

enum auth_status auth_check_stored(const struct auth_request *req,
                                   const char *stored,
                                   enum password_scheme default_scheme,
                                   bool permit_empty, const char *where,
                                   char **error_r)
{
    const char *err = NULL;

    if (auth_method_uses_secret(req->method)) {
        const char *secret = password_apop_secret(stored, default_scheme);
        const char *what = req->method == AUTH_METHOD_APOP ? "APOP"
            : req->method == AUTH_METHOD_CRAM_MD5 ? "CRAM-MD5"
            : "SCRAM-SHA-256";
        const struct auth_scram *sc = req->scram;
        bool right = false;

        if (!secret) {
            *error_r = xasprintf("no plaintext password for %s in %s", what,
                                 where);
            return AUTH_NO;
        }
        if (req->method == AUTH_METHOD_APOP)
            right = apop_verify(req->timestamp, secret, req->digest);
        else if (req->method == AUTH_METHOD_CRAM_MD5)
            right = cram_md5_verify(req->timestamp, secret, req->digest);
        else if (sc)
            right = scram_sha256_verify(secret, sc->salt, sc->salt_len,
                                        sc->iterations, sc->auth_message,
                                        sc->auth_message_len,
                                        sc->client_proof,
                                        sc->server_signature);
        if (!right) {
            *error_r = xasprintf("wrong %s %s", what,
                                 req->method == AUTH_METHOD_SCRAM_SHA256
                                 ? "proof" : "digest");
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
