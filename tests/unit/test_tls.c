/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_tls.c: TLS directives, certificate and key loading, and the TLS
 * transport under a connection, against a real client in a child. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "conn.h"
#include "limits.h"
#include "tls.h"
#include "unit.h"

static char *dir;
static char cert_path[512], key_path[512], other_key_path[512];
static char expired_path[512], future_path[512], enc_key_path[512];

static struct config *parse(const char *text)
{
    char *err = NULL;
    struct config *cfg = config_parse(text, strlen(text), "t.conf", &err);

    ck_assert_msg(cfg != NULL, "config: %s", err ? err : "?");
    return cfg;
}

static EVP_PKEY *new_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");

    ck_assert_ptr_nonnull(k);
    return k;
}

/* A self-signed certificate for KEY valid from NOT_BEFORE to NOT_AFTER
 * seconds from now. */
static void write_cert(const char *path, EVP_PKEY *key, long not_before,
                       long not_after)
{
    X509 *x = X509_new();
    X509_NAME *name;
    FILE *f;

    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), not_before);
    X509_gmtime_adj(X509_getm_notAfter(x), not_after);
    X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, x), 1);
    fclose(f);
    X509_free(x);
}

static void write_key(const char *path, EVP_PKEY *key, const char *phrase)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PrivateKey(f, key,
                                          phrase ? EVP_aes_256_cbc() : NULL,
                                          NULL, 0, NULL, (void *)phrase), 1);
    fclose(f);
}

static void setup(void)
{
    EVP_PKEY *k = new_key(), *other = new_key();

    dir = unit_tmpdir();
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(other_key_path, sizeof other_key_path, "%s/other.pem", dir);
    snprintf(expired_path, sizeof expired_path, "%s/expired.pem", dir);
    snprintf(future_path, sizeof future_path, "%s/future.pem", dir);
    snprintf(enc_key_path, sizeof enc_key_path, "%s/enc.pem", dir);
    write_cert(cert_path, k, -3600, 86400);
    write_cert(expired_path, k, -7200, -3600);
    write_cert(future_path, k, 3600, 7200);
    write_key(key_path, k, NULL);
    write_key(other_key_path, other, NULL);
    write_key(enc_key_path, k, "sesame-123");
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}

static void teardown(void)
{
    tls_set_passphrase(NULL);
    unit_rmtree(dir);
    free(dir);
}

/* ---- directives --------------------------------------------------------- */

static const struct {
    const char *text, *error;   /* error: NULL when valid */
} configs[] = {
    { "", NULL },
    { "tls-protocols: TLSv1.3\n", NULL },
    { "tls-protocols: TLSv1.2\n", NULL },
    { "tls-protocols: TLSv1.3 TLSv1.2\n", NULL },
    { "tls-protocols: TLSv1 TLSv1.1 TLSv1.2\n", NULL },
    { "tls-protocols: TLSv1 TLSv1.3\n",
      "t.conf:1: tls-protocols: the protocols must be a range without gaps (TLSv1.1 is missing)" },
    { "tls-protocols: SSLv3 TLSv1.2\n",
      "t.conf:1: tls-protocols: unknown protocol \"SSLv3\": expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3" },
    { "tls-protocols: tlsv1.2\n",
      "t.conf:1: tls-protocols: unknown protocol \"tlsv1.2\": expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3" },
    { "tls-protocols:\n",
      "t.conf:1: tls-protocols: no protocol given: expected TLSv1.2 and/or TLSv1.3" },
    { "tls-ciphers: NO-SUCH-CIPHER\n",
      "t.conf:1: tls-ciphers: no usable cipher in \"NO-SUCH-CIPHER\" (no cipher match)" },
    { "tls-ciphersuites: TLS_NOPE\n",
      "t.conf:1: tls-ciphersuites: no usable TLS 1.3 suite in \"TLS_NOPE\" (no cipher match)" },
    { "tls-ciphersuites:\n",
      "t.conf:1: tls-ciphersuites: empty, but tls-protocols includes TLSv1.3" },
    { "tls-protocols: TLSv1.2\ntls-ciphersuites:\n", NULL },
    { "tls-required-for-auth: except-loopback\n", NULL },
    { "tls-required-for-auth: YES\n", NULL },
    { "tls-required-for-auth: maybe\n",
      "t.conf:1: tls-required-for-auth: expected no, yes or except-loopback" },
};

