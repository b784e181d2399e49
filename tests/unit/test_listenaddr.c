/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_listenaddr.c: the listen-address word parser, good forms and junk. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "listenaddr.h"
#include "unit.h"

static const struct {
    const char *word, *host, *port, *domain;
} good[] = {
    { "0.0.0.0", "0.0.0.0", "110", NULL },
    { "127.0.0.1:1110", "127.0.0.1", "1110", NULL },
    { "[::1]:110(example.com)", "::1", "110", "example.com" },
    { "mail.example.com(example.com)", "mail.example.com", "110", "example.com" },
    { "[::]", "::", "110", NULL },
    { "[::]:995", "::", "995", NULL },
    { "localhost:pop3s", "localhost", "pop3s", NULL },
    { "localhost:pop3", "localhost", "pop3", NULL },
    { "192.0.2.1(example.org)", "192.0.2.1", "110", "example.org" },
    { "host:1", "host", "1", NULL },
    { "host:65535", "host", "65535", NULL },
    { "[2001:db8::1]:1110(mail.example.net)", "2001:db8::1", "1110", "mail.example.net" },
    { "[fe80::1%eth0]:110", "fe80::1%eth0", "110", NULL },
    { "[::ffff:192.0.2.1]", "::ffff:192.0.2.1", "110", NULL },
    { "mx-1.example.com.", "mx-1.example.com.", "110", NULL },
    { "my_host:110(Example.COM)", "my_host", "110", "Example.COM" },
};

static const struct {
    const char *word, *error;
} bad[] = {
    { "", "empty address" },
    { "[::1", "unterminated '[' in IPv6 address" },
    { "[::1:110", "unterminated '[' in IPv6 address" },
    { "1.2.3.4:", "missing port after ':'" },
    { "[::1]:", "missing port after ':'" },
    { "1.2.3.4:(example.com)", "missing port after ':'" },
    { ":110", "missing host before ':'" },
    { "(example.com)", "missing host" },
    { "host:0", "port out of range (1-65535)" },
    { "host:00", "port out of range (1-65535)" },
    { "host:99999", "port out of range (1-65535)" },
    { "host:65536", "port out of range (1-65535)" },
    { "host:18446744073709551617", "port out of range (1-65535)" },
    { "host(dom", "unterminated '(' in domain" },
    { "host:110(dom", "unterminated '(' in domain" },
    { "host(dom)x", "unexpected text after ')'" },
    { "host(dom))", "unexpected text after ')'" },
    { "host(dom)(dom2)", "unexpected text after ')'" },
    { "host()", "empty domain in ()" },
    { "host(exa mple)", "invalid character in domain" },
    { "host(a:b)", "invalid character in domain" },
    { "host:110)", "unexpected ')'" },
    { "ho)st", "unexpected ')'" },
    { "::1", "IPv6 addresses must be written in brackets, as [::1]:110" },
    { "::1:110", "IPv6 addresses must be written in brackets, as [::1]:110" },
    { "2001:db8::1:110", "IPv6 addresses must be written in brackets, as [::1]:110" },
    { "*", "'*' is not an address: use 0.0.0.0 or [::]" },
    { "*:110", "'*' is not an address: use 0.0.0.0 or [::]" },
    { "0.0.0.0:995;tls=immediate", "tls= needs a certificate: tls=MODE,/path/cert.pem[,/path/key.pem]" },
    { "0.0.0.0;tls=stls", "tls= needs a certificate: tls=MODE,/path/cert.pem[,/path/key.pem]" },
    { "0.0.0.0;tls=stls,", "tls= needs a certificate: tls=MODE,/path/cert.pem[,/path/key.pem]" },
    { "0.0.0.0;", "empty option after ';'" },
    { "0.0.0.0;ssl=immediate,/c.pem", "unknown option after ';': expected tls=immediate or tls=stls" },
    { "0.0.0.0;TLS=stls,/c.pem", "unknown option after ';': expected tls=immediate or tls=stls" },
    { "0.0.0.0;tls=,/c.pem", "tls= needs a mode: immediate or stls" },
    { "0.0.0.0;tls=starttls,/c.pem", "unknown TLS mode: expected immediate or stls" },
    { "0.0.0.0;tls=Immediate,/c.pem", "unknown TLS mode: expected immediate or stls" },
    { "0.0.0.0;tls=stls,c.pem", "the certificate path must be absolute" },
    { "0.0.0.0;tls=stls,/c.pem,k.pem", "the key path must be absolute" },
    { "0.0.0.0;tls=stls,/c.pem,", "empty key path after ','" },
    { "0.0.0.0;tls=stls,/c.pem,/k.pem,/x", "too many fields in tls=: expected MODE,CERT[,KEY]" },
    { "0.0.0.0;tls=stls,/c.pem;tls=immediate,/c.pem", "only one option (tls=) may follow ';'" },
    { "0.0.0.0;tls=stls,/c\x01.pem", "invalid character in certificate or key path" },
    /* The address is checked first, and the ';' ends it. */
    { "[::1;tls=stls,/c.pem", "unterminated '[' in IPv6 address" },
    { "host(dom;tls=stls,/c.pem)", "unterminated '(' in domain" },
    { "::1;tls=immediate,/c.pem", "IPv6 addresses must be written in brackets, as [::1]:110" },
    { "host:;tls=immediate,/c.pem", "missing port after ':'" },
    { ";tls=immediate,/c.pem", "empty address" },
    { "[::1]x", "expected ':' or '(' after ']'" },
    { "[::1]110", "expected ':' or '(' after ']'" },
    { "[]", "empty IPv6 address in []" },
    { "[1.2.3.4]", "malformed IPv6 address" },
    { "[::g]", "malformed IPv6 address" },
    { "[fe80::1%]", "empty IPv6 zone after '%'" },
    { "[fe80::1%e/0]", "invalid character in IPv6 zone" },
    { "1.2.3.256", "malformed IPv4 address" },
    { "1.2.3", "malformed IPv4 address" },
    { "1.2.3.4.5:110", "malformed IPv4 address" },
    { "host name", "invalid character in host name" },
    { "h\xc3\xa9te", "invalid character in host name" },
    { "-host", "malformed host name" },
    { "host-", "malformed host name" },
    { ".host", "malformed host name" },
    { "a..b", "malformed host name" },
    { "host:POP3", "invalid port: expected a number or a service name" },
    { "host:-pop", "invalid port: expected a number or a service name" },
    { "host:pop-", "invalid port: expected a number or a service name" },
    { "host:1.5", "invalid port: expected a number or a service name" },
    { "host:+110", "invalid port: expected a number or a service name" },
    { "host:a-very-long-service-name-indeed-xx", "service name too long" },
};

