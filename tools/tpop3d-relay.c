/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tpop3d-relay.c: list, expire and export the relay grants (for cron). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "relay.h"

#define DEFAULT_CONFIG SYSCONFDIR "/tpop3d.conf"

static void usage(FILE *f)
{
    fprintf(f,
"tpop3d-relay " PACKAGE_VERSION ": tpop3d's POP-before-SMTP relay grants\n"
"\n"
"usage: tpop3d-relay [-h] [-v] [-f file] list|expire|export\n"
"  -h          print this help\n"
"  -v          say what was done\n"
"  -f file     configuration file (default " DEFAULT_CONFIG ")\n"
"  list        print each live grant: address, user, grant time (UTC)\n"
"  expire      remove the expired grants from the database\n"
"  export      expire, rewrite relay-grant-export, run its command\n");
}

static bool syslog_on;

/* Errors go to stderr, for cron's mail, and to syslog beside the
 * daemon's. */
static void __attribute__((format(printf, 1, 2))) complain(const char *fmt, ...)
{
    va_list ap;

    fputs("tpop3d-relay: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (syslog_on) {
        va_start(ap, fmt);
        vsyslog(LOG_ERR, fmt, ap);
        va_end(ap);
    }
}

static int do_list(const struct config *cfg, time_t now)
{
    struct relay_entry *e;
    char *error = NULL;
    size_t n;

    if (relay_list(cfg, now, &e, &n, &error) < 0) {
        complain("%s", error);
        free(error);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        char stamp[32];
        struct tm tm;

        if (!gmtime_r(&e[i].time, &tm)
            || strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            snprintf(stamp, sizeof stamp, "%lld", (long long)e[i].time);
        /* The user went through the same filter as the export's %u. */
        for (char *u = e[i].user; *u; u++)
            if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f)
                *u = '?';
        printf("%s %s %s\n", e[i].addr, e[i].user, stamp);
    }
    relay_entries_free(&e, n);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        complain("cannot write the list");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *cfg_path = DEFAULT_CONFIG, *cmd;
    bool verbose = false;
    struct config *cfg;
    char *error = NULL;
    time_t now;
    int opt, status = 0;

    while ((opt = getopt(argc, argv, "hvf:")) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            return 0;
        case 'v':
            verbose = true;
            break;
        case 'f':
            cfg_path = optarg;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    cmd = argv[optind];
    if (strcmp(cmd, "list") != 0 && strcmp(cmd, "expire") != 0
        && strcmp(cmd, "export") != 0) {
        fprintf(stderr, "tpop3d-relay: unknown command '%.40s'\n", cmd);
        usage(stderr);
        return 2;
    }

    cfg = config_load(cfg_path, &error);
    if (!cfg) {
        complain("%s", error);
        free(error);
        return 1;
    }
    for (size_t i = 0; i < cfg->nwarnings; i++)
        fprintf(stderr, "tpop3d-relay: warning: %s\n", cfg->warnings[i]);
    log_init("tpop3d-relay", cfg_facility(cfg, CFG_LOG_FACILITY), false);
    syslog_on = true;

    if (!relay_available()) {
        complain("relay grants are not available: built without GDBM "
                 "(configure --enable-auth-gdbm)");
        config_free(&cfg);
        return 1;
    }
    if (relay_check_config(cfg, &error) < 0) {
        complain("%s", error);
        free(error);
        config_free(&cfg);
        return 1;
    }

    now = time(NULL);
    if (strcmp(cmd, "list") == 0) {
        status = do_list(cfg, now);
    } else if (strcmp(cmd, "expire") == 0) {
        size_t removed;

        if (relay_expire(cfg, now, &removed, &error) < 0) {
            complain("%s", error);
            status = 1;
        } else if (verbose) {
            printf("%zu expired grant%s removed\n", removed, removed == 1 ? "" : "s");
        }
    } else {
        if (relay_export(cfg, now, &error) < 0) {
            complain("export: %s", error);
            status = 1;
        } else if (verbose) {
            printf("%s written\n", cfg_str(cfg, CFG_RELAY_GRANT_EXPORT));
        }
    }
    free(error);
    config_free(&cfg);
    return status;
}
