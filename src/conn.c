/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conn.c: a client connection: bounded line reader and buffered writer over
 * a transport vtable, with the idle timeout on every wait. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "limits.h"
#include "xalloc.h"

static ssize_t plain_read(struct conn *c, void *buf, size_t len)
{
    return read(c->fd, buf, len);
}

static ssize_t plain_write(struct conn *c, const void *buf, size_t len)
{
    return send(c->fd, buf, len, MSG_NOSIGNAL);
}

static void plain_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

volatile sig_atomic_t conn_interrupted;

const struct conn_io conn_io_plain = {
    .name = "plain",
    .read = plain_read,
    .write = plain_write,
    .close = plain_close,
};

static void conn_addr_text(const struct sockaddr_storage *sa, socklen_t len,
                           char *host, size_t hostsize, unsigned *port)
{
    char serv[16];

    if (getnameinfo((const struct sockaddr *)sa, len, host, hostsize,
                    serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(host, hostsize, "unknown");
        *port = 0;
        return;
    }
    /* An IPv4 client on an IPv6 socket shows as ::ffff:a.b.c.d; logs,
     * limits and drivers want the plain IPv4 form. */
    if (strncmp(host, "::ffff:", 7) == 0 && strchr(host + 7, '.'))
        memmove(host, host + 7, strlen(host + 7) + 1);
    *port = (unsigned)strtoul(serv, NULL, 10);
}

int conn_init(struct conn *c, int fd, const char *domain, int timeout_ms)
{
    socklen_t len;
    int one = 1, flags;

    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->io = &conn_io_plain;
    c->domain = domain;
    c->timeout_ms = timeout_ms;

    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    /* Replies must never wait on Nagle and delayed ACKs: every reply is
     * written whole in one buffer, so small segments are not a cost. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    len = sizeof c->client_sa;
    if (getpeername(fd, (struct sockaddr *)&c->client_sa, &len) == 0)
        conn_addr_text(&c->client_sa, len, c->clienthost,
                       sizeof c->clienthost, &c->clientport);
    else
        snprintf(c->clienthost, sizeof c->clienthost, "unknown");
    len = sizeof c->server_sa;
    if (getsockname(fd, (struct sockaddr *)&c->server_sa, &len) == 0)
        conn_addr_text(&c->server_sa, len, c->serverhost,
                       sizeof c->serverhost, &c->serverport);
    else
        snprintf(c->serverhost, sizeof c->serverhost, "unknown");

    c->in = xmalloc(CONN_INBUF_SIZE);
    c->out = xmalloc(CONN_OUTBUF_SIZE);
    return 0;
}

void conn_discard_input(struct conn *c)
{
    c->in_start = c->in_end = 0;
    c->in_discarding = false;
}

bool conn_client_is_loopback(const struct conn *c)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->client_sa;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&c->client_sa;

    switch (c->client_sa.ss_family) {
    case AF_INET:
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    case AF_INET6:
        if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
            sin6->sin6_addr.s6_addr[12] == 127;
    default:
        return false;
    }
}

void conn_close(struct conn *c)
{
    if (c->io && c->io->close)
        c->io->close(c);
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
}

/* Wait until FD is ready for EVENTS; 0 ready, -1 timeout or error. */
static int conn_wait(struct conn *c, short events)
{
    struct pollfd pfd = { .fd = c->fd, .events = events };
    int r;

    do {
        if (conn_interrupted) {
            errno = EINTR;
            return -1;
        }
        r = poll(&pfd, 1, c->timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        c->timed_out = true;
        errno = ETIMEDOUT;
        return -1;
    }
    return r < 0 ? -1 : 0;
}

/* Write LEN bytes unbuffered, waiting as needed. */
static int conn_write_raw(struct conn *c, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n;

        c->io_wait = 0;
        n = c->io->write(c, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (conn_wait(c, c->io_wait ? c->io_wait : POLLOUT) < 0)
                    goto fail;
                continue;
            }
            goto fail;
        }
        p += n;
        len -= (size_t)n;
        c->bytes_out += (uint64_t)n;
    }
    return 0;
fail:
    c->failed = true;
    return -1;
}

int conn_flush(struct conn *c)
{
    int r;

    if (c->failed)
        return -1;
    if (c->out_len == 0)
        return 0;
    r = conn_write_raw(c, c->out, c->out_len);
    c->out_len = 0;
    return r;
}

int conn_write(struct conn *c, const void *data, size_t len)
{
    const char *p = data;

    if (c->failed)
        return -1;
    if (len > CONN_OUTBUF_SIZE - c->out_len) {
        if (conn_flush(c) < 0)
            return -1;
        /* Large blocks go straight out instead of through the buffer. */
        if (len >= CONN_OUTBUF_SIZE)
            return conn_write_raw(c, p, len);
    }
    memcpy(c->out + c->out_len, p, len);
    c->out_len += len;
    return 0;
}

int conn_puts(struct conn *c, const char *s)
{
    return conn_write(c, s, strlen(s));
}

int conn_printf(struct conn *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;     /* replies are short; truncate, never overflow */
    return conn_write(c, buf, (size_t)n);
}

char *conn_get_space(struct conn *c, size_t min, size_t *avail_r)
{
    if (c->failed || min > CONN_OUTBUF_SIZE)
        return NULL;
    if (CONN_OUTBUF_SIZE - c->out_len < min && conn_flush(c) < 0)
        return NULL;
    *avail_r = CONN_OUTBUF_SIZE - c->out_len;
    return c->out + c->out_len;
}

void conn_commit_space(struct conn *c, size_t n)
{
    c->out_len += n;
}

bool conn_line_pending(const struct conn *c)
{
    return c->in_end > c->in_start &&
        memchr(c->in + c->in_start, '\n', c->in_end - c->in_start) != NULL;
}

/* Read more input into the buffer; 1 got data, 0 EOF, -1 error/timeout. */
static int conn_fill(struct conn *c)
{
    if (c->in_start > 0) {
        memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
        c->in_end -= c->in_start;
        c->in_start = 0;
    }
    for (;;) {
        size_t want = CONN_INBUF_SIZE - c->in_end;
        ssize_t n;

        /* A read that came back short emptied the socket, and a client
         * that waits for each reply has not sent its next command while we
         * answered this one: wait first instead of reading only to hear
         * EAGAIN. Input the transport already holds is read at once. */
        if (c->in_drained && !(c->io->pending && c->io->pending(c))) {
            c->in_drained = false;
            if (conn_wait(c, POLLIN) < 0)
                break;
        }
        c->in_drained = false;
        c->io_wait = 0;
        n = c->io->read(c, c->in + c->in_end, want);
        if (n > 0) {
            c->in_drained = (size_t)n < want;
            c->in_end += (size_t)n;
            c->bytes_in += (uint64_t)n;
            return 1;
        }
        if (n == 0) {
            c->eof = true;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (conn_wait(c, c->io_wait ? c->io_wait : POLLIN) < 0)
                break;
            continue;
        }
        break;
    }
    c->failed = true;
    return -1;
}

enum conn_line conn_read_line(struct conn *c, size_t max, char **line_r,
                              size_t *len_r)
{
    for (;;) {
        char *start = c->in + c->in_start;
        size_t avail = c->in_end - c->in_start;
        char *lf = memchr(start, '\n', avail);

        if (lf) {
            size_t len = (size_t)(lf - start);
            bool was_discarding = c->in_discarding;

            c->in_start += len + 1;
            c->in_discarding = false;
            if (len > 0 && start[len - 1] == '\r')
                len--;
            if (was_discarding || len > max)
                return CONN_LINE_TOOLONG;
            if (memchr(start, '\0', len))
                return CONN_LINE_NUL;
            start[len] = 0;
            *line_r = start;
            *len_r = len;
            return CONN_LINE_OK;
        }
        if (avail > max + 1) {
            /* Over-long line: drop what we have, keep discarding to LF.
             * Keep a trailing CR? Not needed: the line is refused anyway. */
            c->in_discarding = true;
            c->in_start = c->in_end = 0;
        }
        /* Before waiting, let the replies to what was read go out. */
        if (conn_flush(c) < 0)
            return CONN_LINE_ERROR;
        switch (conn_fill(c)) {
        case 1:
            break;
        case 0:
            return CONN_LINE_EOF;
        default:
            return c->timed_out ? CONN_LINE_TIMEOUT : CONN_LINE_ERROR;
        }
    }
}
