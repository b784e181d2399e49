/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/username.h: the rules that turn the login name a client gave into
 * the user, local part and domain handed to the authentication drivers,
 * and the lookup of system user and group names that drivers configure. */
#ifndef TPOP3D_USERNAME_H
#define TPOP3D_USERNAME_H

#include <stdbool.h>
#include <sys/types.h>

/* The directives lowercase-user, domain-separators, append-domain and
 * strip-domain, as values. */
struct username_rules {
    bool lowercase;             /* fold the whole login name to lower case */
    const char *separators;     /* characters that split local part from
                                   domain ("@%" by default); NULL or "":
                                   names are never split */
    bool append_domain;         /* a name without a domain that fails is
                                   tried again as "name@listener-domain" */
    bool strip_domain;          /* a name with a domain that fails is tried
                                   again as its bare local part */
};

/* One name to try; every string allocated. */
struct username {
    char *user;         /* name for the drivers */
    char *local_part;   /* before the separator (the whole name without one) */
    char *domain;       /* after the separator, else the listener's domain,
                           else NULL */
};

/* At most two names are ever tried for one login: the name as given, and
 * one retry (append-domain and strip-domain apply to disjoint names). */
#define USERNAME_MAX_TRIES 2

/* The names to try for one login, in order. */
struct username_tries {
    size_t count;                               /* 1..USERNAME_MAX_TRIES */
    struct username names[USERNAME_MAX_TRIES];
};

/* Apply RULES to LOGIN, the name the client gave, and list the names the
 * drivers are asked about, in order. LISTENER_DOMAIN is the domain of the
 * address the client connected to, or NULL.
 *
 * The login must be 1..POP3_MAX_USER bytes without control characters
 * (bytes below 0x20 and 0x7f) and without '/'; LISTENER_DOMAIN, when set,
 * likewise. With lowercase set, the whole login (not the listener's
 * domain) is first folded to ASCII lower case. The login is split at its
 * first character found in separators: both sides must be non-empty.
 *
 * The login has a separator ("bob%example.com"):
 *   1. user "local_part@domain" (the separator written as '@'), the
 *      local part and the domain of the login;
 *   2. with strip_domain: user and local part both the local part, and
 *      the listener's domain (NULL without one), exactly as if the client
 *      had given the bare local part.
 * The login has none ("bob"):
 *   1. user and local part both the login, the listener's domain;
 *   2. with append_domain and a listener domain: user
 *      "login@listener-domain", the login as local part, the listener's
 *      domain.
 * A retry whose user would be invalid (too long) is left out, so the
 * number of names depends on the login and the rules only, never on
 * which accounts exist.
 *
 * Returns 0 with OUT filled in (free with username_tries_free()), or -1
 * with *ERROR_R set to a static message; OUT is then left empty. */
int username_tries(const char *login, const char *listener_domain,
                   const struct username_rules *rules,
                   struct username_tries *out, const char **error_r);

/* Free every name of T and set its count to 0; T itself is not freed. */
void username_tries_free(struct username_tries *t);

/* The first name username_tries() gives, alone: the same checks and
 * errors, OUT filled in (free with username_free()) or left empty. */
int username_parse(const char *login, const char *listener_domain,
                   const struct username_rules *rules,
                   struct username *out, const char **error_r);

/* Free the strings of U and set them to NULL; U itself is not freed. */
void username_free(struct username *u);

/* Resolve SPEC, a system user name or a decimal uid, for a directive such
 * as auth-flatfile-mail-user. A number need not exist in the passwd
 * database. Returns 0 with *UID_R and *GID_R (the user's primary group,
 * or (gid_t)-1 for a number without a passwd entry), or -1 with *ERROR_R
 * set to a static reason. */
int username_lookup_user(const char *spec, uid_t *uid_r, gid_t *gid_r,
                         const char **error_r);

/* The same for a group name or a decimal gid. */
int username_lookup_group(const char *spec, gid_t *gid_r,
                          const char **error_r);

#endif
