/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth.h: the authswitch, its request and result types, and the driver
 * interface. Protocol code reaches authentication only through
 * auth_authenticate(): a request in, a result out, no shared state, so the
 * call can later move behind a privilege boundary unchanged. */
#ifndef TPOP3D_AUTH_H
#define TPOP3D_AUTH_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "password.h"

enum auth_status {
    AUTH_OK,        /* authenticated; the result is filled in */
    AUTH_NO,        /* no such user or wrong password: try the next driver */
    AUTH_TEMPFAIL,  /* the driver could not decide (database down, ...) */
};

enum auth_method {
    AUTH_METHOD_PASS,           /* a password (USER/PASS, SASL PLAIN, LOGIN) */
    AUTH_METHOD_APOP,           /* RFC 1939 APOP digest */
    AUTH_METHOD_CRAM_MD5,       /* RFC 2195: HMAC-MD5 of a challenge */
    AUTH_METHOD_SCRAM_SHA256,   /* RFC 7677: a SCRAM-SHA-256 proof */
};

/* True for the methods checked against a plaintext secret the driver
 * stores (APOP, CRAM-MD5, SCRAM-SHA-256): they reach a driver's apop hook
 * and from there auth_check_stored(); PASS reaches its pass hook. */
static inline bool auth_method_uses_secret(enum auth_method m)
{
    return m != AUTH_METHOD_PASS;
}

/* SCRAM-SHA-256 after the client's final message: what the secret's owner
 * needs to check the proof. The salt and iteration count are the server's
 * choice for this exchange (the stored secret is plaintext, so any salt
 * works). */
struct auth_scram {
    const unsigned char *salt;
    size_t salt_len;
    unsigned iterations;
    const char *auth_message;   /* RFC 5802 AuthMessage */
    size_t auth_message_len;
    const unsigned char *client_proof;      /* SCRAM_SHA256_LEN bytes */
    /* Out: the ServerSignature for the server's final message, written
     * (SCRAM_SHA256_LEN bytes) when the proof is right. */
    unsigned char *server_signature;
};

struct auth_request {
    enum auth_method method;
    const char *user;           /* name for the driver: one of the names
                                   username_tries() gives for the login */
    const char *local_part;     /* part before the domain separator */
    const char *domain;         /* domain, or NULL */
    const char *clienthost;     /* numeric client address */
    const char *serverhost;     /* numeric local address */
    const char *password;       /* PASS: the password (NUL-terminated) */
    const char *timestamp;      /* APOP: the greeting's <...> timestamp;
                                   CRAM-MD5: the challenge */
    const char *digest;         /* APOP, CRAM-MD5: 32 lower-case hex digits */
    const struct auth_scram *scram; /* SCRAM-SHA-256 */
};

/* Filled in by a driver on AUTH_OK; every string allocated (or NULL), freed
 * by auth_result_free(). */
struct auth_result {
    uid_t uid;
    gid_t gid;
    char *user;         /* canonical name for logs and $(user) */
    char *local_part;
    char *domain;       /* NULL when none */
    char *home;         /* NULL when none */
    char *mailbox;      /* "type:path" chosen by the driver, or NULL to use
                           the mailbox directive */
    const char *driver; /* name of the driver that said yes (static) */
};

void auth_result_free(struct auth_result *res);

