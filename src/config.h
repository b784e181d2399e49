/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.h: the parsed tpop3d.conf and its typed getters. Every directive
 * is declared once, in config_keys.def; nothing else names keys as
 * strings. */
#ifndef TPOP3D_CONFIG_H
#define TPOP3D_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum cfg_type {
    CFG_BOOL,       /* yes/no/true/false/on/off/1/0, case-insensitive */
    CFG_INT,        /* decimal integer within [min, max] */
    CFG_SECONDS,    /* non-negative decimal, fractions allowed, in [min, max] */
    CFG_STRING,     /* any text, may be empty */
    CFG_LIST,       /* whitespace-separated words */
    CFG_FACILITY,   /* syslog facility name: mail, daemon, local0..7, ... */
    CFG_ADDRLIST,   /* listen addresses, checked by listenaddr_parse() */
};

enum cfg_key {
#define CFG_KEY(id, name, type, def, min, max, group, help) CFG_##id,
#include "config_keys.def"
#undef CFG_KEY
    CFG__COUNT
};

struct cfg_def {
    const char *name;
    enum cfg_type type;
    const char *def;        /* default as text, NULL: unset */
    double min, max;
    const char *group;      /* "core" or a driver name */
    const char *help;
};

/* The table, indexed by enum cfg_key. */
extern const struct cfg_def cfg_defs[CFG__COUNT];

struct cfg_value {
    char *text;             /* NULL when neither set nor defaulted */
    bool set;               /* given in the file */
    unsigned line;          /* where it was given (0 for defaults) */
    union {
        bool b;
        long long i;
        double d;
        int facility;
    } v;
};

struct config {
    char *path;             /* file name used in messages */
    struct cfg_value values[CFG__COUNT];
    char **warnings;        /* "file:line: ..." texts for the caller to log */
    size_t nwarnings;
};

/* Parse the file at PATH. On success returns a config with every default
 * filled in and warnings collected (unknown directives, repeated ones). On
 * error returns NULL and sets *ERROR_R to an allocated "file:line: reason"
 * (free it). A malformed value is an error, never a silent default. */
struct config *config_load(const char *path, char **error_r);
/* The same on a buffer; NAME is used in messages. */
struct config *config_parse(const char *text, size_t len, const char *name,
                            char **error_r);
void config_free(struct config **cfg);

/* Look a directive up by name; returns CFG__COUNT when unknown. */
enum cfg_key config_key_by_name(const char *name);

/* Typed getters. Calling one on a directive of another type aborts. */
bool cfg_bool(const struct config *cfg, enum cfg_key key);
long long cfg_int(const struct config *cfg, enum cfg_key key);
double cfg_seconds(const struct config *cfg, enum cfg_key key);
int cfg_facility(const struct config *cfg, enum cfg_key key);
/* Text of a STRING, LIST or ADDRLIST directive; NULL when unset with no
 * default. The pointer lives as long as CFG. */
const char *cfg_str(const struct config *cfg, enum cfg_key key);
bool cfg_is_set(const struct config *cfg, enum cfg_key key);
/* "file:line" of a directive, or "file (default)" for defaults, for later error
 * messages (say, an address that fails to bind). Static buffer-free:
 * written into BUF of SIZE bytes, which is returned. */
const char *cfg_where(const struct config *cfg, enum cfg_key key,
                      char *buf, size_t size);

/* "file:line: name: MSG" for an error in directive KEY (MSG is freed).
 * Allocated. For drivers checking their directives. */
char *cfg_error(const struct config *cfg, enum cfg_key key, char *msg);

/* Split S at whitespace into a NULL-terminated array of allocated words;
 * *N_R gets the count. Free with config_free_words(). */
char **config_split_words(const char *s, size_t *n_r);
void config_free_words(char **words);

/* Syslog facility by name ("mail", "local3", ...); -1 when unknown. */
int config_facility_by_name(const char *name);

#endif
