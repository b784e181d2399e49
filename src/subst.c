/* SPDX-License-Identifier: GPL-2.0-or-later */
/* subst.c: $(name) and $(name[i]) substitution in config templates. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "subst.h"

/* Indices beyond this many digits cannot address any real value and would
 * only invite overflow. */
#define SUBST_MAX_INDEX_DIGITS 6

enum subst_var {
    SV_USER, SV_LOCAL_PART, SV_DOMAIN, SV_HOME, SV_CLIENTHOST, SV_SERVERHOST,
};

static const struct {
    const char *name;
    size_t len;
    const char *missing;        /* the error when the value is NULL */
} subst_names[] = {
    [SV_USER] = { "user", 4, "no value for $(user)" },
    [SV_LOCAL_PART] = { "local_part", 10, "no value for $(local_part)" },
    [SV_DOMAIN] = { "domain", 6, "no value for $(domain)" },
    [SV_HOME] = { "home", 4, "no value for $(home)" },
    [SV_CLIENTHOST] = { "clienthost", 10, "no value for $(clienthost)" },
    [SV_SERVERHOST] = { "serverhost", 10, "no value for $(serverhost)" },
};

/* One parsed $(...) reference. */
struct subst_ref {
    enum subst_var var;
    bool indexed;
    long index;                 /* negative counts from the end */
};

/* Wider than the real names, so "$(USER)" reads as an unknown name rather
 * than a missing one. */
static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parse "$(name)" or "$(name[i])" at *PP, which points at the '$'. On
 * success *PP moves past the ')' ; on failure it stays put. */
static int parse_ref(const char **pp, struct subst_ref *ref,
                     const char **error_r)
{
    const char *p = *pp + 2;    /* past "$(" */
    const char *name = p;
    size_t len, i;
    bool found = false;

    while (is_name_char(*p))
        p++;
    len = (size_t)(p - name);
    if (*p == '\0') {
        *error_r = "unterminated $(";
        return -1;
    }
    if (len == 0) {
        *error_r = "missing variable name after $(";
        return -1;
    }
    for (i = 0; i < sizeof subst_names / sizeof subst_names[0]; i++) {
        if (subst_names[i].len == len && memcmp(subst_names[i].name, name, len) == 0) {
            found = true;
            break;
        }
    }
    if (!found) {
        *error_r = "unknown variable in $(...)";
        return -1;
    }
    ref->var = (enum subst_var)i;
    ref->indexed = false;
    ref->index = 0;

    if (*p == '[') {
        bool negative = false;
        size_t ndigits = 0;
        long idx = 0;

        p++;
        if (*p == '-') {
            negative = true;
            p++;
        }
        while (is_digit(*p)) {
            if (++ndigits > SUBST_MAX_INDEX_DIGITS) {
                *error_r = "index too large in $(...)";
                return -1;
            }
            idx = idx * 10 + (*p - '0');
            p++;
        }
        if (*p == '\0') {
            *error_r = "unterminated $(";
            return -1;
        }
        /* "-0" names no character: -1 is already the last. */
        if (ndigits == 0 || *p != ']' || (negative && idx == 0)) {
            *error_r = "malformed index in $(...): expected [N] or [-N]";
            return -1;
        }
        p++;
        ref->indexed = true;
        ref->index = negative ? -idx : idx;
    }
    if (*p == '\0') {
        *error_r = "unterminated $(";
        return -1;
    }
    if (*p != ')') {
        *error_r = "unexpected character in $(...)";
        return -1;
    }
    *pp = p + 1;
    return 0;
}

static int path_safe(const char *v, size_t len, const char **error_r)
{
    if (len == 0) {
        *error_r = "unsafe value: empty";
        return -1;
    }
    if (v[0] == '.') {
        /* Covers "." and ".." as well as hidden names. */
        *error_r = "unsafe value: starts with '.'";
        return -1;
    }
    if (memchr(v, '/', len)) {
        *error_r = "unsafe value: contains '/'";
        return -1;
    }
    return 0;
}

/* Resolve REF against VARS into *VAL_R / *LEN_R. */
static int ref_value(const struct subst_ref *ref, const struct subst_vars *vars,
                     unsigned flags, const char **val_r, size_t *len_r,
                     const char **error_r)
{
    const char *v = NULL;
    size_t len;

    switch (ref->var) {
    case SV_USER: v = vars->user; break;
    case SV_LOCAL_PART: v = vars->local_part; break;
    case SV_DOMAIN: v = vars->domain; break;
    case SV_HOME: v = vars->home; break;
    case SV_CLIENTHOST: v = vars->clienthost; break;
    case SV_SERVERHOST: v = vars->serverhost; break;
    }
    if (!v) {
        *error_r = subst_names[ref->var].missing;
        return -1;
    }
    len = strlen(v);
    if (ref->indexed) {
        long i = ref->index;

        if (i < 0)
            i += (long)len;
        if (i < 0 || (size_t)i >= len) {
            *error_r = "index out of range in $(...)";
            return -1;
        }
        v += i;
        len = 1;
    }
    if ((flags & SUBST_PATH_SAFE) && ref->var != SV_HOME &&
        path_safe(v, len, error_r) < 0)
        return -1;
    *val_r = v;
    *len_r = len;
    return 0;
}

/* The walk shared by expansion and checking; VARS NULL: check only. */
static int subst_walk(const char *template, const struct subst_vars *vars,
                      unsigned flags, struct strbuf *out, const char **error_r)
{
    const char *p = template;

    while (*p) {
        const char *dollar = strchr(p, '$');
        struct subst_ref ref;
        const char *val;
        size_t len;

        if (!dollar)
            dollar = p + strlen(p);
        if (dollar > p) {
            if (out && strbuf_append(out, p, (size_t)(dollar - p)) < 0)
                goto too_long;
            p = dollar;
            continue;
        }
        /* At a '$'. */
        if (p[1] != '(') {
            /* "$$" is one '$'; any other '$' stands for itself. */
            if (out && strbuf_appendc(out, '$') < 0)
                goto too_long;
            p += p[1] == '$' ? 2 : 1;
            continue;
        }
        if (parse_ref(&p, &ref, error_r) < 0)
            return -1;
        if (!vars)
            continue;
        if (ref_value(&ref, vars, flags, &val, &len, error_r) < 0)
            return -1;
        if (strbuf_append(out, val, len) < 0)
            goto too_long;
    }
    return 0;

too_long:
    *error_r = "result too long";
    return -1;
}

int subst_expand(const char *template, const struct subst_vars *vars,
                 unsigned flags, struct strbuf *out, const char **error_r)
{
    size_t start = out->len;

    if (subst_walk(template, vars, flags, out, error_r) < 0) {
        /* Leave OUT as it was: no half-expanded path escapes. */
        if (out->buf) {
            out->len = start;
            out->buf[start] = '\0';
        }
        return -1;
    }
    return 0;
}

int subst_check(const char *template, const char **error_r)
{
    return subst_walk(template, NULL, 0, NULL, error_r);
}

bool subst_uses(const char *template, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = template; *p; p++) {
        if (p[0] != '$')
            continue;
        if (p[1] == '$') {
            p++;
            continue;
        }
        if (p[1] == '(' && strncmp(p + 2, name, n) == 0
            && (p[2 + n] == ')' || p[2 + n] == '['))
            return true;
    }
    return false;
}
