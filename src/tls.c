/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tls.c: TLS for POP3S and STLS with OpenSSL: server contexts and the TLS
 * transport of a connection. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conn.h"
#include "tls.h"
#include "xalloc.h"

struct tls_server {
    SSL_CTX *ctx;
    char *cert, *key;
    unsigned refs;
    double ticket_lifetime;     /* seconds; 0: no tickets */
    struct timespec keys_born;  /* CLOCK_MONOTONIC: ticket keys made */
};

/* OpenSSL's ticket key block: a 16-byte name, a 32-byte HMAC key and a
 * 32-byte AES key. */
#define TICKET_KEYS_LEN 80

static char *passphrase;
static bool passphrase_wanted;     /* an encrypted key asked for one */

static struct tls_server *offer_srv;
static enum listen_tls offer_mode;

/* ---- configuration ---------------------------------------------------- */

static const struct {
    const char *name;
    int version;
} protocols[] = {
    { "TLSv1", TLS1_VERSION },
    { "TLSv1.1", TLS1_1_VERSION },
    { "TLSv1.2", TLS1_2_VERSION },
    { "TLSv1.3", TLS1_3_VERSION },
};
#define NPROTOCOLS (sizeof protocols / sizeof protocols[0])

/* The versions listed in tls-protocols as a range: min and max. SSLv2 and
 * SSLv3 cannot be named at all. A gap ("TLSv1 TLSv1.3") is refused: OpenSSL
 * negotiates a range, and a hole in it only confuses clients. */
static int parse_protocols(const char *text, int *min_r, int *max_r,
                           char **error_r)
{
    bool want[NPROTOCOLS] = { false };
    char **words;
    size_t n, lo = NPROTOCOLS, hi = 0;
    int r = -1;

    words = config_split_words(text ? text : "", &n);
    if (n == 0) {
        *error_r = xstrdup("no protocol given: expected TLSv1.2 and/or TLSv1.3");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t k;

        for (k = 0; k < NPROTOCOLS; k++)
            if (strcmp(words[i], protocols[k].name) == 0)
                break;
        if (k == NPROTOCOLS) {
            *error_r = xasprintf("unknown protocol \"%s\": expected TLSv1, "
                                 "TLSv1.1, TLSv1.2 or TLSv1.3", words[i]);
            goto out;
        }
        want[k] = true;
        if (k < lo)
            lo = k;
        if (k > hi)
            hi = k;
    }
    for (size_t k = lo; k <= hi; k++) {
        if (!want[k]) {
            *error_r = xasprintf("the protocols must be a range without gaps "
                                 "(%s is missing)", protocols[k].name);
            goto out;
        }
    }
    *min_r = protocols[lo].version;
    *max_r = protocols[hi].version;
    r = 0;
out:
    config_free_words(words);
    return r;
}

/* The reason of the last queued OpenSSL error, queue cleared. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();
    return reason ? reason : "unknown error";
}

static const char *const policy_names[] = {
    [TLS_AUTH_ANY] = "no",
    [TLS_AUTH_TLS_ONLY] = "yes",
    [TLS_AUTH_EXCEPT_LOOPBACK] = "except-loopback",
};

static int parse_policy(const char *text, enum tls_auth_policy *p_r)
{
    static const char *const no[] = { "no", "false", "off", "0" };
    static const char *const yes[] = { "yes", "true", "on", "1" };

    if (!text)
        text = policy_names[TLS_AUTH_ANY];
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        if (strcasecmp(text, no[i]) == 0) {
            *p_r = TLS_AUTH_ANY;
            return 0;
        }
        if (strcasecmp(text, yes[i]) == 0) {
            *p_r = TLS_AUTH_TLS_ONLY;
            return 0;
        }
    }
    if (strcasecmp(text, policy_names[TLS_AUTH_EXCEPT_LOOPBACK]) == 0) {
        *p_r = TLS_AUTH_EXCEPT_LOOPBACK;
        return 0;
    }
    return -1;
}

enum tls_auth_policy tls_auth_policy(const struct config *cfg)
{
    enum tls_auth_policy p;

    if (parse_policy(cfg_str(cfg, CFG_TLS_REQUIRED_FOR_AUTH), &p) < 0)
        return TLS_AUTH_TLS_ONLY;
    return p;
}

/* Apply the protocol and cipher directives of CFG to CTX. On failure,
 * *ERROR_R is allocated and *KEY_R names the directive at fault. */
