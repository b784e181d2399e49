/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_config.c: tpop3d.conf syntax, typed values, warnings and defaults. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "limits.h"
#include "strbuf.h"
#include "unit.h"

static struct config *parse_n(const char *text, size_t len, char **err)
{
    *err = NULL;
    return config_parse(text, len, "test.conf", err);
}

static struct config *parse(const char *text, char **err)
{
    return parse_n(text, strlen(text), err);
}

/* TEXT must parse; returns the config. */
static struct config *parse_ok(const char *text)
{
    char *err;
    struct config *cfg = parse(text, &err);

    ck_assert_msg(cfg != NULL, "unexpected error: %s", err);
    ck_assert_ptr_null(err);
    return cfg;
}

/* TEXT must fail with exactly WANT. */
#define ck_parse_fails(text, want) do {                                 \
        char *err_;                                                     \
        struct config *cfg_ = parse((text), &err_);                     \
        ck_assert_msg(cfg_ == NULL, "accepted: %s", (text));            \
        ck_assert_ptr_nonnull(err_);                                    \
        ck_assert_str_eq(err_, (want));                                 \
        free(err_);                                                     \
    } while (0)

START_TEST(test_table)
{
    for (int k = 0; k < CFG__COUNT; k++) {
        const struct cfg_def *d = &cfg_defs[k];

        ck_assert_ptr_nonnull(d->name);
        ck_assert_ptr_nonnull(d->group);
        ck_assert_ptr_nonnull(d->help);
        ck_assert_int_eq(config_key_by_name(d->name), k);
        if (d->type == CFG_INT || d->type == CFG_SECONDS)
            ck_assert(d->min <= d->max);
    }
    ck_assert_str_eq(cfg_defs[CFG_MAX_CHILDREN].name, "max-children");
    ck_assert_int_eq(cfg_defs[CFG_MAX_CHILDREN].type, CFG_INT);
    ck_assert_str_eq(cfg_defs[CFG_MAX_CHILDREN].def, "16");
    ck_assert_int_eq(config_key_by_name("listen-address"), CFG_LISTEN_ADDRESS);
    ck_assert_int_eq(config_key_by_name("auth-flatfile-mail-group"),
                     CFG_AUTH_FLATFILE_MAIL_GROUP);
    ck_assert_int_eq(config_key_by_name("no-such-thing"), CFG__COUNT);
    ck_assert_int_eq(config_key_by_name("Max-Children"), CFG__COUNT);
    ck_assert_int_eq(config_key_by_name(""), CFG__COUNT);
    ck_assert_int_eq(config_key_by_name(NULL), CFG__COUNT);
}
END_TEST

START_TEST(test_defaults)
{
    struct config *cfg = parse_ok("");
    char where[64];

    ck_assert_uint_eq(cfg->nwarnings, 0);
    ck_assert_str_eq(cfg->path, "test.conf");
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 16);
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_PER_CLIENT), 0);
    ck_assert_int_eq(cfg_int(cfg, CFG_TIMEOUT_SECONDS), 600);
    ck_assert_int_eq(cfg_facility(cfg, CFG_LOG_FACILITY), LOG_MAIL);
    ck_assert(!cfg_bool(cfg, CFG_LOG_STDERR));
    ck_assert(!cfg_bool(cfg, CFG_AUTH_PASSWD_ENABLE));
    ck_assert_str_eq(cfg_str(cfg, CFG_DOMAIN_SEPARATORS), "@%");
    ck_assert_ptr_null(cfg_str(cfg, CFG_LISTEN_ADDRESS));
    ck_assert_ptr_null(cfg_str(cfg, CFG_MAILBOX));
    ck_assert_ptr_null(cfg_str(cfg, CFG_AUTH_PASSWD_MAIL_GROUP));
    /* A default is not "set". */
    ck_assert(!cfg_is_set(cfg, CFG_MAX_CHILDREN));
    ck_assert(!cfg_is_set(cfg, CFG_TCP_SEND_BUFFER));
    ck_assert_int_eq(cfg_int(cfg, CFG_TCP_SEND_BUFFER), 0);
    ck_assert_str_eq(cfg_where(cfg, CFG_MAX_CHILDREN, where, sizeof where),
                     "test.conf (default)");
    /* Every directive with a default has its text. */
    for (int k = 0; k < CFG__COUNT; k++) {
        if (cfg_defs[k].def)
            ck_assert_str_eq(cfg->values[k].text, cfg_defs[k].def);
        else
            ck_assert_ptr_null(cfg->values[k].text);
        ck_assert_uint_eq(cfg->values[k].line, 0);
    }
    config_free(&cfg);
    ck_assert_ptr_null(cfg);
    config_free(&cfg);
}
END_TEST

