/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c: command line, start-up and hand-over to the listener. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"
#include "config.h"
#include "daemon.h"
#include "listenaddr.h"
#include "listener.h"
#include "log.h"
#include "mailbox.h"
#include "onlogin.h"
#include "privsep.h"
#include "tls.h"

#define DEFAULT_CONFIG SYSCONFDIR "/tpop3d.conf"

static void usage(FILE *f)
{
    fprintf(f,
"tpop3d " PACKAGE_VERSION ": a small, fast, secure POP3 server\n"
"\n"
"usage: tpop3d [-h] [-f file] [-p pidfile] [-d] [-v] [-t] [-P]\n"
"  -h          print this help and the compiled-in drivers\n"
"  -f file     configuration file (default " DEFAULT_CONFIG ")\n"
"  -p pidfile  write the daemon's pid to this file\n"
"  -d          stay in the foreground and log to standard error as well\n"
"  -v          log the POP3 dialogue (never passwords or message bodies)\n"
"  -t          check the configuration file (and TLS certificates) and exit\n"
"  -P          ask on the terminal for the pass phrase of the TLS keys\n"
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

/* -P: read the pass phrase of encrypted TLS keys from the terminal, with
 * echo off. Returns 0, or -1 when there is no terminal or no answer. */
static int ask_passphrase(void)
{
    char buf[1024];
    struct termios old, quiet;
    bool restore = false;
    FILE *tty = fopen("/dev/tty", "r+");
    size_t len;
    int r = -1;

    if (!tty) {
        fprintf(stderr, "tpop3d: -P: no terminal to ask for the pass phrase on\n");
        return -1;
    }
    if (tcgetattr(fileno(tty), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        restore = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
    }
    fputs("TLS key pass phrase: ", tty);
    fflush(tty);
    if (fgets(buf, sizeof buf, tty)) {
        len = strcspn(buf, "\r\n");
        buf[len] = '\0';
        tls_set_passphrase(buf);
        r = 0;
    }
    if (restore)
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputs("\n", tty);
    explicit_bzero(buf, sizeof buf);
    fclose(tty);
    return r;
}

/* -t: every certificate and key of the listen-address directive loads,
 * is valid now and belongs together; the TLS directives make sense. */
static int check_tls(const struct config *cfg)
{
    const char *spec = cfg_str(cfg, CFG_LISTEN_ADDRESS);
    char where[512], *error = NULL, **words;
    size_t n;
    int r = 0;

    if (tls_check_config(cfg, &error) < 0) {
        fprintf(stderr, "tpop3d: %s\n", error);
        free(error);
        return -1;
    }
    cfg_where(cfg, CFG_LISTEN_ADDRESS, where, sizeof where);
    words = config_split_words(spec ? spec : "", &n);
    for (size_t i = 0; i < n; i++) {
        struct listen_addr la;
        struct tls_server *srv;
        const char *err;

        if (listenaddr_parse(words[i], &la, &err) < 0) {
            fprintf(stderr, "tpop3d: %s: listen-address %s: %s\n", where,
                    words[i], err);
            r = -1;
            continue;
        }
        if (la.tls != LISTEN_TLS_NONE) {
            srv = tls_server_new(cfg, la.cert, la.key, &error);
            if (!srv) {
                fprintf(stderr, "tpop3d: %s: listen-address %s: %s\n", where,
                        words[i], error);
                free(error);
                error = NULL;
                r = -1;
            }
            tls_server_unref(&srv);
        }
        listenaddr_free(&la);
    }
    config_free_words(words);
    return r;
}

int main(int argc, char **argv)
{
    const char *cfg_path = DEFAULT_CONFIG, *pidfile = NULL, *err;
    bool foreground = false, verbose = false, check_only = false;
    bool ask_phrase = false;
    struct config *cfg;
    char *error = NULL;
    int opt, status;

    while ((opt = getopt(argc, argv, "hf:p:dvtP")) != -1) {
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
        case 'P':
            ask_phrase = true;
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
    if (ask_phrase && ask_passphrase() < 0) {
        config_free(&cfg);
        return 1;
    }

    if (check_only) {
        /* Drivers check their own directives (users, groups, files). */
        if (auth_init(cfg, &error) < 0 || onlogin_check_config(cfg, &error) < 0) {
            fprintf(stderr, "tpop3d: %s\n", error);
            free(error);
            config_free(&cfg);
            return 1;
        }
        auth_close();
        if (check_tls(cfg) < 0) {
            config_free(&cfg);
            return 1;
        }
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
        config_free(&cfg);
        return 1;
    }
    if (onlogin_check_config(cfg, &error) < 0 || auth_init(cfg, &error) < 0) {
        log_errx("%s", error);
        free(error);
        config_free(&cfg);
        return 1;
    }
    crypto_preload();
    if (listener_open(cfg) < 0) {
        log_errx("could not open every listen-address; exiting");
        config_free(&cfg);
        return 1;
    }
    if (!foreground && daemon_detach() < 0)
        fatal("cannot detach");
    if (pidfile && pidfile_write(pidfile, &err) < 0) {
        log_errx("pidfile %s: %s", pidfile, err);
        config_free(&cfg);
        return 1;
    }
    log_info("tpop3d %s started", PACKAGE_VERSION);
    daemon_ready();
    status = listener_loop(&cfg, cfg_path, pidfile, verbose);
    config_free(&cfg);
    return status;
}