START_TEST(test_good)
{
    struct listen_addr la;
    const char *err = NULL;
    const char *w = good[_i].word;

    ck_assert_msg(listenaddr_parse(w, &la, &err) == 0, "%s: %s", w, err);
    ck_assert_str_eq(la.host, good[_i].host);
    ck_assert_str_eq(la.port, good[_i].port);
    if (good[_i].domain)
        ck_assert_pstr_eq(la.domain, good[_i].domain);
    else
        ck_assert_ptr_null(la.domain);
    listenaddr_free(&la);
    ck_assert_ptr_null(la.host);
    ck_assert_ptr_null(la.port);
}
END_TEST

START_TEST(test_bad)
{
    struct listen_addr la;
    const char *err = NULL;
    const char *w = bad[_i].word;

    ck_assert_msg(listenaddr_parse(w, &la, &err) == -1, "'%s' accepted", w);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strcmp(err, bad[_i].error) == 0, "'%s': got \"%s\", want \"%s\"",
                  w, err, bad[_i].error);
    /* Nothing is left allocated on failure. */
    ck_assert_ptr_null(la.host);
    ck_assert_ptr_null(la.port);
    ck_assert_ptr_null(la.domain);
    listenaddr_free(&la);
}
END_TEST

static const struct {
    const char *word, *host, *port, *domain, *cert, *key;
    enum listen_tls tls;
} good_tls[] = {
    { "0.0.0.0;tls=immediate,/etc/ssl/pop.pem", "0.0.0.0", "995", NULL,
      "/etc/ssl/pop.pem", "/etc/ssl/pop.pem", LISTEN_TLS_IMMEDIATE },
    { "0.0.0.0;tls=stls,/etc/ssl/pop.pem", "0.0.0.0", "110", NULL,
      "/etc/ssl/pop.pem", "/etc/ssl/pop.pem", LISTEN_TLS_STLS },
    { "127.0.0.1:1995;tls=immediate,/c.pem,/k.pem", "127.0.0.1", "1995", NULL,
      "/c.pem", "/k.pem", LISTEN_TLS_IMMEDIATE },
    { "[::1];tls=immediate,/c.pem", "::1", "995", NULL, "/c.pem", "/c.pem",
      LISTEN_TLS_IMMEDIATE },
    { "[::]:110(example.com);tls=stls,/c.pem,/k.pem", "::", "110",
      "example.com", "/c.pem", "/k.pem", LISTEN_TLS_STLS },
    { "[fe80::1%eth0](ex.org);tls=immediate,/a,/b", "fe80::1%eth0", "995",
      "ex.org", "/a", "/b", LISTEN_TLS_IMMEDIATE },
    { "mail.example.com:pop3s(example.com);tls=immediate,/c:1.pem,/k(1).pem",
      "mail.example.com", "pop3s", "example.com", "/c:1.pem", "/k(1).pem",
      LISTEN_TLS_IMMEDIATE },
    { "[2001:db8::1]:995;tls=immediate,/etc/tpop3d/[x].pem", "2001:db8::1",
      "995", NULL, "/etc/tpop3d/[x].pem", "/etc/tpop3d/[x].pem",
      LISTEN_TLS_IMMEDIATE },
};