START_TEST(test_basic)
{
    struct config *cfg = parse_ok(
        "# tpop3d.conf\n"
        "\n"
        "max-children: 32\n"
        "   timeout-seconds   :   900   \n"
        "\tlog-stderr:\tyes\n"
        "listen-address: 0.0.0.0:110 [::1]:1110(example.com)\n"
        "mailbox: bsd:/var/mail/$(user)\n");
    char where[64];

    ck_assert_uint_eq(cfg->nwarnings, 0);
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 32);
    ck_assert(cfg_is_set(cfg, CFG_MAX_CHILDREN));
    ck_assert_str_eq(cfg_where(cfg, CFG_MAX_CHILDREN, where, sizeof where),
                     "test.conf:3");
    ck_assert_int_eq(cfg_int(cfg, CFG_TIMEOUT_SECONDS), 900);
    ck_assert_str_eq(cfg->values[CFG_TIMEOUT_SECONDS].text, "900");
    ck_assert_str_eq(cfg_where(cfg, CFG_TIMEOUT_SECONDS, where, sizeof where),
                     "test.conf:4");
    ck_assert(cfg_bool(cfg, CFG_LOG_STDERR));
    ck_assert_str_eq(cfg_str(cfg, CFG_LISTEN_ADDRESS),
                     "0.0.0.0:110 [::1]:1110(example.com)");
    ck_assert_str_eq(cfg_str(cfg, CFG_MAILBOX), "bsd:/var/mail/$(user)");
    ck_assert_uint_eq(cfg->values[CFG_MAILBOX].line, 7);
    /* Untouched directives keep their defaults. */
    ck_assert_int_eq(cfg_facility(cfg, CFG_LOG_FACILITY), LOG_MAIL);
    /* A short buffer truncates rather than overflows. */
    ck_assert_str_eq(cfg_where(cfg, CFG_MAX_CHILDREN, where, 5), "test");
    config_free(&cfg);
}
END_TEST

START_TEST(test_no_final_newline)
{
    struct config *cfg = parse_ok("max-children: 5");

    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 5);
    config_free(&cfg);
    cfg = parse_ok("max-children: 6\r\nlog-stderr: on\r\n");
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 6);
    ck_assert(cfg_bool(cfg, CFG_LOG_STDERR));
    config_free(&cfg);
}
END_TEST

START_TEST(test_bool)
{
    static const struct {
        const char *word;
        bool value;
    } words[] = {
        { "yes", true }, { "no", false }, { "true", true }, { "false", false },
        { "on", true }, { "off", false }, { "1", true }, { "0", false },
        { "YES", true }, { "No", false }, { "TRUE", true }, { "Off", false },
        { "yes # comment", true }, { "no\t#comment", false },
    };
    char text[128];

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        snprintf(text, sizeof text, "lowercase-user: %s\n", words[i].word);
        struct config *cfg = parse_ok(text);
        ck_assert_msg(cfg_bool(cfg, CFG_LOWERCASE_USER) == words[i].value,
                      "%s", words[i].word);
        config_free(&cfg);
    }
    ck_parse_fails("lowercase-user: maybe\n",
                   "test.conf:1: lowercase-user: expected yes or no, not 'maybe'");
    ck_parse_fails("lowercase-user:\n",
                   "test.conf:1: lowercase-user: expected yes or no, not ''");
    ck_parse_fails("\nlowercase-user: yes please\n",
                   "test.conf:2: lowercase-user: expected yes or no, not 'yes please'");
    ck_parse_fails("lowercase-user: 2\n",
                   "test.conf:1: lowercase-user: expected yes or no, not '2'");
    ck_parse_fails("lowercase-user: yes#no\n",
                   "test.conf:1: lowercase-user: expected yes or no, not 'yes#no'");
    ck_parse_fails("lowercase-user: # nothing\n",
                   "test.conf:1: lowercase-user: expected yes or no, not ''");
}
END_TEST

