/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pop3.h: POP3 command lines, message numbers, and the per-state command
 * tables the session dispatches through. */
#ifndef TPOP3D_POP3_H
#define TPOP3D_POP3_H

#include <stdbool.h>
#include <stddef.h>

#include "limits.h"

struct session;

#define POP3_MAX_ARGS 2

/* A parsed command line. VERB is upper-cased; ARGV point into the line.
 * REST is everything after the verb and one space, unsplit (PASS takes it
 * whole: passwords may contain spaces). */
struct pop3_cmd {
    char verb[5];
    size_t argc;
    char *argv[POP3_MAX_ARGS];      /* point into args */
    char *rest;                     /* points into the line */
    char args[POP3_MAX_LINE + 1];   /* split copy of the arguments */
};

/* Parse LINE (at most POP3_MAX_LINE bytes; not modified). Keyword: 3-4
 * letters, case-insensitive; arguments separated by spaces (runs of spaces
 * and trailing spaces are tolerated, as real clients send them). ARGC is
 * POP3_MAX_ARGS + 1 when there are more arguments than that. Returns 0, or
 * -1 with *ERROR_R when the keyword is malformed. */
int pop3_parse_command(char *line, struct pop3_cmd *cmd, const char **error_r);

/* Strict message number: decimal digits only, no sign, no spaces, no
 * leading '+', no overflow, 1..COUNT. Returns 0 with *N_R set (1-based), or
 * -1 with *ERROR_R a reply text for -ERR. */
int pop3_parse_msgnum(const char *s, size_t count, size_t *n_r,
                      const char **error_r);
/* Strict non-negative count (TOP's line count): digits only, no overflow;
 * values above LONG_MAX are clamped (more lines than any message has). */
int pop3_parse_count(const char *s, long *n_r, const char **error_r);

enum pop3_outcome {
    POP_OK,         /* +OK and the reply text */
    POP_ERR,        /* -ERR and the reply text */
    POP_BAD,        /* -ERR, and counts towards dropping the client */
    POP_QUIET,      /* the handler wrote everything itself */
    POP_LEAVE,      /* +OK, then end the session */
};

typedef enum pop3_outcome (*pop3_handler)(struct session *s,
                                          struct pop3_cmd *cmd);

struct pop3_command {
    const char *verb;
    size_t min_args, max_args;
    pop3_handler handler;
};

/* NULL-verb-terminated tables, one per state. */
extern const struct pop3_command pop3_auth_commands[];
extern const struct pop3_command pop3_trans_commands[];

/* CAPA, valid in every state (pop3_auth.c). */
enum pop3_outcome pop3_cmd_capa(struct session *s, struct pop3_cmd *cmd);

/* Whether a password may be sent in clear on this connection now
 * (USER/PASS, APOP, SASL PLAIN and LOGIN): the TLS policy of the listener
 * (pop3_auth.c). */
bool pop3_plaintext_auth_allowed(const struct session *s);

/* Find VERB in TABLE; NULL when it is not a command of that state. */
const struct pop3_command *pop3_find(const struct pop3_command *table,
                                     const char *verb);
/* True when VERB is a command of any state (for "not in this state"). */
bool pop3_known_verb(const char *verb);

#endif
