/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pop3.c: parsing of command lines and message numbers. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "pop3.h"

int pop3_parse_command(char *line, struct pop3_cmd *cmd, const char **error_r)
{
    char *p = line;
    size_t n = 0;

    memset(cmd, 0, sizeof *cmd);
    while (p[n] && p[n] != ' ') {
        if (n >= 4 || !isalpha((unsigned char)p[n])) {
            *error_r = "unknown command";
            return -1;
        }
        cmd->verb[n] = (char)toupper((unsigned char)p[n]);
        n++;
    }
    if (n < 3) {
        *error_r = n == 0 ? "empty command" : "unknown command";
        return -1;
    }
    cmd->verb[n] = 0;
    p += n;
    if (*p == ' ')
        p++;
    cmd->rest = p;

    /* Split a copy, so that REST stays whole. */
    n = strlen(p);
    if (n > POP3_MAX_LINE) {
        *error_r = "line too long";
        return -1;
    }
    memcpy(cmd->args, p, n + 1);
    p = cmd->args;
    while (*p == ' ')
        p++;
    while (*p) {
        char *arg = p;

        while (*p && *p != ' ')
            p++;
        if (cmd->argc == POP3_MAX_ARGS) {
            cmd->argc++;        /* "more than allowed": never stored */
            break;
        }
        cmd->argv[cmd->argc++] = arg;
        if (*p)
            *p++ = 0;
        while (*p == ' ')
            p++;
    }
    return 0;
}

int pop3_parse_count(const char *s, long *n_r, const char **error_r)
{
    unsigned long long v = 0;

    if (!*s) {
        *error_r = "missing number";
        return -1;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            *error_r = "invalid number";
            return -1;
        }
        if (v <= (unsigned long long)LONG_MAX)
            v = v * 10 + (unsigned)(*p - '0');
    }
    *n_r = v > (unsigned long long)LONG_MAX ? LONG_MAX : (long)v;
    return 0;
}

int pop3_parse_msgnum(const char *s, size_t count, size_t *n_r,
                      const char **error_r)
{
    uint64_t v = 0;
    bool overflow = false;

    if (!*s) {
        *error_r = "missing message number";
        return -1;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            *error_r = "invalid message number";
            return -1;
        }
        if (v > (UINT64_MAX - 9) / 10)
            overflow = true;
        else
            v = v * 10 + (uint64_t)(*p - '0');
    }
    if (overflow || v == 0 || v > count) {
        *error_r = "no such message";
        return -1;
    }
    *n_r = (size_t)v;
    return 0;
}

const struct pop3_command *pop3_find(const struct pop3_command *table,
                                     const char *verb)
{
    for (; table->verb; table++)
        if (strcmp(table->verb, verb) == 0)
            return table;
    return NULL;
}

bool pop3_known_verb(const char *verb)
{
    return pop3_find(pop3_auth_commands, verb) ||
        pop3_find(pop3_trans_commands, verb);
}
