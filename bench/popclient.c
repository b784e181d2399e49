/* SPDX-License-Identifier: GPL-2.0-or-later */
/* popclient: the benchmark's POP3 client, lean enough that the server under
 * test, not the client, sets the pace; its TLS is in popclient_tls.c. */

#define _GNU_SOURCE

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "popclient.h"

/* Large enough that one recv() usually drains what the loopback queued. */
#define RECV_BUF (1024 * 1024)
/* No status line or UIDL/LIST line of a sane server comes near this. */
#define LINE_MAX_LEN 4096
/* RETR commands are sent in batches of at least this many once the
 * pipeline has room, so that pipelining costs the client few sends. */
#define REFILL_BATCH 8
/* Upper bounds that keep a broken server from making the client loop or
 * allocate without end. */
#define MAX_MESSAGES 10000000UL
#define MAX_WORKERS 256
#define MAX_SESSIONS_PER_WORKER 1000000UL

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("popclient: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(3);
}

void set_err(struct conn *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
}

static unsigned long parse_ulong(const char *s, unsigned long max, const char *what)
{
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9')
        die("%s: not a number: %s", what, s);
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        die("%s: out of range: %s", what, s);
    return v;
}

static double parse_seconds(const char *s, const char *what)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v > 0) || v > 86400)
        die("%s: not a number of seconds: %s", what, s);
    return v;
}

int wait_fd(struct conn *c, short events)
{
    struct pollfd p = { .fd = c->fd, .events = events };
    int r;

    do
        r = poll(&p, 1, c->timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
        set_err(c, "no data from the server for %d ms", c->timeout_ms);
        return -1;
    }
    if (r < 0) {
        set_err(c, "poll: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Connect to the server; with SRC, from that source address (the port is
 * chosen at connect time, so thousands of sources need no port each). */
static int tcp_open(struct conn *c, const struct opts *o, const struct in_addr *src)
{
    struct sockaddr_in sa;
    int one = 1;

    memset(c, 0, sizeof(*c));
    c->timeout_ms = o->io_timeout_ms;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
        set_err(c, "socket: %s", strerror(errno));
        return -1;
    }
    /* The client must never hold back a command: what is measured is
     * the server's reply time. */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (src) {
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr = *src;
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            set_err(c, "bind: %s", strerror(errno));
            goto out_close;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1) {
        set_err(c, "bad address %s", o->host);
        goto out_close;
    }
    /* Non-blocking, so that a server whose backlog is full costs at most
     * the timeout, not the kernel's minutes of SYN retries. */
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int soerr = 0;
        socklen_t len = sizeof(soerr);

        if (errno != EINPROGRESS) {
            set_err(c, "connect: %s", strerror(errno));
            goto out_close;
        }
        if (wait_fd(c, POLLOUT) < 0)
            goto out_close;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
            set_err(c, "connect: %s", strerror(soerr ? soerr : errno));
            goto out_close;
        }
    }
    c->buf = malloc(RECV_BUF);
    if (!c->buf) {
        set_err(c, "out of memory");
        goto out_close;
    }
    return 0;

out_close:
    close(c->fd);
    c->fd = -1;
    return -1;
}

static int conn_open(struct conn *c, const struct opts *o, const struct in_addr *src)
{
    if (tcp_open(c, o, src) < 0)
        return -1;
    return tls_start(c, o);
}

