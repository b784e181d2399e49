/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_msgwrite.c: RETR and TOP output through a real connection, and the
 * sizes LIST reports for it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn.h"
#include "mailbox.h"
#include "unit.h"

/* Everything the peer of FD sends until EOF. */
static char *read_all(int fd, size_t *len_r)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);

    ck_assert_ptr_nonnull(buf);
    for (;;) {
        ssize_t n;

        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        ck_assert_int_ge(n, 0);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *len_r = len;
    return buf;
}

/* msg_write(DATA, LINES) in a child process over a socketpair, as a
 * session does; returns what arrived at the other end. */
static char *transfer(const char *data, size_t len, long lines,
                      size_t *out_len)
{
    int sv[2], status;
    pid_t pid;
    char *out;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct conn c;

        close(sv[0]);
        if (conn_init(&c, sv[1], NULL, 5000) < 0)
            _exit(2);
        if (msg_write(&c, data, len, lines) < 0 || conn_flush(&c) < 0)
            _exit(1);
        conn_close(&c);
        _exit(0);
    }
    close(sv[1]);
    out = read_all(sv[0], out_len);
    close(sv[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    return out;
}

static void expect_sent(const char *data, long lines, const char *want)
{
    size_t n;
    char *out = transfer(data, strlen(data), lines, &n);

    ck_assert_uint_eq(n, strlen(want));
    ck_assert(memcmp(out, want, n) == 0);
    free(out);
}

/* The rules, one byte at a time, as an independent reference. */
static char *reference(const char *d, size_t len, size_t *out_len)
{
    char *out = malloc(2 * len + 8), *o = out;
    bool bol = true;

    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < len; i++) {
        if (bol && d[i] == '.')
            *o++ = '.';
        if (d[i] == '\n' && (i == 0 || d[i - 1] != '\r'))
            *o++ = '\r';
        *o++ = d[i];
        bol = d[i] == '\n';
    }
    if (len > 0 && d[len - 1] != '\n') {
        if (d[len - 1] != '\r')
            *o++ = '\r';
        *o++ = '\n';
    }
    memcpy(o, ".\r\n", 3);
    o += 3;
    *out_len = (size_t)(o - out);
    return out;
}

/* Octets sent, less the stuffing dots (an output line starting with "."
 * other than the terminator) and the terminator. */
static uint64_t unstuffed_octets(const char *out, size_t n)
{
    uint64_t dots = 0;

    ck_assert_uint_ge(n, 3);
    ck_assert(memcmp(out + n - 3, ".\r\n", 3) == 0);
    for (size_t i = 0; i < n - 3; i++)
        if (out[i] == '.' && (i == 0 || out[i - 1] == '\n'))
            dots++;
    return n - 3 - dots;
}

START_TEST(line_endings)
{
    expect_sent("a\nb\n", -1, "a\r\nb\r\n.\r\n");
    expect_sent("a\r\nb\r\n", -1, "a\r\nb\r\n.\r\n");
    expect_sent("a\r\nb\nc", -1, "a\r\nb\r\nc\r\n.\r\n");
    expect_sent("\n\n", -1, "\r\n\r\n.\r\n");
    expect_sent("a\rb\n", -1, "a\rb\r\n.\r\n");
    expect_sent("", -1, ".\r\n");
}
END_TEST

START_TEST(final_line)
{
    expect_sent("abc", -1, "abc\r\n.\r\n");
    expect_sent("x\nabc\r", -1, "x\r\nabc\r\n.\r\n");
    expect_sent(".", -1, "..\r\n.\r\n");
    expect_sent("\r", -1, "\r\n.\r\n");
}
END_TEST

START_TEST(dot_stuffing)
{
    expect_sent(".\n..x\n.y\r\nz.\n", -1,
                "..\r\n...x\r\n..y\r\nz.\r\n.\r\n");
    expect_sent("S: 1\n\n.\n", -1, "S: 1\r\n\r\n..\r\n.\r\n");
}
END_TEST

