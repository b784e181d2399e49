/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.c: reading tpop3d.conf into the typed table of config_keys.def. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "limits.h"
#include "listenaddr.h"
#include "strbuf.h"
#include "subst.h"
#include "xalloc.h"

/* A config file is a few kilobytes; anything near this size is a mistake
 * (a mail spool given as -f), and reading it whole would only waste
 * memory in the listener. */
#define CONFIG_MAX_FILE         (4 * 1024 * 1024)

/* Values quoted in messages are cut to this many bytes. */
#define CONFIG_QUOTE_MAX        48

/* Unknown directives longer than this get no "did you mean". */
#define CONFIG_SUGGEST_MAX      64

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' ||
           c == '\n';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Cut trailing blanks of S in place; returns S. */
static char *rtrim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && is_blank(s[n - 1]))
        n--;
    s[n] = '\0';
    return s;
}

static char *ltrim(char *s)
{
    while (is_blank(*s))
        s++;
    return s;
}

/* S made printable for a message: other bytes as \xHH, long texts cut with
 * "...". Written into BUF (at least CONFIG_QUOTE_MAX + 8 bytes). */
static const char *quote(char *buf, size_t size, const char *s)
{
    size_t o = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        /* Room for the longest item (4) plus "..." and the NUL. */
        if (o + 4 + 4 > size || o >= CONFIG_QUOTE_MAX) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f) {
            buf[o++] = (char)c;
        } else {
            snprintf(buf + o, size - o, "\\x%02x", c);
            o += 4;
        }
    }
    buf[o] = '\0';
    return buf;
}

#define QUOTE_BUF (CONFIG_QUOTE_MAX + 16)

