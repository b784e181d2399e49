/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/username.c: login name rules, so hostile names never reach a driver. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "username.h"
#include "xalloc.h"

/* Names end up in file names, SQL queries and log lines: refuse the bytes
 * that could change their meaning there before any driver sees them. */
static const char *check_name(const char *s, size_t len)
{
    if (len == 0)
        return "empty user name";
    if (len > POP3_MAX_USER)
        return "user name too long";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f)
            return "control character in user name";
        if (c == '/')
            return "'/' in user name";
    }
    return NULL;
}

void username_free(struct username *u)
{
    free(u->user);
    free(u->local_part);
    free(u->domain);
    u->user = u->local_part = u->domain = NULL;
}

void username_tries_free(struct username_tries *t)
{
    for (size_t i = 0; i < t->count; i++)
        username_free(&t->names[i]);
    t->count = 0;
}

/* Add a name to T; USER is taken over. False (and nothing added) when USER
 * is not a valid name, which only a retry can make (the login plus the
 * listener's domain may be too long). */
static bool add_try(struct username_tries *t, char *user,
                    const char *local_part, const char *domain)
{
    struct username *u = &t->names[t->count];

    if (check_name(user, strlen(user)) != NULL) {
        free(user);
        return false;
    }
    u->user = user;
    u->local_part = xstrdup(local_part);
    u->domain = domain ? xstrdup(domain) : NULL;
    t->count++;
    return true;
}

/* The rules of the original tpop3d (see tpop3d.conf(5), USER NAMES): the
 * name as given first, and a second try only after it failed, so a site
 * that turns on append-domain or strip-domain keeps every login that
 * worked before. Two deliberate differences: a separator other than '@'
 * is written as '@' in the user (drivers and queries then see one form),
 * and the strip-domain retry keeps the listener's domain instead of
 * having none, so that it is the very login of the bare local part and
 * $(domain) never takes a value the client made up. */
int username_tries(const char *login, const char *listener_domain,
                   const struct username_rules *rules,
                   struct username_tries *out, const char **error_r)
{
    size_t len = strlen(login);
    const char *err;
    char *name, *local = NULL;
    size_t split;

    out->count = 0;
    if ((err = check_name(login, len)) != NULL) {
        *error_r = err;
        return -1;
    }
    if (listener_domain &&
        check_name(listener_domain, strlen(listener_domain)) != NULL) {
        *error_r = "invalid listener domain";
        return -1;
    }

    name = xstrndup(login, len);
    if (rules->lowercase) {
        /* ASCII only: the C locale's tolower() would do the same, but
         * this cannot depend on the process's locale. */
        for (size_t i = 0; i < len; i++)
            if (name[i] >= 'A' && name[i] <= 'Z')
                name[i] = (char)(name[i] - 'A' + 'a');
    }

    split = rules->separators ? strcspn(name, rules->separators) : len;
    if (split == len) {
        (void)add_try(out, xstrdup(name), name, listener_domain);
        if (rules->append_domain && listener_domain)
            (void)add_try(out, xasprintf("%s@%s", name, listener_domain),
                          name, listener_domain);
        free(name);
        return 0;
    }
    if (split == 0 || split + 1 == len) {
        *error_r = split == 0 ? "empty local part in user name"
                              : "empty domain in user name";
        free(name);
        return -1;
    }
    local = xstrndup(name, split);
    /* The login is valid, so is "local@domain": same length, same bytes
     * but the separator. */
    (void)add_try(out, xasprintf("%s@%s", local, name + split + 1), local,
                  name + split + 1);
    if (rules->strip_domain)
        (void)add_try(out, xstrdup(local), local, listener_domain);
    free(local);
    free(name);
    return 0;
}

int username_parse(const char *login, const char *listener_domain,
                   const struct username_rules *rules,
                   struct username *out, const char **error_r)
{
    struct username_tries t;

    out->user = out->local_part = out->domain = NULL;
    if (username_tries(login, listener_domain, rules, &t, error_r) < 0)
        return -1;
    *out = t.names[0];
    t.names[0] = (struct username){ NULL, NULL, NULL };
    username_tries_free(&t);
    return 0;
}

/* getpwnam_r and getgrnam_r buffers: start at what sysconf suggests and
 * grow on ERANGE up to this (a group with thousands of members). */
#define NSS_BUF_MAX (1024 * 1024)

/* Digits only, no sign, no blanks, within 0..(id_t)-2: (uid_t)-1 means
 * "unchanged" to setresuid() and can never name an account. */
static bool parse_id(const char *s, unsigned long long *id_r)
{
    unsigned long long v;
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v >= (unsigned long long)(uid_t)-1)
        return false;
    *id_r = v;
    return true;
}

static size_t nss_buf_start(int name)
{
    long n = sysconf(name);

    return n > 0 && n <= NSS_BUF_MAX ? (size_t)n : 16384;
}

int username_lookup_user(const char *spec, uid_t *uid_r, gid_t *gid_r,
                         const char **error_r)
{
    size_t size = nss_buf_start(_SC_GETPW_R_SIZE_MAX);
    unsigned long long id;
    bool numeric = parse_id(spec, &id);
    struct passwd pw, *found = NULL;
    char *buf = NULL;
    int rc;

    if (spec[0] == '\0') {
        *error_r = "empty user name";
        return -1;
    }
    for (;;) {
        buf = xmalloc(size);
        if (numeric)
            rc = getpwuid_r((uid_t)id, &pw, buf, size, &found);
        else
            rc = getpwnam_r(spec, &pw, buf, size, &found);
        if (rc != ERANGE || size >= NSS_BUF_MAX)
            break;
        free(buf);
        size *= 2;
    }
    if (found) {
        *uid_r = pw.pw_uid;
        *gid_r = pw.pw_gid;
    } else if (numeric && (rc == 0 || rc == ENOENT)) {
        *uid_r = (uid_t)id;
        *gid_r = (gid_t)-1;
    } else {
        *error_r = rc == 0 || rc == ENOENT ? "no such user"
                                           : "user database lookup failed";
        free(buf);
        return -1;
    }
    free(buf);
    return 0;
}

int username_lookup_group(const char *spec, gid_t *gid_r,
                          const char **error_r)
{
    size_t size = nss_buf_start(_SC_GETGR_R_SIZE_MAX);
    unsigned long long id;
    struct group gr, *found = NULL;
    char *buf;
    int rc;

    if (parse_id(spec, &id)) {
        *gid_r = (gid_t)id;
        return 0;
    }
    if (spec[0] == '\0') {
        *error_r = "empty group name";
        return -1;
    }
    for (;;) {
        buf = xmalloc(size);
        rc = getgrnam_r(spec, &gr, buf, size, &found);
        if (rc != ERANGE || size >= NSS_BUF_MAX)
            break;
        free(buf);
        size *= 2;
    }
    if (found)
        *gid_r = gr.gr_gid;
    else
        *error_r = rc == 0 || rc == ENOENT ? "no such group"
                                           : "group database lookup failed";
    free(buf);
    return found ? 0 : -1;
}
