/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tls.h: TLS for POP3S and STLS with OpenSSL: server contexts, built by
 * the listener as root before it forks, and the TLS transport of one
 * connection, which lives in the session process behind conn_io_tls. */
#ifndef TPOP3D_TLS_H
#define TPOP3D_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "conn.h"
#include "listenaddr.h"

/* One certificate and key with the protocol policy of the configuration
 * (an OpenSSL SSL_CTX). Shared, with a reference count, by every listener
 * naming the same files; inherited by the session children, so TLS
 * session tickets issued by one child are accepted by the next. */
struct tls_server;

/* Who may send a password before TLS (tls-required-for-auth). */
enum tls_auth_policy {
    TLS_AUTH_ANY,               /* "no": everywhere (the default) */
    TLS_AUTH_TLS_ONLY,          /* "yes": only over TLS */
    TLS_AUTH_EXCEPT_LOOPBACK,   /* "except-loopback": over TLS, or from
                                 * 127.0.0.0/8 or ::1 */
};

/* Check the TLS directives of CFG (protocols, cipher lists, the
 * tls-required-for-auth value). Returns 0, or -1 with *ERROR_R an
 * allocated "file:line: name: reason". Loads no file. */
int tls_check_config(const struct config *cfg, char **error_r);

/* The tls-required-for-auth policy of CFG (checked by tls_check_config;
 * an unknown value reads as the strictest). */
enum tls_auth_policy tls_auth_policy(const struct config *cfg);

/* The pass phrase for encrypted keys (-P), kept until
 * tls_forget_passphrase(); NULL: keys must not be encrypted. Copied. */
void tls_set_passphrase(const char *phrase);
/* Wipe the pass phrase (session children never load keys). */
void tls_forget_passphrase(void);

/* Build a context from CERT (a PEM certificate, optionally followed by
 * its chain) and KEY (a PEM private key) with the policy of CFG. The files
 * are read now, by the caller (root). Fails when a file cannot be read or
 * parsed, the certificate is expired or not yet valid, or the key does not
 * belong to the certificate. Returns a server with one reference, or NULL
 * with *ERROR_R allocated (one line). */
struct tls_server *tls_server_new(const struct config *cfg, const char *cert,
                                  const char *key, char **error_r);
/* Another reference to SRV; returns SRV. */
struct tls_server *tls_server_ref(struct tls_server *srv);
/* Drop one reference; the server is freed with the last. *SRV becomes
 * NULL. NULL is ignored. */
void tls_server_unref(struct tls_server **srv);
/* The files SRV was built from. */
const char *tls_server_cert(const struct tls_server *srv);
const char *tls_server_key(const struct tls_server *srv);

/* Replace SRV's session-ticket keys with fresh random ones: tickets
 * issued before are no longer accepted (their clients make a full
 * handshake), sessions forked afterwards issue and accept only tickets
 * under the new keys. Restarts the tls-ticket-key-lifetime clock even on
 * failure (the old keys then stay). Does nothing when SRV issues no
 * tickets. Returns 0, or -1 with *ERROR_R allocated (one line). */
int tls_server_rotate_tickets(struct tls_server *srv, char **error_r);
/* Milliseconds until SRV's ticket keys are older than
 * tls-ticket-key-lifetime (0: due now), or -1 when SRV issues no
 * tickets. */
long long tls_server_ticket_due_ms(const struct tls_server *srv);

/* What the listener that accepted this process's connection offers: set
 * by the listener in the session child right after fork(), read once by
 * session_run(). SRV may be NULL (MODE is then LISTEN_TLS_NONE). */
void tls_set_listener_offer(struct tls_server *srv, enum listen_tls mode);
struct tls_server *tls_listener_offer(enum listen_tls *mode_r);

/* The server-side TLS handshake on C's socket, bounded by TIMEOUT_MS in
 * all (a trickling client gains nothing) and by conn_interrupted. Input
 * buffered in C must have been discarded by the caller. On success C's
 * transport is TLS (c->io == &conn_io_tls) and 0 is returned. On failure
 * returns -1 with a one-line reason in ERRBUF (no OpenSSL error is left
 * queued); C is then marked failed and only conn_close() is left to do. */
int tls_start(struct conn *c, struct tls_server *srv, int timeout_ms,
              char *errbuf, size_t errsize);

/* True when C's transport is TLS. */
bool tls_active(const struct conn *c);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" and ", resumed" when the session was
 * resumed from a ticket; written into BUF, which is returned. "" when TLS
 * is not active. */
const char *tls_describe(const struct conn *c, char *buf, size_t size);

#endif
