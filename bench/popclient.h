/* SPDX-License-Identifier: GPL-2.0-or-later */
/* popclient.h: what the benchmark client's POP3 part and its TLS part
 * (popclient_tls.c) share. */
#ifndef POPCLIENT_H
#define POPCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* OpenSSL's connection type, named here so that only popclient_tls.c
 * needs the OpenSSL headers. */
struct ssl_st;

struct opts {
    const char *host;
    int port;
    const char *user;
    const char *pass;
    const char *user_prefix;    /* sessions: users PREFIX<base+worker> */
    int user_base;
    int depth;          /* RETRs in flight */
    double bound;           /* seconds before no new work starts */
    int io_timeout_ms;      /* per read or write */
    int workers;
    unsigned long count;
    int spread;         /* one source address per session */
    int tls;            /* implicit TLS: handshake right after connect */
    int resume;         /* sessions: offer the last session ticket again */
    const char *suites;     /* TLS 1.3 cipher suites offered */
};

struct conn {
    int fd;
    struct ssl_st *ssl;     /* NULL without TLS */
    int offered;            /* a kept session was offered for resumption */
    char *buf;
    size_t pos, len;
    uint64_t wire;          /* octets received */
    int timeout_ms;
    char err[256];
};

/* Print "popclient: " and the message to stderr and exit(3). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Set C's error text, which the run prints as error="...". */
void set_err(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Wait up to C's timeout until its socket is ready for EVENTS (poll(2)
 * events). 0 when it is; -1 with C's error set on timeout or failure. */
int wait_fd(struct conn *c, short events);

/* ---- popclient_tls.c ---------------------------------------------------- */

/* Make this process's client context: TLS 1.3 only, offering SUITES, no
 * certificate verification. Exits through die() when OpenSSL refuses. */
void tls_setup(const char *suites);

/* With O's implicit TLS on, the whole handshake on C's connected
 * non-blocking socket; with resumption on, the session kept from this
 * process's previous connection is offered (c->offered says so). Returns
 * 0 (at once without TLS), or -1 with C's error set. */
int tls_start(struct conn *c, const struct opts *o);

/* Whether C's handshake resumed a session. */
int tls_resumed(const struct conn *c);

/* Receive at most LEN (> 0) bytes into BUF over C's TLS connection,
 * waiting as needed. Returns the count (> 0), or -1 with C's error set
 * (the server closed the connection, or TLS failed). */
ssize_t tls_recv(struct conn *c, char *buf, size_t len);

/* Send at most LEN (> 0) bytes from DATA over C's TLS connection,
 * waiting as needed. Returns how many were sent (> 0), or -1 with C's
 * error set. */
ssize_t tls_send(struct conn *c, const char *data, size_t len);

/* End C's TLS connection: keep its session for the next handshake when
 * resumable, send close_notify, free it; c->ssl becomes NULL. */
void tls_end(struct conn *c);

/* What this process's first handshake negotiated, as
 * "tls_version=... tls_cipher=... tls_group=...", or "" before one. */
const char *tls_negotiated(void);

#endif
