/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth/mysql.c: the mysql driver, for accounts kept in a MySQL or MariaDB
 * database (by default in the vmail-sql schema). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "auth.h"
#include "limits.h"
#include "log.h"
#include "mailbox.h"
#include "password.h"
#include "subst.h"
#include "username.h"
#include "xalloc.h"

/* Connect, read and write timeouts, in seconds. A POP client waits some
 * tens of seconds for an answer to PASS; a database that has not answered
 * in this time is as good as down, and the next server in
 * auth-mysql-hostname still has to fit in that wait. */
#define MYSQL_TIMEOUT_SECONDS   5

/* Longest query after substitution: a config line (CONFIG_MAX_LINE) plus
 * room for a few escaped user names (each at most 2 * POP3_MAX_USER). */
#define MYSQL_MAX_QUERY         (CONFIG_MAX_LINE + 16 * 1024)

/* Room for a message from the client library or the server after
 * log_sanitize(): they can quote part of a query, hence a user name. */
#define MYSQL_MAX_MESSAGE       512

/* The vmail-sql schema of the original tpop3d: a domain row gives the
 * directory of its mailboxes and the Unix user that owns them; a popbox
 * row gives a mailbox file name and a password hash. Values go inside
 * single quotes: the substitution escapes them for exactly that. */
#define VMAIL_QUERY \
    "SELECT CONCAT(domain.path, '/', popbox.mbox_name), " \
    "popbox.password_hash, domain.unix_user, 'bsd' " \
    "FROM popbox JOIN domain ON popbox.domain_name = domain.domain_name " \
    "WHERE popbox.local_part = '$(local_part)' " \
    "AND popbox.domain_name = '$(domain)'"

/* Columns of a query's row. */
enum { COL_MAILBOX, COL_PASSWORD, COL_UNIX_USER, COL_MAILBOX_TYPE };
#define MYSQL_MIN_COLUMNS 3

struct db_host {
    char *spec;         /* as written, for messages */
    char *host;         /* NULL with a socket */
    unsigned port;      /* 0: the library's default */
    char *socket;       /* NULL for a host name */
};

static struct {
    /* The config the driver was started with: it holds the database
     * password, which is read from there at each connection rather than
     * copied. The authswitch calls init again before any other config
     * replaces this one. */
    const struct config *cfg;
    struct db_host *hosts;
    size_t nhosts;
    char *database;
    char *username;
    char *pass_query;       /* NULL: USER/PASS disabled */
    char *apop_query;       /* NULL: APOP disabled */
    char *onlogin_query;    /* NULL: no onlogin statement */
    bool mail_group_set;
    gid_t mail_group;
    bool permit_empty;
    MYSQL *conn;            /* NULL until a login needs it */
    pid_t conn_pid;         /* the process that opened conn */
} db;

static bool library_ready;

/* Forget CONN without a word to the server: used for a connection that a
 * parent process opened, whose server-side session is the parent's. The
 * structure is left to the process's exit. */
static void db_forget(void)
{
    if (db.conn)
        close((int)mysql_get_socket(db.conn));
    db.conn = NULL;
}

static void db_disconnect(void)
{
    if (!db.conn)
        return;
    if (db.conn_pid == getpid())
        mysql_close(db.conn);
    else
        db_forget();
    db.conn = NULL;
}

static void myauth_close(void)
{
    db_disconnect();
    for (size_t i = 0; i < db.nhosts; i++) {
        free(db.hosts[i].spec);
        free(db.hosts[i].host);
        free(db.hosts[i].socket);
    }
    free(db.hosts);
    free(db.database);
    free(db.username);
    free(db.pass_query);
    free(db.apop_query);
    free(db.onlogin_query);
    memset(&db, 0, sizeof db);
}

static void myauth_postfork(void)
{
    /* The listener never connects; should a connection be inherited all
     * the same, it must not be shared between processes. */
    if (db.conn && db.conn_pid != getpid())
        db_forget();
}

