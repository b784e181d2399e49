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

int username_parse(const char *login, const char *listener_domain,
                   const struct username_rules *rules,
                   struct username *out, const char **error_r)
{
    size_t len = strlen(login);
    const char *err;
    char *name;
    size_t split;

    out->user = out->local_part = out->domain = NULL;
    if ((err = check_name(login, len)) != NULL) {
        *error_r = err;
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
    if (split < len) {
        if (split == 0) {
            *error_r = "empty local part in user name";
            goto fail;
        }
        if (split + 1 == len) {
            *error_r = "empty domain in user name";
            goto fail;
        }
        out->local_part = xstrndup(name, split);
        out->domain = xstrdup(name + split + 1);
    } else {
        out->local_part = xstrdup(name);
        if (listener_domain) {
            if ((err = check_name(listener_domain,
                                  strlen(listener_domain))) != NULL) {
                *error_r = "invalid listener domain";
                goto fail;
            }
            out->domain = xstrdup(listener_domain);
        }
    }

    if (rules->strip_domain)
        out->user = xstrdup(out->local_part);
    else if (split < len || (rules->append_domain && out->domain))
        out->user = xasprintf("%s@%s", out->local_part, out->domain);
    else
        out->user = xstrdup(name);

    if ((err = check_name(out->user, strlen(out->user))) != NULL) {
        *error_r = err;
        goto fail;
    }
    free(name);
    return 0;

fail:
    free(name);
    username_free(out);
    return -1;
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