static void conn_close(struct conn *c)
{
    if (c->ssl)
        tls_end(c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
}

/* Receive more data. Unconsumed bytes are moved to the front first when
 * the buffer is full, so a partial line survives. */
static int fill(struct conn *c)
{
    ssize_t n;

    if (c->pos == c->len) {
        c->pos = 0;
        c->len = 0;
    } else if (c->len == RECV_BUF) {
        if (c->pos == 0) {
            set_err(c, "line longer than the receive buffer");
            return -1;
        }
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    for (;;) {
        if (c->ssl) {
            n = tls_recv(c, c->buf + c->len, RECV_BUF - c->len);
            if (n < 0)
                return -1;
            break;
        }
        n = recv(c->fd, c->buf + c->len, RECV_BUF - c->len, MSG_DONTWAIT);
        if (n > 0)
            break;
        if (n == 0) {
            set_err(c, "server closed the connection");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            set_err(c, "recv: %s", strerror(errno));
            return -1;
        }
        if (wait_fd(c, POLLIN) < 0)
            return -1;
    }
    c->len += (size_t)n;
    c->wire += (uint64_t)n;
    return 0;
}

static int send_all(struct conn *c, const char *data, size_t len)
{
    ssize_t n;

    while (len > 0) {
        if (c->ssl) {
            n = tls_send(c, data, len);
            if (n < 0)
                return -1;
            data += n;
            len -= (size_t)n;
            continue;
        }
        n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(c, POLLOUT) < 0)
                return -1;
            continue;
        }
        set_err(c, "send: %s", n < 0 ? strerror(errno) : "nothing sent");
        return -1;
    }
    return 0;
}

static int cmd(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cmd(struct conn *c, const char *fmt, ...)
{
    char line[LINE_MAX_LEN];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line) - 2) {
        set_err(c, "command too long");
        return -1;
    }
    line[n++] = '\r';
    line[n++] = '\n';
    return send_all(c, line, (size_t)n);
}

/* One line without its line end into OUT (cut to OUTSZ - 1 bytes). */
static int read_line(struct conn *c, char *out, size_t outsz)
{
    char *start, *nl;
    size_t n, len;

    for (;;) {
        start = c->buf + c->pos;
        nl = memchr(start, '\n', c->len - c->pos);
        if (nl)
            break;
        if (fill(c) < 0)
            return -1;
    }
    n = (size_t)(nl - start);
    len = n > 0 && start[n - 1] == '\r' ? n - 1 : n;
    if (len >= outsz)
        len = outsz - 1;
    memcpy(out, start, len);
    out[len] = '\0';
    c->pos += n + 1;
    return 0;
}

static int expect_ok(struct conn *c, const char *what, char *line, size_t linesz)
{
    if (read_line(c, line, linesz) < 0)
        return -1;
    if (strncmp(line, "+OK", 3) != 0) {
        set_err(c, "%s: %.120s", what, line);
        return -1;
    }
    return 0;
}

/* Consume the rest of a multi-line reply. *PAYLOAD gets the octets of the
 * message itself: the body with dot-stuffing undone, line ends included,
 * without the terminating line. Lines are found with memchr, so the cost
 * per byte stays far below the server's. */
static int read_body(struct conn *c, uint64_t *payload)
{
    enum { LINE_START, DOT, DOT_CR, MID } st = LINE_START;
    uint64_t got = 0;
    char *p, *end, *nl;

    for (;;) {
        if (c->pos == c->len && fill(c) < 0)
            return -1;
        p = c->buf + c->pos;
        end = c->buf + c->len;
        while (p < end) {
            switch (st) {
            case LINE_START:
                if (*p == '.') {
                    st = DOT;
                    p++;
                } else {
                    st = MID;
                }
                break;
            case DOT:
                if (*p == '\r') {
                    st = DOT_CR;
                    p++;
                } else {
                    st = MID;   /* a stuffed dot: not payload */
                }
                break;
            case DOT_CR:
                if (*p == '\n') {
                    c->pos = (size_t)(p + 1 - c->buf);
                    *payload = got;
                    return 0;
                }
                /* ".\r" inside a line: payload after all */
                got += 1;
                st = MID;
                break;
            case MID:
                nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl) {
                    got += (uint64_t)(end - p);
                    p = end;
                } else {
                    got += (uint64_t)(nl + 1 - p);
                    p = nl + 1;
                    st = LINE_START;
                }
                break;
            }
        }
        c->pos = c->len;
    }
}

/* The lines of a multi-line reply, one call of EACH per line. */
static int read_lines(struct conn *c, int (*each)(const char *line, void *arg), void *arg)
{
    char line[LINE_MAX_LEN];

    for (;;) {
        if (read_line(c, line, sizeof(line)) < 0)
            return -1;
        if (line[0] == '.' && line[1] == '\0')
            return 0;
        if (each(line, arg) < 0) {
            set_err(c, "bad line in a listing: %.120s", line);
            return -1;
        }
    }
}