START_TEST(top)
{
    const char *m = "S: 1\nT: 2\n\nl1\n.l2\nl3\n";

    expect_sent(m, 0, "S: 1\r\nT: 2\r\n\r\n.\r\n");
    expect_sent(m, 1, "S: 1\r\nT: 2\r\n\r\nl1\r\n.\r\n");
    expect_sent(m, 2, "S: 1\r\nT: 2\r\n\r\nl1\r\n..l2\r\n.\r\n");
    expect_sent(m, 3, "S: 1\r\nT: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
    expect_sent(m, 1000, "S: 1\r\nT: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
    /* Headers only, with and without a final newline. */
    expect_sent("S: 1\nT: 2", 0, "S: 1\r\nT: 2\r\n.\r\n");
    expect_sent("S: 1\nT: 2\n", 5, "S: 1\r\nT: 2\r\n.\r\n");
    /* CRLF message; a body whose last line has no newline. */
    expect_sent("S: 1\r\n\r\nl1\r\nl2", 1, "S: 1\r\n\r\nl1\r\n.\r\n");
    expect_sent("S: 1\r\n\r\nl1\r\nl2", 2, "S: 1\r\n\r\nl1\r\nl2\r\n.\r\n");
    /* No headers at all: the blank line comes first. */
    expect_sent("\nbody\n", 0, "\r\n.\r\n");
    /* The blank line is the first empty line, not a line of spaces. */
    expect_sent("S: 1\n \nb\n\nc\n", 0, "S: 1\r\n \r\nb\r\n\r\n.\r\n");
    expect_sent("", 0, ".\r\n");
}
END_TEST

START_TEST(no_flush_at_end)
{
    const char *m = "S: 1\n\nbody\n";
    struct conn c;
    int sv[2];
    char buf[64];
    ssize_t n;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(conn_init(&c, sv[1], NULL, 5000), 0);
    ck_assert_int_eq(conn_puts(&c, "+OK\r\n"), 0);
    ck_assert_int_eq(msg_write(&c, m, strlen(m), -1), 0);
    /* The status line and the message wait in the buffer together. */
    ck_assert_uint_eq(c.bytes_out, 0);
    ck_assert_uint_eq(c.out_len, 5 + 17);
    ck_assert_int_eq(conn_flush(&c), 0);
    n = read(sv[0], buf, sizeof buf);
    ck_assert_int_eq(n, 22);
    ck_assert(memcmp(buf, "+OK\r\nS: 1\r\n\r\nbody\r\n.\r\n", 22) == 0);
    conn_close(&c);
    close(sv[0]);
}
END_TEST

/* Deterministic noise heavy in the bytes that matter. */
static char *noise(size_t len, uint32_t seed, unsigned line_max)
{
    static const char alphabet[] = "\n\r..aF\0\xff";
    char *d = malloc(len ? len : 1);
    uint32_t x = seed;
    unsigned run = 0;

    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < len; i++) {
        x = x * 1664525u + 1013904223u;
        if (run > 0) {
            d[i] = 'a' + (char)((x >> 24) % 26);
            run--;
        } else {
            d[i] = alphabet[(x >> 24) % (sizeof alphabet - 1)];
            if (((x >> 16) & 7) == 0)
                run = (x >> 8) % line_max;
        }
    }
    return d;
}

START_TEST(matches_reference_and_size)
{
    static const struct { size_t len; unsigned line_max; } cases[] = {
        { 0, 10 }, { 1, 10 }, { 2, 10 }, { 3, 10 }, { 17, 10 },
        { 1000, 80 }, { 50000, 200 },
        /* Bigger than the output buffer, with lines bigger than it. */
        { 700 * 1024, 300 * 1024 }, { 300 * 1024, 100 },
    };

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (uint32_t seed = 1; seed <= (cases[k].len < 100 ? 50u : 3u);
             seed++) {
            char *d = noise(cases[k].len, seed * 7919u + (uint32_t)k,
                            cases[k].line_max);
            size_t n, rn;
            char *out = transfer(d, cases[k].len, -1, &n);
            char *ref = reference(d, cases[k].len, &rn);

            ck_assert_uint_eq(n, rn);
            ck_assert(memcmp(out, ref, n) == 0);
            ck_assert_uint_eq(unstuffed_octets(out, n),
                              msg_wire_size(d, cases[k].len));
            free(out);
            free(ref);
            free(d);
        }
    }
}
END_TEST

START_TEST(wire_size)
{
    ck_assert_uint_eq(msg_wire_size("", 0), 0);
    ck_assert_uint_eq(msg_wire_size("a", 1), 3);
    ck_assert_uint_eq(msg_wire_size("a\r", 2), 3);
    ck_assert_uint_eq(msg_wire_size("\n", 1), 2);
    ck_assert_uint_eq(msg_wire_size("\r\n", 2), 2);
    ck_assert_uint_eq(msg_wire_size("a\nb\r\nc", 6), 9);
    ck_assert_uint_eq(msg_wire_size(".\n", 2), 3);
}
END_TEST

START_TEST(failed_connection)
{
    size_t len = 4 * 1024 * 1024;
    char *d = noise(len, 42, 100);
    struct conn c;
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(conn_init(&c, sv[1], NULL, 5000), 0);
    close(sv[0]);
    ck_assert_int_eq(msg_write(&c, d, len, -1), -1);
    ck_assert(c.failed);
    conn_close(&c);
    free(d);
}
END_TEST

Suite *suite_msgwrite(void)
{
    Suite *s = suite_create("msgwrite");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, line_endings);
    tcase_add_test(tc, final_line);
    tcase_add_test(tc, dot_stuffing);
    tcase_add_test(tc, top);
    tcase_add_test(tc, no_flush_at_end);
    tcase_add_test(tc, matches_reference_and_size);
    tcase_add_test(tc, wire_size);
    tcase_add_test(tc, failed_connection);
    /* The reference comparison walks many generated messages: seconds
     * under the sanitizers on a busy machine, not Check's default 4. */
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