static int apply_policy(SSL_CTX *ctx, const struct config *cfg,
                        enum cfg_key *key_r, char **error_r)
{
    const char *ciphers = cfg_str(cfg, CFG_TLS_CIPHERS);
    const char *suites = cfg_str(cfg, CFG_TLS_CIPHERSUITES);
    uint64_t opts;
    int min, max;

    *key_r = CFG_TLS_PROTOCOLS;
    if (parse_protocols(cfg_str(cfg, CFG_TLS_PROTOCOLS), &min, &max,
                        error_r) < 0)
        return -1;
    if (!SSL_CTX_set_min_proto_version(ctx, min) ||
        !SSL_CTX_set_max_proto_version(ctx, max)) {
        *error_r = xasprintf("not supported by this OpenSSL: %s", ssl_reason());
        return -1;
    }
    *key_r = CFG_TLS_CIPHERS;
    if (!SSL_CTX_set_cipher_list(ctx, ciphers ? ciphers : "")) {
        *error_r = xasprintf("no usable cipher in \"%s\" (%s)",
                             ciphers ? ciphers : "", ssl_reason());
        return -1;
    }
    *key_r = CFG_TLS_CIPHERSUITES;
    if (!SSL_CTX_set_ciphersuites(ctx, suites ? suites : "")) {
        *error_r = xasprintf("no usable TLS 1.3 suite in \"%s\" (%s)",
                             suites ? suites : "", ssl_reason());
        return -1;
    }
    /* OpenSSL takes an empty list (no TLS 1.3 suite at all), which only
     * makes sense without TLSv1.3. */
    if (max >= TLS1_3_VERSION && (!suites || !*suites)) {
        *error_r = xstrdup("empty, but tls-protocols includes TLSv1.3");
        return -1;
    }

    /* Forward secrecy and AEAD come from the cipher lists; these close the
     * rest: no compression (CRIME), no renegotiation of any kind (the
     * client-initiated kind is a cheap CPU attack), the server's order of
     * preference (with ChaCha20 first for clients that prefer it: those
     * without AES instructions), and a client that hangs up without
     * close_notify is an ordinary end: POP3 frames its own data. */
    opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
        SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
        SSL_OP_IGNORE_UNEXPECTED_EOF;
    if (!cfg_bool(cfg, CFG_TLS_NO_BUG_WORKAROUNDS))
        opts |= SSL_OP_ALL;
    if (cfg_bool(cfg, CFG_TLS_KERNEL_OFFLOAD))
        opts |= SSL_OP_ENABLE_KTLS;
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET | SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
    SSL_CTX_set_options(ctx, opts);
    /* DHE parameters sized to the certificate's key (RFC 7919 groups). */
    SSL_CTX_set_dh_auto(ctx, 1);
    /* The socket is non-blocking and conn.c hands SSL_write a whole
     * output buffer (many records): let it return after each record it
     * could send, so that the caller can wait and go on from there. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    /* Read what the socket has in one call instead of a record header and
     * then its body: half the reads for every command. Every reader of a
     * TLS connection reads until EAGAIN or asks conn_io.pending before it
     * polls, so records held here are never forgotten. Kernel TLS reads
     * records itself and OpenSSL turns it off for reading ahead. */
    if (!cfg_bool(cfg, CFG_TLS_KERNEL_OFFLOAD))
        SSL_CTX_set_read_ahead(ctx, 1);
    return 0;
}

int tls_check_config(const struct config *cfg, char **error_r)
{
    enum tls_auth_policy p;
    enum cfg_key key;
    SSL_CTX *ctx;
    char *msg = NULL;
    int r;

    if (parse_policy(cfg_str(cfg, CFG_TLS_REQUIRED_FOR_AUTH), &p) < 0) {
        *error_r = cfg_error(cfg, CFG_TLS_REQUIRED_FOR_AUTH,
                             xstrdup("expected no, yes or except-loopback"));
        return -1;
    }
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        *error_r = xasprintf("TLS: cannot create a context: %s", ssl_reason());
        return -1;
    }
    r = apply_policy(ctx, cfg, &key, &msg);
    SSL_CTX_free(ctx);
    if (r < 0)
        *error_r = cfg_error(cfg, key, msg);
    return r;
}