static int login(struct conn *c, const char *user, const char *pass)
{
    char line[LINE_MAX_LEN];

    if (expect_ok(c, "greeting", line, sizeof(line)) < 0)
        return -1;
    if (cmd(c, "USER %s", user) < 0 || expect_ok(c, "USER", line, sizeof(line)) < 0)
        return -1;
    if (cmd(c, "PASS %s", pass) < 0 || expect_ok(c, "PASS", line, sizeof(line)) < 0)
        return -1;
    return 0;
}

static int pop_stat(struct conn *c, unsigned long *msgs, uint64_t *octets)
{
    char line[LINE_MAX_LEN];
    unsigned long long n, o;
    char *p, *e;

    if (cmd(c, "STAT") < 0 || expect_ok(c, "STAT", line, sizeof(line)) < 0)
        return -1;
    p = line + 3;
    while (*p == ' ')
        p++;
    errno = 0;
    n = strtoull(p, &e, 10);
    if (e == p || *e != ' ' || errno != 0 || n > MAX_MESSAGES)
        goto bad;
    p = e + 1;
    o = strtoull(p, &e, 10);
    if (e == p || errno != 0)
        goto bad;
    *msgs = (unsigned long)n;
    *octets = o;
    return 0;
bad:
    set_err(c, "STAT reply not understood: %.120s", line);
    return -1;
}

static int quit(struct conn *c)
{
    char line[LINE_MAX_LEN];

    if (cmd(c, "QUIT") < 0 || expect_ok(c, "QUIT", line, sizeof(line)) < 0)
        return -1;
    return 0;
}

struct listing {
    unsigned long n;    /* messages the STAT reply counted */
    unsigned long seen;
    uint64_t *sizes;    /* by message number; NULL for UIDL */
    uint64_t sum;
};

static int each_list(const char *line, void *arg)
{
    struct listing *l = arg;
    unsigned long long num, size;
    char *e;

    errno = 0;
    num = strtoull(line, &e, 10);
    if (e == line || *e != ' ' || errno != 0 || num == 0 || num > l->n)
        return -1;
    size = strtoull(e + 1, &e, 10);
    if (errno != 0)
        return -1;
    l->sizes[num] = size;
    l->sum += size;
    l->seen++;
    return 0;
}

static int each_uidl(const char *line, void *arg)
{
    struct listing *l = arg;
    unsigned long long num;
    char *e;

    errno = 0;
    num = strtoull(line, &e, 10);
    if (e == line || *e != ' ' || errno != 0 || num == 0 || num > l->n || e[1] == '\0')
        return -1;
    l->seen++;
    return 0;
}

/* CPU seconds this process has used: a client near the elapsed time is
 * the bottleneck, not the server (there is no TLS reference server). */