START_TEST(test_int)
{
    struct config *cfg;

    cfg = parse_ok("max-children: 1\n");
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 1);
    config_free(&cfg);
    cfg = parse_ok("max-children: 100000\n");
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 100000);
    config_free(&cfg);
    cfg = parse_ok("max-children: 16   # busy site\n");
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 16);
    ck_assert_str_eq(cfg->values[CFG_MAX_CHILDREN].text, "16");
    config_free(&cfg);
    cfg = parse_ok("max-children: 0016\n");
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 16);
    config_free(&cfg);
    cfg = parse_ok("tcp-send-buffer: 65536\n");
    ck_assert(cfg_is_set(cfg, CFG_TCP_SEND_BUFFER));
    ck_assert_int_eq(cfg_int(cfg, CFG_TCP_SEND_BUFFER), 65536);
    config_free(&cfg);
    cfg = parse_ok("max-children-per-client: 0\n");
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_PER_CLIENT), 0);
    config_free(&cfg);

    ck_parse_fails("max-children: 0\n",
                   "test.conf:1: max-children: 0 is out of range (1 to 100000)");
    ck_parse_fails("max-children: 100001\n",
                   "test.conf:1: max-children: 100001 is out of range (1 to 100000)");
    ck_parse_fails("max-children: 4294967297\n",
                   "test.conf:1: max-children: 4294967297 is out of range (1 to 100000)");
    ck_parse_fails("max-children: 18446744073709551615\n",
                   "test.conf:1: max-children: 18446744073709551615 is out of range (1 to 100000)");
    ck_parse_fails("max-children: 18446744073709551616\n",
                   "test.conf:1: max-children: number too large");
    ck_parse_fails("max-children: 99999999999999999999999999\n",
                   "test.conf:1: max-children: number too large");
    ck_parse_fails("max-children: -1\n",
                   "test.conf:1: max-children: expected a whole number, not '-1'");
    ck_parse_fails("max-children: +5\n",
                   "test.conf:1: max-children: expected a whole number, not '+5'");
    ck_parse_fails("max-children: 1x\n",
                   "test.conf:1: max-children: expected a whole number, not '1x'");
    ck_parse_fails("max-children: 1.5\n",
                   "test.conf:1: max-children: expected a whole number, not '1.5'");
    ck_parse_fails("max-children: 0x10\n",
                   "test.conf:1: max-children: expected a whole number, not '0x10'");
    ck_parse_fails("max-children: 1 2\n",
                   "test.conf:1: max-children: expected a whole number, not '1 2'");
    ck_parse_fails("max-children: 16#busy\n",
                   "test.conf:1: max-children: expected a whole number, not '16#busy'");
    ck_parse_fails("max-children:\n",
                   "test.conf:1: max-children: expected a whole number, not ''");
    ck_parse_fails("tcp-send-buffer: 1023\n",
                   "test.conf:1: tcp-send-buffer: 1023 is out of range (1024 to 16777216)");
    ck_parse_fails("timeout-seconds: 0\n",
                   "test.conf:1: timeout-seconds: 0 is out of range (1 to 86400)");
    /* Control bytes are shown escaped, long values cut. */
    ck_parse_fails("max-children: 1\x01\n",
                   "test.conf:1: max-children: expected a whole number, not '1\\x01'");
    ck_parse_fails("max-children: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                   "test.conf:1: max-children: expected a whole number, not "
                   "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
}
END_TEST

START_TEST(test_facility)
{
    struct config *cfg;

    ck_assert_int_eq(config_facility_by_name("mail"), LOG_MAIL);
    ck_assert_int_eq(config_facility_by_name("daemon"), LOG_DAEMON);
    ck_assert_int_eq(config_facility_by_name("authpriv"), LOG_AUTHPRIV);
    ck_assert_int_eq(config_facility_by_name("local0"), LOG_LOCAL0);
    ck_assert_int_eq(config_facility_by_name("local7"), LOG_LOCAL7);
    ck_assert_int_eq(config_facility_by_name("LOCAL7"), LOG_LOCAL7);
    ck_assert_int_eq(config_facility_by_name("local8"), -1);
    ck_assert_int_eq(config_facility_by_name(""), -1);
    ck_assert_int_eq(config_facility_by_name(NULL), -1);

    cfg = parse_ok("log-facility: local3\n");
    ck_assert_int_eq(cfg_facility(cfg, CFG_LOG_FACILITY), LOG_LOCAL3);
    config_free(&cfg);
    cfg = parse_ok("log-facility: Daemon   # for now\n");
    ck_assert_int_eq(cfg_facility(cfg, CFG_LOG_FACILITY), LOG_DAEMON);
    config_free(&cfg);
    ck_parse_fails("log-facility: local8\n",
                   "test.conf:1: log-facility: unknown syslog facility 'local8'");
    ck_parse_fails("log-facility: LOG_MAIL\n",
                   "test.conf:1: log-facility: unknown syslog facility 'LOG_MAIL'");
    ck_parse_fails("log-facility:\n",
                   "test.conf:1: log-facility: unknown syslog facility ''");
}
END_TEST