static void add_warning(struct config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_warning(struct config *cfg, const char *fmt, ...)
{
    struct strbuf sb;
    va_list ap;

    /* Warnings are short; the cap only guards against a runaway format. */
    strbuf_init(&sb, 4096);
    va_start(ap, fmt);
    if (strbuf_vappendf(&sb, fmt, ap) < 0) {
        strbuf_reset(&sb);
        strbuf_appends(&sb, "(warning too long)");
    }
    va_end(ap);
    cfg->warnings = xreallocarray(cfg->warnings, cfg->nwarnings + 1,
                                  sizeof *cfg->warnings);
    cfg->warnings[cfg->nwarnings++] = strbuf_detach(&sb);
}

int config_facility_by_name(const char *name)
{
    static const struct {
        const char *name;
        int facility;
    } facilities[] = {
        { "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
        { "cron", LOG_CRON }, { "daemon", LOG_DAEMON }, { "ftp", LOG_FTP },
        { "kern", LOG_KERN }, { "lpr", LOG_LPR }, { "mail", LOG_MAIL },
        { "news", LOG_NEWS }, { "syslog", LOG_SYSLOG }, { "user", LOG_USER },
        { "uucp", LOG_UUCP },
        { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
        { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
        { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
        { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
    };

    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
        if (strcasecmp(name, facilities[i].name) == 0)
            return facilities[i].facility;
    return -1;
}

enum cfg_key config_key_by_name(const char *name)
{
    if (!name)
        return CFG__COUNT;
    for (int k = 0; k < CFG__COUNT; k++)
        if (strcmp(cfg_defs[k].name, name) == 0)
            return (enum cfg_key)k;
    return CFG__COUNT;
}

/* Case-insensitive edit distance, for "did you mean". Both strings are at
 * most CONFIG_SUGGEST_MAX bytes (the caller checks), so the rows fit. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[CONFIG_SUGGEST_MAX + 1];

    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            char ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z')
                ca = (char)(ca - 'A' + 'a');
            size_t best = diag + (ca == cb ? 0 : 1);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The known directive closest to NAME, or NULL when none is close. */
static const char *suggest(const char *name)
{
    size_t len = strlen(name), best = SIZE_MAX;
    const char *found = NULL;

    if (len > CONFIG_SUGGEST_MAX)
        return NULL;
    for (int k = 0; k < CFG__COUNT; k++) {
        if (strlen(cfg_defs[k].name) > CONFIG_SUGGEST_MAX)
            continue;
        size_t d = edit_distance(name, cfg_defs[k].name);
        if (d < best) {
            best = d;
            found = cfg_defs[k].name;
        }
    }
    /* A third of the name may be wrong, but never more than 3 edits. (A
     * distance of 0 is a difference in case only.) */
    if (best > 3 || best * 3 > len)
        return NULL;
    return found;
}

/* Drop a trailing comment ("16   # busy site") from a value that cannot
 * itself contain '#'. */
static void strip_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p == '#' && (p == s || is_blank(p[-1]))) {
            *p = '\0';
            break;
        }
    }
    rtrim(s);
}

static int parse_bool(const char *s, bool *b)
{
    static const struct {
        const char *word;
        bool value;
    } words[] = {
        { "yes", true }, { "no", false }, { "true", true },
        { "false", false }, { "on", true }, { "off", false },
        { "1", true }, { "0", false },
    };

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcasecmp(s, words[i].word) == 0) {
            *b = words[i].value;
            return 0;
        }
    }
    return -1;
}

/* Digits only, at least one; -1 on anything else or overflow (*OVERFLOW_R
 * tells which). */
static int parse_uint(const char *s, uint64_t *v_r, bool *overflow_r)
{
    uint64_t v = 0;

    *overflow_r = false;
    if (!is_digit(*s))
        return -1;
    for (; is_digit(*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *overflow_r = true;
            return -1;
        }
        v = v * 10 + d;
    }
    if (*s != '\0')
        return -1;
    *v_r = v;
    return 0;
}

/* DIGITS[.DIGITS], computed by hand so the locale's decimal point plays no
 * part. At most 15 significant digits, which a double holds exactly. */
static int parse_seconds(const char *s, double *d_r)
{
    double v = 0, scale = 1;
    int ndigits = 0;

    if (!is_digit(*s))
        return -1;
    for (; is_digit(*s); s++) {
        if (++ndigits > 15)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (*s == '.') {
        s++;
        if (!is_digit(*s))
            return -1;
        for (; is_digit(*s); s++) {
            if (++ndigits > 15)
                return -1;
            scale /= 10;
            v += (*s - '0') * scale;
        }
    }
    if (*s != '\0')
        return -1;
    *d_r = v;
    return 0;
}

/* The templates of the mailbox directive: each word is [TYPE:]TEMPLATE. */
static int check_mailbox(const char *value, struct strbuf *err)
{
    size_t n;
    char **words = config_split_words(value, &n);
    int ret = 0;

    for (size_t i = 0; i < n; i++) {
        const char *t = words[i], *colon = strchr(t, ':'), *error;
        char q[QUOTE_BUF];

        /* As the session reads it: an absolute path has no type, even
         * with a ':' in it. */
        if (colon && t[0] != '/')
            t = colon + 1;
        if (subst_check(t, &error) < 0) {
            strbuf_appendf(err, "'%s': %s",
                           quote(q, sizeof q, words[i]), error);
            ret = -1;
            break;
        }
    }
    config_free_words(words);
    return ret;
}

static int check_addrlist(const char *value, struct strbuf *err)
{
    size_t n;
    char **words = config_split_words(value, &n);
    int ret = 0;

    for (size_t i = 0; i < n; i++) {
        struct listen_addr la;
        const char *error;
        char q[QUOTE_BUF];

        if (listenaddr_parse(words[i], &la, &error) < 0) {
            strbuf_appendf(err, "'%s': %s",
                           quote(q, sizeof q, words[i]), error);
            ret = -1;
            break;
        }
        listenaddr_free(&la);
    }
    config_free_words(words);
    return ret;
}

/* Parse TEXT (owned, may be shortened in place) as the value of directive
 * KEY into V. Returns 0, or -1 with the reason appended to ERR. Text values
 * are quoted back only where they cannot be secrets (addresses, mailbox
 * locations); a STRING may be a password. */
static int parse_value(enum cfg_key key, char *text, struct cfg_value *v,
                       struct strbuf *err)
{
    const struct cfg_def *def = &cfg_defs[key];
    char q[QUOTE_BUF];
    const char *error;
    uint64_t u;
    bool overflow;

    switch (def->type) {
    case CFG_BOOL:
        strip_comment(text);
        if (parse_bool(text, &v->v.b) < 0) {
            strbuf_appendf(err, "%s: expected yes or no, not '%s'",
                           def->name, quote(q, sizeof q, text));
            return -1;
        }
        return 0;

    case CFG_INT:
        strip_comment(text);
        if (parse_uint(text, &u, &overflow) < 0) {
            if (overflow)
                strbuf_appendf(err, "%s: number too large", def->name);
            else
                strbuf_appendf(err, "%s: expected a whole number, not '%s'",
                               def->name, quote(q, sizeof q, text));
            return -1;
        }
        if (u > (uint64_t)INT64_MAX || (double)u < def->min ||
            (double)u > def->max) {
            strbuf_appendf(err, "%s: %s is out of range (%.0f to %.0f)",
                           def->name, quote(q, sizeof q, text),
                           def->min, def->max);
            return -1;
        }
        v->v.i = (long long)u;
        return 0;

    case CFG_SECONDS:
        strip_comment(text);
        if (parse_seconds(text, &v->v.d) < 0) {
            strbuf_appendf(err, "%s: expected a number of seconds, not '%s'",
                           def->name, quote(q, sizeof q, text));
            return -1;
        }
        if (v->v.d < def->min || v->v.d > def->max) {
            strbuf_appendf(err, "%s: %s is out of range (%g to %g)",
                           def->name, quote(q, sizeof q, text),
                           def->min, def->max);
            return -1;
        }
        return 0;

    case CFG_FACILITY:
        strip_comment(text);
        v->v.facility = config_facility_by_name(text);
        if (v->v.facility < 0) {
            strbuf_appendf(err, "%s: unknown syslog facility '%s'",
                           def->name, quote(q, sizeof q, text));
            return -1;
        }
        return 0;

    case CFG_ADDRLIST:
        /* '#' cannot occur in an address, so a comment is unambiguous. */
        strip_comment(text);
        strbuf_appendf(err, "%s: ", def->name);
        return check_addrlist(text, err);

    case CFG_STRING:
    case CFG_LIST:
        /* The directives that hold $(...) templates; checking them here
         * turns a typo into an error at start-up, not at the first login. */
        if (key == CFG_MAILBOX) {
            strbuf_appendf(err, "%s: ", def->name);
            return check_mailbox(text, err);
        }
        if (key == CFG_AUTH_FLATFILE_PASSWD_FILE &&
            subst_check(text, &error) < 0) {
            strbuf_appendf(err, "%s: %s", def->name, error);
            return -1;
        }
        return 0;
    }
    abort();
}

/* One logical line, continuations joined. 0, or -1 with *ERROR_R. */
static int parse_line(struct config *cfg, char *line, unsigned lineno,
                      char **error_r)
{
    char *s = ltrim(line), *colon, *key, *value;
    char q[QUOTE_BUF];
    struct cfg_value *v;
    enum cfg_key k;
    struct strbuf err;

    if (*s == '\0' || *s == '#')
        return 0;
    colon = strchr(s, ':');
    if (!colon) {
        /* The line is not echoed: it may be a stray password. */
        *error_r = xasprintf("%s:%u: expected 'directive: value'",
                             cfg->path, lineno);
        return -1;
    }
    *colon = '\0';
    key = rtrim(s);
    value = rtrim(ltrim(colon + 1));
    if (*key == '\0') {
        *error_r = xasprintf("%s:%u: missing directive name before ':'",
                             cfg->path, lineno);
        return -1;
    }

    k = config_key_by_name(key);
    if (k == CFG__COUNT) {
        const char *near = suggest(key);
        if (near)
            add_warning(cfg, "%s:%u: unknown directive '%s' (did you mean '%s'?)",
                        cfg->path, lineno, quote(q, sizeof q, key), near);
        else
            add_warning(cfg, "%s:%u: unknown directive '%s'",
                        cfg->path, lineno, quote(q, sizeof q, key));
        return 0;
    }

    v = &cfg->values[k];
    if (v->set) {
        add_warning(cfg, "%s:%u: %s was already given at line %u; "
                    "this later value is used",
                    cfg->path, lineno, cfg_defs[k].name, v->line);
        strfreezero(v->text);
        memset(v, 0, sizeof *v);
    }

    v->text = xstrdup(value);
    strbuf_init(&err, 1024);
    if (parse_value(k, v->text, v, &err) < 0) {
        *error_r = xasprintf("%s:%u: %s", cfg->path, lineno, strbuf_str(&err));
        strbuf_free(&err);
        strfreezero(v->text);
        memset(v, 0, sizeof *v);
        return -1;
    }
    strbuf_free(&err);
    v->set = true;
    v->line = lineno;
    return 0;
}

static bool is_comment_line(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && is_blank(p[i]))
        i++;
    return i < n && p[i] == '#';
}

static void apply_defaults(struct config *cfg)
{
    for (int k = 0; k < CFG__COUNT; k++) {
        struct cfg_value *v = &cfg->values[k];
        struct strbuf err;

        if (v->set || !cfg_defs[k].def)
            continue;
        v->text = xstrdup(cfg_defs[k].def);
        strbuf_init(&err, 1024);
        /* The defaults are ours: one that does not parse is a bug. */
        if (parse_value((enum cfg_key)k, v->text, v, &err) < 0)
            abort();
        strbuf_free(&err);
    }
}

struct config *config_parse(const char *text, size_t len, const char *name,
                            char **error_r)
{
    struct config *cfg = xcalloc(1, sizeof *cfg);
    const char *p = text, *end = text + len, *nul;
    struct strbuf line;
    unsigned lineno = 0;

    cfg->path = xstrdup(name);
    *error_r = NULL;
    if (len == 0) {
        apply_defaults(cfg);
        return cfg;
    }

    nul = memchr(text, '\0', len);
    if (nul) {
        unsigned at = 1;
        for (const char *c = text; c < nul; c++)
            if (*c == '\n')
                at++;
        *error_r = xasprintf("%s:%u: NUL byte in file", name, at);
        config_free(&cfg);
        return NULL;
    }

    strbuf_init(&line, CONFIG_MAX_LINE);
    while (p < end) {
        unsigned start = ++lineno;
        bool first = true;

        strbuf_reset(&line);
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *eol = nl ? nl : end;
            size_t n = (size_t)(eol - p);
            bool cont;

            if (n > 0 && p[n - 1] == '\r')
                n--;
            /* A comment ends at its newline, backslash or not. */
            cont = n > 0 && p[n - 1] == '\\' && !(first && is_comment_line(p, n));
            if (cont)
                n--;
            if (strbuf_append(&line, p, n) < 0) {
                *error_r = xasprintf("%s:%u: line longer than %d bytes",
                                     name, start, CONFIG_MAX_LINE);
                goto fail;
            }
            p = nl ? nl + 1 : end;
            if (!cont)
                break;
            if (p >= end) {
                *error_r = xasprintf("%s:%u: backslash continuation at end of file",
                                     name, lineno);
                goto fail;
            }
            lineno++;
            first = false;
        }
        /* strbuf_str never returns NULL, but the buffer may be unallocated
         * for an empty line; parse_line needs a writable copy either way. */
        if (line.buf && parse_line(cfg, line.buf, start, error_r) < 0)
            goto fail;
    }
    strbuf_wipe(&line);
    apply_defaults(cfg);
    return cfg;

fail:
    strbuf_wipe(&line);
    config_free(&cfg);
    return NULL;
}

