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
    bool append_domain;         /* a name without a domain gets
                                   "@listener-domain" */
    bool strip_domain;          /* drivers see only the local part */
};

/* The outcome; every string allocated by username_parse(). */
struct username {
    char *user;         /* name for the drivers */
    char *local_part;   /* before the separator (the whole name without one) */
    char *domain;       /* after the separator, else the listener's domain,
                           else NULL */
};

/* Apply RULES to LOGIN, the name the client gave. LISTENER_DOMAIN is the
 * domain of the address the client connected to, or NULL.
 *
 * The login must be 1..POP3_MAX_USER bytes without control characters
 * (bytes below 0x20 and 0x7f) and without '/'. With lowercase set, the
 * whole login (not the listener's domain) is folded to ASCII lower case.
 * The login is split at its first character found in separators: both
 * sides must be non-empty. Without a separator the local part is the whole
 * login and the domain is LISTENER_DOMAIN.
 *
 * The user for the drivers is:
 *   strip_domain:                       the local part;
 *   else, the login had a separator:    "local_part@domain" (the separator
 *                                       given, say '%', is written as '@');
 *   else, append_domain and a domain:   "local_part@listener-domain";
 *   else:                               the login as given (after folding).
 * The user is validated like the login (a long listener domain can make it
 * too long).
 *
 * Returns 0 with OUT filled in (free with username_free()), or -1 with
 * *ERROR_R set to a static message; OUT is then left empty. */
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