START_TEST(test_string)
{
    struct config *cfg;

    /* '#' inside text is data: passwords and SQL may hold it. */
    cfg = parse_ok("auth-passwd-mail-group: mail # not a comment\n"
                   "domain-separators:\n"
                   "auth-flatfile-mail-user:   pop  user  \n");
    ck_assert_str_eq(cfg_str(cfg, CFG_AUTH_PASSWD_MAIL_GROUP), "mail # not a comment");
    /* An empty value is a value. */
    ck_assert_str_eq(cfg_str(cfg, CFG_DOMAIN_SEPARATORS), "");
    ck_assert(cfg_is_set(cfg, CFG_DOMAIN_SEPARATORS));
    ck_assert_str_eq(cfg_str(cfg, CFG_AUTH_FLATFILE_MAIL_USER), "pop  user");
    config_free(&cfg);

    /* Only the first ':' ends the key. */
    cfg = parse_ok("auth-flatfile-passwd-file: /etc/mail:x/$(domain)/passwd\n");
    ck_assert_str_eq(cfg_str(cfg, CFG_AUTH_FLATFILE_PASSWD_FILE),
                     "/etc/mail:x/$(domain)/passwd");
    config_free(&cfg);
    ck_parse_fails("auth-flatfile-passwd-file: /etc/mail/$(domain/passwd\n",
                   "test.conf:1: auth-flatfile-passwd-file: unexpected character in $(...)");
    ck_parse_fails("auth-flatfile-passwd-file: /etc/mail/$(dom)/passwd\n",
                   "test.conf:1: auth-flatfile-passwd-file: unknown variable in $(...)");
}
END_TEST

START_TEST(test_mailbox)
{
    struct config *cfg;

    cfg = parse_ok("mailbox: bsd:/var/mail/$(user) maildir:$(home)/Maildir "
                   "/var/spool/$(local_part[0])/$(local_part) bsd:/x/$$\n");
    ck_assert_str_eq(cfg_str(cfg, CFG_MAILBOX),
                     "bsd:/var/mail/$(user) maildir:$(home)/Maildir "
                     "/var/spool/$(local_part[0])/$(local_part) bsd:/x/$$");
    config_free(&cfg);
    /* An absolute path has no type prefix, whatever ':' it holds. */
    cfg = parse_ok("mailbox: /var/mail:old/$(user) $(home)/mbox\n");
    config_free(&cfg);
    ck_parse_fails("mailbox: /var/mail:$(usr)\n",
                   "test.conf:1: mailbox: '/var/mail:$(usr)': unknown variable in $(...)");
    ck_parse_fails("mailbox: bsd:/var/mail/$(usr)\n",
                   "test.conf:1: mailbox: 'bsd:/var/mail/$(usr)': unknown variable in $(...)");
    ck_parse_fails("mailbox: bsd:/a/$(user) bsd:/b/$(user\n",
                   "test.conf:1: mailbox: 'bsd:/b/$(user': unterminated $(");
    ck_parse_fails("mailbox: $(user[x])\n",
                   "test.conf:1: mailbox: '$(user[x])': malformed index in $(...): "
                   "expected [N] or [-N]");
}
END_TEST

START_TEST(test_addrlist)
{
    struct config *cfg;

    cfg = parse_ok("listen-address: 0.0.0.0   [::]:995(example.com)   # both\n");
    ck_assert_str_eq(cfg_str(cfg, CFG_LISTEN_ADDRESS), "0.0.0.0   [::]:995(example.com)");
    config_free(&cfg);
    cfg = parse_ok("listen-address:\n");
    ck_assert_str_eq(cfg_str(cfg, CFG_LISTEN_ADDRESS), "");
    config_free(&cfg);
    ck_parse_fails("listen-address: 0.0.0.0 [::1\n",
                   "test.conf:1: listen-address: '[::1': unterminated '[' in IPv6 address");
    ck_parse_fails("listen-address: host:0\n",
                   "test.conf:1: listen-address: 'host:0': port out of range (1-65535)");
    ck_parse_fails("listen-address: 0.0.0.0#x\n",
                   "test.conf:1: listen-address: '0.0.0.0#x': invalid character in host name");
}
END_TEST

