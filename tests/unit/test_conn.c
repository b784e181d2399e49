/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_conn.c: the bounded line reader and the buffered writer. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn.h"
#include "limits.h"
#include "unit.h"

static int peer;

static void setup_conn(struct conn *c, int timeout_ms)
{
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(conn_init(c, sv[0], NULL, timeout_ms), 0);
    peer = sv[1];
}

static void send_all(const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = write(peer, p, len);
        ck_assert_int_gt(n, 0);
        p += n;
        len -= (size_t)n;
    }
}

START_TEST(test_lines)
{
    struct conn c;
    char *line;
    size_t len;

    setup_conn(&c, 1000);
    send_all("USER a\r\nPASS b\nSTAT\r\n", 22);
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_OK);
    ck_assert_str_eq(line, "USER a");
    ck_assert_uint_eq(len, 6);
    ck_assert(conn_line_pending(&c));
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_OK);
    ck_assert_str_eq(line, "PASS b");
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_OK);
    ck_assert_str_eq(line, "STAT");
    ck_assert(!conn_line_pending(&c));
    close(peer);
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_EOF);
    conn_close(&c);
}
END_TEST

START_TEST(test_long_line_discarded)
{
    struct conn c;
    char *line, *big;
    size_t len, n = 10 * 1024 * 1024;
    pid_t pid;

    setup_conn(&c, 5000);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        big = malloc(n);
        memset(big, 'A', n);
        send_all(big, n);
        send_all("\r\nNOOP\r\n", 8);
        _exit(0);
    }
    ck_assert_int_eq(conn_read_line(&c, POP3_MAX_LINE, &line, &len),
                     CONN_LINE_TOOLONG);
    ck_assert_int_eq(conn_read_line(&c, POP3_MAX_LINE, &line, &len),
                     CONN_LINE_OK);
    ck_assert_str_eq(line, "NOOP");
    ck_assert_uint_eq(c.bytes_in, n + 8);
    close(peer);
    conn_close(&c);
}
END_TEST

START_TEST(test_exact_limit)
{
    struct conn c;
    char *line, buf[600];
    size_t len;

    setup_conn(&c, 1000);
    memset(buf, 'x', sizeof buf);
    send_all(buf, 100);
    send_all("\r\n", 2);
    send_all(buf, 101);
    send_all("\r\n", 2);
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_OK);
    ck_assert_uint_eq(len, 100);
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_TOOLONG);
    close(peer);
    conn_close(&c);
}
END_TEST

START_TEST(test_nul_and_timeout)
{
    struct conn c;
    char *line;
    size_t len;

    setup_conn(&c, 100);
    send_all("US\0ER\r\nNOOP\r\n", 13);
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_NUL);
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_OK);
    ck_assert_str_eq(line, "NOOP");
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_TIMEOUT);
    ck_assert(c.timed_out);
    close(peer);
    conn_close(&c);
}
END_TEST

START_TEST(test_writer)
{
    struct conn c;
    char *space, *got;
    size_t avail, total = 3 * CONN_OUTBUF_SIZE + 7, have = 0;
    pid_t pid;
    int status;

    setup_conn(&c, 5000);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char *blob = malloc(total);

        close(peer);
        for (size_t i = 0; i < total; i++)
            blob[i] = (char)('a' + i % 26);
        if (conn_puts(&c, "+OK ") < 0 ||
            conn_write(&c, blob, total) < 0)
            _exit(1);
        space = conn_get_space(&c, 10, &avail);
        if (!space || avail < 10)
            _exit(2);
        memcpy(space, "tail\r\n", 6);
        conn_commit_space(&c, 6);
        if (conn_printf(&c, "%d\r\n", 42) < 0 || conn_flush(&c) < 0)
            _exit(3);
        _exit(0);
    }
    /* Only the child may hold our end, or EOF never comes. */
    close(c.fd);
    c.fd = -1;
    got = malloc(total + 100);
    for (;;) {
        ssize_t n = read(peer, got + have, total + 100 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_uint_eq(have, 4 + total + 6 + 4);
    ck_assert_int_eq(memcmp(got, "+OK a", 5), 0);
    ck_assert_int_eq(memcmp(got + 4 + total, "tail\r\n42\r\n", 10), 0);
    for (size_t i = 0; i < total; i++)
        ck_assert_int_eq(got[4 + i], 'a' + (int)(i % 26));
    free(got);
    close(peer);
    conn_close(&c);
}
END_TEST

START_TEST(test_write_to_closed_peer)
{
    struct conn c;
    char buf[4096];

    setup_conn(&c, 1000);
    close(peer);
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 100 && !c.failed; i++) {
        conn_write(&c, buf, sizeof buf);
        conn_flush(&c);
    }
    ck_assert(c.failed);
    ck_assert_int_eq(conn_write(&c, "x", 1), -1);
    conn_close(&c);
}
END_TEST

START_TEST(test_discard_input)
{
    struct conn c;
    char *line;
    size_t len;

    setup_conn(&c, 1000);
    send_all("STLS\r\nCAPA\r\nUSER x", 19);
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_OK);
    ck_assert_str_eq(line, "STLS");
    ck_assert(conn_line_pending(&c));
    conn_discard_input(&c);
    ck_assert(!conn_line_pending(&c));
    send_all("NOOP\r\n", 6);
    ck_assert_int_eq(conn_read_line(&c, 100, &line, &len), CONN_LINE_OK);
    ck_assert_str_eq(line, "NOOP");
    close(peer);
    conn_close(&c);
}
END_TEST

static bool loopback4(const char *addr)
{
    struct conn c;
    struct sockaddr_in *sin = (struct sockaddr_in *)&c.client_sa;

    memset(&c, 0, sizeof c);
    sin->sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
    return conn_client_is_loopback(&c);
}

static bool loopback6(const char *addr)
{
    struct conn c;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c.client_sa;

    memset(&c, 0, sizeof c);
    sin6->sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
    return conn_client_is_loopback(&c);
}

START_TEST(test_loopback)
{
    struct conn c;

    ck_assert(loopback4("127.0.0.1"));
    ck_assert(loopback4("127.255.0.9"));
    ck_assert(!loopback4("128.0.0.1"));
    ck_assert(!loopback4("10.0.0.1"));
    ck_assert(!loopback4("0.0.0.0"));
    ck_assert(loopback6("::1"));
    ck_assert(loopback6("::ffff:127.0.0.2"));
    ck_assert(!loopback6("::ffff:192.0.2.1"));
    ck_assert(!loopback6("::2"));
    ck_assert(!loopback6("fe80::1"));
    ck_assert(!loopback6("::"));
    memset(&c, 0, sizeof c);
    c.client_sa.ss_family = AF_UNIX;
    ck_assert(!conn_client_is_loopback(&c));
}
END_TEST

Suite *suite_conn(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = tcase_create("io");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_long_line_discarded);
    tcase_add_test(tc, test_exact_limit);
    tcase_add_test(tc, test_nul_and_timeout);
    tcase_add_test(tc, test_writer);
    tcase_add_test(tc, test_write_to_closed_peer);
    tcase_add_test(tc, test_discard_input);
    tcase_add_test(tc, test_loopback);
    suite_add_tcase(s, tc);
    return s;
}
