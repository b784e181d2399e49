/* SPDX-License-Identifier: GPL-2.0-or-later */
/* subst.h: $(name) substitution in config values such as mailbox paths. */
#ifndef TPOP3D_SUBST_H
#define TPOP3D_SUBST_H

#include <stdbool.h>

#include "strbuf.h"

/* Values for $(user), $(local_part), $(domain), $(home), $(clienthost),
 * $(serverhost). A NULL value makes a template that uses it fail. */
struct subst_vars {
    const char *user;
    const char *local_part;
    const char *domain;
    const char *home;
    const char *clienthost;
    const char *serverhost;
};

/* Refuse values that could move a path: containing '/', or empty, or "."
 * or "..", or starting with '.'. $(home) is exempt (it is a path). */
#define SUBST_PATH_SAFE 0x1

/* Expand TEMPLATE into OUT (appended). Syntax: $(name) and $(name[i]) for
 * the i-th character (0-based; negative counts from the end: $(user[-1]) is
 * the last character). "$$" is a literal "$"; a "$" not followed by "(" or
 * "$" is literal. Returns 0, or -1 with *ERROR_R set to a static message
 * (unknown variable, unterminated $(, index out of range, missing value,
 * unsafe value, result too long for OUT). */
int subst_expand(const char *template, const struct subst_vars *vars,
                 unsigned flags, struct strbuf *out, const char **error_r);

/* Check TEMPLATE's syntax and variable names without values; 0 or -1 with
 * *ERROR_R. Used when the config is loaded. */
int subst_check(const char *template, const char **error_r);

/* True when TEMPLATE refers to $(NAME) or $(NAME[i]) ("$$" is skipped).
 * Drivers use it to decide how a per-domain file is keyed. */
bool subst_uses(const char *template, const char *name);

#endif
