/* SPDX-License-Identifier: GPL-2.0-or-later */
/* popclient_tls.c: the benchmark client's TLS: its context, the handshake,
 * reads and writes, and the session kept for resumption. */

#define _GNU_SOURCE

#include <limits.h>
#include <poll.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "popclient.h"

/* One context per process; the forked workers of the session test each
 * inherit their own copy, and keep their own session to resume. */
static SSL_CTX *tls_ctx;
static SSL_SESSION *tls_kept;
/* What the first handshake of this process negotiated, to be printed so
 * that rows compare like with like. */
static char tls_desc[160];

void tls_setup(const char *suites)
{
    /* Only TLS 1.3 and the given suites, so that every server is
     * measured with the same protocol and cipher. No verification:
     * the benchmark's certificate is self-signed and on loopback. */
    tls_ctx = SSL_CTX_new(TLS_client_method());
    if (!tls_ctx || !SSL_CTX_set_min_proto_version(tls_ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(tls_ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_ciphersuites(tls_ctx, suites))
        die("cannot set up TLS with cipher suites %s", suites);
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* A call on a non-blocking socket that OpenSSL wants repeated once the
 * socket is readable or writable: 1 after that wait, -1 when the wait
 * failed, 0 when ERROR (from SSL_get_error) is not such a case. */
static int tls_wait(struct conn *c, int error)
{
    switch (error) {
    case SSL_ERROR_WANT_READ:
        return wait_fd(c, POLLIN) < 0 ? -1 : 1;
    case SSL_ERROR_WANT_WRITE:
        return wait_fd(c, POLLOUT) < 0 ? -1 : 1;
    default:
        return 0;
    }
}

/* What the last failed read or write leaves to report. */
static const char *tls_failure(void)
{
    return ERR_peek_last_error() ? ERR_reason_error_string(ERR_peek_last_error()) :
        "connection closed";
}

int tls_start(struct conn *c, const struct opts *o)
{
    int r, w;

    if (!o->tls)
        return 0;
    c->ssl = SSL_new(tls_ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
        set_err(c, "SSL_new failed");
        return -1;
    }
    if (o->resume && tls_kept && SSL_SESSION_is_resumable(tls_kept))
        c->offered = SSL_set_session(c->ssl, tls_kept) == 1;
    for (;;) {
        ERR_clear_error();
        r = SSL_connect(c->ssl);
        if (r == 1)
            break;
        w = tls_wait(c, SSL_get_error(c->ssl, r));
        if (w < 0)
            return -1;
        if (w == 0) {
            set_err(c, "TLS handshake failed: %s",
                ERR_reason_error_string(ERR_peek_last_error()) ?
                ERR_reason_error_string(ERR_peek_last_error()) : "connection closed");
            return -1;
        }
    }
    if (!tls_desc[0]) {
        int nid = SSL_get_negotiated_group(c->ssl);
        const char *g = nid > 0 ? SSL_group_to_name(c->ssl, nid) : NULL;

        snprintf(tls_desc, sizeof(tls_desc), "tls_version=%s tls_cipher=%s tls_group=%s",
             SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl), g ? g : "?");
    }
    return 0;
}

int tls_resumed(const struct conn *c)
{
    return c->ssl && SSL_session_reused(c->ssl);
}

ssize_t tls_recv(struct conn *c, char *buf, size_t len)
{
    for (;;) {
        int r, e, w;

        ERR_clear_error();
        r = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
        if (r > 0)
            return r;
        e = SSL_get_error(c->ssl, r);
        w = tls_wait(c, e);
        if (w > 0)
            continue;
        if (w == 0 && e == SSL_ERROR_ZERO_RETURN)
            set_err(c, "server closed the connection");
        else if (w == 0)
            set_err(c, "TLS read failed: %s", tls_failure());
        return -1;
    }
}

ssize_t tls_send(struct conn *c, const char *data, size_t len)
{
    for (;;) {
        int r, w;

        ERR_clear_error();
        r = SSL_write(c->ssl, data, len > INT_MAX ? INT_MAX : (int)len);
        if (r > 0)
            return r;
        w = tls_wait(c, SSL_get_error(c->ssl, r));
        if (w > 0)
            continue;
        if (w == 0)
            set_err(c, "TLS write failed: %s", tls_failure());
        return -1;
    }
}

void tls_end(struct conn *c)
{
    SSL_SESSION *s;

    /* TLS 1.3 tickets arrive after the handshake; by the end of a
     * session they have been read. The newest one is kept, as a mail
     * client would. SSL_shutdown before SSL_free: a connection freed
     * without close_notify would mark its session as not resumable. */
    if (tls_ctx && (s = SSL_get1_session(c->ssl)) != NULL) {
        if (SSL_SESSION_is_resumable(s)) {
            if (tls_kept)
                SSL_SESSION_free(tls_kept);
            tls_kept = s;
        } else {
            SSL_SESSION_free(s);
        }
    }
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    c->ssl = NULL;
}

const char *tls_negotiated(void)
{
    return tls_desc;
}