struct config *config_load(const char *path, char **error_r)
{
    struct config *cfg = NULL;
    struct strbuf data;
    struct stat st;
    char chunk[8192];
    int fd;

    *error_r = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *error_r = xasprintf("%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        *error_r = xasprintf("%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        *error_r = xasprintf("%s: not a regular file", path);
        close(fd);
        return NULL;
    }

    strbuf_init(&data, CONFIG_MAX_FILE);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *error_r = xasprintf("%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (strbuf_append(&data, chunk, (size_t)n) < 0) {
            *error_r = xasprintf("%s: file larger than %d bytes",
                                 path, CONFIG_MAX_FILE);
            goto out;
        }
    }

    cfg = config_parse(strbuf_str(&data), data.len, path, error_r);
    if (cfg && (st.st_mode & S_IRWXO))
        add_warning(cfg, "%s: accessible to other users (mode %04o); it may "
                    "hold passwords: chmod o-rwx %s",
                    path, (unsigned)(st.st_mode & 07777), path);

out:
    /* The file may hold passwords: leave no copy behind. */
    explicit_bzero(chunk, sizeof chunk);
    strbuf_wipe(&data);
    close(fd);
    return cfg;
}

void config_free(struct config **cfgp)
{
    struct config *cfg = *cfgp;

    if (!cfg)
        return;
    for (int k = 0; k < CFG__COUNT; k++)
        strfreezero(cfg->values[k].text);
    for (size_t i = 0; i < cfg->nwarnings; i++)
        free(cfg->warnings[i]);
    free(cfg->warnings);
    free(cfg->path);
    free(cfg);
    *cfgp = NULL;
}

