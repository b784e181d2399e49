/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep_relay.c: the end of the pre-login phase: the client handed back
 * to the monitor after a login, or relayed when its transport cannot move,
 * and the monitor's side of both. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"
#include "privsep_msg.h"
#include "privsep_private.h"
#include "session.h"

/* -- the pre-login process ---------------------------------------------------- */

/* Move bytes between the client (through its transport, TLS included) and
 * the monitor until either side is done. Every round drains what each side
 * has (a transport may hold decrypted bytes the socket no longer shows)
 * before it polls. A side is read only when poll said so (or its transport
 * holds input), and not again after a short read: a client that waits for
 * each reply would otherwise cost a read that only says EAGAIN on each side
 * for every command. */
static void relay_run(struct session *s)
{
    static unsigned char up[16 * 1024], down[64 * 1024];
    struct conn *c = &s->conn;
    int ch = s->privsep->chan;
    size_t up_len = 0, d_off = 0, d_len = 0;
    bool c_eof = false, ch_eof = false, ch_shut = false;
    bool c_ready = true, ch_ready = true;

    fcntl(ch, F_SETFL, fcntl(ch, F_GETFL) | O_NONBLOCK);
    for (;;) {
        struct pollfd pfd[2];
        ssize_t n;
        int r;

        if (conn_interrupted)
            break;
        while (!c_eof && up_len < sizeof up &&
               (c_ready || (c->io->pending && c->io->pending(c)))) {
            size_t want = sizeof up - up_len;

            n = c->io->read(c, up + up_len, want);
            if (n > 0) {
                up_len += (size_t)n;
                c_ready = (size_t)n == want;
            } else if (n == 0) {
                c_eof = true;
            } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                goto out;
            } else if (errno != EINTR) {
                /* SSL_has_pending is also true for part of a record; its
                 * rest can only come from the socket, so poll for it. */
                c_ready = false;
                break;
            }
        }
        while (up_len > 0) {
            n = send(ch, up, up_len, MSG_NOSIGNAL);
            if (n > 0) {
                memmove(up, up + n, up_len - (size_t)n);
                up_len -= (size_t)n;
            } else if (errno != EINTR && errno != EAGAIN) {
                goto out;
            } else if (errno != EINTR) {
                break;
            }
        }
        if (c_eof && up_len == 0 && !ch_shut) {
            shutdown(ch, SHUT_WR);
            ch_shut = true;
        }
        for (;;) {
            if (d_len == 0 && !ch_eof && ch_ready) {
                n = read(ch, down, sizeof down);
                if (n > 0) {
                    d_off = 0;
                    d_len = (size_t)n;
                    ch_ready = (size_t)n == sizeof down;
                } else if (n == 0) {
                    ch_eof = true;
                } else if (errno == EINTR) {
                    continue;
                } else if (errno != EAGAIN) {
                    goto out;
                } else {
                    ch_ready = false;
                }
            }
            if (d_len == 0)
                break;
            n = c->io->write(c, down + d_off, d_len);
            if (n > 0) {
                d_off += (size_t)n;
                d_len -= (size_t)n;
                c->bytes_out += (uint64_t)n;
            } else if (errno == EINTR) {
                continue;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            } else {
                goto out;
            }
        }
        if (ch_eof && d_len == 0)
            break;
        pfd[0].fd = c->fd;
        pfd[0].events = (short)((!c_eof && up_len < sizeof up ? POLLIN : 0) |
                                (d_len ? POLLOUT : 0));
        if (!pfd[0].events)
            pfd[0].fd = -1;
        pfd[1].fd = ch;
        pfd[1].events = (short)((d_len == 0 && !ch_eof ? POLLIN : 0) |
                                (up_len ? POLLOUT : 0));
        /* A closed channel reports POLLHUP whatever we ask: leave it out
         * while only the client's side can move. */
        if (!pfd[1].events)
            pfd[1].fd = -1;
        r = poll(pfd, 2, c->timeout_ms);
        /* Silence is the monitor's to time out; a stalled write is ours. */
        if (r == 0 && (d_len || up_len))
            break;
        if (r < 0 && errno != EINTR)
            break;
        if (r < 0) {
            c_ready = ch_ready = true;
            continue;
        }
        c_ready = pfd[0].fd >= 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR));
        ch_ready = pfd[1].fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR));
    }