START_TEST(test_syntax_errors)
{
    ck_parse_fails("max-children 16\n", "test.conf:1: expected 'directive: value'");
    ck_parse_fails(": 16\n", "test.conf:1: missing directive name before ':'");
    ck_parse_fails("   :\n", "test.conf:1: missing directive name before ':'");
    ck_parse_fails("# comment\n\n   \nmax-children: 4\nstray line\n",
                   "test.conf:5: expected 'directive: value'");
    ck_parse_fails("max-children: 4\n\n# x\nlog-stderr: perhaps\n",
                   "test.conf:4: log-stderr: expected yes or no, not 'perhaps'");
}
END_TEST

START_TEST(test_comments)
{
    struct config *cfg = parse_ok(
        "# a comment\n"
        "   # an indented comment: with a colon\n"
        "#max-children: 99\n"
        "# a comment ending in a backslash \\\n"
        "max-children: 5\n"
        "\t\n");

    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 5);
    ck_assert_uint_eq(cfg->values[CFG_MAX_CHILDREN].line, 5);
    ck_assert_uint_eq(cfg->nwarnings, 0);
    config_free(&cfg);
}
END_TEST

START_TEST(test_continuation)
{
    struct config *cfg = parse_ok(
        "mailbox: bsd:/a/$(user) \\\n"
        "   bsd:/b/$(user)\n"
        "max-children: \\\n"
        "7\n"
        "foo: bar\n"
        "auth-passwd-mail-group: ma\\\n"
        "il\n"
        "domain-separators: @\\\n"
        "\n"
        "max-children: 8\n");
    char where[64];

    ck_assert_str_eq(cfg_str(cfg, CFG_MAILBOX), "bsd:/a/$(user)    bsd:/b/$(user)");
    ck_assert_str_eq(cfg_where(cfg, CFG_MAILBOX, where, sizeof where), "test.conf:1");
    ck_assert_str_eq(cfg_str(cfg, CFG_AUTH_PASSWD_MAIL_GROUP), "mail");
    ck_assert_uint_eq(cfg->values[CFG_AUTH_PASSWD_MAIL_GROUP].line, 6);
    /* A continuation onto an empty line just ends the value. */
    ck_assert_str_eq(cfg_str(cfg, CFG_DOMAIN_SEPARATORS), "@");
    ck_assert_uint_eq(cfg->values[CFG_DOMAIN_SEPARATORS].line, 8);
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 8);
    ck_assert_str_eq(cfg_where(cfg, CFG_MAX_CHILDREN, where, sizeof where), "test.conf:10");
    /* Line numbers after continuations count physical lines. */
    ck_assert_uint_eq(cfg->nwarnings, 2);
    ck_assert_str_eq(cfg->warnings[0], "test.conf:5: unknown directive 'foo'");
    ck_assert_str_eq(cfg->warnings[1],
                     "test.conf:10: max-children was already given at line 3; "
                     "this later value is used");
    config_free(&cfg);

    /* A continued line that starts with '#' is data, not a comment. */
    cfg = parse_ok("auth-passwd-mail-group: a\\\n#b\n");
    ck_assert_str_eq(cfg_str(cfg, CFG_AUTH_PASSWD_MAIL_GROUP), "a#b");
    config_free(&cfg);
    /* CRLF line ends continue too. */
    cfg = parse_ok("max-children: 1\\\r\n2\r\n");
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 12);
    config_free(&cfg);

    ck_parse_fails("a: b\\\nc\nmax-children: x\n",
                   "test.conf:3: max-children: expected a whole number, not 'x'");
    ck_parse_fails("max-children: 1\\\n  2\n",
                   "test.conf:1: max-children: expected a whole number, not '1  2'");
    ck_parse_fails("max-children: 4\nlog-stderr: yes\\\n",
                   "test.conf:2: backslash continuation at end of file");
    ck_parse_fails("max-children: 4\nlog-stderr: yes\\",
                   "test.conf:2: backslash continuation at end of file");
    ck_parse_fails("log-stderr: \\\nyes\\\n",
                   "test.conf:2: backslash continuation at end of file");
}
END_TEST