/* The value of KEY, aborting unless its type is one of TYPES (a mask of
 * 1 << enum cfg_type): a getter of the wrong type is a bug. */
static const struct cfg_value *get(const struct config *cfg, enum cfg_key key,
                                   unsigned types)
{
    if ((unsigned)key >= CFG__COUNT ||
        !(types & (1u << cfg_defs[key].type)))
        abort();
    return &cfg->values[key];
}

bool cfg_bool(const struct config *cfg, enum cfg_key key)
{
    return get(cfg, key, 1u << CFG_BOOL)->v.b;
}

long long cfg_int(const struct config *cfg, enum cfg_key key)
{
    return get(cfg, key, 1u << CFG_INT)->v.i;
}

double cfg_seconds(const struct config *cfg, enum cfg_key key)
{
    return get(cfg, key, 1u << CFG_SECONDS)->v.d;
}

int cfg_facility(const struct config *cfg, enum cfg_key key)
{
    return get(cfg, key, 1u << CFG_FACILITY)->v.facility;
}

const char *cfg_str(const struct config *cfg, enum cfg_key key)
{
    return get(cfg, key, 1u << CFG_STRING | 1u << CFG_LIST |
               1u << CFG_ADDRLIST)->text;
}

bool cfg_is_set(const struct config *cfg, enum cfg_key key)
{
    if ((unsigned)key >= CFG__COUNT)
        abort();
    return cfg->values[key].set;
}