/* An allocated, log-safe copy of S (LEN bytes). */
static char *clean(const char *s, size_t len)
{
    char buf[MYSQL_MAX_MESSAGE];

    return xstrdup(log_sanitize(buf, sizeof buf, s, len));
}

static char *clean_str(const char *s)
{
    return clean(s, strlen(s));
}

/* Parse one entry of auth-mysql-hostname: "/path/to/socket", "host",
 * "host:port", "[v6address]" or "[v6address]:port". */
static int parse_host(const char *spec, struct db_host *h, const char **error_r)
{
    const char *colon = NULL, *end = spec + strlen(spec);

    memset(h, 0, sizeof *h);
    if (spec[0] == '/') {
        h->socket = xstrdup(spec);
        h->spec = xstrdup(spec);
        return 0;
    }
    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');

        if (!close_br || close_br == spec + 1) {
            *error_r = "an IPv6 address needs its closing ']'";
            return -1;
        }
        if (close_br[1] == ':')
            colon = close_br + 1;
        else if (close_br[1] != '\0') {
            *error_r = "only :port may follow ']'";
            return -1;
        }
        h->host = xstrndup(spec + 1, (size_t)(close_br - spec - 1));
    } else {
        colon = strchr(spec, ':');
        /* More than one colon: a bare IPv6 address, no port. */
        if (colon && strchr(colon + 1, ':'))
            colon = NULL;
        h->host = xstrndup(spec, colon ? (size_t)(colon - spec)
                                       : (size_t)(end - spec));
        if (h->host[0] == '\0') {
            free(h->host);
            h->host = NULL;
            *error_r = "empty host name";
            return -1;
        }
    }
    if (colon) {
        unsigned long port = 0;
        const char *p = colon + 1;

        if (*p == '\0') {
            *error_r = "empty port";
            goto fail;
        }
        for (; *p; p++) {
            if (!isdigit((unsigned char)*p)) {
                *error_r = "port is not a number";
                goto fail;
            }
            port = port * 10 + (unsigned long)(*p - '0');
            if (port > 65535)
                break;
        }
        if (port == 0 || port > 65535) {
            *error_r = "port out of range 1-65535";
            goto fail;
        }
        h->port = (unsigned)port;
    }
    h->spec = xstrdup(spec);
    return 0;

fail:
    free(h->host);
    h->host = NULL;
    return -1;
}

/* Whether TEMPLATE uses a form the substitution cannot make safe for SQL:
 * a character index such as $(user[0]) cuts an escaped value in the
 * middle of an escape sequence, and $(home) has no value before login
 * (it has one after: ALLOW_HOME for the onlogin statement). *WHAT_R names
 * the offence. */
static bool unsafe_template(const char *template, bool allow_home,
                            const char **what_r)
{
    for (const char *p = template; *p; p++) {
        const char *close_p;

        if (p[0] != '$')
            continue;
        if (p[1] == '$') {
            p++;
            continue;
        }
        if (p[1] != '(' || !(close_p = strchr(p + 2, ')')))
            continue;
        if (memchr(p + 2, '[', (size_t)(close_p - p - 2))) {
            *what_r = "character indexes such as $(user[0]) are not "
                      "allowed in a query";
            return true;
        }
        if (!allow_home && close_p - (p + 2) == 4
            && strncmp(p + 2, "home", 4) == 0) {
            *what_r = "$(home) has no value before login";
            return true;
        }
        p = close_p;
    }
    return false;
}

/* "file:line: directive: MSG" (MSG consumed); the driver is left closed. */
static int init_error(const struct config *cfg, enum cfg_key key,
                      char **error_r, char *msg)
{
    char where[256];

    *error_r = xasprintf("%s: %s: %s",
                         cfg_where(cfg, key, where, sizeof where),
                         cfg_defs[key].name, msg);
    free(msg);
    myauth_close();
    return -1;
}

