/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memserver: a trivial POP3 server whose replies are all formatted in memory
 * before the first client comes, to show how fast the benchmark client can go,
 * over plain TCP or implicit TLS. */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* Commands are short; a longer line is answered -ERR and dropped. */
#define CMD_MAX 512
/* Replies gathered from one read of pipelined commands before a writev. */
#define IOV_BATCH 64

/* Every reply a session can need, ready to send: RETR replies complete
 * with status line, dot-stuffed CRLF body and terminator. */
struct store {
    char *arena;
    size_t arena_len, arena_cap;
    size_t *retr_off;   /* reply of message i: arena + retr_off[i] ... */
    size_t *retr_len;
    size_t n;
    char *stat, *list, *uidl;
    size_t stat_len, list_len, uidl_len;
};

static struct store st;

/* Implicit TLS when a certificate was given: the same library and the
 * settings tpop3d uses by default, with nothing else to do per reply. */
static SSL_CTX *tls_ctx;

/* Replies of one batch are gathered here before one SSL_write, as a TLS
 * server that formats into a buffer would do. */
#define TLS_GATHER (256 * 1024)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("memserver: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        die("out of memory");
    return p;
}

static void arena_put(const void *data, size_t len)
{
    if (st.arena_len + len > st.arena_cap) {
        while (st.arena_len + len > st.arena_cap)
            st.arena_cap = st.arena_cap ? st.arena_cap * 2 : (1 << 20);
        st.arena = xrealloc(st.arena, st.arena_cap);
    }
    memcpy(st.arena + st.arena_len, data, len);
    st.arena_len += len;
}

/* Append the served form of CONTENT: bare LF becomes CRLF, a CRLF stays,
 * lines starting with a dot get another. Returns the octets before
 * dot-stuffing, the size LIST reports. */
static size_t put_served(const char *p, size_t len)
{
    const char *end = p + len, *nl;
    size_t octets = 0, line;

    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        line = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (line > 0 && p[line - 1] == '\r')
            line--;
        if (*p == '.')
            arena_put(".", 1);
        arena_put(p, line);
        arena_put("\r\n", 2);
        octets += line + 2;
        p = nl ? nl + 1 : end;
    }
    return octets;
}

static uint64_t fnv1a(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    while (len--) {
        h ^= (unsigned char)*p++;
        h *= 1099511628211ULL;
    }
    return h;
}

static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
            die("format error");
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap = *cap * 2 + (size_t)n;
        *buf = xrealloc(*buf, *cap);
    }
}

/* Split the mbox the way tpop3d does: a message starts at a "From " line
 * at the start of the file or after a blank line, and that blank line is
 * the separator's. */