static double cpu_secs(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
        (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int run_download(const struct opts *o)
{
    struct conn c;
    char line[LINE_MAX_LEN];
    struct listing list = { 0 }, uidl = { 0 };
    unsigned long msgs = 0, next = 1, last, done = 0, outstanding = 0, mismatched = 0;
    uint64_t octets = 0, payload = 0, expected = 0, one;
    double t0, t_login, t_retr0, t_retr1, t_end, stop_at, cpu0;
    char cmds[REFILL_BATCH * 4 * 24];
    size_t cl;
    int complete, n;

    cpu0 = cpu_secs();
    t0 = now();
    if (conn_open(&c, o, NULL) < 0 || login(&c, o->user, o->pass) < 0)
        goto fail;
    t_login = now();
    if (pop_stat(&c, &msgs, &octets) < 0)
        goto fail;
    list.n = uidl.n = msgs;
    list.sizes = calloc(msgs + 1, sizeof(*list.sizes));
    if (!list.sizes)
        die("out of memory");
    if (cmd(&c, "UIDL") < 0 || expect_ok(&c, "UIDL", line, sizeof(line)) < 0 ||
        read_lines(&c, each_uidl, &uidl) < 0)
        goto fail;
    if (cmd(&c, "LIST") < 0 || expect_ok(&c, "LIST", line, sizeof(line)) < 0 ||
        read_lines(&c, each_list, &list) < 0)
        goto fail;
    if (uidl.seen != msgs || list.seen != msgs || list.sum != octets) {
        set_err(&c, "listings disagree: STAT %lu messages %llu octets, UIDL %lu lines, "
            "LIST %lu lines %llu octets", msgs, (unsigned long long)octets, uidl.seen,
            list.seen, (unsigned long long)list.sum);
        goto fail;
    }
    t_retr0 = now();
    stop_at = t0 + o->bound;
    last = msgs;
    while (done < last) {
        if (next <= last && now() > stop_at)
            last = next - 1;    /* out of time: finish what was asked */
        if (next <= last && (outstanding == 0 ||
            outstanding + (unsigned long)(o->depth < REFILL_BATCH ? 1 : REFILL_BATCH) <=
            (unsigned long)o->depth)) {
            cl = 0;
            while (next <= last && outstanding < (unsigned long)o->depth &&
                   cl + 24 < sizeof(cmds)) {
                n = snprintf(cmds + cl, sizeof(cmds) - cl, "RETR %lu\r\n", next);
                cl += (size_t)n;
                next++;
                outstanding++;
            }
            if (send_all(&c, cmds, cl) < 0)
                goto fail;
        }
        if (done >= last)
            break;
        if (expect_ok(&c, "RETR", line, sizeof(line)) < 0 || read_body(&c, &one) < 0)
            goto fail;
        done++;
        outstanding--;
        payload += one;
        expected += list.sizes[done];
        if (one != list.sizes[done] && mismatched++ == 0)
            fprintf(stderr, "popclient: message %lu: %llu octets received, LIST said %llu\n",
                done, (unsigned long long)one, (unsigned long long)list.sizes[done]);
    }
    t_retr1 = now();
    if (quit(&c) < 0)
        goto fail;
    t_end = now();
    complete = done == msgs;
    printf("ok=1 msgs=%lu octets=%llu fetched=%lu payload=%llu wire=%llu complete=%d "
           "verified=%d mismatched=%lu secs=%.6f login_ms=%.3f list_ms=%.3f retr_secs=%.6f "
           "client_cpu_secs=%.6f%s%s\n",
           msgs, (unsigned long long)octets, done, (unsigned long long)payload,
           (unsigned long long)c.wire, complete,
           mismatched == 0 && payload == expected && (!complete || payload == octets),
           mismatched, t_end - t0, (t_login - t0) * 1e3, (t_retr0 - t_login) * 1e3,
           t_retr1 - t_retr0, cpu_secs() - cpu0, tls_negotiated()[0] ? " " : "",
           tls_negotiated());
    free(list.sizes);
    conn_close(&c);
    return mismatched == 0 && payload == expected ? 0 : 2;

fail:
    printf("ok=0 error=\"%s\" fetched=%lu\n", c.err, done);
    free(list.sizes);
    conn_close(&c);
    return 1;
}

static int run_open(const struct opts *o)
{
    struct conn c;
    char line[LINE_MAX_LEN];
    unsigned long msgs;
    uint64_t octets;
    double t0, t1, t2;

    if (conn_open(&c, o, NULL) < 0 || expect_ok(&c, "greeting", line, sizeof(line)) < 0)
        goto fail;
    if (cmd(&c, "USER %s", o->user) < 0 || expect_ok(&c, "USER", line, sizeof(line)) < 0)
        goto fail;
    t0 = now();
    if (cmd(&c, "PASS %s", o->pass) < 0 || expect_ok(&c, "PASS", line, sizeof(line)) < 0)
        goto fail;
    t1 = now();
    if (pop_stat(&c, &msgs, &octets) < 0)
        goto fail;
    t2 = now();
    if (quit(&c) < 0)
        goto fail;
    printf("ok=1 msgs=%lu octets=%llu pass_ms=%.3f stat_ms=%.3f open_ms=%.3f\n", msgs,
           (unsigned long long)octets, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t2 - t0) * 1e3);
    conn_close(&c);
    return 0;
fail:
    printf("ok=0 error=\"%s\"\n", c.err);
    conn_close(&c);
    return 1;
}

static int discard_line(const char *line, void *arg)
{
    (void)line;
    (void)arg;
    return 0;
}

/* Log in, list everything, then wait for a line on standard input before
 * QUIT: the caller measures the server's session meanwhile. */
static int run_hold(const struct opts *o)
{
    struct conn c;
    char line[LINE_MAX_LEN];
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    unsigned long msgs;
    uint64_t octets;

    if (conn_open(&c, o, NULL) < 0 || login(&c, o->user, o->pass) < 0 ||
        pop_stat(&c, &msgs, &octets) < 0)
        goto fail;
    if (cmd(&c, "LIST") < 0 || expect_ok(&c, "LIST", line, sizeof(line)) < 0 ||
        read_lines(&c, discard_line, NULL) < 0)
        goto fail;
    if (cmd(&c, "UIDL") < 0 || expect_ok(&c, "UIDL", line, sizeof(line)) < 0 ||
        read_lines(&c, discard_line, NULL) < 0)
        goto fail;
    if (getsockname(c.fd, (struct sockaddr *)&sa, &salen) < 0)
        die("getsockname: %s", strerror(errno));
    printf("ready lport=%u msgs=%lu octets=%llu\n", ntohs(sa.sin_port), msgs,
           (unsigned long long)octets);
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin))
        line[0] = '\0';
    if (quit(&c) < 0)
        goto fail;
    printf("ok=1\n");
    conn_close(&c);
    return 0;