/* The query of KEY: NULL for "none", the vmail-sql query when unset. */
static int init_query(const struct config *cfg, enum cfg_key key,
                      char **query_r, char **error_r)
{
    const char *q = cfg_str(cfg, key);
    const char *err;

    *query_r = NULL;
    if (!q)
        q = VMAIL_QUERY;
    if (strcasecmp(q, "none") == 0)
        return 0;
    if (q[0] == '\0')
        return init_error(cfg, key, error_r,
                          xstrdup("empty query (write none to disable it)"));
    if (subst_check(q, &err) < 0 || unsafe_template(q, false, &err))
        return init_error(cfg, key, error_r, xstrdup(err));
    *query_r = xstrdup(q);
    return 0;
}

/* The onlogin statement: NULL when unset or "none". */
static int init_onlogin_query(const struct config *cfg, char **error_r)
{
    const char *q = cfg_str(cfg, CFG_AUTH_MYSQL_ONLOGIN_QUERY);
    const char *err;

    db.onlogin_query = NULL;
    if (!q || strcasecmp(q, "none") == 0)
        return 0;
    if (q[0] == '\0')
        return init_error(cfg, CFG_AUTH_MYSQL_ONLOGIN_QUERY, error_r,
                          xstrdup("empty statement (write none or leave "
                                  "it out)"));
    if (subst_check(q, &err) < 0 || unsafe_template(q, true, &err))
        return init_error(cfg, CFG_AUTH_MYSQL_ONLOGIN_QUERY, error_r,
                          xstrdup(err));
    db.onlogin_query = xstrdup(q);
    return 0;
}

static int myauth_init(const struct config *cfg, char **error_r)
{
    const char *hosts = cfg_str(cfg, CFG_AUTH_MYSQL_HOSTNAME);
    const char *database = cfg_str(cfg, CFG_AUTH_MYSQL_DATABASE);
    const char *username = cfg_str(cfg, CFG_AUTH_MYSQL_USERNAME);
    const char *group = cfg_str(cfg, CFG_AUTH_MYSQL_MAIL_GROUP);
    const char *enable = cfg_defs[CFG_AUTH_MYSQL_ENABLE].name;
    const char *err;
    char **words;
    size_t n;

    myauth_close();
    if (!database || !*database)
        return init_error(cfg, CFG_AUTH_MYSQL_DATABASE, error_r,
                          xasprintf("must be set when %s is yes", enable));
    if (!username || !*username)
        return init_error(cfg, CFG_AUTH_MYSQL_USERNAME, error_r,
                          xasprintf("must be set when %s is yes", enable));

    words = config_split_words(hosts ? hosts : "", &n);
    if (n == 0) {
        config_free_words(words);
        return init_error(cfg, CFG_AUTH_MYSQL_HOSTNAME, error_r,
                          xstrdup("names no database server"));
    }
    db.hosts = xcalloc(n, sizeof *db.hosts);
    for (size_t i = 0; i < n; i++) {
        if (parse_host(words[i], &db.hosts[i], &err) < 0) {
            char *msg = xasprintf("%s: %s", words[i], err);

            config_free_words(words);
            return init_error(cfg, CFG_AUTH_MYSQL_HOSTNAME, error_r, msg);
        }
        db.nhosts++;
    }
    config_free_words(words);

    if (group) {
        if (username_lookup_group(group, &db.mail_group, &err) < 0)
            return init_error(cfg, CFG_AUTH_MYSQL_MAIL_GROUP, error_r,
                              xasprintf("%s: %s", group, err));
        db.mail_group_set = true;
    }
    if (init_query(cfg, CFG_AUTH_MYSQL_PASS_QUERY, &db.pass_query,
                   error_r) < 0
        || init_query(cfg, CFG_AUTH_MYSQL_APOP_QUERY, &db.apop_query,
                      error_r) < 0
        || init_onlogin_query(cfg, error_r) < 0)
        return -1;
    if (!db.pass_query && !db.apop_query)
        return init_error(cfg, CFG_AUTH_MYSQL_PASS_QUERY, error_r,
                          xasprintf("and %s are both none: the driver "
                                    "could authenticate nobody",
                                    cfg_defs[CFG_AUTH_MYSQL_APOP_QUERY].name));

    /* Once per process, and without a connection: the listener must not
     * wait on the database. */
    if (!library_ready) {
        if (mysql_library_init(0, NULL, NULL) != 0)
            return init_error(cfg, CFG_AUTH_MYSQL_ENABLE, error_r,
                              xstrdup("cannot initialise the MariaDB "
                                      "client library"));
        library_ready = true;
    }
    db.database = xstrdup(database);
    db.username = xstrdup(username);
    db.permit_empty = cfg_bool(cfg, CFG_PERMIT_EMPTY_PASSWORD);
    db.cfg = cfg;
    return 0;
}