static void load(const char *path)
{
    struct stat sb;
    const char *data, *p, *end, *hit, *body, *stop;
    size_t *starts = NULL, nstarts = 0, capstarts = 0, i, octets, total = 0, cap, head;
    size_t list_cap = 4096, uidl_cap = 4096;
    char status[64];
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) < 0)
        die("%s: %s", path, strerror(errno));
    if (sb.st_size == 0) {
        data = "";
    } else {
        data = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (data == MAP_FAILED)
            die("mmap %s: %s", path, strerror(errno));
    }
    end = data + sb.st_size;
    p = data;
    if ((size_t)sb.st_size >= 5 && memcmp(data, "From ", 5) == 0) {
        capstarts = 1024;
        starts = xrealloc(NULL, capstarts * sizeof(*starts));
        starts[nstarts++] = 0;
    }
    while (p < end && (hit = memmem(p, (size_t)(end - p), "\n\nFrom ", 7)) != NULL) {
        if (nstarts == capstarts) {
            capstarts = capstarts ? capstarts * 2 : 1024;
            starts = xrealloc(starts, capstarts * sizeof(*starts));
        }
        starts[nstarts++] = (size_t)(hit + 2 - data);
        p = hit + 2;
    }
    st.n = nstarts;
    st.retr_off = xrealloc(NULL, (nstarts + 1) * sizeof(size_t));
    st.retr_len = xrealloc(NULL, (nstarts + 1) * sizeof(size_t));
    st.list = xrealloc(NULL, list_cap);
    st.uidl = xrealloc(NULL, uidl_cap);
    st.list_len = st.uidl_len = 0;
    appendf(&st.list, &st.list_len, &list_cap, "+OK %zu messages\r\n", nstarts);
    appendf(&st.uidl, &st.uidl_len, &uidl_cap, "+OK\r\n");
    /* Reserve room for a status line in front of each body; the real
     * one is written once the size is known. */
    memset(status, ' ', sizeof(status));
    for (i = 0; i < nstarts; i++) {
        p = data + starts[i];
        stop = i + 1 < nstarts ? data + starts[i + 1] - 1 : end;
        body = memchr(p, '\n', (size_t)(stop - p));
        body = body ? body + 1 : stop;
        st.retr_off[i + 1] = st.arena_len;
        arena_put(status, 32);
        octets = put_served(body, (size_t)(stop - body));
        arena_put(".\r\n", 3);
        head = (size_t)snprintf(status, sizeof(status), "+OK %zu octets\r\n", octets);
        /* Move the body's start so the status line sits right before it. */
        memcpy(st.arena + st.retr_off[i + 1] + 32 - head, status, head);
        memset(status, ' ', sizeof(status));
        st.retr_off[i + 1] += 32 - head;
        st.retr_len[i + 1] = st.arena_len - st.retr_off[i + 1];
        total += octets;
        appendf(&st.list, &st.list_len, &list_cap, "%zu %zu\r\n", i + 1, octets);
        appendf(&st.uidl, &st.uidl_len, &uidl_cap, "%zu %016llx%08zx\r\n", i + 1,
            (unsigned long long)fnv1a(p, (size_t)(stop - p) < 512 ? (size_t)(stop - p) : 512),
            i + 1);
    }
    appendf(&st.list, &st.list_len, &list_cap, ".\r\n");
    appendf(&st.uidl, &st.uidl_len, &uidl_cap, ".\r\n");
    cap = 64;
    st.stat = xrealloc(NULL, cap);
    st.stat_len = 0;
    appendf(&st.stat, &st.stat_len, &cap, "+OK %zu %zu\r\n", nstarts, total);
    if (sb.st_size > 0)
        munmap((void *)data, (size_t)sb.st_size);
    close(fd);
    free(starts);
}

