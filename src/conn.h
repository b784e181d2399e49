/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conn.h: one client connection: its addresses, a bounded line reader and a
 * buffered writer over a small I/O vtable (plain socket or TLS). */
#ifndef TPOP3D_CONN_H
#define TPOP3D_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>

struct conn;
struct tls_server;

/* Transport under the buffers. read/write return bytes moved, 0 for EOF on
 * read, or -1 with errno (EAGAIN when the descriptor would block; a
 * transport that must wait for the other direction first, as TLS may, sets
 * c->io_wait to the poll events it needs). pending, when set, says whether
 * the transport holds input of its own (TLS records read ahead or
 * decrypted) that polling the descriptor would not show: whoever polls
 * the descriptor for input must read first while it is true. */
struct conn_io {
    const char *name;
    ssize_t (*read)(struct conn *c, void *buf, size_t len);
    ssize_t (*write)(struct conn *c, const void *buf, size_t len);
    void (*close)(struct conn *c);
    bool (*pending)(const struct conn *c);
};

extern const struct conn_io conn_io_plain;
/* TLS over the socket (tls.c); installed by tls_start(). io_ctx is the
 * OpenSSL connection. */
extern const struct conn_io conn_io_tls;

/* Set from a signal handler (SIGTERM in a session): every wait of every
 * connection then fails at once, as if it had timed out, so the session
 * unwinds through its normal exits and releases its locks. */
extern volatile sig_atomic_t conn_interrupted;

#define CONN_HOSTLEN 64     /* INET6_ADDRSTRLEN (46) and a scope id */

struct conn {
    int fd;
    const struct conn_io *io;
    void *io_ctx;
    short io_wait;                  /* see struct conn_io; reset per call */

    /* What the accepting listener offers: its TLS context (NULL when it
     * has none) and whether STLS may start TLS (not on POP3S listeners,
     * where TLS is on from the start). */
    struct tls_server *tls_server;
    bool stls_offered;

    struct sockaddr_storage client_sa, server_sa;
    char clienthost[CONN_HOSTLEN];  /* numeric client address */
    char serverhost[CONN_HOSTLEN];  /* numeric local address */
    unsigned clientport, serverport;
    const char *domain;             /* the listener's (domain), or NULL */

    int timeout_ms;                 /* idle timeout of every read and write */

    char *in;                       /* CONN_INBUF_SIZE bytes */
    size_t in_start, in_end;        /* unread bytes are in[in_start..in_end) */
    bool in_discarding;             /* inside an over-long line */
    bool in_drained;                /* the last read emptied the socket */

    char *out;                      /* CONN_OUTBUF_SIZE bytes */
    size_t out_len;

    uint64_t bytes_in, bytes_out;
    bool eof;                       /* the client closed its side */
    bool failed;                    /* a read or write failed or timed out */
    bool timed_out;
};

/* Set C up for connected socket FD (made non-blocking, TCP_NODELAY set),
 * filling in both addresses from the socket. Returns 0 or -1. */
int conn_init(struct conn *c, int fd, const char *domain, int timeout_ms);
/* Flush nothing; close the transport and free the buffers. */
void conn_close(struct conn *c);

/* Drop every byte received but not yet read as a line: after STLS, what
 * the client sent before the TLS handshake must never be taken for
 * commands sent inside it. */
void conn_discard_input(struct conn *c);

/* True when the client's address is a loopback one (127.0.0.0/8, ::1, or
 * 127.0.0.0/8 mapped into IPv6). */
bool conn_client_is_loopback(const struct conn *c);

enum conn_line {
    CONN_LINE_OK,       /* *line_r is a NUL-terminated line without CRLF/LF */
    CONN_LINE_TOOLONG,  /* a line over the limit was read and discarded */
    CONN_LINE_NUL,      /* the line contained a NUL byte (discarded) */
    CONN_LINE_EOF,      /* the client closed the connection */
    CONN_LINE_TIMEOUT,  /* nothing arrived within timeout_ms */
    CONN_LINE_ERROR,    /* read error */
};

/* Read one line of at most MAX bytes (excluding CRLF; MAX < CONN_INBUF_SIZE).
 * The line stays valid until the next call. Flushes pending output before
 * it waits for input, so replies to pipelined commands go out together. */
enum conn_line conn_read_line(struct conn *c, size_t max, char **line_r,
                              size_t *len_r);
/* True when a complete line is already buffered. */
bool conn_line_pending(const struct conn *c);

/* Buffered writes; the buffer is flushed when full. Return 0, or -1 once
 * the connection has failed (later writes keep failing). */
int conn_write(struct conn *c, const void *data, size_t len);
int conn_puts(struct conn *c, const char *s);
int conn_printf(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Space in the output buffer for the caller to fill directly: returns a
 * pointer to at least MIN free bytes (flushing first if needed; MIN must be
 * <= CONN_OUTBUF_SIZE), or NULL on failure. Commit what was written with
 * conn_commit_space(). For the message writer, which rewrites line endings
 * straight into the buffer. */
char *conn_get_space(struct conn *c, size_t min, size_t *avail_r);
void conn_commit_space(struct conn *c, size_t n);
/* Write out everything buffered. 0 or -1. */
int conn_flush(struct conn *c);

#endif