/* ---- pass phrase ------------------------------------------------------ */

void tls_set_passphrase(const char *phrase)
{
    tls_forget_passphrase();
    passphrase = phrase ? xstrdup(phrase) : NULL;
}

void tls_forget_passphrase(void)
{
    if (passphrase) {
        explicit_bzero(passphrase, strlen(passphrase));
        free(passphrase);
        passphrase = NULL;
    }
}

static int passphrase_cb(char *buf, int size, int rwflag, void *data)
{
    size_t len;

    (void)rwflag;
    (void)data;
    passphrase_wanted = true;
    if (!passphrase || size <= 0)
        return -1;
    len = strlen(passphrase);
    if (len > (size_t)size)
        return -1;
    memcpy(buf, passphrase, len);   /* OpenSSL wants no NUL: len <= size */
    return (int)len;
}

/* ---- server contexts -------------------------------------------------- */

/* ALPN (RFC 7301): a client that names its protocol must name POP3, or a
 * TLS connection meant for another service (HTTP, SMTP...) could be
 * redirected here and be answered (the ALPACA attacks). Clients that
 * send no ALPN are not asked about (OpenSSL does not call this). */
static int alpn_select(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *data)
{
    static const char pop3[] = "pop3";
    unsigned int i = 0;

    (void)ssl;
    (void)data;
    while (i < inlen) {
        unsigned int len = in[i++];

        if (len > inlen - i)
            break;
        if (len == sizeof pop3 - 1 && memcmp(in + i, pop3, len) == 0) {
            *out = in + i;
            *outlen = (unsigned char)len;
            return SSL_TLSEXT_ERR_OK;
        }
        i += len;
    }
    /* Ends the handshake with the no_application_protocol alert. */
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static void set_ticket_clock(struct tls_server *srv)
{
    clock_gettime(CLOCK_MONOTONIC, &srv->keys_born);
}

int tls_server_rotate_tickets(struct tls_server *srv, char **error_r)
{
    unsigned char keys[TICKET_KEYS_LEN];
    int r = 0;

    set_ticket_clock(srv);
    if (srv->ticket_lifetime <= 0)
        return 0;
    ERR_clear_error();
    if (RAND_priv_bytes(keys, sizeof keys) != 1 ||
        SSL_CTX_set_tlsext_ticket_keys(srv->ctx, keys, sizeof keys) != 1) {
        *error_r = xasprintf("%s: cannot make new session ticket keys: %s",
                             srv->cert, ssl_reason());
        r = -1;
    }
    OPENSSL_cleanse(keys, sizeof keys);
    return r;
}

long long tls_server_ticket_due_ms(const struct tls_server *srv)
{
    struct timespec now;
    double age;

    if (srv->ticket_lifetime <= 0)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    age = (double)(now.tv_sec - srv->keys_born.tv_sec) +
        (double)(now.tv_nsec - srv->keys_born.tv_nsec) / 1e9;
    if (age >= srv->ticket_lifetime)
        return 0;
    /* Rounded up, so that a wake-up on time finds the keys due. */
    return (long long)((srv->ticket_lifetime - age) * 1000.0) + 1;
}

/* Readable by us now? Gives the errno text OpenSSL would bury. */
static int check_readable(const char *what, const char *path, char **error_r)
{
    FILE *f = fopen(path, "r");

    if (!f) {
        *error_r = xasprintf("%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

struct tls_server *tls_server_new(const struct config *cfg, const char *cert,
                                  const char *key, char **error_r)
{
    static const unsigned char sid_ctx[] = "tpop3d";
    struct tls_server *srv;
    enum cfg_key dummy;
    SSL_CTX *ctx;
    X509 *x;
    char *msg = NULL;

    if (check_readable("certificate", cert, error_r) < 0 ||
        check_readable("key", key, error_r) < 0)
        return NULL;
    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        *error_r = xasprintf("cannot create a TLS context: %s", ssl_reason());
        return NULL;
    }
    if (apply_policy(ctx, cfg, &dummy, &msg) < 0) {
        *error_r = xasprintf("TLS settings: %s", msg);
        free(msg);
        goto fail;
    }
    /* Tickets are stateless: every child, forked from the one context,
     * holds the same ticket keys, so a client resumes in any child. The
     * listener replaces the keys every tls-ticket-key-lifetime, so that
     * no session process holds keys valid for long; 0 turns tickets off
     * (no ticket is issued, none is accepted). */
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    if (cfg_seconds(cfg, CFG_TLS_TICKET_KEY_LIFETIME) <= 0) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
        /* Nor resumption by session ID: a session process serves one
         * connection, so its cache could never be of use anyway. */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);

    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        *error_r = xasprintf("certificate %s: %s", cert, ssl_reason());
        goto fail;
    }
    x = SSL_CTX_get0_certificate(ctx);
    if (!x) {
        *error_r = xasprintf("certificate %s: no certificate found", cert);
        goto fail;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
        *error_r = xasprintf("certificate %s has expired", cert);
        goto fail;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
        *error_r = xasprintf("certificate %s is not valid yet", cert);
        goto fail;
    }
    passphrase_wanted = false;
    SSL_CTX_set_default_passwd_cb(ctx, passphrase_cb);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        if (passphrase_wanted && !passphrase) {
            ERR_clear_error();
            *error_r = xasprintf("key %s is encrypted: start tpop3d with -P "
                                 "to give its pass phrase", key);
        } else if (ERR_GET_LIB(ERR_peek_last_error()) == ERR_LIB_X509 &&
                   ERR_GET_REASON(ERR_peek_last_error()) ==
                   X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            *error_r = xasprintf("key %s does not match certificate %s", key,
                                 cert);
        } else if (passphrase_wanted) {
            *error_r = xasprintf("key %s: wrong pass phrase? (%s)", key,
                                 ssl_reason());
        } else {
            *error_r = xasprintf("key %s: %s", key, ssl_reason());
        }
        goto fail;
    }
    /* The callback is for loading only; sessions never need it. */
    SSL_CTX_set_default_passwd_cb(ctx, NULL);
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        *error_r = xasprintf("key %s does not match certificate %s", key,
                             cert);
        goto fail;
    }
    ERR_clear_error();

    srv = xcalloc(1, sizeof *srv);
    srv->ctx = ctx;
    srv->cert = xstrdup(cert);
    srv->key = xstrdup(key);
    srv->refs = 1;
    srv->ticket_lifetime = cfg_seconds(cfg, CFG_TLS_TICKET_KEY_LIFETIME);
    set_ticket_clock(srv);
    return srv;