START_TEST(test_check_config)
{
    struct config *cfg = parse(configs[_i].text);
    char *err = NULL;
    int r = tls_check_config(cfg, &err);

    if (!configs[_i].error) {
        ck_assert_msg(r == 0, "%s: %s", configs[_i].text, err);
    } else {
        ck_assert_int_eq(r, -1);
        ck_assert_str_eq(err, configs[_i].error);
        free(err);
    }
    config_free(&cfg);
}
END_TEST

START_TEST(test_policy)
{
    static const struct {
        const char *text;
        enum tls_auth_policy p;
    } cases[] = {
        { "", TLS_AUTH_ANY },
        { "tls-required-for-auth: no\n", TLS_AUTH_ANY },
        { "tls-required-for-auth: off\n", TLS_AUTH_ANY },
        { "tls-required-for-auth: yes\n", TLS_AUTH_TLS_ONLY },
        { "tls-required-for-auth: true\n", TLS_AUTH_TLS_ONLY },
        { "tls-required-for-auth: except-loopback\n", TLS_AUTH_EXCEPT_LOOPBACK },
        /* Never reached past tls_check_config, but fails closed. */
        { "tls-required-for-auth: garbage\n", TLS_AUTH_TLS_ONLY },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config *cfg = parse(cases[i].text);

        ck_assert_msg(tls_auth_policy(cfg) == cases[i].p, "%s", cases[i].text);
        config_free(&cfg);
    }
}
END_TEST

/* ---- certificates and keys ---------------------------------------------- */

static void expect_load_error(const char *cert, const char *key,
                              const char *want)
{
    struct config *cfg = parse("");
    char *err = NULL;
    struct tls_server *srv = tls_server_new(cfg, cert, key, &err);

    ck_assert_ptr_null(srv);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, want) != NULL, "got \"%s\", want \"%s\"", err, want);
    free(err);
    config_free(&cfg);
}

START_TEST(test_load_good)
{
    struct config *cfg = parse("");
    char *err = NULL;
    struct tls_server *srv = tls_server_new(cfg, cert_path, key_path, &err);
    struct tls_server *extra;

    ck_assert_msg(srv != NULL, "%s", err);
    ck_assert_str_eq(tls_server_cert(srv), cert_path);
    ck_assert_str_eq(tls_server_key(srv), key_path);
    extra = tls_server_ref(srv);
    ck_assert_ptr_eq(extra, srv);
    tls_server_unref(&extra);
    ck_assert_ptr_null(extra);
    ck_assert_str_eq(tls_server_cert(srv), cert_path);     /* still alive */
    tls_server_unref(&srv);
    ck_assert_ptr_null(srv);
    config_free(&cfg);
}
END_TEST

START_TEST(test_load_errors)
{
    char missing[600], garbage[600];

    snprintf(missing, sizeof missing, "%s/missing.pem", dir);
    snprintf(garbage, sizeof garbage, "%s/garbage.pem", dir);
    unit_write_file(garbage, "not a certificate\n", 18);
    expect_load_error(missing, key_path, "No such file or directory");
    expect_load_error(cert_path, missing, "No such file or directory");
    expect_load_error(garbage, key_path, "certificate ");
    expect_load_error(cert_path, garbage, "key ");
    expect_load_error(cert_path, other_key_path, "does not match certificate");
    expect_load_error(expired_path, key_path, "has expired");
    expect_load_error(future_path, key_path, "is not valid yet");
    expect_load_error(cert_path, enc_key_path, "is encrypted: start tpop3d with -P");
    tls_set_passphrase("wrong");
    expect_load_error(cert_path, enc_key_path, "wrong pass phrase?");
}
END_TEST

START_TEST(test_load_encrypted)
{
    struct config *cfg = parse("");
    char *err = NULL;
    struct tls_server *srv;

    tls_set_passphrase("sesame-123");
    srv = tls_server_new(cfg, cert_path, enc_key_path, &err);
    ck_assert_msg(srv != NULL, "%s", err);
    tls_server_unref(&srv);
    tls_forget_passphrase();
    expect_load_error(cert_path, enc_key_path, "is encrypted");
    config_free(&cfg);
}
END_TEST

/* ---- the transport ------------------------------------------------------ */

enum client_kind {
    CLIENT_NONE,        /* no client: the other end is closed at once */
    CLIENT_TLS, CLIENT_SILENT, CLIENT_GARBAGE, CLIENT_TLS12,
    CLIENT_ALPN_HTTP,   /* offers ALPN "http/1.1" only */
    CLIENT_ALPN_POP3,   /* offers "http/1.1" and "pop3"; exits 2 unless
                         * "pop3" was selected */
};