fail:
    printf("ok=0 error=\"%s\"\n", c.err);
    conn_close(&c);
    return 1;
}

/* DELE 1, then time QUIT: the server commits before it answers. */
static int run_commit(const struct opts *o)
{
    struct conn c;
    char line[LINE_MAX_LEN];
    unsigned long msgs;
    uint64_t octets;
    double t0, t1, t2;

    if (conn_open(&c, o, NULL) < 0 || login(&c, o->user, o->pass) < 0 ||
        pop_stat(&c, &msgs, &octets) < 0)
        goto fail;
    if (cmd(&c, "DELE 1") < 0 || expect_ok(&c, "DELE", line, sizeof(line)) < 0)
        goto fail;
    t0 = now();
    if (quit(&c) < 0)
        goto fail;
    t1 = now();
    /* The end of the connection shows the session has finished. */
    for (;;) {
        c.pos = c.len;
        if (fill(&c) < 0)
            break;
    }
    t2 = now();
    printf("ok=1 msgs=%lu octets=%llu quit_ms=%.3f close_ms=%.3f\n", msgs,
           (unsigned long long)octets, (t1 - t0) * 1e3, (t2 - t0) * 1e3);
    conn_close(&c);
    return 0;
fail:
    printf("ok=0 error=\"%s\"\n", c.err);
    conn_close(&c);
    return 1;
}

struct worker_result {
    unsigned long ok, errors;
    unsigned long resumed;  /* successful sessions whose handshake resumed */
    unsigned long offered;  /* successful sessions that offered a session */
    char first_error[160];
    char tls_desc[160];
    /* One per successful session: the session times in [0, count), the
     * login times (USER sent to the PASS reply) in [count, 2 * count). */
    uint32_t lat_us[];
};

static int one_session(const struct opts *o, const char *user, const struct in_addr *src,
               double *login_s, int *resumed, int *offered, char *err, size_t errsz)
{
    struct conn c;
    unsigned long msgs;
    uint64_t octets;
    double t0;
    int r = -1;

    if (tcp_open(&c, o, src) < 0)
        goto out;
    /* The handshake is part of the session's time. */
    t0 = now();
    if (tls_start(&c, o) < 0)
        goto out;
    *resumed = tls_resumed(&c);
    *offered = c.offered;
    if (login(&c, user, o->pass) < 0)
        goto out;
    *login_s = now() - t0;
    if (pop_stat(&c, &msgs, &octets) < 0 || quit(&c) < 0)
        goto out;
    r = 0;
out:
    if (r < 0)
        snprintf(err, errsz, "%s", c.err);
    conn_close(&c);
    return r;
}