struct auth_driver {
    const char *name;           /* "passwd", "flatfile", ... */
    const char *description;    /* one line for tpop3d -h */
    bool compiled;              /* false: configure left it out; name only */
    enum cfg_key enable_key;    /* its auth-NAME-enable directive */
    /* Called once in the listener (as root) when the driver is enabled.
     * 0, or -1 with *ERROR_R (allocated) naming the directive at fault. */
    int (*init)(const struct config *cfg, char **error_r);
    enum auth_status (*pass)(const struct auth_request *req,
                             struct auth_result *res, char **error_r);
    /* NULL when the driver cannot verify APOP. Also called for the other
     * methods of auth_method_uses_secret(), unless apop_digest_only. */
    enum auth_status (*apop)(const struct auth_request *req,
                             struct auth_result *res, char **error_r);
    /* True when the apop hook cannot check a stored secret itself (it
     * hands the APOP digest on to something else), so it verifies APOP
     * only, never CRAM-MD5 or SCRAM. */
    bool apop_digest_only;
    /* When set, whether APOP is usable with this configuration (a driver
     * whose APOP query is disabled); NULL: usable whenever apop is set. */
    bool (*can_apop)(void);
    /* Called in a fresh session child; may be NULL. */
    void (*postfork)(void);
    /* The driver's onlogin action (auth-mysql-onlogin-query, the ONLOGIN
     * packet of auth-other), run after every successful login whichever
     * driver accepted it; may be NULL. It runs as root in a process forked
     * from the session for the onlogin actions (see onlogin.h), which is
     * killed when it overruns onlogin-timeout: it must not use or close a
     * connection the session holds, but open its own. 0, or -1 with
     * *ERROR_R (allocated). */
    int (*onlogin)(const struct config *cfg, const struct auth_result *res,
                   const char *clienthost, const char *serverhost,
                   char **error_r);
    /* Release everything; may be NULL. */
    void (*close)(void);
};

/* The drivers, each in auth/NAME.c (a name-only stub in authswitch.c when
 * configure left it out). */
extern const struct auth_driver auth_driver_passwd;
extern const struct auth_driver auth_driver_flatfile;
extern const struct auth_driver auth_driver_pam;
extern const struct auth_driver auth_driver_mysql;
extern const struct auth_driver auth_driver_gdbm;
extern const struct auth_driver auth_driver_other;

/* The NULL-terminated table of every driver, in the order they are tried. */
extern const struct auth_driver *const auth_drivers[];

/* Initialise the enabled drivers. Returns 0, or -1 with *ERROR_R (allocated)
 * when an enabled driver is not compiled in or fails to start, or no driver
 * is enabled. */
int auth_init(const struct config *cfg, char **error_r);
void auth_close(void);
/* In a new session child. */
void auth_postfork(void);
/* Run the onlogin action of every enabled driver that has one, in table
 * order, logging each failure with the driver's name. For onlogin.c. */
void auth_onlogin(const struct config *cfg, const struct auth_result *res,
                  const char *clienthost, const char *serverhost);
/* True when an enabled driver can verify APOP (the greeting then carries a
 * timestamp). */
bool auth_can_apop(void);
/* True when an enabled driver can verify METHOD now (for the SASL
 * mechanisms a session offers). */
bool auth_can_verify(enum auth_method method);

/* Details of the client's login attempt, as the session received them. */
struct auth_attempt {
    enum auth_method method;
    const char *login;          /* the name the client gave */
    const char *password;       /* PASS */
    const char *timestamp;      /* APOP; CRAM-MD5: the challenge */
    const char *digest;         /* APOP, CRAM-MD5 */
    const struct auth_scram *scram; /* SCRAM-SHA-256 */
    const char *clienthost, *serverhost;
    const char *listener_domain;/* the listener's (domain), or NULL */
};

/* Apply the user-name rules of the config (lowercase-user,
 * domain-separators, append-domain, strip-domain) and try each name of
 * username_tries() (the name as given, then at most one retry) with every
 * enabled driver in table order; the first AUTH_OK wins, AUTH_NO moves on,
 * a driver's AUTH_TEMPFAIL is remembered and returned if nothing later
 * says yes. A failed login is logged in one line naming every driver's
 * answer (never the password unless log-bad-passwords). Unknown users cost
 * about what wrong passwords do. RES is filled in on AUTH_OK only. */
enum auth_status auth_authenticate(const struct config *cfg,
                                   const struct auth_attempt *att,
                                   struct auth_result *res);

/* For drivers that store a secret per user: check the request's password
 * (PASS), APOP or CRAM-MD5 digest or SCRAM proof against STORED, a value in
 * the schemes of password.h, read as DEFAULT_SCHEME when it has no
 * {prefix}; all but PASS need a plaintext secret, and SCRAM gets its
 * ServerSignature written on AUTH_OK. AUTH_OK, or AUTH_NO with *ERROR_R
 * set (allocated); WHERE names the store in messages ("/etc/mail/passwd",
 * "the database"). */
enum auth_status auth_check_stored(const struct auth_request *req,
                                   const char *stored,
                                   enum password_scheme default_scheme,
                                   bool permit_empty, const char *where,
                                   char **error_r);

#endif