/* Run a client on FD in a child: a TLS client that sends a line and then
 * reads everything the server sends into a count it exits with a status
 * of (1 on error), or one that misbehaves. */
static pid_t start_client(int fd, int server_fd, enum client_kind kind)
{
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid > 0)
        return pid;
    close(server_fd);   /* so that the server's close is seen as EOF */
    alarm(10);
    if (kind == CLIENT_SILENT) {
        char b;
        while (read(fd, &b, 1) > 0)
            ;
        _exit(0);
    }
    if (kind == CLIENT_GARBAGE) {
        static const char junk[] = "GET / HTTP/1.0\r\n\r\n";
        char b[64];
        if (write(fd, junk, sizeof junk - 1) < 0)
            _exit(1);
        while (read(fd, b, sizeof b) > 0)
            ;
        _exit(0);
    } else {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        SSL *ssl;
        char buf[65536];
        size_t total = 0, n;

        if (kind == CLIENT_TLS12)
            SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
        if (kind == CLIENT_ALPN_HTTP)
            SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x08http/1.1", 9);
        if (kind == CLIENT_ALPN_POP3)
            SSL_CTX_set_alpn_protos(ctx,
                                    (const unsigned char *)"\x08http/1.1\x04pop3", 14);
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_connect(ssl) != 1)
            _exit(1);
        if (kind == CLIENT_ALPN_POP3) {
            const unsigned char *sel = NULL;
            unsigned int sel_len = 0;

            SSL_get0_alpn_selected(ssl, &sel, &sel_len);
            if (sel_len != 4 || memcmp(sel, "pop3", 4) != 0)
                _exit(2);
        }
        if (SSL_write(ssl, "CAPA\r\n", 6) != 6)
            _exit(1);
        while (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1)
            total += n;
        /* 100 + the number of 64 KB units received, to check the amount. */
        _exit((int)(100 + total / 65536));
    }
}

static int wait_client(pid_t pid)
{
    int status;

    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "the client ended by signal %d",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WEXITSTATUS(status);
}

/* The test certificate and key loaded under the directives TEXT. */
static struct tls_server *load(const char *text)
{
    struct config *cfg = parse(text);
    char *err = NULL;
    struct tls_server *srv = tls_server_new(cfg, cert_path, key_path, &err);

    ck_assert_msg(srv != NULL, "%s", err);
    config_free(&cfg);
    return srv;
}

/* The transport tests' server: the test certificate under no directives. */
static struct tls_server *server;

static void setup_server(void)
{
    setup();
    server = load("");
}

static void teardown_server(void)
{
    tls_server_unref(&server);
    teardown();
}

/* Set up C (with TIMEOUT_MS) on one end of a socket pair and a client of
 * KIND on the other; the client's pid, or -1 for CLIENT_NONE. */
static pid_t connect_client(struct conn *c, enum client_kind kind, int timeout_ms)
{
    int sv[2];
    pid_t pid = -1;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    if (kind != CLIENT_NONE)
        pid = start_client(sv[1], sv[0], kind);
    close(sv[1]);
    ck_assert_int_eq(conn_init(c, sv[0], NULL, timeout_ms), 0);
    return pid;
}

/* Close C, then check that the client PID (none when -1) exited with
 * WANT. */
static void hang_up(struct conn *c, pid_t pid, int want)
{
    conn_close(c);
    if (pid >= 0)
        ck_assert_int_eq(wait_client(pid), want);
}

/* The TLS handshake on C with SERVER fails with the message WANT. */
static void ck_handshake_fails(struct conn *c, const char *want)
{
    char err[256];

    ck_assert_int_eq(tls_start(c, server, 5000, err, sizeof err), -1);
    ck_assert_str_eq(err, want);
}

START_TEST(test_transport)
{
    struct conn c;
    char err[256], info[128], *line, *big;
    size_t len, bigsize = 10 * 65536;
    pid_t pid;

    pid = connect_client(&c, _i == 0 ? CLIENT_TLS : CLIENT_TLS12, 5000);
    ck_assert(!tls_active(&c));
    ck_assert_str_eq(tls_describe(&c, info, sizeof info), "");
    ck_assert_msg(tls_start(&c, server, 5000, err, sizeof err) == 0, "%s", err);
    ck_assert(tls_active(&c));
    ck_assert_ptr_eq(c.io, &conn_io_tls);
    tls_describe(&c, info, sizeof info);
    ck_assert_msg(strncmp(info, _i == 0 ? "TLSv1.3 " : "TLSv1.2 ECDHE-", 8) == 0,
                  "%s", info);
    ck_assert_int_eq(conn_read_line(&c, POP3_MAX_LINE, &line, &len), CONN_LINE_OK);
    ck_assert_str_eq(line, "CAPA");
    /* A large reply goes through the output buffer in full records. */
    big = malloc(bigsize);
    memset(big, 'x', bigsize);
    ck_assert_int_eq(conn_write(&c, big, 100), 0);
    ck_assert_int_eq(conn_write(&c, big, bigsize - 100), 0);
    ck_assert_int_eq(conn_flush(&c), 0);
    free(big);
    hang_up(&c, pid, 100 + 10);
}
END_TEST