out:
    c->io->close(c);
    close(ch);
}

/* Login succeeded: replies written so far go out first, then the client
 * goes back to the monitor with the bytes read beyond the login command,
 * or stays here behind a relay when its transport cannot move. */
void privsep_handoff(struct session *s)
{
    static struct privsep_msg m;
    struct conn *c = &s->conn;
    size_t left = c->in_end - c->in_start;
    bool relay = cfg_bool(s->cfg, CFG_PRIVSEP_RELAY) || c->io != &conn_io_plain;

    conn_flush(c);
    m.type = relay ? PRIVSEP_MSG_RELAY : PRIVSEP_MSG_HANDOFF;
    /* The input buffer is CONN_INBUF_SIZE bytes, the data field as well. */
    m.datalen = left < sizeof m.data ? left : sizeof m.data;
    memcpy(m.data, c->in + c->in_start, m.datalen);
    c->in_start = c->in_end = 0;
    if (privsep_send(s->privsep->chan, &m, relay ? -1 : c->fd) < 0)
        _exit(1);
    explicit_bzero(m.data, m.datalen);
    if (relay)
        relay_run(s);
    _exit(0);
}

void privsep_login_complete(struct session *s)
{
    privsep_handoff(s);
}

/* -- the monitor -------------------------------------------------------------- */

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
                      const struct sockaddr_storage *b)
{
    return alen <= sizeof *b && memcmp(a, b, alen) == 0;
}

/* Whether FD is a TCP socket of the connection C was set up for: the
 * monitor takes back only the client it handed out. */
bool privsep_same_connection(const struct conn *c, int fd)
{
    struct sockaddr_storage sa;
    socklen_t len;
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
        return false;
    memset(&sa, 0, sizeof sa);
    len = sizeof sa;
    if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0 ||
        !same_addr(&sa, len, &c->client_sa))
        return false;
    memset(&sa, 0, sizeof sa);
    len = sizeof sa;
    return getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
        same_addr(&sa, len, &c->server_sa);
}

int privsep_client_fd(const struct session *s)
{
    const struct privsep *ps = s->privsep;

    if (!ps || ps->prelogin)
        return -1;
    return ps->relay ? ps->chan : s->conn.fd;
}

int privsep_take_client(struct session *s)
{
    static struct privsep_msg m;
    struct privsep *ps = s->privsep;
    struct conn *c = &s->conn;

    if (!ps)
        return 0;
    if (geteuid() == 0 || getuid() == 0) {
        /* The privilege drop failed: root reads nothing of the client's. */
        privsep_reap(ps);
        return -1;
    }
    if (privsep_recv_body(ps, ps->relay ? PRIVSEP_MSG_RELAY : PRIVSEP_MSG_HANDOFF,
                 ps->pending_len, &m) < 0) {
        log_errx("privsep: bad handoff for %s", s->auth.user);
        return -1;
    }
    /* The data field and the input buffer are both CONN_INBUF_SIZE. */
    memcpy(c->in, m.data, m.datalen);
    c->in_start = 0;
    c->in_end = m.datalen;
    if (ps->relay) {
        c->fd = ps->chan;
        c->io = &conn_io_plain;
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    } else {
        close(ps->chan);
    }
    ps->chan = -1;
    return 0;
}

void privsep_finish(struct session *s)
{
    struct privsep *ps = s->privsep;
    int status = 0;

    if (!ps)
        return;
    if (ps->chan >= 0)
        close(ps->chan);
    /* A relay ends when it has written out what the session sent, which
     * is bounded by its own timeout; we cannot signal it (it is not ours
     * any more), so wait a little, then leave it to init. */
    if (ps->pid > 0 && privsep_wait_exit(ps->pid, PRIVSEP_REAP_MS, &status) &&
        WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
        log_errx("privsep: pre-login process for %s killed by the "
                 "system-call filter", ps->client);
    free(ps);
    s->privsep = NULL;
}
