/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c: command line, start-up and hand-over to the listener. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"
#include "config.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "mailbox.h"
#include "privsep.h"

#define DEFAULT_CONFIG SYSCONFDIR "/tpop3d.conf"

static void usage(FILE *f)
{
    fprintf(f,
"tpop3d " PACKAGE_VERSION ": a small, fast, secure POP3 server\n"
"\n"
"usage: tpop3d [-h] [-f file] [-p pidfile] [-d] [-v] [-t]\n"
"  -h          print this help and the compiled-in drivers\n"
"  -f file     configuration file (default " DEFAULT_CONFIG ")\n"
"  -p pidfile  write the daemon's pid to this file\n"
"  -d          stay in the foreground and log to standard error as well\n"
"  -v          log the POP3 dialogue (never passwords or message bodies)\n"
"  -t          check the configuration file and exit\n"
"\n"
"Authentication drivers:\n");
    for (size_t i = 0; auth_drivers[i]; i++)
        fprintf(f, "  %-10s %s%s\n", auth_drivers[i]->name,
                auth_drivers[i]->description ? auth_drivers[i]->description : "",
                auth_drivers[i]->compiled ? "" : " (not compiled in)");
    fprintf(f, "Mailbox drivers:\n");
    for (size_t i = 0; mailbox_drivers[i]; i++)
        fprintf(f, "  %s%s\n", mailbox_drivers[i]->name,
                mailbox_drivers[i]->compiled ? "" : " (not compiled in)");
}

/* Initialise OpenSSL and look up every digest we use once, here, so that
 * session children inherit it ready: done in each child instead, reading
 * openssl.cnf and setting up the providers cost about half of a whole
 * session's instructions. */
static void crypto_preload(void)
{
    static const char *const names[] = { "MD5", "SHA1", "SHA256", "SHA512" };

    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        EVP_MD *md = EVP_MD_fetch(NULL, names[i], NULL);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned len;

        /* One real digest each, so lazily built tables exist too. */
        if (md && ctx && EVP_DigestInit_ex(ctx, md, NULL))
            EVP_DigestFinal_ex(ctx, out, &len);
        EVP_MD_CTX_free(ctx);
        EVP_MD_free(md);
    }
}

int main(int argc, char **argv)
{
    const char *cfg_path = DEFAULT_CONFIG, *pidfile = NULL, *err;
    bool foreground = false, verbose = false, check_only = false;
    struct config *cfg;
    char *error = NULL;
    int opt, status;

    while ((opt = getopt(argc, argv, "hf:p:dvt")) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            return 0;
        case 'f':
            cfg_path = optarg;
            break;
        case 'p':
            pidfile = optarg;
            break;
        case 'd':
            foreground = true;
            break;
        case 'v':
            verbose = true;
            break;
        case 't':
            check_only = true;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    log_init("tpop3d", LOG_MAIL, true);
    cfg = config_load(cfg_path, &error);
    if (!cfg) {
        fprintf(stderr, "tpop3d: %s\n", error);
        if (!check_only)
            syslog(LOG_ERR, "%s", error);
        free(error);
        return 1;
    }
    for (size_t i = 0; i < cfg->nwarnings; i++)
        fprintf(stderr, "tpop3d: warning: %s\n", cfg->warnings[i]);

    if (check_only) {
        /* Drivers check their own directives (users, groups, files). */
        if (auth_init(cfg, &error) < 0) {
            fprintf(stderr, "tpop3d: %s\n", error);
            free(error);
            config_free(&cfg);
            return 1;
        }
        auth_close();
        if (privsep_configure(cfg, &error) < 0) {
            fprintf(stderr, "tpop3d: %s\n", error);
            free(error);
            config_free(&cfg);
            return 1;
        }
        fprintf(stderr, "tpop3d: configuration %s OK\n", cfg_path);
        config_free(&cfg);
        return 0;
    }

    foreground = foreground || cfg_bool(cfg, CFG_NO_DETACH);
    log_init("tpop3d", cfg_facility(cfg, CFG_LOG_FACILITY),
             foreground || cfg_bool(cfg, CFG_LOG_STDERR));
    if (getenv("TPOP3D_DEBUG"))
        log_set_debug(true);
    for (size_t i = 0; i < cfg->nwarnings; i++)
        syslog(LOG_WARNING, "%s", cfg->warnings[i]);

    /* Without root there is nothing to separate: sessions run as before. */
    if (geteuid() == 0 && privsep_configure(cfg, &error) < 0) {
        log_errx("%s", error);
        free(error);
        return 1;
    }
    if (auth_init(cfg, &error) < 0) {
        log_errx("%s", error);
        free(error);
        return 1;
    }
    crypto_preload();
    if (listener_open(cfg) < 0) {
        log_errx("could not open every listen-address; exiting");
        return 1;
    }
    if (!foreground && daemon_detach() < 0)
        fatal("cannot detach");
    if (pidfile && pidfile_write(pidfile, &err) < 0) {
        log_errx("pidfile %s: %s", pidfile, err);
        return 1;
    }
    log_info("tpop3d %s started", PACKAGE_VERSION);
    daemon_ready();
    status = listener_loop(&cfg, cfg_path, pidfile, verbose);
    config_free(&cfg);
    return status;
}
