/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_mboxindex.c: splitting awkward mailboxes, exact sizes and UIDLs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mboxindex.h"
#include "unit.h"

/* The expected UIDL, computed here independently of the indexer. */
static void md5hex(const void *data, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;

    ck_assert(EVP_Digest(data, len, md, &n, EVP_md5(), NULL));
    ck_assert_uint_eq(n, 16);
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The served range of message I of DATA. */
static uint64_t idx_off(const char *data, const struct mbox_index *idx,
                        size_t i)
{
    uint64_t off, len;

    mbox_msg_text(data, unit_idx_raw(idx, i), unit_idx_raw(idx, i + 1), idx->crlf, &off,
                  &len);
    return off;
}

static uint64_t idx_len(const char *data, const struct mbox_index *idx,
                        size_t i)
{
    uint64_t off, len;

    mbox_msg_text(data, unit_idx_raw(idx, i), unit_idx_raw(idx, i + 1), idx->crlf, &off,
                  &len);
    return len;
}

static void index_ok(const char *data, size_t len, struct mbox_index *idx)
{
    const char *err = NULL;

    ck_assert_int_eq(mbox_index_build(data, len, 0, 0, idx, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_uint_eq(unit_idx_raw(idx, idx->count), len);
}

/* Message I serves exactly the bytes EXPECT, sends SIZE octets, and has the
 * UIDL of the first min(512, raw region) bytes of its raw region. */
static void check_msg(const char *data, const struct mbox_index *idx,
                      size_t i, const char *expect, size_t expect_len,
                      uint64_t size)
{
    const struct mailbox_msg *m = &idx->msgs[i];
    uint64_t rawlen = unit_idx_raw(idx, i + 1) - unit_idx_raw(idx, i);
    char uidl[33];

    uint64_t off = idx_off(data, idx, i), len = idx_len(data, idx, i);

    ck_assert_uint_lt(i, idx->count);
    ck_assert_uint_eq(len, expect_len);
    ck_assert(memcmp(data + off, expect, expect_len) == 0);
    ck_assert_uint_eq(m->size, size);
    ck_assert_uint_eq(m->size, msg_wire_size(data + off, len));
    ck_assert(!m->deleted);
    ck_assert(memcmp(data + unit_idx_raw(idx, i), "From ", 5) == 0);
    md5hex(data + unit_idx_raw(idx, i), rawlen < 512 ? rawlen : 512, uidl);
    ck_assert_str_eq(unit_idx_uidl(idx, i), uidl);
}

START_TEST(empty_file)
{
    struct mbox_index idx;

    index_ok("", 0, &idx);
    ck_assert_uint_eq(idx.count, 0);
    mbox_index_free(&idx);
    index_ok(NULL, 0, &idx);
    ck_assert_uint_eq(idx.count, 0);
    mbox_index_free(&idx);
}
END_TEST

START_TEST(not_an_mbox)
{
    static const char *const bad[] = {
        "Subject: hi\n\nbody\n", "\nFrom a\n", "From", "from a\n", " From a\n",
        "\n",
    };
    struct mbox_index idx;
    const char *err;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = NULL;
        ck_assert_int_eq(mbox_index_build(bad[i], strlen(bad[i]), 0, 0, &idx,
                                          &err), -1);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_null(idx.msgs);
        ck_assert_uint_eq(idx.count, 0);
    }
    err = NULL;
    ck_assert_int_eq(mbox_index_build("From a\n", 7, 8, 0, &idx, &err), -1);
    ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(two_messages)
{
    const char *mb =
        "From alice@example.org Mon Jan  1 00:00:00 2024\n"
        "Subject: one\n"
        "\n"
        "body one\n"
        "\n"
        "From bob@example.org Mon Jan  1 00:00:01 2024\n"
        "Subject: two\n"
        "\n"
        "body two\n";
    struct mbox_index idx;

    index_ok(mb, strlen(mb), &idx);
    ck_assert_uint_eq(idx.count, 2);
    ck_assert(!idx.crlf);
    ck_assert_uint_eq(unit_idx_raw(&idx, 0), 0);
    ck_assert_uint_eq(unit_idx_raw(&idx, 1), strstr(mb, "From bob") - mb);
    check_msg(mb, &idx, 0, "Subject: one\n\nbody one\n", 23, 23 + 3);
    check_msg(mb, &idx, 1, "Subject: two\n\nbody two\n", 23, 23 + 3);
    ck_assert_uint_eq(idx_off(mb, &idx, 0), strchr(mb, '\n') - mb + 1);
    mbox_index_free(&idx);
    ck_assert_ptr_null(idx.msgs);
}
END_TEST

START_TEST(uidl_exact_values)
{
    /* Literal digests pin the algorithm: a change here changes every UIDL
     * a client has seen. */
    const char *mb = "From a\nX: 1\n\nFrom b\nX: 2\n";
    char big[2000];
    struct mbox_index idx;

    index_ok(mb, strlen(mb), &idx);
    ck_assert_uint_eq(idx.count, 2);
    /* Raw regions "From a\nX: 1\n\n" and "From b\nX: 2\n". */
    ck_assert_str_eq(unit_idx_uidl(&idx, 0), "91b8021409036320a5c041fd5a4337ad");
    ck_assert_str_eq(unit_idx_uidl(&idx, 1), "484d3004b8361a80cd32beb71c7a1e0b");
    mbox_index_free(&idx);

    /* A long message: exactly 512 bytes from the From_ line. */
    memset(big, 'x', sizeof big);
    memcpy(big, "From c\n", 7);
    for (size_t i = 80; i < sizeof big; i += 80)
        big[i] = '\n';
    index_ok(big, sizeof big, &idx);
    ck_assert_uint_eq(idx.count, 1);
    {
        char want[33];

        md5hex(big, 512, want);
        ck_assert_str_eq(unit_idx_uidl(&idx, 0), want);
    }
    mbox_index_free(&idx);

    /* Raw regions just around the bound, each followed by a separator. */
    for (size_t n = 509; n <= 515; n++) {
        char want[33];

        memset(big, 'y', n);
        memcpy(big, "From d\n", 7);
        memcpy(big + n - 2, "\n\n", 2);
        memcpy(big + n, "From e\n", 7);
        index_ok(big, n + 7, &idx);
        ck_assert_uint_eq(idx.count, 2);
        ck_assert_uint_eq(unit_idx_raw(&idx, 1), n);
        md5hex(big, n < 512 ? n : 512, want);
        ck_assert_str_eq(unit_idx_uidl(&idx, 0), want);
        md5hex(big + n, 7, want);
        ck_assert_str_eq(unit_idx_uidl(&idx, 1), want);
        mbox_index_free(&idx);
    }
}
END_TEST

START_TEST(no_trailing_newline)
{
    const char *mb = "From a\nS: 1\n\nlast line";
    struct mbox_index idx;

    index_ok(mb, strlen(mb), &idx);
    ck_assert_uint_eq(idx.count, 1);
    /* 3 bare LFs become CRLF, and the last line gets CRLF. */
    check_msg(mb, &idx, 0, "S: 1\n\nlast line", 15, 15 + 2 + 2);
    mbox_index_free(&idx);
}
END_TEST

START_TEST(trailing_blank_lines)
{
    const char *one = "From a\nS: 1\n\nbody\n\n";
    const char *two = "From a\nS: 1\n\nbody\n\n\n";
    struct mbox_index idx;

    /* One trailing blank line is the MDA's separator, not served. */
    index_ok(one, strlen(one), &idx);
    check_msg(one, &idx, 0, "S: 1\n\nbody\n", 11, 14);
    mbox_index_free(&idx);
    /* Only one is taken. */
    index_ok(two, strlen(two), &idx);
    check_msg(two, &idx, 0, "S: 1\n\nbody\n\n", 12, 16);
    mbox_index_free(&idx);
}
END_TEST

START_TEST(from_in_body)
{
    const char *mb =
        "From a\n"
        "S: 1\n"
        "\n"
        "text\n"
        ">From someone\n"
        "From not a separator\n"
        "\n"
        ">From still body\n"
        "\n"
        "From b\n"
        "S: 2\n"
        "\n"
        "x\n"
        "\n"
        "From c\n"
        "\n";
    const char *one = "S: 1\n\ntext\n>From someone\nFrom not a separator\n"
                      "\n>From still body\n";
    struct mbox_index idx;

    index_ok(mb, strlen(mb), &idx);
    ck_assert_uint_eq(idx.count, 3);
    check_msg(mb, &idx, 0, one, strlen(one), strlen(one) + 7);
    check_msg(mb, &idx, 1, "S: 2\n\nx\n", 8, 11);
    /* "From c\n\n": the final blank line is the separator: nothing served. */
    check_msg(mb, &idx, 2, "", 0, 0);
    mbox_index_free(&idx);
}
END_TEST

START_TEST(crlf_mailbox)
{
    const char *mb =
        "From a\r\n"
        "S: 1\r\n"
        "\r\n"
        "body\r\n"
        "From inside\r\n"
        "\r\n"
        "From b\r\n"
        "S: 2\r\n"
        "\r\n"
        ".dot\r\n"
        "\r\n";
    struct mbox_index idx;

    index_ok(mb, strlen(mb), &idx);
    ck_assert(idx.crlf);
    ck_assert_uint_eq(idx.count, 2);
    /* Already CRLF: served bytes are sent as they are. */
    check_msg(mb, &idx, 0, "S: 1\r\n\r\nbody\r\nFrom inside\r\n", 27, 27);
    check_msg(mb, &idx, 1, "S: 2\r\n\r\n.dot\r\n", 14, 14);
    mbox_index_free(&idx);

    /* In an LF mailbox a line holding only CR is not blank. */
    mb = "From a\nS: 1\n\nx\n\r\nFrom b\n";
    index_ok(mb, strlen(mb), &idx);
    ck_assert(!idx.crlf);
    ck_assert_uint_eq(idx.count, 1);
    mbox_index_free(&idx);
}
END_TEST

START_TEST(empty_bodies)
{
    const char *mb = "From a\n\nFrom b\n\nFrom c\nFrom d\n";
    struct mbox_index idx;

    index_ok(mb, strlen(mb), &idx);
    ck_assert_uint_eq(idx.count, 3);
    check_msg(mb, &idx, 0, "", 0, 0);
    check_msg(mb, &idx, 1, "", 0, 0);
    /* "From d" follows no blank line: it is a header line of c. */
    check_msg(mb, &idx, 2, "From d\n", 7, 8);
    mbox_index_free(&idx);

    /* A From_ line cut off by the end of the file. */
    mb = "From a\nS: 1\n\nFrom b";
    index_ok(mb, strlen(mb), &idx);
    ck_assert_uint_eq(idx.count, 2);
    check_msg(mb, &idx, 0, "S: 1\n", 5, 6);
    check_msg(mb, &idx, 1, "", 0, 0);
    ck_assert_uint_eq(idx_off(mb, &idx, 1), strlen(mb));
    mbox_index_free(&idx);
}
END_TEST

START_TEST(headers_only)
{
    const char *mb = "From a\nS: 1\nT: 2\n\nFrom b\nS: 3";
    struct mbox_index idx;

    index_ok(mb, strlen(mb), &idx);
    ck_assert_uint_eq(idx.count, 2);
    check_msg(mb, &idx, 0, "S: 1\nT: 2\n", 10, 12);
    check_msg(mb, &idx, 1, "S: 3", 4, 6);
    mbox_index_free(&idx);
}
END_TEST

START_TEST(long_lines_nul_8bit)
{
    size_t n = 100 * 1024, len;
    char *mb = malloc(3 * n + 200), *p = mb, *body;
    struct mbox_index idx;

    ck_assert_ptr_nonnull(mb);
    p = mempcpy(p, "From a\nS: 1\n\n", 13);
    body = p;
    memset(p, 'a', n);
    p += n;
    *p++ = '\n';
    /* NUL, 8-bit and a CR in the middle of a line are plain data. */
    p = mempcpy(p, "\0\xff\xe9t\xc3\xa9\r!\n", 9);
    memset(p, 'b', n);
    p += n;
    p = mempcpy(p, "\n\nFrom b\n\n", 10);
    len = (size_t)(p - mb);

    index_ok(mb, len, &idx);
    ck_assert_uint_eq(idx.count, 2);
    check_msg(mb, &idx, 0, mb + 7, (size_t)(body - mb) - 7 + 2 * n + 11,
              (uint64_t)((body - mb) - 7 + 2 * n + 11) + 5);
    check_msg(mb, &idx, 1, "", 0, 0);
    mbox_index_free(&idx);
    free(mb);
}
END_TEST

START_TEST(duplicates_unique)
{
    const char *mb = "From a\nS: 1\n\nFrom a\nS: 1\n\nFrom b\n\n"
                     "From a\nS: 1\n\n";
    struct mbox_index idx;
    char a[33], b[33], want[40];

    md5hex("From a\nS: 1\n\n", 13, a);
    md5hex("From b\n\n", 8, b);
    index_ok(mb, strlen(mb), &idx);
    ck_assert_uint_eq(idx.count, 4);
    ck_assert_str_eq(unit_idx_uidl(&idx, 0), a);
    snprintf(want, sizeof want, "%s.2", a);
    ck_assert_str_eq(unit_idx_uidl(&idx, 1), want);
    ck_assert_str_eq(unit_idx_uidl(&idx, 2), b);
    /* The last raw region runs to the end of the file, blank line
     * included, so it is the same again. */
    snprintf(want, sizeof want, "%s.3", a);
    ck_assert_str_eq(unit_idx_uidl(&idx, 3), want);

    /* Idempotent; duplicates numbered in file order. */
    mbox_uidl_unique(idx.msgs, idx.count, NULL, 0);
    mbox_uidl_unique(idx.msgs, idx.count, NULL, 0);
    ck_assert_str_eq(unit_idx_uidl(&idx, 0), a);
    snprintf(want, sizeof want, "%s.2", a);
    ck_assert_str_eq(unit_idx_uidl(&idx, 1), want);
    ck_assert_str_eq(unit_idx_uidl(&idx, 2), b);
    snprintf(want, sizeof want, "%s.3", a);
    ck_assert_str_eq(unit_idx_uidl(&idx, 3), want);

    /* A later copy loses its suffix when the earlier one is gone. */
    mbox_uidl_unique(idx.msgs + 1, 3, NULL, 0);
    ck_assert_str_eq(unit_idx_uidl(&idx, 1), a);
    snprintf(want, sizeof want, "%s.2", a);
    ck_assert_str_eq(unit_idx_uidl(&idx, 3), want);
    mbox_index_free(&idx);
}
END_TEST

START_TEST(many_duplicates)
{
    size_t n = 1000, one = 9, len = n * one;
    char *mb = malloc(len);
    struct mbox_index idx;
    char want[40];

    ck_assert_ptr_nonnull(mb);
    for (size_t i = 0; i < n; i++)
        memcpy(mb + i * one, "From x\n\n\n", one);
    index_ok(mb, len, &idx);
    ck_assert_uint_eq(idx.count, n);
    md5hex("From x\n\n\n", one, want);
    ck_assert_str_eq(unit_idx_uidl(&idx, 0), want);
    for (size_t i = 1; i < n; i++) {
        md5hex("From x\n\n\n", one, want);
        snprintf(want + 32, sizeof want - 32, ".%zu", i + 1);
        ck_assert_str_eq(unit_idx_uidl(&idx, i), want);
        /* "From x\n\n" + "\n": a one-byte body of a blank line. */
        ck_assert_uint_eq(idx_len(mb, &idx, i), 1);
        ck_assert_uint_eq(idx.msgs[i].size, 2);
    }
    mbox_index_free(&idx);
    free(mb);
}
END_TEST

START_TEST(tail_index)
{
    const char *mb = "From a\nS: 1\n\nFrom b\nS: 2\n\nx\n\nFrom c\nS: 3\n";
    struct mbox_index full, tail;
    const char *err = NULL;

    index_ok(mb, strlen(mb), &full);
    ck_assert_uint_eq(full.count, 3);
    ck_assert_int_eq(mbox_index_build(mb, strlen(mb), unit_idx_raw(&full, 1), 0,
                                      &tail,
                                      &err), 0);
    ck_assert_uint_eq(tail.count, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(unit_idx_raw(&tail, i), unit_idx_raw(&full, i + 1));
        ck_assert_uint_eq(idx_off(mb, &tail, i), idx_off(mb, &full, i + 1));
        ck_assert_uint_eq(idx_len(mb, &tail, i), idx_len(mb, &full, i + 1));
        ck_assert_uint_eq(tail.msgs[i].size, full.msgs[i + 1].size);
        ck_assert_str_eq(unit_idx_uidl(&tail, i), unit_idx_uidl(&full, i + 1));
    }
    mbox_index_free(&tail);
    /* Nothing after START. */
    ck_assert_int_eq(mbox_index_build(mb, strlen(mb), strlen(mb), 0, &tail,
                                      &err), 0);
    ck_assert_uint_eq(tail.count, 0);
    mbox_index_free(&tail);
    mbox_index_free(&full);
}
END_TEST

/* The splitting rules, line by line, as an independent reference: message
 * K's From_ line, first served byte and end of served bytes. */
struct ref_msg { size_t from, body, end; };

static size_t reference_split(const char *d, size_t len, struct ref_msg *out)
{
    size_t nlines = 0, n = 0, *ls = malloc((len + 2) * sizeof *ls);
    bool crlf;

    ck_assert_ptr_nonnull(ls);
    /* ls[i]: start of line i; ls[nlines] = len. */
    for (size_t i = 0; i < len; i++)
        if (i == 0 || d[i - 1] == '\n')
            ls[nlines++] = i;
    ls[nlines] = len;
    crlf = false;
    for (size_t i = 0; i + 1 < len && d[i] != '\n'; i++)
        crlf = d[i] == '\r' && d[i + 1] == '\n';

#define LINE_LEN(i) (ls[(i) + 1] - ls[i])
#define COMPLETE(i) (d[ls[(i) + 1] - 1] == '\n')
#define BLANK(i) (COMPLETE(i) && (LINE_LEN(i) == 1 \
                  || (crlf && LINE_LEN(i) == 2 && d[ls[i]] == '\r')))
    for (size_t i = 0; i < nlines; i++) {
        bool sep = len - ls[i] >= 5 && memcmp(d + ls[i], "From ", 5) == 0
                   && (i == 0 || BLANK(i - 1));

        if (!sep)
            continue;
        if (n > 0)
            out[n - 1].end = ls[i - 1];     /* the blank line before */
        out[n].from = ls[i];
        out[n].body = ls[i + 1];
        n++;
    }
    if (n > 0) {
        size_t last = nlines - 1;

        out[n - 1].end = len;
        if (BLANK(last) && ls[last] >= out[n - 1].body)
            out[n - 1].end = ls[last];
    }
#undef LINE_LEN
#undef COMPLETE
#undef BLANK
    free(ls);
    return n;
}

/* The index of D agrees with reference_split(): boundaries, served ranges,
 * sizes as msg_wire_size() counts them, and UIDLs. */
static void check_against_reference(const char *d, size_t len)
{
    size_t n, cap = len / 7 + 2;
    struct ref_msg *ref = malloc(cap * sizeof *ref);
    struct mbox_index idx;

    ck_assert_ptr_nonnull(ref);
    n = reference_split(d, len, ref);
    ck_assert_uint_le(n, cap);
    index_ok(d, len, &idx);
    ck_assert_uint_eq(idx.count, n);
    for (size_t i = 0; i < n; i++) {
        const struct mailbox_msg *m = &idx.msgs[i];
        uint64_t off, mlen, raw;
        char want[33];

        ck_assert_uint_eq(unit_idx_raw(&idx, i), ref[i].from);
        off = idx_off(d, &idx, i);
        mlen = idx_len(d, &idx, i);
        ck_assert_uint_eq(off, ref[i].body);
        ck_assert_uint_eq(off + mlen, ref[i].end);
        ck_assert_uint_eq(m->size, msg_wire_size(d + off, mlen));
        raw = unit_idx_raw(&idx, i + 1) - ref[i].from;
        if (m->dup == 0) {
            md5hex(d + ref[i].from, raw < 512 ? raw : 512, want);
            ck_assert_str_eq(unit_idx_uidl(&idx, i), want);
        }
    }
    mbox_index_free(&idx);
    free(ref);
}

START_TEST(matches_reference)
{
    static const char *const pieces[] = {
        "From x", "From y z", "", "", "\r", ">From q", "a", ".", "From",
        "From ", "\r\r", " From a",
    };
    char d[4096];

    for (uint32_t seed = 1; seed <= 3000; seed++) {
        uint32_t x = seed;
        size_t len = 0;
        bool crlf = seed & 1;

        len = (size_t)snprintf(d, sizeof d, "From start%s", crlf ? "\r\n" : "\n");
        while (len < 200 + seed % 700) {
            const char *pc;

            x = x * 1664525u + 1013904223u;
            pc = pieces[(x >> 20) % (sizeof pieces / sizeof pieces[0])];
            memcpy(d + len, pc, strlen(pc));
            len += strlen(pc);
            /* Mostly the mailbox's line ending, sometimes the other. */
            if (((x >> 8) & 7) == 0)
                d[len++] = '\n';
            else if (crlf || ((x >> 8) & 7) == 1)
                len += (size_t)snprintf(d + len, 3, "\r\n");
            else
                d[len++] = '\n';
        }
        /* Now and then cut the end short. */
        if ((x >> 4) % 3 == 0)
            len -= (x >> 6) % 4;
        check_against_reference(d, len);
    }
}
END_TEST

START_TEST(separator_at_every_offset)
{
    /* The indexer looks at 64 bytes at a time from the LF of each From_
     * line: put the blank line, its CR, the "From " and the end of the
     * data at every position across two such blocks. */
    char d[512];

    for (int crlf = 0; crlf < 2; crlf++) {
        const char *eol = crlf ? "\r\n" : "\n";

        for (size_t k = 0; k < 200; k++) {
            size_t len = (size_t)snprintf(d, sizeof d, "From a%s", eol);

            memset(d + len, 'x', k);
            len += k;
            /* A line break now and then, so lines end everywhere too. */
            for (size_t j = 7 + k % 5; j + 1 < len; j += 13)
                d[j] = '\n';
            len += (size_t)snprintf(d + len, sizeof d - len,
                                    "%s%sFrom b%sy%s", eol, eol, eol, eol);
            check_against_reference(d, len);
            /* Cut short at every point of the tail. */
            for (size_t cut = 1; cut < 14; cut++)
                check_against_reference(d, len - cut);
        }
    }
}
END_TEST

START_TEST(large_random_mailboxes)
{
    /* Long lines and big messages, so that separators, blank lines and
     * CRs fall at every offset of many blocks. */
    size_t cap = 256 * 1024;
    char *d = malloc(cap);

    ck_assert_ptr_nonnull(d);
    for (uint32_t seed = 1; seed <= 24; seed++) {
        uint32_t x = seed * 2654435761u;
        bool crlf = seed % 3 == 0;
        size_t len = (size_t)snprintf(d, cap, "From first%s",
                                      crlf ? "\r\n" : "\n");

        while (len + 300 < cap) {
            unsigned r;
            size_t n;

            x = x * 1664525u + 1013904223u;
            r = (x >> 16) % 100;
            if (r < 6) {
                len += (size_t)snprintf(d + len, cap - len, "%sFrom s%u%s",
                                        crlf && r < 5 ? "\r\n" : "\n", x,
                                        crlf ? "\r\n" : "\n");
                continue;
            }
            n = r < 90 ? (x >> 8) % 90 : (x >> 8) % 250;
            memset(d + len, r % 2 ? 'a' : 'F', n);
            if (r < 12 && n > 0)
                d[len] = '\r';
            len += n;
            if (crlf ? r % 17 != 0 : r % 29 == 0)
                d[len++] = '\r';
            d[len++] = '\n';
        }
        check_against_reference(d, len);
        check_against_reference(d, len - 1);
    }
    free(d);
}
END_TEST

START_TEST(x_uidl_headers)
{
    char v71[100], mb[4000];
    struct mbox_index idx;
    const char *err;
    char a[33];

    memset(v71, 'v', 71);
    v71[71] = '\0';
    snprintf(mb, sizeof mb,
             "From a\nSubject: s\nX-UIDL: \t abc-1 \t\r\n\nbody\n\n"   /* 0 */
             "From b\nx-uidl:xyz\n\n\n"                                 /* 1 */
             "From c\nX-UIDL: has space\n\n\n"                          /* 2 */
             "From d\nX-UIDL: %s\n\n\n"                                 /* 3 */
             "From e\nX-UIDL: %.70s\n\n\n"                              /* 4 */
             "From f\nSubject: t\n\nX-UIDL: in-the-body\n\n"            /* 5 */
             "From g\nX-UIDL:\n\n\n"                                    /* 6 */
             "From h\nX-UIDL: ctl\x01x\n\n\n"                           /* 7 */
             "From i\nX-UIDL: abc-1\n\n\n",                             /* 8 */
             v71, v71);
    ck_assert_int_eq(mbox_index_build(mb, strlen(mb), 0, MBOX_INDEX_X_UIDL,
                                      &idx, &err), 0);
    ck_assert_uint_eq(idx.count, 9);
    ck_assert_str_eq(unit_idx_uidl(&idx, 0), "abc-1");
    ck_assert_str_eq(unit_idx_uidl(&idx, 1), "xyz");
    ck_assert_str_eq(unit_idx_uidl(&idx, 4), v71 + 1);
    /* Invalid, too long, in the body, empty, a control character, a
     * duplicate: the digest. */
    for (size_t i = 2; i < 9; i++) {
        if (i == 4)
            continue;
        ck_assert_uint_eq(strlen(unit_idx_uidl(&idx, i)), 32);
    }
    ck_assert_uint_eq(idx.xuidl_count, 4);
    mbox_index_free(&idx);

    /* Off: the digests only. */
    ck_assert_int_eq(mbox_index_build(mb, strlen(mb), 0, 0, &idx, &err), 0);
    md5hex(mb, (size_t)unit_idx_raw(&idx, 1), a);
    ck_assert_str_eq(unit_idx_uidl(&idx, 0), a);
    ck_assert_uint_eq(idx.xuidl_count, 0);
    mbox_index_free(&idx);
}
END_TEST

START_TEST(x_uidl_collides_with_digest)
{
    /* Message b's X-UIDL is message a's generated UIDL, and c's is a's
     * duplicate's ".2": both fall back to their own digests. */
    char mb[400], want[40];
    struct mbox_index idx;
    const char *err;
    size_t n;

    md5hex("From a\n\n", 8, want);
    n = (size_t)snprintf(mb, sizeof mb, "From a\n\nFrom a\n\n"
                         "From b\nX-UIDL: %s\n\n\nFrom c\nX-UIDL: %s.2\n\n\n"
                         "From d\nX-UIDL: %s.3\n\n\n", want, want, want);
    ck_assert_int_eq(mbox_index_build(mb, n, 0, MBOX_INDEX_X_UIDL, &idx,
                                      &err), 0);
    ck_assert_uint_eq(idx.count, 5);
    ck_assert_str_eq(unit_idx_uidl(&idx, 0), want);
    ck_assert_str_ne(unit_idx_uidl(&idx, 2), want);
    ck_assert_uint_eq(strlen(unit_idx_uidl(&idx, 2)), 32);
    ck_assert_uint_eq(strlen(unit_idx_uidl(&idx, 3)), 32);
    /* No third copy of a: ".3" is free. */
    snprintf(want + 32, 8, ".3");
    ck_assert_str_eq(unit_idx_uidl(&idx, 4), want);
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(unit_idx_uidl(&idx, i), unit_idx_uidl(&idx, j));
    mbox_index_free(&idx);
}
END_TEST

Suite *suite_mboxindex(void)
{
    Suite *s = suite_create("mboxindex");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, empty_file);
    tcase_add_test(tc, not_an_mbox);
    tcase_add_test(tc, two_messages);
    tcase_add_test(tc, uidl_exact_values);
    tcase_add_test(tc, no_trailing_newline);
    tcase_add_test(tc, trailing_blank_lines);
    tcase_add_test(tc, from_in_body);
    tcase_add_test(tc, crlf_mailbox);
    tcase_add_test(tc, empty_bodies);
    tcase_add_test(tc, headers_only);
    tcase_add_test(tc, long_lines_nul_8bit);
    tcase_add_test(tc, duplicates_unique);
    tcase_add_test(tc, many_duplicates);
    tcase_add_test(tc, tail_index);
    tcase_add_test(tc, matches_reference);
    tcase_add_test(tc, separator_at_every_offset);
    tcase_add_test(tc, large_random_mailboxes);
    tcase_add_test(tc, x_uidl_headers);
    tcase_add_test(tc, x_uidl_collides_with_digest);
    suite_add_tcase(s, tc);
    return s;
}