START_TEST(test_handshake_timeout)
{
    struct conn c;
    char err[256];
    struct timespec t0, t1;
    double dt;
    pid_t pid;

    pid = connect_client(&c, CLIENT_SILENT, 60000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(tls_start(&c, server, 300, err, sizeof err), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_str_eq(err, "no TLS handshake within 0.300 s");
    ck_assert_msg(dt >= 0.29 && dt < 2.0, "took %.3f s", dt);
    ck_assert(c.failed);
    ck_assert(!tls_active(&c));
    hang_up(&c, pid, 0);
}
END_TEST

START_TEST(test_handshake_garbage)
{
    struct conn c;
    pid_t pid;

    pid = connect_client(&c, CLIENT_GARBAGE, 60000);
    ck_handshake_fails(&c, "TLS handshake failed: http request");
    ck_assert(c.failed);
    hang_up(&c, pid, 0);
}
END_TEST

START_TEST(test_handshake_eof)
{
    struct conn c;

    connect_client(&c, CLIENT_NONE, 60000);
    ck_handshake_fails(&c, "client closed the connection during the TLS handshake");
    hang_up(&c, -1, 0);
}
END_TEST

/* A client that names only another protocol is refused in the
 * handshake; one that names POP3 among others gets POP3. */
START_TEST(test_alpn)
{
    struct conn c;
    char err[256], *line;
    size_t len;
    pid_t pid;

    pid = connect_client(&c, CLIENT_ALPN_HTTP, 5000);
    ck_handshake_fails(&c, "TLS handshake failed: no application protocol");
    ck_assert(!tls_active(&c));
    hang_up(&c, pid, 1);

    pid = connect_client(&c, CLIENT_ALPN_POP3, 5000);
    ck_assert_msg(tls_start(&c, server, 5000, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(conn_read_line(&c, POP3_MAX_LINE, &line, &len), CONN_LINE_OK);
    ck_assert_str_eq(line, "CAPA");
    hang_up(&c, pid, 100);
}
END_TEST

#define RESUME_CONNS 3

/* A client making RESUME_CONNS connections, one on each of FDS, each
 * offering the session (ticket) of the one before; exits with 100 + a bit
 * set for each connection the server resumed. */
static pid_t start_resume_client(int fds[RESUME_CONNS][2], int tls12)
{
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid > 0)
        return pid;
    alarm(10);
    signal(SIGPIPE, SIG_IGN);   /* close_notify to a server already gone */
    for (int i = 0; i < RESUME_CONNS; i++)
        close(fds[i][0]);
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        SSL_SESSION *sess = NULL;
        int bits = 0;

        if (tls12)
            SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
        for (int i = 0; i < RESUME_CONNS; i++) {
            SSL *ssl = SSL_new(ctx);
            char buf[256];
            size_t n;

            SSL_set_fd(ssl, fds[i][1]);
            if (sess)
                SSL_set_session(ssl, sess);
            if (SSL_connect(ssl) != 1)
                _exit(1);
            /* TLS 1.3 tickets come after the handshake: read them. */
            while (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1)
                ;
            if (SSL_session_reused(ssl))
                bits |= 1 << i;
            /* Without close_notify the session would not be resumable. */
            SSL_shutdown(ssl);
            SSL_SESSION_free(sess);
            sess = SSL_get1_session(ssl);
            SSL_free(ssl);
            close(fds[i][1]);
        }
        _exit(100 + bits);
    }
}

/* Serve the connections of a resume client: SRV's ticket keys are
 * replaced before connection number ROTATE_BEFORE (none when -1).
 * Returns the client's bits; checks they match the server's view. */
static int serve_resumes(struct tls_server *srv, int tls12, int rotate_before)
{
    int fds[RESUME_CONNS][2], bits = 0;
    pid_t pid;

    for (int i = 0; i < RESUME_CONNS; i++)
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds[i]), 0);
    pid = start_resume_client(fds, tls12);
    for (int i = 0; i < RESUME_CONNS; i++)
        close(fds[i][1]);
    for (int i = 0; i < RESUME_CONNS; i++) {
        struct conn c;
        char err[256], info[128];

        if (i == rotate_before) {
            char *e = NULL;

            ck_assert_msg(tls_server_rotate_tickets(srv, &e) == 0, "%s", e);
        }
        ck_assert_int_eq(conn_init(&c, fds[i][0], NULL, 5000), 0);
        ck_assert_msg(tls_start(&c, srv, 5000, err, sizeof err) == 0, "%s", err);
        tls_describe(&c, info, sizeof info);
        if (strstr(info, ", resumed"))
            bits |= 1 << i;
        ck_assert_int_eq(conn_write(&c, "+OK\r\n", 5), 0);
        ck_assert_int_eq(conn_flush(&c), 0);
        conn_close(&c);
    }
    ck_assert_int_eq(wait_client(pid), 100 + bits);
    return bits;
}