/* A new connection to H, or NULL with *ERROR_R (allocated). */
static MYSQL *connect_one(const struct db_host *h, char **error_r)
{
    unsigned int timeout = MYSQL_TIMEOUT_SECONDS;
    unsigned int no = 0;
    unsigned int protocol = h->socket ? MYSQL_PROTOCOL_SOCKET
                          : h->port ? MYSQL_PROTOCOL_TCP
                          : MYSQL_PROTOCOL_DEFAULT;
    const char *password = cfg_str(db.cfg, CFG_AUTH_MYSQL_PASSWORD);
    MYSQL *m = mysql_init(NULL);

    if (!m) {
        *error_r = xasprintf("%s: out of memory", h->spec);
        return NULL;
    }
    if (mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) != 0
        || mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout) != 0
        || mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout) != 0
        || mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0
        || mysql_options(m, MYSQL_OPT_PROTOCOL, &protocol) != 0
        /* Nothing the server sends may make us read local files. */
        || mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &no) != 0) {
        *error_r = xasprintf("%s: cannot set connection options", h->spec);
        mysql_close(m);
        return NULL;
    }
    if (!mysql_real_connect(m, h->socket ? "localhost" : h->host,
                            db.username, password, db.database, h->port,
                            h->socket, 0)) {
        char *msg = clean_str(mysql_error(m));

        *error_r = xasprintf("%s: %s", h->spec, msg);
        free(msg);
        mysql_close(m);
        return NULL;
    }
    /* The library keeps the password for its own reconnection, which we
     * never use: we reconnect from the config. */
    if (m->passwd)
        explicit_bzero(m->passwd, strlen(m->passwd));
    return m;
}

/* Connect to the first server that answers. 0, or -1 with *ERROR_R. */
static int db_connect(char **error_r)
{
    struct strbuf why;

    if (db.conn)
        return 0;
    strbuf_init(&why, 4 * MYSQL_MAX_MESSAGE);
    for (size_t i = 0; i < db.nhosts; i++) {
        char *err = NULL;

        db.conn = connect_one(&db.hosts[i], &err);
        if (db.conn) {
            db.conn_pid = getpid();
            free(err);
            strbuf_free(&why);
            return 0;
        }
        /* Keep what fits; the first servers' reasons matter most. */
        (void)strbuf_appendf(&why, "%s%s", why.len ? "; " : "", err);
        free(err);
    }
    *error_r = xasprintf("no database server answered: %s",
                         strbuf_str(&why));
    strbuf_free(&why);
    return -1;
}

/* An allocated copy of S escaped for use inside '...' on the live
 * connection (its character set and its server's quoting rules), or NULL
 * when S is NULL. *FAILED_R is set on an escaping failure. */
static char *escape(const char *s, bool *failed_r)
{
    size_t len;
    char *out;

    if (!s)
        return NULL;
    len = strlen(s);
    out = xmalloc(2 * len + 1);     /* the worst case: every byte escaped */
    if (mysql_real_escape_string(db.conn, out, s, (unsigned long)len)
        == (unsigned long)-1) {
        *failed_r = true;
        out[0] = '\0';
    }
    return out;
}