static int writev_all(int fd, struct iovec *iov, int cnt)
{
    ssize_t n;

    while (cnt > 0) {
        n = writev(fd, iov, cnt);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        while (cnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

#define LIT(s) { (void *)(s), sizeof(s) - 1 }

/* The reply to one command line; 1 when the session should end. */
static int reply(const char *line, struct iovec *iov)
{
    static const struct iovec ok = LIT("+OK\r\n"), err = LIT("-ERR\r\n"),
        bye = LIT("+OK bye\r\n");
    unsigned long long num;
    char *e;

    if (strncasecmp(line, "RETR ", 5) == 0) {
        errno = 0;
        num = strtoull(line + 5, &e, 10);
        if (errno != 0 || *e != '\0' || num == 0 || num > st.n) {
            *iov = err;
            return 0;
        }
        iov->iov_base = st.arena + st.retr_off[num];
        iov->iov_len = st.retr_len[num];
        return 0;
    }
    if (strncasecmp(line, "USER ", 5) == 0 || strncasecmp(line, "PASS ", 5) == 0 ||
        strncasecmp(line, "DELE ", 5) == 0 || strcasecmp(line, "NOOP") == 0) {
        *iov = ok;
        return 0;
    }
    if (strcasecmp(line, "STAT") == 0) {
        iov->iov_base = st.stat;
        iov->iov_len = st.stat_len;
        return 0;
    }
    if (strcasecmp(line, "LIST") == 0) {
        iov->iov_base = st.list;
        iov->iov_len = st.list_len;
        return 0;
    }
    if (strcasecmp(line, "UIDL") == 0) {
        iov->iov_base = st.uidl;
        iov->iov_len = st.uidl_len;
        return 0;
    }
    if (strcasecmp(line, "QUIT") == 0) {
        *iov = bye;
        return 1;
    }
    *iov = err;
    return 0;
}

struct link {
    int fd;
    SSL *ssl;           /* NULL on plain TCP */
    char *gather;       /* TLS_GATHER bytes, TLS only */
};

static ssize_t link_read(struct link *l, char *buf, size_t len)
{
    ssize_t n;
    int r;

    if (!l->ssl) {
        do
            n = read(l->fd, buf, len);
        while (n < 0 && errno == EINTR);
        return n;
    }
    r = SSL_read(l->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    return r > 0 ? r : -1;
}

static int tls_write_all(SSL *ssl, const char *p, size_t len)
{
    while (len > 0) {
        int r = SSL_write(ssl, p, len > INT_MAX ? INT_MAX : (int)len);

        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Send a batch of replies: one writev on plain TCP; over TLS, small
 * replies gathered into one buffer and large ones written as they are. */
static int link_send(struct link *l, struct iovec *iov, int cnt)
{
    size_t have = 0;
    int i;

    if (!l->ssl)
        return writev_all(l->fd, iov, cnt);
    for (i = 0; i < cnt; i++) {
        if (iov[i].iov_len > TLS_GATHER - have) {
            if (have > 0 && tls_write_all(l->ssl, l->gather, have) < 0)
                return -1;
            have = 0;
        }
        if (iov[i].iov_len > TLS_GATHER) {
            if (tls_write_all(l->ssl, iov[i].iov_base, iov[i].iov_len) < 0)
                return -1;
            continue;
        }
        memcpy(l->gather + have, iov[i].iov_base, iov[i].iov_len);
        have += iov[i].iov_len;
    }
    return have > 0 ? tls_write_all(l->ssl, l->gather, have) : 0;
}

static void *session(void *arg)
{
    static const char greeting[] = "+OK memserver ready\r\n";
    struct link l = { .fd = (int)(intptr_t)arg };
    int done = 0, cnt;
    char in[CMD_MAX * 2];
    struct iovec iov[IOV_BATCH];
    size_t have = 0, start;
    char *nl;
    ssize_t n;

    if (tls_ctx) {
        l.ssl = SSL_new(tls_ctx);
        l.gather = malloc(TLS_GATHER);
        if (!l.ssl || !l.gather || SSL_set_fd(l.ssl, l.fd) != 1 || SSL_accept(l.ssl) != 1)
            goto out;
    }
    iov[0].iov_base = (void *)greeting;
    iov[0].iov_len = sizeof(greeting) - 1;
    if (link_send(&l, iov, 1) < 0)
        goto out;
    while (!done) {
        n = link_read(&l, in + have, sizeof(in) - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        start = 0;
        cnt = 0;
        while (!done && (nl = memchr(in + start, '\n', have - start)) != NULL) {
            *nl = '\0';
            if (nl > in + start && nl[-1] == '\r')
                nl[-1] = '\0';
            done = reply(in + start, &iov[cnt++]);
            start = (size_t)(nl + 1 - in);
            if (cnt == IOV_BATCH) {
                if (link_send(&l, iov, cnt) < 0)
                    goto out;
                cnt = 0;
            }
        }
        if (cnt > 0 && link_send(&l, iov, cnt) < 0)
            goto out;
        memmove(in, in + start, have - start);
        have -= start;
        if (have == sizeof(in))
            break;  /* an over-long line: not a client of ours */
    }
out:
    if (l.ssl) {
        SSL_shutdown(l.ssl);
        SSL_free(l.ssl);
    }
    free(l.gather);
    close(l.fd);
    return NULL;
}

static void tls_setup(const char *cert, const char *key)
{
    tls_ctx = SSL_CTX_new(TLS_server_method());
    if (!tls_ctx ||
        !SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls_ctx) != 1)
        die("TLS set-up with %s and %s failed: %s", cert, key,
            ERR_reason_error_string(ERR_get_error()));
    SSL_CTX_set_options(tls_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_AUTO_RETRY);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    pthread_attr_t attr;
    pthread_t th;
    char *e;
    unsigned long port;
    int one = 1, lfd, fd;

    if (argc != 3 && argc != 5)
        die("usage: memserver PORT MBOX [CERT KEY] (listens on 127.0.0.1:PORT, "
            "with implicit TLS when CERT and KEY are given)");
    errno = 0;
    port = strtoul(argv[1], &e, 10);
    if (errno != 0 || *e != '\0' || port == 0 || port > 65535)
        die("bad port %s", argv[1]);
    load(argv[2]);
    if (argc == 5)
        tls_setup(argv[3], argv[4]);
    signal(SIGPIPE, SIG_IGN);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket: %s", strerror(errno));
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1024) < 0)
        die("bind/listen 127.0.0.1:%lu: %s", port, strerror(errno));
    printf("ready messages=%zu\n", st.n);
    fflush(stdout);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
                continue;
            die("accept: %s", strerror(errno));
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (pthread_create(&th, &attr, session, (void *)(intptr_t)fd) != 0)
            close(fd);
    }
}
