/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_bulletin_message.c: the bulletin checks on arbitrary files, and the
 * mbox and sendmail framing of what they accept. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulletin.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "notice"
#define ID "0123456789abcdef0123456789abcdef"
#define WHEN ((time_t)1764450000)

/* Whether the LEN bytes at P start with S. */
static bool starts(const char *p, size_t len, const char *s)
{
    size_t n = strlen(s);

    return len >= n && memcmp(p, s, n) == 0;
}

/* Check the mbox copy OUT of MSG (LEN bytes): the From_ line, our header,
 * the message with its "From " lines quoted and nothing else, a newline
 * at its end and the blank line that ends it. */
static void check_mbox(const char *msg, size_t len, const struct strbuf *out)
{
    const char *p = out->buf, *end = out->buf + out->len, *nl;
    const char *m = msg, *mend = msg + len;
    const char *hdr = BULLETIN_HEADER ": " NAME " <" ID ">\n";

    if (!starts(p, out->len, "From MAILER-DAEMON "))
        abort();
    nl = memchr(p, '\n', out->len);
    if (!nl || memchr(p, '\r', (size_t)(nl - p)))
        abort();
    p = nl + 1;
    if (!starts(p, (size_t)(end - p), hdr))
        abort();
    p += strlen(hdr);
    /* One message for any mbox reader: ends "\n\n", no other From_ line. */
    if (out->len < 2 || end[-1] != '\n' || end[-2] != '\n')
        abort();
    for (const char *q = p; q < end; q = memchr(q, '\n', (size_t)(end - q)) + 1)
        if (starts(q, (size_t)(end - q), "From "))
            abort();
    /* The body is the message, line by line, with only ">" added. */
    while (m < mend) {
        const char *mnl = memchr(m, '\n', (size_t)(mend - m));
        size_t n = mnl ? (size_t)(mnl - m) + 1 : (size_t)(mend - m);

        if (starts(m, n, "From ")) {
            if (p >= end || *p != '>')
                abort();
            p++;
        }
        if ((size_t)(end - p) < n || memcmp(p, m, n) != 0)
            abort();
        p += n;
        m += n;
    }
    if (msg[len - 1] != '\n') {
        if (p >= end || *p != '\n')
            abort();
        p++;
    }
    if (end - p != 1 || *p != '\n')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *msg = (const char *)data;
    const char *err = NULL;
    struct strbuf out;
    const char *hdr = BULLETIN_HEADER ": " NAME " <" ID ">\n";
    size_t hlen = strlen(hdr);

    if (bulletin_check_message(msg, size, &err) < 0) {
        if (!err || !*err)
            abort();
        return 0;
    }
    /* What the check promises: not empty, no NUL, a header of at least
     * one line that does not start with a blank, a blank line after it. */
    if (size == 0 || memchr(msg, '\0', size) || msg[0] == '\n'
        || msg[0] == ' ' || msg[0] == '\t' || !memmem(msg, size, "\n\n", 2))
        abort();

    strbuf_init(&out, 2 * size + 1024);
    if (bulletin_frame(NAME, ID, msg, size, WHEN, true, &out) < 0)
        abort();
    check_mbox(msg, size, &out);
    strbuf_free(&out);

    /* For a sendmail program: our header, then the message as it is. */
    strbuf_init(&out, 2 * size + 1024);
    if (bulletin_frame(NAME, ID, msg, size, WHEN, false, &out) < 0)
        abort();
    if (out.len != hlen + size + (msg[size - 1] != '\n')
        || memcmp(out.buf, hdr, hlen) != 0
        || memcmp(out.buf + hlen, msg, size) != 0
        || out.buf[out.len - 1] != '\n')
        abort();
    strbuf_free(&out);

    /* A buffer too small for the copy is refused, never overrun. */
    strbuf_init(&out, hlen + size / 2);
    if (bulletin_frame(NAME, ID, msg, size, WHEN, true, &out) == 0)
        abort();
    strbuf_free(&out);
    return 0;
}