START_TEST(test_good_tls)
{
    struct listen_addr la;
    const char *err = NULL;
    const char *w = good_tls[_i].word;

    ck_assert_msg(listenaddr_parse(w, &la, &err) == 0, "%s: %s", w, err);
    ck_assert_str_eq(la.host, good_tls[_i].host);
    ck_assert_str_eq(la.port, good_tls[_i].port);
    if (good_tls[_i].domain)
        ck_assert_pstr_eq(la.domain, good_tls[_i].domain);
    else
        ck_assert_ptr_null(la.domain);
    ck_assert_int_eq(la.tls, good_tls[_i].tls);
    ck_assert_pstr_eq(la.cert, good_tls[_i].cert);
    ck_assert_pstr_eq(la.key, good_tls[_i].key);
    ck_assert_uint_eq(listenaddr_addr_len(w), (size_t)(strchr(w, ';') - w));
    listenaddr_free(&la);
    ck_assert_ptr_null(la.cert);
    ck_assert_ptr_null(la.key);
    ck_assert_int_eq(la.tls, LISTEN_TLS_NONE);
}
END_TEST

/* Plain words keep their old meaning: no TLS, no paths. */
START_TEST(test_plain_has_no_tls)
{
    struct listen_addr la;
    const char *err = NULL;

    ck_assert_int_eq(listenaddr_parse("[::1]:995(example.com)", &la, &err), 0);
    ck_assert_int_eq(la.tls, LISTEN_TLS_NONE);
    ck_assert_ptr_null(la.cert);
    ck_assert_ptr_null(la.key);
    ck_assert_str_eq(la.port, "995");
    ck_assert_uint_eq(listenaddr_addr_len("[::1]:995(example.com)"), 22);
    listenaddr_free(&la);
}
END_TEST

START_TEST(test_long_path)
{
    char word[LISTENADDR_MAX_PATH + 64];
    struct listen_addr la;
    const char *err = NULL;
    size_t n = (size_t)snprintf(word, sizeof word, "0.0.0.0;tls=stls,/");

    memset(word + n, 'a', LISTENADDR_MAX_PATH);
    word[n + LISTENADDR_MAX_PATH - 1] = '\0';     /* a path of LISTENADDR_MAX_PATH bytes */
    ck_assert_int_eq(listenaddr_parse(word, &la, &err), -1);
    ck_assert_str_eq(err, "certificate or key path too long");
    word[n + LISTENADDR_MAX_PATH - 2] = '\0';     /* one less fits */
    ck_assert_int_eq(listenaddr_parse(word, &la, &err), 0);
    ck_assert_uint_eq(strlen(la.cert), LISTENADDR_MAX_PATH - 1);
    listenaddr_free(&la);
}
END_TEST

START_TEST(test_long_host)
{
    char host[300];
    struct listen_addr la;
    const char *err = NULL;

    memset(host, 'a', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    ck_assert_int_eq(listenaddr_parse(host, &la, &err), -1);
    ck_assert_str_eq(err, "host name too long");
    host[253] = '\0';
    ck_assert_int_eq(listenaddr_parse(host, &la, &err), 0);
    ck_assert_uint_eq(strlen(la.host), 253);
    listenaddr_free(&la);
}
END_TEST

Suite *suite_listenaddr(void)
{
    Suite *s = suite_create("listenaddr");
    TCase *tc = tcase_create("listenaddr");

    tcase_add_loop_test(tc, test_good, 0, (int)(sizeof good / sizeof good[0]));
    tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_long_host);
    tcase_add_loop_test(tc, test_good_tls, 0,
                        (int)(sizeof good_tls / sizeof good_tls[0]));
    tcase_add_test(tc, test_plain_has_no_tls);
    tcase_add_test(tc, test_long_path);
    suite_add_tcase(s, tc);
    return s;
}