START_TEST(test_warnings)
{
    struct config *cfg = parse_ok(
        "max-childs: 4\n"
        "bogus-thing: 1\n"
        "Max-Children: 3\n"
        "timeout-second: 30\n"
        "auth-kerberos-enable: yes\n"
        "lowercase-user: yes\n"
        "lowercase-user: no\n"
        "lowercase-user: yes\n"
        "bad\x01key: 1\n");

    ck_assert_uint_eq(cfg->nwarnings, 8);
    ck_assert_str_eq(cfg->warnings[0],
                     "test.conf:1: unknown directive 'max-childs' (did you mean 'max-children'?)");
    ck_assert_str_eq(cfg->warnings[1], "test.conf:2: unknown directive 'bogus-thing'");
    ck_assert_str_eq(cfg->warnings[2],
                     "test.conf:3: unknown directive 'Max-Children' (did you mean 'max-children'?)");
    ck_assert_str_eq(cfg->warnings[3],
                     "test.conf:4: unknown directive 'timeout-second' (did you mean 'timeout-seconds'?)");
    ck_assert_str_eq(cfg->warnings[4], "test.conf:5: unknown directive 'auth-kerberos-enable'");
    ck_assert_str_eq(cfg->warnings[5],
                     "test.conf:7: lowercase-user was already given at line 6; "
                     "this later value is used");
    ck_assert_str_eq(cfg->warnings[6],
                     "test.conf:8: lowercase-user was already given at line 7; "
                     "this later value is used");
    ck_assert_str_eq(cfg->warnings[7], "test.conf:9: unknown directive 'bad\\x01key'");
    /* The later value wins; the unknown ones changed nothing. */
    ck_assert(cfg_bool(cfg, CFG_LOWERCASE_USER));
    ck_assert_uint_eq(cfg->values[CFG_LOWERCASE_USER].line, 8);
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 16);
    ck_assert_int_eq(cfg_int(cfg, CFG_TIMEOUT_SECONDS), 600);
    config_free(&cfg);
}
END_TEST

START_TEST(test_nul_byte)
{
    static const char text[] = "max-children: 4\nlog-stderr: y\0es\n";
    char *err;
    struct config *cfg = parse_n(text, sizeof text - 1, &err);

    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err, "test.conf:2: NUL byte in file");
    free(err);
    cfg = parse_n("\0", 1, &err);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err, "test.conf:1: NUL byte in file");
    free(err);
}
END_TEST