const char *cfg_where(const struct config *cfg, enum cfg_key key,
                      char *buf, size_t size)
{
    if ((unsigned)key >= CFG__COUNT)
        abort();
    if (size == 0)
        return buf;
    if (cfg->values[key].set)
        snprintf(buf, size, "%s:%u", cfg->path, cfg->values[key].line);
    else
        snprintf(buf, size, "%s (default)", cfg->path);
    return buf;
}

char **config_split_words(const char *s, size_t *n_r)
{
    size_t n = 0, i = 0;
    const char *p;
    char **words;

    for (p = s; *p;) {
        while (is_blank(*p))
            p++;
        if (!*p)
            break;
        n++;
        while (*p && !is_blank(*p))
            p++;
    }
    words = xreallocarray(NULL, n + 1, sizeof *words);
    for (p = s; *p;) {
        const char *w;
        while (is_blank(*p))
            p++;
        if (!*p)
            break;
        w = p;
        while (*p && !is_blank(*p))
            p++;
        words[i++] = xstrndup(w, (size_t)(p - w));
    }
    words[i] = NULL;
    if (n_r)
        *n_r = n;
    return words;
}

void config_free_words(char **words)
{
    if (!words)
        return;
    for (char **w = words; *w; w++)
        free(*w);
    free(words);
}

char *cfg_error(const struct config *cfg, enum cfg_key key, char *msg)
{
    char where[512];
    char *text = xasprintf("%s: %s: %s",
                           cfg_where(cfg, key, where, sizeof where),
                           cfg_defs[key].name, msg);

    free(msg);
    return text;
}