fail:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}

struct tls_server *tls_server_ref(struct tls_server *srv)
{
    srv->refs++;
    return srv;
}

void tls_server_unref(struct tls_server **srvp)
{
    struct tls_server *srv = *srvp;

    *srvp = NULL;
    if (!srv || --srv->refs > 0)
        return;
    SSL_CTX_free(srv->ctx);
    free(srv->cert);
    free(srv->key);
    free(srv);
}

const char *tls_server_cert(const struct tls_server *srv)
{
    return srv->cert;
}

const char *tls_server_key(const struct tls_server *srv)
{
    return srv->key;
}

void tls_set_listener_offer(struct tls_server *srv, enum listen_tls mode)
{
    offer_srv = srv;
    offer_mode = srv ? mode : LISTEN_TLS_NONE;
}

struct tls_server *tls_listener_offer(enum listen_tls *mode_r)
{
    *mode_r = offer_mode;
    return offer_srv;
}

/* ---- the transport ---------------------------------------------------- */

/* Map a failed SSL_read/SSL_write to the conn_io convention. */
static ssize_t io_error(struct conn *c, SSL *ssl, int r, bool reading)
{
    int saved = errno;
    int e = SSL_get_error(ssl, r);

    switch (e) {
    case SSL_ERROR_WANT_READ:
        c->io_wait = POLLIN;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        c->io_wait = POLLOUT;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        if (reading)
            return 0;
        errno = EPIPE;
        return -1;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (saved == 0 && reading)
            return 0;
        errno = saved ? saved : EPIPE;
        return -1;
    default:
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

static ssize_t tls_read(struct conn *c, void *buf, size_t len)
{
    SSL *ssl = c->io_ctx;
    size_t n = 0;
    int r;

    ERR_clear_error();
    errno = 0;
    r = SSL_read_ex(ssl, buf, len, &n);
    if (r == 1)
        return (ssize_t)n;
    return io_error(c, ssl, r, true);
}

static ssize_t tls_write(struct conn *c, const void *buf, size_t len)
{
    SSL *ssl = c->io_ctx;
    size_t n = 0;
    int r;

    ERR_clear_error();
    errno = 0;
    r = SSL_write_ex(ssl, buf, len, &n);
    if (r == 1)
        return (ssize_t)n;
    return io_error(c, ssl, r, false);
}

static void tls_close(struct conn *c)
{
    SSL *ssl = c->io_ctx;

    if (ssl) {
        /* One try at close_notify; a client that is gone or slow does not
         * get to hold the session open. */
        if (!c->failed) {
            ERR_clear_error();
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ERR_clear_error();
        c->io_ctx = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* With read-ahead OpenSSL may hold whole records the socket no longer
 * shows; SSL_has_pending covers those and decrypted bytes not yet read. */
static bool tls_pending(const struct conn *c)
{
    return c->io_ctx && SSL_has_pending(c->io_ctx);
}

const struct conn_io conn_io_tls = {
    .name = "tls",
    .read = tls_read,
    .write = tls_write,
    .close = tls_close,
    .pending = tls_pending,
};

static long long ms_left(const struct timespec *deadline)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
        (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

int tls_start(struct conn *c, struct tls_server *srv, int timeout_ms,
              char *errbuf, size_t errsize)
{
    struct timespec deadline;
    SSL *ssl;

    ERR_clear_error();
    ssl = SSL_new(srv->ctx);
    if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
        snprintf(errbuf, errsize, "cannot set up TLS: %s", ssl_reason());
        SSL_free(ssl);
        c->failed = true;
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    for (;;) {
        struct pollfd pfd = { .fd = c->fd };
        long long left;
        int r, e;

        ERR_clear_error();
        errno = 0;
        r = SSL_accept(ssl);
        if (r == 1)
            break;
        e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            pfd.events = POLLIN;
        } else if (e == SSL_ERROR_WANT_WRITE) {
            pfd.events = POLLOUT;
        } else if (e == SSL_ERROR_ZERO_RETURN ||
                   (e == SSL_ERROR_SYSCALL && errno == 0)) {
            snprintf(errbuf, errsize, "client closed the connection during "
                     "the TLS handshake");
            goto fail;
        } else if (e == SSL_ERROR_SYSCALL) {
            snprintf(errbuf, errsize, "TLS handshake: %s", strerror(errno));
            goto fail;
        } else {
            snprintf(errbuf, errsize, "TLS handshake failed: %s", ssl_reason());
            goto fail;
        }
        do {
            if (conn_interrupted) {
                snprintf(errbuf, errsize, "TLS handshake interrupted");
                goto fail;
            }
            left = ms_left(&deadline);
            if (left <= 0) {
                snprintf(errbuf, errsize, "no TLS handshake within %d.%03d s",
                         timeout_ms / 1000, timeout_ms % 1000);
                goto fail;
            }
            r = poll(&pfd, 1, (int)left);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            snprintf(errbuf, errsize, "TLS handshake: poll: %s", strerror(errno));
            goto fail;
        }
    }
    ERR_clear_error();
    c->io = &conn_io_tls;
    c->io_ctx = ssl;
    return 0;
fail:
    ERR_clear_error();
    SSL_free(ssl);
    c->failed = true;
    return -1;
}

bool tls_active(const struct conn *c)
{
    return c->io == &conn_io_tls;
}

const char *tls_describe(const struct conn *c, char *buf, size_t size)
{
    SSL *ssl = c->io_ctx;

    if (!tls_active(c) || !ssl) {
        if (size)
            buf[0] = '\0';
        return buf;
    }
    snprintf(buf, size, "%s %s%s", SSL_get_version(ssl),
             SSL_get_cipher_name(ssl),
             SSL_session_reused(ssl) ? ", resumed" : "");
    return buf;
}
