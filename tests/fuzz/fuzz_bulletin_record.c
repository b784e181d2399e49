/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_bulletin_record.c: the delivery record parser on arbitrary values,
 * checking that what it accepts formats to a value that parses back to the
 * same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bulletin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct bulletin_record *a, const struct bulletin_record *b)
{
    return a->state == b->state && strcmp(a->id, b->id) == 0
           && a->when == b->when && a->pid == b->pid;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bulletin_record rec, again;
    char buf[128], buf2[128];
    const char *s;

    if (bulletin_record_parse((const char *)data, size, &rec) < 0)
        return 0;
    if (rec.state != BULLETIN_PENDING && rec.state != BULLETIN_DELIVERED
        && rec.state != BULLETIN_UNKNOWN)
        abort();
    if (strlen(rec.id) != BULLETIN_ID_LEN
        || strspn(rec.id, "0123456789abcdef") != BULLETIN_ID_LEN
        || rec.when < 0 || rec.pid < 0 || rec.pid > INT32_MAX)
        abort();
    /* Spaces and leading zeros may differ; the record may not. */
    s = bulletin_record_format(&rec, buf, sizeof buf);
    if (s != buf || strlen(s) >= sizeof buf - 1
        || bulletin_record_parse(s, strlen(s), &again) < 0
        || !same(&rec, &again))
        abort();
    /* And the formatted value is a fixed point. */
    if (strcmp(bulletin_record_format(&again, buf2, sizeof buf2), s) != 0)
        abort();
    return 0;
}