/* Whether the connection is broken at the client side: it must be
 * replaced, and a query that failed that way may be tried once more. */
static bool connection_lost(unsigned int e)
{
    return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST
#ifdef ER_CONNECTION_KILLED
        || e == ER_CONNECTION_KILLED
#endif
        ;
}

/* Whether S is well-formed UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF): the connection speaks utf8mb4, and the server
 * refuses to compare malformed text instead of finding no match. */
static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned c = *p, need;
        unsigned long cp;

        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (unsigned i = 1; i <= need; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
            || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        p += need + 1;
    }
    return true;
}

static bool ascii_only(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* A server error that says a non-ASCII name cannot be compared with the
 * columns: their character set (latin1, say) cannot hold it, so no row
 * can match it. With an ASCII name the same error is the query's fault. */
static bool uncomparable_name(unsigned int e, const struct auth_request *req)
{
    if (e != ER_CANT_AGGREGATE_2COLLATIONS && e != ER_CANT_AGGREGATE_3COLLATIONS
        && e != ER_CANT_AGGREGATE_NCOLLATIONS)
        return false;
    return !ascii_only(req->user) || !ascii_only(req->local_part)
        || !ascii_only(req->domain);
}

enum lookup {
    LOOKUP_FOUND,       /* *RES_R has one row */
    LOOKUP_NONE,        /* no such user (or no value for a variable) */
    LOOKUP_TEMPFAIL,    /* no answer from the database */
};

/* Run TEMPLATE for REQ. On LOOKUP_FOUND *RES_R is a result of exactly one
 * row with at least MYSQL_MIN_COLUMNS columns (free with mysql_free_result
 * after wiping the password column). Otherwise *ERROR_R is set. */
static enum lookup lookup(const char *template,
                          const struct auth_request *req, MYSQL_RES **res_r,
                          char **error_r)
{
    *res_r = NULL;
    if (!valid_utf8(req->user) || !valid_utf8(req->local_part)
        || (req->domain && !valid_utf8(req->domain))) {
        *error_r = xstrdup("the user name is not valid UTF-8");
        return LOOKUP_NONE;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        bool failed = false;
        struct subst_vars vars;
        struct strbuf query;
        const char *serr = NULL;
        char *esc[5];
        MYSQL_RES *res;
        unsigned int e;
        int rc;

        if (db_connect(error_r) < 0)
            return LOOKUP_TEMPFAIL;

        esc[0] = escape(req->user, &failed);
        esc[1] = escape(req->local_part, &failed);
        esc[2] = escape(req->domain, &failed);
        esc[3] = escape(req->clienthost, &failed);
        esc[4] = escape(req->serverhost, &failed);
        vars = (struct subst_vars){
            .user = esc[0], .local_part = esc[1], .domain = esc[2],
            .clienthost = esc[3], .serverhost = esc[4],
        };
        strbuf_init(&query, MYSQL_MAX_QUERY);
        rc = failed ? -1 : subst_expand(template, &vars, 0, &query, &serr);
        for (size_t i = 0; i < sizeof esc / sizeof esc[0]; i++)
            free(esc[i]);
        if (failed) {
            strbuf_free(&query);
            *error_r = xstrdup("cannot escape the user name for the query");
            return LOOKUP_TEMPFAIL;
        }
        if (rc < 0) {
            strbuf_free(&query);
            *error_r = xasprintf("query: %s", serr);
            return LOOKUP_NONE;
        }

        rc = mysql_real_query(db.conn, strbuf_str(&query),
                              (unsigned long)query.len);
        strbuf_free(&query);
        res = rc == 0 ? mysql_store_result(db.conn) : NULL;
        if (res) {
            unsigned long long rows = mysql_num_rows(res);
            unsigned int cols = mysql_num_fields(res);

            if (rows == 1 && cols >= MYSQL_MIN_COLUMNS) {
                *res_r = res;
                return LOOKUP_FOUND;
            }
            mysql_free_result(res);
            if (rows == 0) {
                *error_r = xstrdup("no such user in the database");
                return LOOKUP_NONE;
            }
            if (cols < MYSQL_MIN_COLUMNS)
                *error_r = xasprintf("the query returns %u columns; it "
                                     "must return at least mailbox, "
                                     "password and Unix user", cols);
            else
                *error_r = xasprintf("the query returns %llu rows for "
                                     "this user; it must return at most "
                                     "one", rows);
            return LOOKUP_TEMPFAIL;
        }

        e = mysql_errno(db.conn);
        if (e == 0) {
            /* A statement that is not a SELECT. */
            *error_r = xstrdup("the query returns no result set");
            return LOOKUP_TEMPFAIL;
        }
        if (connection_lost(e)) {
            /* A server restarted, or an idle connection timed out. */
            db_disconnect();
            if (attempt == 0)
                continue;
            *error_r = xstrdup("lost the database connection twice");
            return LOOKUP_TEMPFAIL;
        }
        if (uncomparable_name(e, req)) {
            *error_r = xstrdup("the user name has characters the database "
                               "columns cannot hold");
            return LOOKUP_NONE;
        }
        {
            char *msg = clean_str(mysql_error(db.conn));

            *error_r = xasprintf("query failed: %s", msg);
            free(msg);
        }
        if (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR)
            db_disconnect();
        return LOOKUP_TEMPFAIL;
    }
    /* Not reached: the second attempt always returns. */
    *error_r = xstrdup("lost the database connection");
    return LOOKUP_TEMPFAIL;
}

/* Field I of ROW as a C string, or NULL when it is NULL or holds a NUL
 * byte (which no name or hash may contain). */
static const char *field(MYSQL_ROW row, const unsigned long *lengths,
                         unsigned int ncols, unsigned int i)
{
    if (i >= ncols || !row[i] || strlen(row[i]) != lengths[i])
        return NULL;
    return row[i];
}

/* Wipe the password column and free RES. */
static void free_result(MYSQL_RES *res, MYSQL_ROW row,
                        const unsigned long *lengths)
{
    if (row && row[COL_PASSWORD])
        explicit_bzero(row[COL_PASSWORD], lengths[COL_PASSWORD]);
    mysql_free_result(res);
}

/* The mailbox spec for PATH and TYPE, or NULL with *ERROR_R. */
static char *mailbox_spec(const char *path, const char *type, char **error_r)
{
    const struct mailbox_driver *drv = NULL;
    const char *p;

    if (path[0] != '/') {
        char *c = clean_str(path);

        *error_r = xasprintf("mailbox location %s is not an absolute path",
                             c);
        free(c);
        return NULL;
    }
    /* The database may be edited by others than the administrator (a
     * web panel); a location must not climb out of its directory. */
    for (p = path; (p = strstr(p, "/..")) != NULL; p += 3) {
        if (p[3] == '/' || p[3] == '\0') {
            char *c = clean_str(path);

            *error_r = xasprintf("mailbox location %s contains ..", c);
            free(c);
            return NULL;
        }
    }
    if (!type || !*type)
        type = "bsd";
    for (size_t i = 0; mailbox_drivers[i]; i++)
        if (strcasecmp(mailbox_drivers[i]->name, type) == 0)
            drv = mailbox_drivers[i];
    if (!drv || !drv->compiled) {
        char *c = clean_str(type);

        *error_r = xasprintf("mailbox type %s is %s", c,
                             drv ? "not compiled in" : "unknown");
        free(c);
        return NULL;
    }
    return xasprintf("%s:%s", drv->name, path);
}

/* Fill RES from the row of a user whose password was right. AUTH_OK, or
 * AUTH_TEMPFAIL when the row cannot be used: the administrator must fix
 * it, and the client must not be told its password was wrong. */
static enum auth_status fill_result(const struct auth_request *req,
                                    MYSQL_ROW row,
                                    const unsigned long *lengths,
                                    unsigned int ncols,
                                    struct auth_result *res, char **error_r)
{
    const char *location = field(row, lengths, ncols, COL_MAILBOX);
    const char *unix_user = field(row, lengths, ncols, COL_UNIX_USER);
    const char *type = field(row, lengths, ncols, COL_MAILBOX_TYPE);
    const char *err;
    uid_t uid;
    gid_t gid;
    char *mailbox = NULL;

    if (!unix_user || !*unix_user) {
        *error_r = xstrdup("the database names no Unix user for this user");
        return AUTH_TEMPFAIL;
    }
    if (username_lookup_user(unix_user, &uid, &gid, &err) < 0) {
        char *c = clean_str(unix_user);

        *error_r = xasprintf("Unix user %s: %s", c, err);
        free(c);
        return AUTH_TEMPFAIL;
    }
    if (uid == 0) {
        char *c = clean_str(unix_user);

        *error_r = xasprintf("Unix user %s is root; sessions never run as "
                             "root", c);
        free(c);
        return AUTH_TEMPFAIL;
    }
    if (db.mail_group_set)
        gid = db.mail_group;
    if (gid == (gid_t)-1) {
        char *c = clean_str(unix_user);

        *error_r = xasprintf("Unix user %s has no passwd entry to take a "
                             "group from; set %s", c,
                             cfg_defs[CFG_AUTH_MYSQL_MAIL_GROUP].name);
        free(c);
        return AUTH_TEMPFAIL;
    }
    if (!location && row[COL_MAILBOX]) {
        *error_r = xstrdup("the mailbox location contains a NUL byte");
        return AUTH_TEMPFAIL;
    }
    if (location && *location) {
        mailbox = mailbox_spec(location, type, error_r);
        if (!mailbox)
            return AUTH_TEMPFAIL;
    }

    res->uid = uid;
    res->gid = gid;
    res->user = xstrdup(req->user);
    res->local_part = xstrdup(req->local_part);
    res->domain = req->domain ? xstrdup(req->domain) : NULL;
    res->home = NULL;
    res->mailbox = mailbox;     /* NULL: the mailbox directive decides */
    res->driver = "mysql";
    return AUTH_OK;
}

static enum auth_status myauth_check(const struct auth_request *req,
                                     struct auth_result *res,
                                     char **error_r)
{
    bool apop = auth_method_uses_secret(req->method);
    const char *template = apop ? db.apop_query : db.pass_query;
    const char *stored;
    const unsigned long *lengths;
    enum auth_status st = AUTH_NO;
    unsigned int ncols;
    MYSQL_RES *dbres;
    MYSQL_ROW row;

    if (!template) {
        *error_r = xasprintf("%s logins are disabled (%s: none)",
                             apop ? "APOP" : "USER/PASS",
                             cfg_defs[apop ? CFG_AUTH_MYSQL_APOP_QUERY
                                           : CFG_AUTH_MYSQL_PASS_QUERY].name);
        return AUTH_NO;
    }
    switch (lookup(template, req, &dbres, error_r)) {
    case LOOKUP_FOUND:
        break;
    case LOOKUP_NONE:
        /* Unknown users cost what a wrong password does. */
        if (!apop)
            password_dummy_check(req->password);
        return AUTH_NO;
    case LOOKUP_TEMPFAIL:
        return AUTH_TEMPFAIL;
    }

    row = mysql_fetch_row(dbres);
    lengths = row ? mysql_fetch_lengths(dbres) : NULL;
    ncols = mysql_num_fields(dbres);
    if (!row || !lengths) {
        *error_r = xstrdup("cannot read the row the query returned");
        free_result(dbres, NULL, NULL);
        return AUTH_TEMPFAIL;
    }
    stored = field(row, lengths, ncols, COL_PASSWORD);

    if (!stored) {
        if (!apop)
            password_dummy_check(req->password);
        *error_r = xstrdup(row[COL_PASSWORD]
                           ? "the password hash contains a NUL byte"
                           : "no password is set for this user");
    } else {
        st = auth_check_stored(req, stored, PASSWORD_SCHEME_MD5,
                               db.permit_empty, "the database", error_r);
    }
    if (st == AUTH_OK)
        st = fill_result(req, row, lengths, ncols, res, error_r);
    free_result(dbres, row, lengths);
    /* A session authenticates once; a POP session may then last minutes,
     * and a database connection held that long is one fewer for other
     * logins. */
    if (st == AUTH_OK)
        db_disconnect();
    return st;
}

/* Runs in an onlogin worker, a process forked from the session: a
 * connection the session opened (another driver accepted the login after
 * this one said no) is the session's and is forgotten without a word on
 * it; the statement goes over a connection of this process's own, closed
 * at the end. A missing domain or home is substituted as an empty value:
 * a record of the login is still wanted. */
static int myauth_onlogin(const struct config *cfg,
                          const struct auth_result *res,
                          const char *clienthost, const char *serverhost,
                          char **error_r)
{
    bool failed = false;
    struct subst_vars vars;
    struct strbuf query;
    const char *serr = NULL;
    char *esc[6];
    MYSQL_RES *dbres;
    unsigned int e;
    int rc;

    (void)cfg;
    if (!db.onlogin_query)
        return 0;
    if (db.conn && db.conn_pid != getpid())
        db_forget();
    if (!valid_utf8(res->user)
        || (res->local_part && !valid_utf8(res->local_part))
        || (res->domain && !valid_utf8(res->domain))
        || (res->home && !valid_utf8(res->home))) {
        *error_r = xstrdup("the user name is not valid UTF-8");
        return -1;
    }
    if (db_connect(error_r) < 0)
        return -1;

    esc[0] = escape(res->user, &failed);
    esc[1] = escape(res->local_part, &failed);
    esc[2] = escape(res->domain ? res->domain : "", &failed);
    esc[3] = escape(res->home ? res->home : "", &failed);
    esc[4] = escape(clienthost, &failed);
    esc[5] = escape(serverhost, &failed);
    vars = (struct subst_vars){
        .user = esc[0], .local_part = esc[1], .domain = esc[2],
        .home = esc[3], .clienthost = esc[4], .serverhost = esc[5],
    };
    strbuf_init(&query, MYSQL_MAX_QUERY);
    rc = failed ? -1 : subst_expand(db.onlogin_query, &vars, 0, &query, &serr);
    for (size_t i = 0; i < sizeof esc / sizeof esc[0]; i++)
        free(esc[i]);
    if (rc < 0) {
        *error_r = failed ? xstrdup("cannot escape the values for the "
                                    "statement")
                          : xasprintf("statement: %s", serr);
        strbuf_free(&query);
        db_disconnect();
        return -1;
    }

    rc = mysql_real_query(db.conn, strbuf_str(&query),
                          (unsigned long)query.len);
    strbuf_free(&query);
    if (rc == 0) {
        /* A SELECT is allowed too; its rows are not wanted. */
        dbres = mysql_store_result(db.conn);
        if (dbres)
            mysql_free_result(dbres);
    }
    e = mysql_errno(db.conn);
    if (e != 0) {
        char *msg = clean_str(mysql_error(db.conn));

        *error_r = xasprintf("statement failed: %s", msg);
        free(msg);
        db_disconnect();
        return -1;
    }
    db_disconnect();
    return 0;
}

static bool myauth_can_apop(void)
{
    return db.apop_query != NULL;
}

const struct auth_driver auth_driver_mysql = {
    .name = "mysql",
    .description = "MySQL or MariaDB database",
    .compiled = true,
    .enable_key = CFG_AUTH_MYSQL_ENABLE,
    .init = myauth_init,
    .pass = myauth_check,
    .apop = myauth_check,
    .can_apop = myauth_can_apop,
    .postfork = myauth_postfork,
    .onlogin = myauth_onlogin,
    .close = myauth_close,
};