/* After new ticket keys, a ticket from before does not resume (a full
 * handshake) and one issued under the new keys does. */
START_TEST(test_ticket_rotation)
{
    long long due = tls_server_ticket_due_ms(server);

    /* The default lifetime: 6 hours from now. */
    ck_assert_msg(due > 21590000 && due <= 21600001, "due in %lld ms", due);
    /* No rotation: the second and third connections resume. */
    ck_assert_int_eq(serve_resumes(server, _i, -1), 2 | 4);
    /* Rotation before the second: only the third resumes. */
    ck_assert_int_eq(serve_resumes(server, _i, 1), 4);
}
END_TEST

/* A short lifetime is due when it has run out; 0 turns tickets off. */
START_TEST(test_ticket_lifetime)
{
    struct timespec pause = { 0, 250 * 1000000L };
    char *err = NULL;
    long long due;

    /* In place of the fixture's server. */
    tls_server_unref(&server);
    server = load("tls-ticket-key-lifetime: 0.2\n");
    due = tls_server_ticket_due_ms(server);
    ck_assert_msg(due > 100 && due <= 201, "due in %lld ms", due);
    nanosleep(&pause, NULL);
    ck_assert_int_eq(tls_server_ticket_due_ms(server), 0);
    ck_assert_int_eq(tls_server_rotate_tickets(server, &err), 0);
    ck_assert_int_gt(tls_server_ticket_due_ms(server), 100);
    tls_server_unref(&server);

    server = load("tls-ticket-key-lifetime: 0\n");
    ck_assert_int_eq(tls_server_ticket_due_ms(server), -1);
    ck_assert_int_eq(serve_resumes(server, 0, -1), 0);
    ck_assert_int_eq(serve_resumes(server, 1, -1), 0);
}
END_TEST

START_TEST(test_listener_offer)
{
    enum listen_tls mode = LISTEN_TLS_IMMEDIATE;

    tls_set_listener_offer(NULL, LISTEN_TLS_STLS);
    ck_assert_ptr_null(tls_listener_offer(&mode));
    ck_assert_int_eq(mode, LISTEN_TLS_NONE);
    tls_set_listener_offer(server, LISTEN_TLS_STLS);
    ck_assert_ptr_eq(tls_listener_offer(&mode), server);
    ck_assert_int_eq(mode, LISTEN_TLS_STLS);
    tls_set_listener_offer(NULL, LISTEN_TLS_NONE);
}
END_TEST

Suite *suite_tls(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("config");
    TCase *tf = tcase_create("files");
    TCase *tt = tcase_create("transport");

    tcase_add_loop_test(tc, test_check_config, 0,
                        (int)(sizeof configs / sizeof configs[0]));
    tcase_add_test(tc, test_policy);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_test(tf, test_load_good);
    tcase_add_test(tf, test_load_errors);
    tcase_add_test(tf, test_load_encrypted);
    suite_add_tcase(s, tf);

    tcase_add_checked_fixture(tt, setup_server, teardown_server);
    tcase_add_loop_test(tt, test_transport, 0, 2);
    tcase_add_test(tt, test_handshake_timeout);
    tcase_add_test(tt, test_handshake_garbage);
    tcase_add_test(tt, test_handshake_eof);
    tcase_add_test(tt, test_listener_offer);
    tcase_add_test(tt, test_alpn);
    tcase_add_loop_test(tt, test_ticket_rotation, 0, 2);
    tcase_add_test(tt, test_ticket_lifetime);
    suite_add_tcase(s, tt);
    return s;
}