START_TEST(test_long_line)
{
    const char *key = "auth-passwd-mail-group: ";
    size_t klen = strlen(key);
    char *text = malloc(2 * CONFIG_MAX_LINE + 64);
    char *err, want[128];
    struct config *cfg;

    /* Exactly CONFIG_MAX_LINE bytes (newline excluded) is accepted. */
    memcpy(text, "max-children: 2\n", 16);
    memcpy(text + 16, key, klen);
    memset(text + 16 + klen, 'g', CONFIG_MAX_LINE - klen);
    memcpy(text + 16 + CONFIG_MAX_LINE, "\n", 2);
    cfg = parse(text, &err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_uint_eq(strlen(cfg_str(cfg, CFG_AUTH_PASSWD_MAIL_GROUP)),
                      CONFIG_MAX_LINE - klen);
    config_free(&cfg);

    /* One more byte is refused, with the line number. */
    memset(text + 16 + klen, 'g', CONFIG_MAX_LINE - klen + 1);
    memcpy(text + 16 + CONFIG_MAX_LINE + 1, "\n", 2);
    snprintf(want, sizeof want, "test.conf:2: line longer than %d bytes",
             CONFIG_MAX_LINE);
    ck_parse_fails(text, want);

    /* Continuations count towards the limit of the logical line. */
    memcpy(text, key, klen);
    memset(text + klen, 'g', CONFIG_MAX_LINE / 2);
    memcpy(text + klen + CONFIG_MAX_LINE / 2, "\\\n", 2);
    memset(text + klen + CONFIG_MAX_LINE / 2 + 2, 'h', CONFIG_MAX_LINE / 2);
    memcpy(text + klen + CONFIG_MAX_LINE + 2, "\n", 2);
    snprintf(want, sizeof want, "test.conf:1: line longer than %d bytes",
             CONFIG_MAX_LINE);
    ck_parse_fails(text, want);

    /* A long comment is limited the same way. */
    text[0] = '#';
    memset(text + 1, 'c', CONFIG_MAX_LINE + 10);
    memcpy(text + 1 + CONFIG_MAX_LINE + 10, "\n", 2);
    ck_parse_fails(text, want);
    free(text);
}
END_TEST

START_TEST(test_load)
{
    char *dir = unit_tmpdir();
    char path[512], want[1200], *err;
    struct config *cfg;
    const char *text = "# sample\nmax-children: 3\nlog-stderr: yes\n";

    snprintf(path, sizeof path, "%s/tpop3d.conf", dir);
    unit_write_file(path, text, strlen(text));
    ck_assert_int_eq(chmod(path, 0600), 0);
    cfg = config_load(path, &err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(cfg->path, path);
    ck_assert_int_eq(cfg_int(cfg, CFG_MAX_CHILDREN), 3);
    ck_assert(cfg_bool(cfg, CFG_LOG_STDERR));
    ck_assert_uint_eq(cfg->nwarnings, 0);
    config_free(&cfg);

    /* Readable by others: loaded, with a warning. */
    ck_assert_int_eq(chmod(path, 0644), 0);
    cfg = config_load(path, &err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_uint_eq(cfg->nwarnings, 1);
    snprintf(want, sizeof want, "%s: accessible to other users (mode 0644); "
             "it may hold passwords: chmod o-rwx %s", path, path);
    ck_assert_str_eq(cfg->warnings[0], want);
    config_free(&cfg);
    ck_assert_int_eq(chmod(path, 0601), 0);
    cfg = config_load(path, &err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_uint_eq(cfg->nwarnings, 1);
    config_free(&cfg);
    ck_assert_int_eq(chmod(path, 0640), 0);
    cfg = config_load(path, &err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_uint_eq(cfg->nwarnings, 0);
    config_free(&cfg);

    /* Errors name the file and line. */
    text = "max-children: 3\nmax-children: lots\n";
    unit_write_file(path, text, strlen(text));
    cfg = config_load(path, &err);
    ck_assert_ptr_null(cfg);
    snprintf(want, sizeof want,
             "%s:2: max-children: expected a whole number, not 'lots'", path);
    ck_assert_str_eq(err, want);
    free(err);

    /* Missing file, directory. */
    snprintf(path, sizeof path, "%s/missing.conf", dir);
    cfg = config_load(path, &err);
    ck_assert_ptr_null(cfg);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    ck_assert_str_eq(err, want);
    free(err);
    cfg = config_load(dir, &err);
    ck_assert_ptr_null(cfg);
    snprintf(want, sizeof want, "%s: not a regular file", dir);
    ck_assert_str_eq(err, want);
    free(err);

    unit_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_split_words)
{
    size_t n = 99;
    char **w = config_split_words("  bsd:/a \t maildir:/b\n c  ", &n);

    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(w[0], "bsd:/a");
    ck_assert_str_eq(w[1], "maildir:/b");
    ck_assert_str_eq(w[2], "c");
    ck_assert_ptr_null(w[3]);
    config_free_words(w);

    w = config_split_words("", &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(w[0]);
    config_free_words(w);
    w = config_split_words(" \t ", NULL);
    ck_assert_ptr_null(w[0]);
    config_free_words(w);
    w = config_split_words("one", &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(w[0], "one");
    config_free_words(w);
    config_free_words(NULL);
}
END_TEST

/* The sample etc/tpop3d.conf: it loads without warnings, and once its
 * commented directives are switched on it sets every directive, each
 * commented default being the real one. Needs $top_srcdir (make check). */
START_TEST(test_sample)
{
    const char *top = getenv("top_srcdir");
    char path[1024], *text, *err;
    struct config *cfg, *all;
    struct strbuf sb;
    size_t len;

    if (!top)
        return;
    snprintf(path, sizeof path, "%s/etc/tpop3d.conf", top);
    text = unit_read_file(path, &len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    cfg = parse_n(text, len, &err);
    ck_assert_msg(cfg != NULL, "%s", err);
    ck_assert_uint_eq(cfg->nwarnings, 0);
    ck_assert_str_eq(cfg_str(cfg, CFG_LISTEN_ADDRESS), "0.0.0.0:110");
    ck_assert(cfg_bool(cfg, CFG_AUTH_PASSWD_ENABLE));
    ck_assert_str_eq(cfg_str(cfg, CFG_MAILBOX), "bsd:/var/mail/$(user)");
    ck_assert_str_eq(cfg_str(cfg, CFG_AUTH_PASSWD_MAIL_GROUP), "mail");

    strbuf_init(&sb, 1024 * 1024);
    for (char *line = text, *next; *line; line = next) {
        char *nl = strchr(line, '\n'), *colon;

        next = nl ? nl + 1 : line + strlen(line);
        if (nl)
            *nl = '\0';
        colon = strchr(line, ':');
        if (line[0] == '#' && colon) {
            *colon = '\0';
            bool known = config_key_by_name(line + 1) != CFG__COUNT;
            *colon = ':';
            if (known)
                line++;
        }
        ck_assert_int_eq(strbuf_appendf(&sb, "%s\n", line), 0);
    }
    all = parse_n(strbuf_str(&sb), sb.len, &err);
    ck_assert_msg(all != NULL, "%s", err);
    ck_assert_uint_eq(all->nwarnings, 0);
    for (int k = 0; k < CFG__COUNT; k++) {
        ck_assert_msg(cfg_is_set(all, k), "%s missing from the sample",
                      cfg_defs[k].name);
        if (!cfg_is_set(cfg, k) && cfg_defs[k].def)
            ck_assert_msg(strcmp(all->values[k].text, cfg_defs[k].def) == 0,
                          "%s: the sample shows %s, the default is %s",
                          cfg_defs[k].name, all->values[k].text,
                          cfg_defs[k].def);
    }
    config_free(&all);
    config_free(&cfg);
    strbuf_free(&sb);
    free(text);
}
END_TEST

/* Getters of the wrong type abort: each runs in its own forked test. */
START_TEST(test_getter_int_on_bool)
{
    struct config *cfg = parse_ok("");
    (void)cfg_int(cfg, CFG_LOG_STDERR);
}
END_TEST

START_TEST(test_getter_bool_on_int)
{
    struct config *cfg = parse_ok("");
    (void)cfg_bool(cfg, CFG_MAX_CHILDREN);
}
END_TEST

START_TEST(test_getter_str_on_facility)
{
    struct config *cfg = parse_ok("");
    (void)cfg_str(cfg, CFG_LOG_FACILITY);
}
END_TEST

START_TEST(test_getter_seconds_on_int)
{
    struct config *cfg = parse_ok("");
    (void)cfg_seconds(cfg, CFG_TIMEOUT_SECONDS);
}
END_TEST

START_TEST(test_getter_facility_on_string)
{
    struct config *cfg = parse_ok("");
    (void)cfg_facility(cfg, CFG_MAILBOX);
}
END_TEST

START_TEST(test_getter_bad_key)
{
    struct config *cfg = parse_ok("");
    (void)cfg_is_set(cfg, CFG__COUNT);
}
END_TEST

Suite *suite_config(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    TCase *abort_tc;

    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_no_final_newline);
    tcase_add_test(tc, test_bool);
    tcase_add_test(tc, test_int);
    tcase_add_test(tc, test_facility);
    tcase_add_test(tc, test_string);
    tcase_add_test(tc, test_mailbox);
    tcase_add_test(tc, test_addrlist);
    tcase_add_test(tc, test_syntax_errors);
    tcase_add_test(tc, test_comments);
    tcase_add_test(tc, test_continuation);
    tcase_add_test(tc, test_warnings);
    tcase_add_test(tc, test_nul_byte);
    tcase_add_test(tc, test_long_line);
    tcase_add_test(tc, test_load);
    tcase_add_test(tc, test_split_words);
    tcase_add_test(tc, test_sample);
    suite_add_tcase(s, tc);

    /* Without fork mode an abort would end the whole run. */
    const char *fork_mode = getenv("CK_FORK");
    if (fork_mode && strcmp(fork_mode, "no") == 0)
        return s;
    abort_tc = tcase_create("config-getters");
    tcase_add_test_raise_signal(abort_tc, test_getter_int_on_bool, SIGABRT);
    tcase_add_test_raise_signal(abort_tc, test_getter_bool_on_int, SIGABRT);
    tcase_add_test_raise_signal(abort_tc, test_getter_str_on_facility, SIGABRT);
    tcase_add_test_raise_signal(abort_tc, test_getter_seconds_on_int, SIGABRT);
    tcase_add_test_raise_signal(abort_tc, test_getter_facility_on_string, SIGABRT);
    tcase_add_test_raise_signal(abort_tc, test_getter_bad_key, SIGABRT);
    suite_add_tcase(s, abort_tc);
    return s;
}
