/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unit.c: runs every unit-test suite; the registry is the list below. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailbox.h"
#include "unit.h"

static Suite *(*const suites[])(void) = {
    suite_strbuf, suite_config, suite_subst, suite_listenaddr,
    suite_pop3, suite_conn, suite_username, suite_password, suite_flatfile,
    suite_mboxindex, suite_msgwrite, suite_bsd, suite_lock, suite_journal,
    suite_journal_kill, suite_sandbox,
    suite_mboxcache, suite_authcache, suite_onlogin, suite_relay,
    suite_bulletin, suite_tls, suite_sasl, suite_privsep_msg,
};

char *unit_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (!base || !*base)
        base = "/tmp";
    if (asprintf(&path, "%s/tpop3d-unit.XXXXXX", base) < 0)
        abort();
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
    return path;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

void unit_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void unit_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const char *p = data;

    if (fd < 0) {
        perror(path);
        abort();
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

char *unit_read_file(const char *path, size_t *len_r)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;

    if (!f)
        return NULL;
    do {
        if (len + 65536 + 1 > cap) {
            cap = (len + 65536 + 1) * 2;
            buf = realloc(buf, cap);
            if (!buf)
                abort();
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = 0;
    if (len_r)
        *len_r = len;
    return buf;
}

void unit_unhex(const char *s, unsigned char *out, size_t len)
{
    ck_assert_uint_eq(strlen(s), 2 * len);
    for (size_t i = 0; i < len; i++) {
        char pair[3] = { s[2 * i], s[2 * i + 1], 0 };
        char *end;
        unsigned long v = strtoul(pair, &end, 16);

        ck_assert(*end == 0);
        out[i] = (unsigned char)v;
    }
}

int main(void)
{
    SRunner *sr = srunner_create(NULL);
    int failed;

    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        srunner_add_suite(sr, suites[i]());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

uint64_t unit_idx_raw(const struct mbox_index *idx, size_t i)
{
    return i < idx->count ? mailbox_msg_from(&idx->msgs[i]) : idx->end;
}

const char *unit_idx_uidl(const struct mbox_index *idx, size_t i)
{
    static char bufs[4][UIDL_MAX_LEN + 1];
    static unsigned k;
    struct mailbox mb = {
        .msgs = idx->msgs, .count = idx->count,
        .xuidl = idx->xuidl, .xuidl_count = idx->xuidl_count,
    };

    return mailbox_uidl(&mb, i, bufs[k++ % 4]);
}