static void worker(const struct opts *o, int w, struct worker_result *res, double stop_at)
{
    char user[256], err[256];
    struct in_addr src;
    unsigned long k = 0;
    double t0, login_s = 0;
    int resumed = 0, offered = 0;

    snprintf(user, sizeof(user), "%s%d", o->user_prefix, o->user_base + w);
    /* Failures are retried, but a server that refuses everything must
     * not keep the client spinning until the time bound. */
    while (res->ok < o->count && res->errors <= o->count + 100 && now() < stop_at) {
        /* 127.W.x.y: distinct source addresses, as from many hosts. */
        src.s_addr = htonl((127U << 24) | ((unsigned)(w + 1) << 16) |
                   ((unsigned)(1 + (k / 250) % 250) << 8) | (unsigned)(1 + k % 250));
        k++;
        t0 = now();
        if (one_session(o, user, o->spread ? &src : NULL, &login_s, &resumed, &offered,
                err, sizeof(err)) == 0) {
            res->resumed += (unsigned long)resumed;
            res->offered += (unsigned long)offered;
            res->lat_us[o->count + res->ok] = (uint32_t)(login_s * 1e6);
            res->lat_us[res->ok++] = (uint32_t)((now() - t0) * 1e6);
        } else if (res->errors++ == 0) {
            snprintf(res->first_error, sizeof(res->first_error), "%.150s", err);
        }
    }
    snprintf(res->tls_desc, sizeof(res->tls_desc), "%s", tls_negotiated());
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int run_sessions(const struct opts *o)
{
    size_t stride = sizeof(struct worker_result) + 2 * o->count * sizeof(uint32_t);
    struct worker_result *r;
    uint32_t *all, *logins;
    unsigned long total = 0, errors = 0, resumed = 0, offered = 0, i, at;
    const char *desc = "";
    char *area;
    double t0, t1;
    pid_t pid;
    int w, status, failed = 0;

    stride = (stride + 63) & ~(size_t)63;
    area = mmap(NULL, stride * (size_t)o->workers, PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    t0 = now();
    for (w = 0; w < o->workers; w++) {
        pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            worker(o, w, (struct worker_result *)(area + stride * (size_t)w), t0 + o->bound);
            _exit(0);
        }
    }
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
    t1 = now();
    for (w = 0; w < o->workers; w++) {
        r = (struct worker_result *)(area + stride * (size_t)w);
        total += r->ok;
        errors += r->errors;
        resumed += r->resumed;
        offered += r->offered;
        if (!desc[0] && r->tls_desc[0])
            desc = r->tls_desc;
    }
    all = malloc((total + 1) * sizeof(*all));
    logins = malloc((total + 1) * sizeof(*logins));
    if (!all || !logins)
        die("out of memory");
    at = 0;
    for (w = 0; w < o->workers; w++) {
        r = (struct worker_result *)(area + stride * (size_t)w);
        for (i = 0; i < r->ok; i++) {
            logins[at] = r->lat_us[o->count + i];
            all[at++] = r->lat_us[i];
        }
    }
    qsort(all, total, sizeof(*all), cmp_u32);
    qsort(logins, total, sizeof(*logins), cmp_u32);
    printf("ok=%d sessions=%lu errors=%lu secs=%.6f rate=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f",
           total > 0 && failed == 0, total, errors, t1 - t0, (double)total / (t1 - t0),
           total ? all[(total - 1) / 2] / 1e3 : 0.0,
           total ? all[(total * 99 + 99) / 100 - 1] / 1e3 : 0.0,
           total ? all[total - 1] / 1e3 : 0.0);
    printf(" login_p50_ms=%.3f login_p99_ms=%.3f login_max_ms=%.3f",
           total ? logins[(total - 1) / 2] / 1e3 : 0.0,
           total ? logins[(total * 99 + 99) / 100 - 1] / 1e3 : 0.0,
           total ? logins[total - 1] / 1e3 : 0.0);
    if (o->tls)
        printf(" %s tls_offered=%lu tls_resumed=%lu", desc, offered, resumed);
    for (w = 0; w < o->workers; w++) {
        r = (struct worker_result *)(area + stride * (size_t)w);
        if (r->errors) {
            printf(" error=\"%s\"", r->first_error);
            break;
        }
    }
    printf("\n");
    free(all);
    free(logins);
    munmap(area, stride * (size_t)o->workers);
    return total > 0 && failed == 0 ? 0 : 1;
}

static void usage(void)
{
    fputs("usage: popclient [-h host] -p port [options] MODE\n"
          "modes:\n"
          "  download  -u user -w pass [-d depth] [-t seconds]\n"
          "            login, STAT, UIDL, LIST, RETR every message, QUIT (no DELE);\n"
          "            depth RETRs in flight (1: wait for each reply)\n"
          "  open      -u user -w pass: time PASS to +OK, then STAT\n"
          "  hold      -u user -w pass: log in, STAT, LIST, UIDL, print \"ready\",\n"
          "            QUIT after a line on standard input\n"
          "  commit    -u user -w pass: DELE 1, time QUIT\n"
          "  sessions  -U prefix [-b base] -w pass -c clients -n count [-t seconds] [-S]\n"
          "            clients in parallel, each count sessions of login, STAT, QUIT as\n"
          "            user prefix<base+client>; -S: one 127/8 source address per session\n"
          "  -s          implicit TLS (POP3S): TLS 1.3 only, the server's certificate\n"
          "              is not verified; prints the negotiated version, cipher, group\n"
          "  -r          sessions over TLS: each client offers the session (ticket) of\n"
          "              its previous connection when the server gave a resumable one;\n"
          "              tls_offered= and tls_resumed= count the sessions that offered one\n"
          "              and those the server resumed\n"
          "  -C suites   TLS 1.3 cipher suites offered (default TLS_AES_128_GCM_SHA256)\n"
          "  -t seconds  no new RETR or session after this (default 600)\n"
          "  -T seconds  timeout of connect and of each read and write (default 120)\n", stderr);
    exit(3);
}

int main(int argc, char **argv)
{
    struct opts o = {
        .host = "127.0.0.1", .depth = 1, .bound = 600, .io_timeout_ms = 120000,
        .workers = 1, .count = 100, .user_base = 1, .suites = "TLS_AES_128_GCM_SHA256",
    };
    const char *mode;
    int ch;

    while ((ch = getopt(argc, argv, "h:p:u:w:U:b:d:t:T:c:n:SsrC:")) != -1) {
        switch (ch) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = (int)parse_ulong(optarg, 65535, "-p"); break;
        case 'u': o.user = optarg; break;
        case 'w': o.pass = optarg; break;
        case 'U': o.user_prefix = optarg; break;
        case 'b': o.user_base = (int)parse_ulong(optarg, 1000000, "-b"); break;
        case 'd': o.depth = (int)parse_ulong(optarg, 1024, "-d"); break;
        case 't': o.bound = parse_seconds(optarg, "-t"); break;
        case 'T': o.io_timeout_ms = (int)(parse_seconds(optarg, "-T") * 1000); break;
        case 'c': o.workers = (int)parse_ulong(optarg, MAX_WORKERS, "-c"); break;
        case 'n': o.count = parse_ulong(optarg, MAX_SESSIONS_PER_WORKER, "-n"); break;
        case 'S': o.spread = 1; break;
        case 's': o.tls = 1; break;
        case 'r': o.resume = 1; break;
        case 'C': o.suites = optarg; break;
        default: usage();
        }
    }
    if (optind != argc - 1 || o.port == 0 || !o.pass || o.depth < 1 || o.workers < 1 ||
        o.count < 1)
        usage();
    mode = argv[optind];
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* OpenSSL writes with write(2): a server gone before close_notify must
     * not kill the client. */
    signal(SIGPIPE, SIG_IGN);
    if (o.tls)
        tls_setup(o.suites);
    if (strcmp(mode, "sessions") == 0) {
        if (!o.user_prefix)
            usage();
        return run_sessions(&o);
    }
    if (!o.user)
        usage();
    if (strcmp(mode, "download") == 0)
        return run_download(&o);
    if (strcmp(mode, "open") == 0)
        return run_open(&o);
    if (strcmp(mode, "hold") == 0)
        return run_hold(&o);
    if (strcmp(mode, "commit") == 0)
        return run_commit(&o);
    usage();
}
